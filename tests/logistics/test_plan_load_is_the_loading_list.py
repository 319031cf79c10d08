"""The plan's load of a round is its loading list's total, to the 100 g, not the engine's
whole kilograms rounded up per place (the Dunkerque demo showed 84 kg for 81.3 loaded)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from logistics.editing import plan_stop_move
from logistics.models import PlanStop, StopKind
from logistics.planning_selectors import _manifest_text, plan_page
from logistics.route_sheets import route_sheet
from logistics.services import plan_compute
from marche.accounts.models import Role
from marche.orders.models import OrderLine
from tests.factories import UserFactory
from tests.logistics.test_delivery_plan import build_cycle

pytestmark = pytest.mark.django_db

# Weighed at the farm: 3.4 + 5.3 kg for the town hall's two orders, 10.2 kg for Lens,
# 4.4 kg for Liévin (the eggs, 1 dozen, are estimated at 0.7 kg).
WEIGHED = {"a": "3.4", "b": "5.3", "c": "10.2", "d": "4.4"}


def _weigh(cycle) -> None:
    for key, kg in WEIGHED.items():
        OrderLine.objects.filter(
            order__cycle=cycle,
            order__customer__email=f"{key}@example.test",
            name__startswith="Carottes",
        ).update(weight_kg=Decimal(kg))


def test_the_plans_load_per_round_is_its_loading_lists_total() -> None:
    cycle = build_cycle()
    _weigh(cycle)

    plan = plan_compute(cycle_id=cycle.pk, time_limit=1).plan

    (route,) = plan.routes.all()
    sheet = route_sheet(route_id=route.pk, viewer=UserFactory(is_superuser=True))
    assert sheet is not None
    # Town hall 3.4 + 1.4 (2 dozen eggs) + 5.3; Lens 10.2; Liévin 4.4 + 0.7.
    assert sheet.load_kg == Decimal("25.4")
    (shown,) = plan_page(cycle=cycle).routes
    assert shown.load_kg == sheet.load_kg == Decimal("25.4")
    # Rounded up place by place, the engine's demands add up to 11 + 11 + 6 = 28 kg: the
    # figure the plan used to show. The stored loads are the goods' own, to the kg.
    stops = list(route.stops.order_by("position"))
    assert stops[0].load_kg_after == 25
    assert stops[-2].load_kg_after == 0
    # The same figure on the coordinator's plan page and on the round's page.
    client = Client()
    client.force_login(UserFactory(role=Role.COORDINATOR, territory=cycle.territory))
    plan_html = client.get(reverse("planning:plan", args=[cycle.pk])).content.decode()
    assert "25,4 / 800 kg" in plan_html
    route_html = client.get(reverse("driver:route", args=[route.pk])).content.decode()
    assert "Total : 4 caisses, 25,4 kg" in route_html


def test_the_loading_order_says_one_caisse_and_three_caisses() -> None:
    start = PlanStop(
        kind=StopKind.DEPOT_START,
        manifest={
            "load_in_order": [
                {"place": "relay:a", "name": "Mairie", "crates": 1, "kg": 2.5},
                {"place": "relay:b", "name": "Poste", "crates": 3, "kg": 7},
            ]
        },
    )
    with translation.override("fr"):
        assert _manifest_text(start)[1] == [
            "Mairie : 1 caisse, 2,5 kg",
            "Poste : 3 caisses, 7,0 kg",
        ]


def test_a_moved_stop_keeps_the_rounds_load_to_the_loading_list() -> None:
    cycle = build_cycle()
    _weigh(cycle)
    plan = plan_compute(cycle_id=cycle.pk, time_limit=1).plan
    (route,) = plan.routes.all()
    stops = list(route.stops.order_by("position"))
    coordinator = UserFactory(
        email="coord@example.test",
        role=Role.COORDINATOR,
        territory=cycle.territory,
        is_staff=True,
    )

    plan_stop_move(
        plan_id=plan.pk,
        stop_id=stops[-2].pk,
        route_id=route.pk,
        position=1,
        version=plan.version,
        by=coordinator,
    )

    after = list(route.stops.order_by("position"))
    # 25.4 kg leave the depot: 25 to the kg, as computed (the engine's demands made 28).
    assert after[0].load_kg_after == 25
    assert after[-2].load_kg_after == 0
    kg = {entry["place"]: Decimal(str(entry["kg"])) for entry in after[0].manifest["load_in_order"]}
    on_board = sum(kg.values(), Decimal("0"))
    for stop in after[1:-1]:
        on_board -= kg[stop.place]
        assert stop.load_kg_after == on_board.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    (shown,) = plan_page(cycle=cycle).routes
    assert shown.load_kg == Decimal("25.4")
