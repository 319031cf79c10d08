"""The driver's round in French: each count agrees with its own noun (no "caisse(s)")."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from logistics.models import PlanStop
from tests.logistics.canteen_fixtures import build_canteen_world
from tests.logistics.driver_fixtures import build_driver_world

pytestmark = pytest.mark.django_db


def _summaries(world) -> list[str]:
    client = Client()
    client.force_login(world.driver)
    page = client.get(f"/chauffeur/tournees/{world.route.pk}/").content.decode()
    found = re.findall(r'<p class="drop-summary">(.*?)(?: · <span|</p>)', page)
    return [" ".join(text.split()) for text in found]


def test_orders_and_crates_each_take_their_own_plural() -> None:
    world = build_driver_world()
    assert _summaries(world) == [
        "À déposer : 2 commandes, 2 caisses, 4 kg",
        "À déposer : 1 commande, 1 caisse, 2 kg",
    ]


def test_a_drop_of_crates_alone_says_caisse_in_the_singular() -> None:
    world = build_driver_world()
    manifest = dict(world.stop_b.manifest, orders=[], order_count=0)
    PlanStop.objects.filter(pk=world.stop_b.pk).update(manifest=manifest)
    assert _summaries(world)[1] == "À déposer : 1 caisse, 2 kg"


def test_a_canteen_drop_counts_lines_and_crates_apart() -> None:
    cw = build_canteen_world()
    summaries = [s for s in _summaries(cw.world) if s.startswith("Cantine")]
    assert summaries == ["Cantine, commande C-2026-00042 : 3 lignes, 3 caisses, 24,5 kg"]
    assert "(s)" not in "".join(_summaries(cw.world))
