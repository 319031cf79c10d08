"""What a computed plan must hold whatever the solver does: each stop's manifest is what it
drops, every share of the goods is on one route or unserved (locked routes too), no vehicle
leaves in the past."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from logistics.errors import DeliveryDatePast, PlanSharesMismatch, WindowUnreachable
from logistics.models import DeliveryPlan, PlanRoute, PlanStop, StopKind
from logistics.selectors import cycle_consolidate
from logistics.services import (
    _check_shares,
    _consolidation_shares,
    plan_compute,
    plan_queue,
)
from logistics.vrp import model as vrp
from marche.cycles.models import OrderCycle
from marche.relays.models import RelayOpeningHours
from tests.logistics.test_plan_problem import World, _routes, build_world, counts


def _zone(world: World) -> ZoneInfo:
    return ZoneInfo(world.cycle.territory.timezone)


# --- 1. each stop's manifest -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_relay_stop_weighs_the_hub_share_it_drops_and_lists_the_farm_shares_apart() -> None:
    world = build_world(collected=True, chilled=True)
    world.van("van-froid", cold_l=200)
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    (route,) = _routes(plan).values()
    loos = next(s for s in route if s.place == "relay:mairie-loos")
    # 3 kg of carrots loaded at the hub; the 3 kg of chilled yoghurts come from the farm.
    assert (loos.manifest["kg"], loos.manifest["cold_items"], loos.manifest["crates"]) == (
        3.0,
        0,
        2,
    )
    assert loos.manifest["from_farms"] == [
        {"farm": "farm:terrils", "name": "Laiterie des Terrils", "kg": 3.0, "cold_items": 2}
    ]
    # Each order still reads whole for the relay keeper.
    assert sum(order["kg"] for order in loos.manifest["orders"]) == 6.0
    load = {item["place"]: item for item in route[0].manifest["load_in_order"]}
    assert (load["relay:mairie-loos"]["kg"], load["relay:mairie-loos"]["cold_items"]) == (3.0, 0)


# --- 2. locked routes ------------------------------------------------------------------------


def _lock_hub_share_of_loos(plan: DeliveryPlan, world: World) -> PlanRoute:
    """Replace the plan's routes by one locked route of van-a carrying only Loos' hub share
    (its farm share is left to the others), as a coordinator's edits can leave it."""
    loos = next(
        s for s in PlanStop.objects.filter(route__plan=plan) if s.place == "relay:mairie-loos"
    )
    manifest = {k: v for k, v in loos.manifest.items() if k != "from_farms"}
    plan.routes.all().delete()
    route = PlanRoute.objects.create(
        plan=plan,
        vehicle=world.vans["van-a"],
        driver=world.drivers["van-a"],
        position=1,
        km=Decimal("2.000"),
        duration_min=30,
        co2_kg=Decimal("0.500"),
        locked=True,
    )
    eta = timezone.now()
    common = {"route": route, "eta": eta, "latitude": Decimal("50.4"), "longitude": Decimal("2.8")}
    PlanStop.objects.bulk_create(
        [
            PlanStop(position=0, place="depot:base-11-19", kind=StopKind.DEPOT_START,
                     load_kg_after=3, manifest={"load_in_order": []}, **common),
            PlanStop(position=1, place="relay:mairie-loos", kind=StopKind.DELIVERY,
                     load_kg_after=0, manifest=manifest, **common),
            PlanStop(position=2, place="depot:base-11-19", kind=StopKind.DEPOT_END,
                     load_kg_after=0, **common),
        ]
    )  # fmt: skip
    return route


