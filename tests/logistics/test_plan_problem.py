"""The routing problem of a closed cycle: farms, cold chain, drivers, windows, distances."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from logistics.errors import (
    DriverShiftOutsideService,
    MissingCoordinates,
    VehicleWithoutDriver,
    WindowUnreachable,
)
from logistics.models import (
    CycleClosing,
    DeliveryPlan,
    Depot,
    DriverShift,
    PlanRoute,
    PlanStop,
    Vehicle,
)
from logistics.selectors import (
    baseline_km,
    cycle_consolidate,
    plan_as_dict,
    plan_co2_per_basket,
    plan_km_saved,
    plan_problem_build,
    plan_provider,
)
from logistics.services import UNSERVED_REASONS, plan_compute
from logistics.vrp.data import UNSERVED_MESSAGES
from logistics.vrp.providers import GreatCircleProvider, OsrmHttpProvider, haversine_m
from marche.accounts.models import Role, User
from marche.catalog.models import Unit
from marche.core.models import OutboxMessage
from marche.cycles.models import Offer, OrderCycle
from marche.orders.services import cart_set_item, order_place
from marche.producers.models import Producer
from marche.relays.models import RelayOpeningHours, RelayPoint
from marche.relays.services import pickup_slots_ensure
from tests.factories import (
    BasketFactory,
    BasketItemFactory,
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    ProductVariantFactory,
    RelayPointFactory,
    UserFactory,
)

# Real places around Loos-en-Gohelle (../shared/data/places-lensois.csv).
RELAYS = {
    "mairie-loos": ("50.457900", "2.793300"),
    "poste-lens": ("50.432800", "2.831000"),
    "poste-lievin": ("50.423400", "2.779000"),
}
HUB = ("50.446000", "2.793000")
FARM = ("50.468000", "2.760000")  # north-west of Loos (approximate, illustrative)


@dataclass
class World:
    """A cycle past its cutoff with orders at three relay points, a hub and its vans."""

    cycle: OrderCycle
    depot: Depot
    relays: dict[str, RelayPoint]
    farm: Producer
    market: Producer
    offers: dict[str, Offer]
    vans: dict[str, Vehicle] = field(default_factory=dict)
    drivers: dict[str, User] = field(default_factory=dict)

    def van(
        self,
        slug: str,
        *,
        cold_l: int = 0,
        shift: tuple[time, time] | None = (time(7), time(12)),
        capacity_kg: int = 800,
        cost_per_km: str = "0.300",
    ) -> Vehicle:
        vehicle = Vehicle.objects.create(
            territory=self.cycle.territory,
            depot=self.depot,
            name=f"Utilitaire {slug}",
            slug=slug,
            kind="van",
            capacity_kg=capacity_kg,
            capacity_crates=60,
            cold_volume_litres=cold_l,
            average_speed_kmh=Decimal("30"),
            cost_per_km=Decimal(cost_per_km),
            cost_per_hour=Decimal("24.00"),
            shift_start=time(8),
            shift_end=time(13),
        )
        self.vans[slug] = vehicle
        if shift is not None:
            driver = UserFactory(
                email=f"chauffeur-{slug}@example.test",
                role=Role.DRIVER,
                first_name="Léa",
                last_name=slug.title(),
            )
            DriverShift.objects.create(
                vehicle=vehicle,
                driver=driver,
                weekday=self.cycle.delivery_date.weekday(),
                starts_at=shift[0],
                ends_at=shift[1],
            )
            self.drivers[slug] = driver
        return vehicle


def _order(cycle: OrderCycle, relay: RelayPoint, items: list[tuple[Offer, str]], key: str):
    user = UserFactory(email=f"{key}@example.test", first_name="Camille", last_name="dupont")
    for offer, count in items:
        cart_set_item(customer=user, cycle_id=cycle.pk, count=Decimal(count), offer_id=offer.pk)
    slot = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)[0]
    order, _start = order_place(
        customer=user,
        cycle_id=cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=slot.pk,
        payment_method="pickup",
        idempotency_key=key,
    )
    return order


def build_world(*, collected: bool = False, chilled: bool = False) -> World:
    """Orders: Loos gets carrots (hub farm) and yoghurts (the farm), Lens and Liévin carrots.

    ``collected``: the yoghurt farm is collected on the round (7:00-11:00); ``chilled``: the
    yoghurts are chilled.
    """
    cycle = OrderCycleFactory(name="Semaine 14")
    territory = cycle.territory
    market = ProducerFactory(territory=territory, name="Ferme du Marais", slug="marais")
    farm = ProducerFactory(
        territory=territory,
        name="Laiterie des Terrils",
        slug="terrils",
        address="2 chemin des Terrils",
        postcode="62750",
        city="Loos-en-Gohelle",
        latitude=Decimal(FARM[0]),
        longitude=Decimal(FARM[1]),
        collected_on_round=collected,
        collection_opens=time(7) if collected else None,
        collection_closes=time(11) if collected else None,
    )
    offers = {
        "carrots": OfferFactory(
            cycle=cycle,
            product=ProductFactory(producer=market, name="Carottes", unit=Unit.KG),
            quantity_available=Decimal("100"),
        ),
        "yoghurts": OfferFactory(
            cycle=cycle,
            product=ProductFactory(producer=farm, name="Yaourts", unit=Unit.KG, is_chilled=chilled),
            quantity_available=Decimal("100"),
        ),
    }
    relays = {
        slug: RelayPointFactory(
            territory=territory,
            slug=slug,
            name=f"Relais {slug}",
            address="1 place de la République",
            postcode="62750",
            city="Loos-en-Gohelle",
            latitude=Decimal(lat),
            longitude=Decimal(lon),
        )
        for slug, (lat, lon) in RELAYS.items()
    }
    _order(cycle, relays["mairie-loos"], [(offers["carrots"], "3"), (offers["yoghurts"], "2")], "a")
    _order(cycle, relays["mairie-loos"], [(offers["yoghurts"], "1")], "b")
    _order(cycle, relays["poste-lens"], [(offers["carrots"], "10")], "c")
    _order(cycle, relays["poste-lievin"], [(offers["carrots"], "4")], "d")
    depot = Depot.objects.create(
        territory=territory,
        name="Base 11/19",
        slug="base-11-19",
        address="rue de Bourgogne",
        postcode="62750",
        city="Loos-en-Gohelle",
        latitude=Decimal(HUB[0]),
        longitude=Decimal(HUB[1]),
    )
    now = timezone.now()
    OrderCycle.objects.filter(pk=cycle.pk).update(
        opens_at=now - timedelta(days=3), closes_at=now - timedelta(hours=1)
    )
    cycle.refresh_from_db()
    return World(
        cycle=cycle,
        depot=depot,
        relays=relays,
        farm=farm,
        market=market,
        offers=offers,
    )


def counts() -> tuple[int, ...]:
    return (
        DeliveryPlan.objects.count(),
        PlanRoute.objects.count(),
        PlanStop.objects.count(),
        CycleClosing.objects.count(),
        OutboxMessage.objects.count(),
    )


def _routes(plan: DeliveryPlan) -> dict[str, list[PlanStop]]:
    return {
        route.vehicle.slug: list(route.stops.order_by("position"))
        for route in plan.routes.select_related("vehicle")
    }


# --- consolidation ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_consolidation_counts_cold_items_and_short_names_per_order() -> None:
    world = build_world(chilled=True)
    consolidation = cycle_consolidate(cycle=world.cycle)
    loos = {d.place: d for d in consolidation.destinations}["relay:mairie-loos"]
    assert loos.cold_items == 2
    assert [o.cold_items for o in loos.orders] == [1, 1]
    first = next(o for o in loos.as_dict()["orders"] if len(o["items"]) == 2)
    assert first["customer"] == "Camille D."
    assert first["items"] == [
        {"name": "Carottes", "quantity": "3 kg", "cold": False},
        {"name": "Yaourts", "quantity": "2 kg", "cold": True},
    ]
    # The farm brings its goods to the hub: everything is loaded there.
    assert loos.hub_kg == loos.kg == Decimal("6")
    assert loos.hub_cold_items == 2
    farms = {f.place: f for f in consolidation.farms}
    assert farms["farm:terrils"].cold_by_destination == {"relay:mairie-loos": 2}
    assert farms["farm:terrils"].collected is False


# --- cold chain ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cold_items_ride_only_on_a_vehicle_with_a_cold_box() -> None:
    world = build_world(chilled=True)
    # The cheap van has no cold box; the cold van costs more per km.
    world.van("van-1")
    world.van("van-froid", cold_l=200, cost_per_km="0.900")
    built = plan_problem_build(consolidation=cycle_consolidate(cycle=world.cycle))
    stops = {stop.id: stop for stop in built.problem.stops}
    assert stops["relay:mairie-loos"].requires == frozenset({"cold"})
    assert stops["relay:mairie-loos"].demand == {"kg": 6, "crates": 2, "cold_l": 6}
    assert stops["relay:poste-lens"].requires == frozenset()

    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    routes = _routes(plan)
    assert "relay:mairie-loos" in [s.place for s in routes["van-froid"]]
    assert "relay:mairie-loos" not in [s.place for s in routes.get("van-1", [])]
    assert plan.unserved == []


@pytest.mark.django_db
def test_without_a_cold_vehicle_the_chilled_destination_is_unserved_in_french() -> None:
    world = build_world(chilled=True)
    world.van("van-1")
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    assert plan.unserved == [
        {
            "place": "relay:mairie-loos",
            "code": "no_compatible_vehicle",
            "reason_fr": UNSERVED_REASONS["no_compatible_vehicle"],
            "decision": None,
            "shares": ["hub"],
        }
    ]
    assert "réfrigéré" in plan.unserved[0]["reason_fr"]
    (route,) = _routes(plan).values()
    assert sorted(s.place for s in route[1:-1]) == ["relay:poste-lens", "relay:poste-lievin"]


def test_every_engine_code_has_a_french_reason() -> None:
    assert set(UNSERVED_MESSAGES) <= set(UNSERVED_REASONS)


# --- farms -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_farm_collected_on_the_round_is_a_pickup_paired_with_its_drop() -> None:
    world = build_world(collected=True, chilled=True)
    world.van("van-froid", cold_l=200)
    built = plan_problem_build(consolidation=cycle_consolidate(cycle=world.cycle))
    stops = {stop.id: stop for stop in built.problem.stops}
    pickup = stops["farm:terrils#relay:mairie-loos"]
    drop = stops["relay:mairie-loos#farm:terrils"]
    assert (pickup.kind, drop.kind) == ("pickup", "delivery")
    assert pickup.demand == drop.demand == {"kg": 3, "crates": 0, "cold_l": 6}
    assert pickup.requires == frozenset({"cold"})
    assert pickup.windows[0].start == 7 * 3600 and pickup.windows[0].end == 11 * 3600
    assert [(p.pickup, p.delivery) for p in built.problem.pairs] == [
        ("farm:terrils#relay:mairie-loos", "relay:mairie-loos#farm:terrils")
    ]
    # Only the carrots of the farm that brings them are loaded at the hub for Loos.
    assert stops["relay:mairie-loos"].demand == {"kg": 3, "crates": 2}

    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    (route,) = _routes(plan).values()
    kinds = [(s.place, s.kind) for s in route]
    assert ("farm:terrils", "pickup") in kinds
    farm_stop = next(s for s in route if s.place == "farm:terrils")
    loos = next(s for s in route if s.place == "relay:mairie-loos")
    assert farm_stop.position < loos.position
    assert farm_stop.manifest == {
        "place": "farm:terrils",
        "name": "Laiterie des Terrils",
        "collect": [
            {
                "destination": "relay:mairie-loos",
                "name": "Relais mairie-loos",
                "kg": 3.0,
                "cold_items": 2,
            }
        ],
        "kg": 3.0,
    }
    # The share's drop and the hub's delivery at Loos are one stop.
    assert [s.place for s in route].count("relay:mairie-loos") == 1
    assert loos.manifest["order_count"] == 2
    assert loos.manifest["from_farms"] == [
        {"farm": "farm:terrils", "name": "Laiterie des Terrils", "kg": 3.0, "cold_items": 2}
    ]
    assert farm_stop.window_start is not None and farm_stop.window_end is not None
    assert timezone.localtime(farm_stop.window_start).time() == time(7)
    assert time(7) <= timezone.localtime(farm_stop.eta).time() <= time(11)
    # Hub load: 3 + 10 + 4 kg of carrots; the yoghurts come aboard at the farm.
    start = route[0]
    assert start.load_kg_after == 17
    assert sorted(item["place"] for item in start.manifest["load_in_order"]) == [
        "relay:mairie-loos",
        "relay:poste-lens",
        "relay:poste-lievin",
    ]
    assert route[farm_stop.position - 1].load_kg_after + 3 == farm_stop.load_kg_after
    assert plan.unserved == []


@pytest.mark.django_db
def test_a_collected_farm_without_coordinates_is_refused_naming_it() -> None:
    world = build_world(collected=True)
    world.van("van-1")
    Producer.objects.filter(pk=world.farm.pk).update(latitude=0, longitude=0)
    before = counts()
    with pytest.raises(MissingCoordinates) as raised:
        plan_compute(cycle_id=world.cycle.pk, time_limit=1)
    assert "farm:terrils" in raised.value.message
    assert counts() == before


@pytest.mark.django_db
def test_a_farm_bringing_its_goods_needs_no_coordinates_for_the_rounds() -> None:
    world = build_world()
    world.van("van-1")
    Producer.objects.filter(pk=world.farm.pk).update(latitude=0, longitude=0)
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    assert plan.unserved == []
    assert plan.solver_stats["baseline_farms_skipped"] == 1


# --- drivers and windows ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_route_goes_to_the_driver_of_the_shift_within_both_hours() -> None:
    world = build_world()
    world.van("van-1", shift=(time(9), time(12, 30)))
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    (route,) = plan.routes.all()
    assert route.driver == world.drivers["van-1"]
    stops = list(route.stops.order_by("position"))
    # Vehicle 8:00-13:00, driver 9:00-12:30: the round starts at 9:00 at the earliest.
    assert timezone.localtime(stops[0].eta).time() >= time(9)
    assert timezone.localtime(stops[-1].eta).time() <= time(12, 30)
    assert plan_as_dict(plan=plan)["routes"][0]["driver"] == "Léa Van-1"


@pytest.mark.django_db
def test_an_active_vehicle_without_a_driver_that_day_is_refused() -> None:
    world = build_world()
    world.van("van-1")
    world.van("van-2", shift=None)
    before = counts()
    with pytest.raises(VehicleWithoutDriver) as raised:
        plan_compute(cycle_id=world.cycle.pk, time_limit=1)
    day = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"][
        world.cycle.delivery_date.weekday()
    ]
    assert raised.value.code == "vehicle_without_driver"
    assert raised.value.message == (
        f"Le véhicule « Utilitaire van-2 » n'a pas de chauffeur le {day} : "
        "affectez-lui un chauffeur ou désactivez-le."
    )
    assert counts() == before


@pytest.mark.django_db
def test_a_window_no_vehicle_can_reach_is_refused_naming_the_place() -> None:
    world = build_world()
    world.van("van-1", shift=(time(8), time(12)))
    # Liévin opens at 8:05 on the delivery day: ~4 km from the hub at 30 km/h is too far.
    RelayOpeningHours.objects.filter(relay_point=world.relays["poste-lievin"]).update(
        opens_at=time(8, 5)
    )
    before = counts()
    with pytest.raises(WindowUnreachable) as raised:
        plan_compute(cycle_id=world.cycle.pk, time_limit=1)
    assert raised.value.code == "window_unreachable"
    assert "Relais poste-lievin" in raised.value.message
    assert "relay:poste-lievin" in raised.value.message
    assert "8 h 05" in raised.value.message
    assert counts() == before


# --- snapshots, distances, figures -----------------------------------------------------------


@pytest.mark.django_db
def test_stops_keep_a_snapshot_of_their_place() -> None:
    world = build_world()
    world.van("van-1")
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    (route,) = _routes(plan).values()
    loos = next(s for s in route if s.place == "relay:mairie-loos")
    assert loos.name == "Relais mairie-loos"
    assert loos.address == "1 place de la République, 62750 Loos-en-Gohelle"
    assert (loos.latitude, loos.longitude) == (Decimal("50.457900"), Decimal("2.793300"))
    assert route[0].name == "Base 11/19"
    assert route[0].address == "rue de Bourgogne, 62750 Loos-en-Gohelle"
    RelayPoint.objects.filter(pk=world.relays["mairie-loos"].pk).update(name="Renommé")
    loos.refresh_from_db()
    assert loos.name == "Relais mairie-loos"


@pytest.mark.django_db
def test_the_provider_is_osrm_when_configured_else_great_circle() -> None:
    world = build_world()
    territory = world.cycle.territory
    provider = plan_provider(territory=territory)
    assert isinstance(provider, GreatCircleProvider)
    assert provider.detour_factor == pytest.approx(float(territory.routing_detour_factor))
    with override_settings(LOGISTICS_OSRM_URL="http://127.0.0.1:9/"):
        provider = plan_provider(territory=territory)
        assert isinstance(provider, OsrmHttpProvider)
        assert provider.base_url == "http://127.0.0.1:9"


@pytest.mark.django_db
def test_an_unreachable_osrm_server_fails_the_computation_with_its_code() -> None:
    world = build_world()
    world.van("van-1")
    before = counts()
    # Port 9 (discard) on the loopback: nothing listens, the connection is refused at once.
    with override_settings(LOGISTICS_OSRM_URL="http://127.0.0.1:9"):
        err = io.StringIO()
        with pytest.raises(SystemExit) as exited:
            call_command("delivery_plan", str(world.cycle.pk), stdout=io.StringIO(), stderr=err)
    assert exited.value.code == 2
    assert err.getvalue().strip().endswith("(osrm_unavailable)")
    assert counts() == before


@pytest.mark.django_db
def test_baseline_km_is_a_round_trip_per_farm_and_destination() -> None:
    world = build_world()
    world.van("van-1")
    consolidation = cycle_consolidate(cycle=world.cycle)
    provider = GreatCircleProvider(detour_factor=1.3)
    km, skipped = baseline_km(consolidation=consolidation, provider=provider)
    assert skipped == 0
    market = (50.458440, 2.786470)  # the factory's farm
    farm = (float(FARM[0]), float(FARM[1]))
    trips = [(market, RELAYS[s]) for s in RELAYS] + [(farm, RELAYS["mairie-loos"])]
    expected = sum(
        2 * round(haversine_m(a[0], a[1], float(b[0]), float(b[1])) * 1.3) for a, b in trips
    )
    assert km == (Decimal(expected) / 1000).quantize(Decimal("0.001"))

    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    assert plan.baseline_km == km
    assert plan_km_saved(plan=plan) == plan.baseline_km - plan.total_km
    assert plan_co2_per_basket(plan=plan) == (plan.total_co2_kg / 4).quantize(Decimal("0.001"))


@pytest.mark.django_db
def test_the_command_prints_everything_the_plan_holds_as_json() -> None:
    world = build_world(collected=True, chilled=True)
    world.van("van-froid", cold_l=200)
    out = io.StringIO()
    call_command("delivery_plan", str(world.cycle.pk), "--time-limit", "1", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["orders"] == 4
    assert data["km_saved"] == pytest.approx(data["baseline_km"] - data["total_km"], abs=0.001)
    assert data["co2_per_basket_kg"] == pytest.approx(data["total_co2_kg"] / 4, abs=0.001)
    assert data["solve_state"] == "done"
    assert data["solver"]["provider"] == "GreatCircleProvider"
    loos = next(d for d in data["destinations"] if d["place"] == "relay:mairie-loos")
    assert loos["order_count"] == 2 and len(loos["orders"]) == 2
    (route,) = data["routes"]
    assert route["vehicle"]["capacity"] == {"kg": 800, "crates": 60, "cold_l": 200}
    assert route["km"] > 0 and route["co2_kg"] > 0
    kinds = {stop["kind"] for stop in route["stops"]}
    assert kinds == {"depot_start", "pickup", "delivery", "depot_end"}
    for stop in route["stops"]:
        assert {"place", "kind", "window", "eta", "load_kg_after", "manifest"} <= set(stop)
    assert data["unserved"] == []


@pytest.mark.django_db
def test_the_command_publishes_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    world = build_world()
    world.van("van-1")
    calls = []

    def publish(*, plan_id: int, version: int, by: object) -> DeliveryPlan:
        calls.append((plan_id, version, by))
        DeliveryPlan.objects.filter(pk=plan_id).update(status="published")
        return DeliveryPlan.objects.get(pk=plan_id)

    monkeypatch.setattr("logistics.management.commands.delivery_plan.plan_publish", publish)
    out = io.StringIO()
    call_command("delivery_plan", str(world.cycle.pk), "--time-limit", "1", "--publish", stdout=out)
    plan = DeliveryPlan.objects.get(cycle=world.cycle)
    assert calls == [(plan.pk, plan.version, None)]
    assert "publié" in out.getvalue()


@pytest.mark.django_db
def test_items_read_as_the_driver_needs_them_variants_and_baskets() -> None:
    world = build_world(chilled=True)
    crate = ProductVariantFactory(
        product=world.offers["carrots"].product, name="cagette 5 kg", content=Decimal("5")
    )
    basket = BasketFactory(cycle=world.cycle, name="Panier frais")
    BasketItemFactory(basket=basket, offer=world.offers["yoghurts"], quantity=Decimal("1"))
    BasketItemFactory(basket=basket, offer=world.offers["carrots"], quantity=Decimal("2"))
    OrderCycle.objects.filter(pk=world.cycle.pk).update(
        closes_at=timezone.now() + timedelta(days=1)
    )
    user = UserFactory(email="f@example.test", first_name="Zoé", last_name="")
    cart_set_item(
        customer=user,
        cycle_id=world.cycle.pk,
        count=Decimal("2"),
        offer_id=world.offers["carrots"].pk,
        variant_id=crate.pk,
    )
    cart_set_item(customer=user, cycle_id=world.cycle.pk, count=Decimal("1"), basket_id=basket.pk)
    relay = world.relays["poste-lens"]
    slot = pickup_slots_ensure(relay_point=relay, on=world.cycle.delivery_date)[0]
    order_place(
        customer=user,
        cycle_id=world.cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=slot.pk,
        payment_method="pickup",
        idempotency_key="f",
    )
    lens = {d.place: d for d in cycle_consolidate(cycle=world.cycle).destinations}[
        "relay:poste-lens"
    ]
    order = next(o for o in lens.as_dict()["orders"] if o["customer"] == "Zoé")
    assert order["items"] == [
        {"name": "Carottes — cagette 5 kg", "quantity": "2 (10 kg)", "cold": False},
        {"name": "Panier frais", "quantity": "1 panier", "cold": True},
    ]
    assert (order["baskets"], order["lines"], order["cold_items"]) == (1, 2, 1)
    assert order["kg"] == 13.0  # 10 kg of crates, 2 kg of carrots and 1 kg of yoghurts


@pytest.mark.django_db
def test_consolidation_reads_in_four_queries_whatever_the_orders(
    django_assert_num_queries: Any,
) -> None:
    world = build_world(chilled=True)
    # Orders with their customers, their lines (products, farms), opening hours; the
    # canteen orders' lines with their canteens.
    with django_assert_num_queries(4):
        consolidation = cycle_consolidate(cycle=world.cycle)
        assert consolidation.order_count == 4


@pytest.mark.django_db
def test_a_driver_shift_outside_the_vehicle_hours_is_refused() -> None:
    world = build_world()
    world.van("van-1", shift=(time(14), time(18)))  # the van serves 8:00-13:00
    before = counts()
    with pytest.raises(DriverShiftOutsideService) as raised:
        plan_compute(cycle_id=world.cycle.pk, time_limit=1)
    assert raised.value.code == "driver_shift_outside_service"
    assert "Utilitaire van-1" in raised.value.message
    assert counts() == before


@pytest.mark.django_db
def test_a_farm_share_no_vehicle_can_carry_leaves_its_destination_unserved_whole() -> None:
    """A destination is served whole or not at all: the van does not call at Loos with the
    carrots while the yoghurts stay at the farm (the households' orders would be split)."""
    world = build_world(collected=True, chilled=True)
    world.van("van-1")  # no cold box
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    reason = "Produits de « Laiterie des Terrils » : " + UNSERVED_REASONS["no_compatible_vehicle"]
    assert plan.unserved == [
        {
            "place": "relay:mairie-loos",
            "code": "no_compatible_vehicle",
            "reason_fr": reason,
            "decision": None,
            "shares": ["farm:terrils", "hub"],
        }
    ]
    stops = list(PlanStop.objects.filter(route__plan=plan).order_by("position"))
    assert [s.place for s in stops if s.kind == "delivery"] in (
        ["relay:poste-lens", "relay:poste-lievin"],
        ["relay:poste-lievin", "relay:poste-lens"],
    )
    assert "farm:terrils" not in {s.place for s in stops}
    # The route is timed again without Loos: it loads only Lens' and Liévin's carrots.
    start = next(s for s in stops if s.kind == "depot_start")
    assert start.load_kg_after == 14
    assert sorted(i["place"] for i in start.manifest["load_in_order"]) == [
        "relay:poste-lens",
        "relay:poste-lievin",
    ]
