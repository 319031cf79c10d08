"""The plan's load of a round is its loading list's total, to the 100 g, not the engine's
whole kilograms rounded up per place (the Dunkerque demo showed 84 kg for 81.3 loaded)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from logistics.models import PlanStop, StopKind
from logistics.planning_selectors import _manifest_text, plan_page
from logistics.route_sheets import route_sheet
from logistics.services import plan_compute
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