@pytest.mark.django_db
def test_a_locked_route_leaves_out_only_the_shares_it_carries() -> None:
    world = build_world(collected=True, chilled=True)
    world.van("van-a", cold_l=200)
    world.van("van-b", cold_l=200)
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    locked = _lock_hub_share_of_loos(plan, world)

    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan

    assert plan.unserved == []
    routes = {r.vehicle.slug: r for r in plan.routes.select_related("vehicle")}
    assert routes["van-a"].pk == locked.pk and routes["van-a"].locked
    new = list(routes["van-b"].stops.order_by("position"))
    # The yoghurts of Loos, which the locked route does not carry, ride on van-b.
    farm = next(s for s in new if s.place == "farm:terrils")
    assert [c["destination"] for c in farm.manifest["collect"]] == ["relay:mairie-loos"]
    drop = next(s for s in new if s.place == "relay:mairie-loos")
    assert drop.manifest["orders"] == [] and drop.manifest["kg"] == 0.0
    assert [f["farm"] for f in drop.manifest["from_farms"]] == ["farm:terrils"]
    assert sorted(s.place for s in new if s.kind == StopKind.DELIVERY) == [
        "relay:mairie-loos",
        "relay:poste-lens",
        "relay:poste-lievin",
    ]


@pytest.mark.django_db
def test_every_share_must_be_on_one_route_or_unserved() -> None:
    world = build_world(collected=True, chilled=True)
    expected = _consolidation_shares(cycle_consolidate(cycle=world.cycle))
    assert expected == {
        "relay:mairie-loos",
        "relay:poste-lens",
        "relay:poste-lievin",
        "farm:terrils#relay:mairie-loos",
        "relay:mairie-loos#farm:terrils",
    }

    def solution(*ids: str, unserved: tuple[str, ...] = ()) -> vrp.Solution:
        visits = tuple(vrp.Visit(i, 0, 0, 0, {}) for i in ids)
        return vrp.Solution(
            routes=(vrp.Route("van-b", 0, visits, 0, 0, 0, 0.0),),
            unserved=tuple(vrp.Unserved(i, "not_routed", "") for i in unserved),
            cost=0.0,
            distance_m=0,
            stats=vrp.SearchStats(0.0, 0, None, "completed", 0, 0),
        )

    locked = Counter({"relay:mairie-loos": 1})
    pair = ("farm:terrils#relay:mairie-loos", "relay:mairie-loos#farm:terrils")
    _check_shares(expected, locked, solution("relay:poste-lens", *pair, "relay:poste-lievin"))
    _check_shares(
        expected, locked, solution("relay:poste-lens", unserved=(*pair, "relay:poste-lievin"))
    )
    with pytest.raises(PlanSharesMismatch) as lost:  # the farm's share on no route
        _check_shares(expected, locked, solution("relay:poste-lens", "relay:poste-lievin"))
    assert lost.value.code == "plan_shares_mismatch"
    assert "farm:terrils#relay:mairie-loos" in lost.value.message
    twice = ["relay:mairie-loos", "relay:poste-lens", *pair, "relay:poste-lievin"]
    with pytest.raises(PlanSharesMismatch):  # Loos' hub share on two routes
        _check_shares(expected, locked, solution(*twice))


# --- 3. no departure in the past -------------------------------------------------------------


def _deliver_on(world: World, day: datetime) -> None:
    OrderCycle.objects.filter(pk=world.cycle.pk).update(
        delivery_date=day.date(), closes_at=day - timedelta(hours=2)
    )
    world.cycle.refresh_from_db()


@pytest.mark.django_db
def test_planned_on_the_delivery_day_no_vehicle_leaves_before_now_plus_the_lead() -> None:
    world = build_world()
    now = datetime.combine(timezone.localdate(), time(9, 10), tzinfo=_zone(world))
    _deliver_on(world, now)
    world.van("van-1", shift=(time(7), time(13)))
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1, now=now).plan
    (route,) = _routes(plan).values()
    assert route[0].eta >= now + timedelta(minutes=30)
    assert all(stop.eta >= now + timedelta(minutes=30) for stop in route)
    assert plan.unserved == []


@pytest.mark.django_db
def test_planned_the_day_before_the_vehicles_leave_at_their_shift_start() -> None:
    world = build_world()
    now = datetime.combine(timezone.localdate(), time(21, 0), tzinfo=_zone(world))
    _deliver_on(world, now + timedelta(days=1))
    world.van("van-1", shift=(time(7), time(13)))
    OrderCycle.objects.filter(pk=world.cycle.pk).update(closes_at=now - timedelta(minutes=10))
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1, now=now).plan
    (route,) = _routes(plan).values()
    assert timezone.localtime(route[0].eta).time() == time(8)  # the van's service starts


