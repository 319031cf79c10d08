"""A round calls once at each place: the hub's goods and a farm's goods for the same relay
point are dropped in one stop, after the farm's pickup, wherever the round allows it."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from logistics import services
from logistics.models import Depot, DriverShift, PlanStop, StopKind, Vehicle
from logistics.selectors import PlanningProblem
from logistics.visits import solution_merge_visits
from logistics.vrp import model as vrp
from logistics.vrp.providers import MatrixProvider
from logistics.vrp.timing import RouteTimer
from marche.accounts.models import Role
from marche.catalog.models import Unit
from marche.cycles.models import OrderCycle
from marche.orders.services import cart_set_item, order_place
from marche.relays.services import pickup_slots_ensure
from tests.factories import (
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    RelayPointFactory,
    UserFactory,
)

# --- the engine's route, reordered (no database) ----------------------------------------------

# depot -- 2 km -- relay -- 3 km -- farm (5 km from the depot), 1 km = 100 s.
IDS = ["depot", "relay", "farm#relay", "relay#farm"]
PLACES = {"depot": 0, "relay": 1, "farm#relay": 2, "relay#farm": 1}
KM = [[0, 2, 5], [2, 0, 3], [5, 3, 0]]


def _provider() -> MatrixProvider:
    distance = [[KM[PLACES[a]][PLACES[b]] * 1000 for b in IDS] for a in IDS]
    duration = [[KM[PLACES[a]][PLACES[b]] * 100 for b in IDS] for a in IDS]
    return MatrixProvider(IDS, distance, duration)


def _problem(*, capacity_kg: int) -> vrp.Problem:
    return vrp.Problem(
        depots=(vrp.Depot("depot", 50.0, 2.0),),
        vehicles=(vrp.Vehicle("van", "depot", {"kg": capacity_kg}, shift=vrp.TimeWindow(0, 7200)),),
        stops=(
            vrp.Stop("relay", 50.0, 2.0, demand={"kg": 30}, service_s=300),
            vrp.Stop("farm#relay", 50.0, 2.0, demand={"kg": 30}, service_s=300, kind="pickup"),
            vrp.Stop("relay#farm", 50.0, 2.0, demand={"kg": 30}),
        ),
        pairs=(vrp.PickupDelivery("farm#relay", "relay#farm"),),
    )


def _solution(problem: vrp.Problem, provider: MatrixProvider, ids: list[str]) -> vrp.Solution:
    """The one route over ``ids`` as the engine hands it back."""
    route = RouteTimer(problem, provider).time("van", ids).route
    return vrp.Solution(
        routes=(route,),
        unserved=(),
        cost=route.cost,
        distance_m=route.distance_m,
        stats=vrp.SearchStats(0.0, 1, None, "completed", 1, 1),
    )


def _place(stop_id: str) -> str:
    return stop_id.split("#", 1)[0]


def test_the_relay_called_at_twice_is_called_at_once_after_the_farm() -> None:
    problem, provider = _problem(capacity_kg=100), _provider()
    twice = _solution(problem, provider, ["relay", "farm#relay", "relay#farm"])
    assert twice.distance_m == 2000 + 3000 + 3000 + 2000

    once = solution_merge_visits(
        problem=problem, provider=provider, solution=twice, place_of=_place
    )

    (route,) = once.routes
    assert [visit.stop_id for visit in route.visits] == ["farm#relay", "relay", "relay#farm"]
    # The van leaves with the hub's 30 kg, takes the farm's 30 kg on, drops all 60 at once.
    assert [dict(visit.load) for visit in route.visits] == [{"kg": 60}, {"kg": 30}, {"kg": 0}]
    assert once.distance_m == route.distance_m == 5000 + 3000 + 2000
    assert once.cost == route.cost == 10000


def test_a_round_that_cannot_carry_both_loads_at_once_keeps_its_two_calls() -> None:
    # 30 kg from the hub and 30 kg from the farm on board together would need 60 kg.
    problem, provider = _problem(capacity_kg=40), _provider()
    twice = _solution(problem, provider, ["relay", "farm#relay", "relay#farm"])

    kept = solution_merge_visits(
        problem=problem, provider=provider, solution=twice, place_of=_place
    )

    assert kept == twice


# --- a cycle planned: one stop per place on the stored round ----------------------------------


def _order(cycle: OrderCycle, relay, items, key: str) -> None:
    user = UserFactory(email=f"{key}@example.test")
    for offer, count in items:
        cart_set_item(customer=user, cycle_id=cycle.pk, count=Decimal(count), offer_id=offer.pk)
    slot = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)[0]
    order_place(
        customer=user,
        cycle_id=cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=slot.pk,
        payment_method="pickup",
        idempotency_key=key,
    )


def _cycle_with_a_collected_farm() -> OrderCycle:
    """One relay point receiving a hub farm's potatoes and a collected farm's carrots."""
    cycle = OrderCycleFactory(name="Semaine 14")
    territory = cycle.territory
    hub_farm = ProducerFactory(territory=territory, name="Ferme du Marais", slug="marais")
    collected = ProducerFactory(
        territory=territory,
        name="Ferme des Moëres",
        slug="moeres",
        latitude=Decimal("50.470000"),
        longitude=Decimal("2.760000"),
        collected_on_round=True,
        collection_opens=time(7),
        collection_closes=time(11),
    )
    potatoes = OfferFactory(
        cycle=cycle,
        product=ProductFactory(producer=hub_farm, name="Pommes de terre", unit=Unit.KG),
        quantity_available=Decimal("100"),
    )
    carrots = OfferFactory(
        cycle=cycle,
        product=ProductFactory(producer=collected, name="Carottes", unit=Unit.KG),
        quantity_available=Decimal("100"),
    )
    relay = RelayPointFactory(
        territory=territory,
        slug="mairie-loos",
        name="Mairie de Loos",
        latitude=Decimal("50.457900"),
        longitude=Decimal("2.793300"),
    )
    _order(cycle, relay, [(potatoes, "4"), (carrots, "6")], "a")
    depot = Depot.objects.create(
        territory=territory,
        name="Base 11/19",
        slug="base-11-19",
        latitude=Decimal("50.446000"),
        longitude=Decimal("2.793000"),
    )
    van = Vehicle.objects.create(
        territory=territory,
        depot=depot,
        name="Utilitaire 1",
        slug="van-1",
        kind="van",
        capacity_kg=800,
        capacity_crates=60,
        average_speed_kmh=Decimal("30"),
        cost_per_km=Decimal("0.300"),
        cost_per_hour=Decimal("24.00"),
        shift_start=time(7),
        shift_end=time(13),
    )
    DriverShift.objects.create(
        vehicle=van,
        driver=UserFactory(email="chauffeur@example.test", role=Role.DRIVER),
        weekday=cycle.delivery_date.weekday(),
        starts_at=time(7),
        ends_at=time(12),
    )
    now = timezone.now()
    OrderCycle.objects.filter(pk=cycle.pk).update(
        opens_at=now - timedelta(days=3), closes_at=now - timedelta(hours=1)
    )
    cycle.refresh_from_db()
    return cycle


@pytest.mark.django_db
def test_the_planned_round_drops_hub_and_farm_goods_at_the_relay_in_one_stop(monkeypatch) -> None:
    cycle = _cycle_with_a_collected_farm()
    solve = services._solve

    def engine_calling_twice(built: PlanningProblem, seconds: float, progress) -> vrp.Solution:
        """The route the engine handed back on the Dunkerque demo: the relay point's hub
        goods first, then the farm, then the relay point again for the farm's goods."""
        solve(built, seconds, progress)  # the real search runs, its route is replaced
        ids = [
            "relay:mairie-loos",
            "farm:moeres#relay:mairie-loos",
            "relay:mairie-loos#farm:moeres",
        ]
        route = RouteTimer(built.problem, built.provider).time("van-1", ids).route
        return vrp.Solution(
            routes=(route,),
            unserved=(),
            cost=route.cost,
            distance_m=route.distance_m,
            stats=vrp.SearchStats(0.0, 1, None, "completed", 1, 1),
        )

    monkeypatch.setattr(services, "_solve", engine_calling_twice)

    plan = services.plan_compute(cycle_id=cycle.pk, time_limit=1).plan

    stops = list(PlanStop.objects.filter(route__plan=plan).order_by("position"))
    assert [(stop.kind, stop.place) for stop in stops] == [
        (StopKind.DEPOT_START, "depot:base-11-19"),
        (StopKind.PICKUP, "farm:moeres"),
        (StopKind.DELIVERY, "relay:mairie-loos"),
        (StopKind.DEPOT_END, "depot:base-11-19"),
    ]
    drop = stops[2].manifest
    # One stop with all its goods: the household's order (4 kg from the hub) and the 6 kg
    # collected at the farm.
    assert [order["reference"] for order in drop["orders"]] == [plan.cycle.orders.get().reference]
    assert drop["kg"] == 4.0
    assert drop["from_farms"] == [
        {"farm": "farm:moeres", "name": "Ferme des Moëres", "kg": 6.0, "cold_items": 0}
    ]
    assert [stop.load_kg_after for stop in stops] == [4, 10, 0, 0]
    # The round's page: two stops, the farm then the relay point with all its goods.
    client = Client()
    client.force_login(UserFactory(role=Role.COORDINATOR, territory=cycle.territory))
    html = client.get(reverse("driver:route", args=[stops[0].route_id])).content.decode()
    assert html.count('<li class="stop status-') == 2
    relay = html[html.index(f'id="etape-{stops[2].pk}"') :]
    assert plan.cycle.orders.get().reference in relay
    assert "Déposer les produits de Ferme des Moëres : 6 kg" in relay
