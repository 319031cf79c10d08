"""The Dunkerque demo's round, as a new user plans it: one stop per place, with all its
goods, and the plan's load equal to the driver's loading list."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from logistics.models import StopKind
from logistics.planning_selectors import plan_page
from logistics.route_sheets import route_sheet
from logistics.services import cycle_close, plan_compute
from marche.cycles.models import OrderCycle
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.solver]

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=PARIS)
EVENING = WEDNESDAY.replace(hour=21)


def test_the_dunkerque_round_calls_once_at_each_place_and_loads_its_loading_list() -> None:
    with time_machine.travel(WEDNESDAY, tick=False):
        call_command("load_demo", stdout=io.StringIO(), due_cycle=True, territory="dunkerque")
    cycle = OrderCycle.objects.get(territory__slug="dunkerque", schedule__isnull=True)
    assert cycle_close(cycle=cycle, now=EVENING, plan=False)

    plan = plan_compute(cycle_id=cycle.pk, time_limit=1, now=EVENING).plan

    assert plan.unserved == []
    viewer = UserFactory(is_superuser=True)
    shown = {view.route.pk: view for view in plan_page(cycle=cycle).routes}
    assert shown
    for route in plan.routes.all():
        stops = list(route.stops.order_by("position"))
        calls = Counter(s.place for s in stops if s.kind in {StopKind.PICKUP, StopKind.DELIVERY})
        assert set(calls.values()) == {1}, calls
        # Every farm's pickup comes before the drops of its goods.
        pickups = [s.position for s in stops if s.kind == StopKind.PICKUP]
        for stop in stops:
            if stop.kind == StopKind.DELIVERY and stop.manifest.get("from_farms"):
                assert pickups and min(pickups) < stop.position
        sheet = route_sheet(route_id=route.pk, viewer=viewer)
        assert sheet is not None
        assert shown[route.pk].load_kg == sheet.load_kg
        assert stops[0].load_kg_after == sheet.load_kg.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    # The demo's figure: 37.5 + 6.1 + 27.5 + 10.2 kg loaded at the depot (84 kg shown before).
    assert sum(view.load_kg for view in shown.values()) == Decimal("81.3")