@pytest.mark.django_db
def test_a_delivery_date_already_past_is_refused_and_nothing_changes() -> None:
    world = build_world()
    world.van("van-1")
    now = datetime.combine(timezone.localdate(), time(9), tzinfo=_zone(world))
    _deliver_on(world, now - timedelta(days=1))
    before = counts()
    with pytest.raises(DeliveryDatePast) as refused:
        plan_compute(cycle_id=world.cycle.pk, time_limit=1, now=now)
    assert refused.value.code == "delivery_date_past"
    assert "passée" in refused.value.message
    with pytest.raises(DeliveryDatePast):
        plan_queue(cycle_id=world.cycle.pk, by=None, now=now)
    assert counts() == before


@pytest.mark.django_db
def test_a_plan_queued_the_day_before_and_computed_too_late_ends_failed() -> None:
    world = build_world()
    now = datetime.combine(timezone.localdate(), time(23, 50), tzinfo=_zone(world))
    _deliver_on(world, now)
    world.van("van-1")
    plan = plan_queue(cycle_id=world.cycle.pk, by=None, now=now)
    with pytest.raises(DeliveryDatePast):
        plan_compute(
            cycle_id=world.cycle.pk,
            time_limit=1,
            now=now + timedelta(days=1),
            expected_version=plan.version,
        )
    plan.refresh_from_db()
    assert (plan.solve_state, plan.solve_error["code"]) == ("failed", "delivery_date_past")
    assert not plan.routes.exists()


# --- 4. a destination served whole or not at all ---------------------------------------------


@pytest.mark.django_db
def test_a_destination_whose_hub_share_is_unserved_gets_none_of_its_farm_shares() -> None:
    """The carrots loaded at the hub need a cold box no van has: the van must not fetch Loos'
    yoghurts at the farm to drop them alone (Loos' orders would be split)."""
    world = build_world(collected=True)
    world.offers["carrots"].product.__class__.objects.filter(
        pk=world.offers["carrots"].product_id
    ).update(is_chilled=True)
    world.van("van-1")  # no cold box
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    entries = {entry["place"]: entry for entry in plan.unserved}
    assert sorted(entries) == ["relay:mairie-loos", "relay:poste-lens", "relay:poste-lievin"]
    loos = entries["relay:mairie-loos"]
    assert (loos["code"], loos["shares"], loos["decision"]) == (
        "no_compatible_vehicle",
        ["hub", "farm:terrils"],
        None,
    )
    assert loos["reason_fr"].startswith("Aucun véhicule n'a l'équipement nécessaire")
    assert not PlanStop.objects.filter(route__plan=plan).exists()
    assert plan.total_km == 0


@pytest.mark.django_db
def test_on_the_delivery_day_a_relay_opening_before_the_first_departure_is_refused() -> None:
    world = build_world()
    now = datetime.combine(timezone.localdate(), time(10, 45), tzinfo=_zone(world))
    _deliver_on(world, now)
    world.van("van-1", shift=(time(7), time(13)))
    RelayOpeningHours.objects.update(opens_at=time(14))
    RelayOpeningHours.objects.filter(relay_point=world.relays["poste-lievin"]).update(
        opens_at=time(11)
    )
    before = counts()
    with pytest.raises(WindowUnreachable) as refused:
        plan_compute(cycle_id=world.cycle.pk, time_limit=1, now=now)
    assert refused.value.code == "window_unreachable"
    assert refused.value.message == (
        "Il est trop tard pour livrer « Relais poste-lievin » (relay:poste-lievin) avant "
        "11 h 00 aujourd'hui : aucune tournée ne part avant 11 h 15. Reportez sa livraison "
        "ou changez l'heure d'ouverture de ses retraits."
    )
    assert counts() == before
