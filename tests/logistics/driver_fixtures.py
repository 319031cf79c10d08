"""A published delivery plan built row by row, for the drivers' pages, API and check-offs.

Real orders (placed through the marketplace's services) at two relay points, one van with
its driver, and one route: depot → farm pickup → relay A (two orders) → relay B (one
order) → depot, with manifests in the stored formats the plan computation writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from logistics.models import (
    DeliveryPlan,
    Depot,
    PlanRoute,
    PlanStatus,
    PlanStop,
    StopKind,
    Vehicle,
)
from marche.accounts.models import Role, User
from marche.catalog.models import Unit
from marche.cycles.models import OrderCycle
from marche.orders.models import Order
from marche.orders.services import cart_set_item, order_place
from marche.relays.models import RelayPoint
from marche.relays.services import pickup_slots_ensure
from tests.factories import (
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    RelayPointFactory,
    UserFactory,
)

PASSWORD = "mot-de-passe-test"


@dataclass
class DriverWorld:
    cycle: OrderCycle
    plan: DeliveryPlan
    route: PlanRoute
    driver: User
    coordinator: User
    relay_a: RelayPoint
    relay_b: RelayPoint
    orders: dict[str, Order]
    depot_start: PlanStop
    pickup: PlanStop
    stop_a: PlanStop
    stop_b: PlanStop
    depot_end: PlanStop


def _order(cycle: OrderCycle, relay: RelayPoint, offer: object, first: str, last: str) -> Order:
    user = UserFactory(
        email=f"{first.lower()}.{last.lower()}@example.test", first_name=first, last_name=last
    )
    cart_set_item(customer=user, cycle_id=cycle.pk, count=Decimal("2"), offer_id=offer.pk)  # type: ignore[attr-defined]
    slot = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)[0]
    order, _start = order_place(
        customer=user,
        cycle_id=cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=slot.pk,
        payment_method="pickup",
        idempotency_key=f"driver-{first}-{last}",
    )
    return order


def _drop(order: Order, customer: str, *, cold: bool) -> dict[str, object]:
    return {
        "reference": order.reference,
        "customer": customer,
        "baskets": 1,
        "lines": 1,
        "kg": 2.0,
        "cold_items": 1 if cold else 0,
        "items": [
            {"name": "Carottes", "quantity": "2 kg", "cold": False},
            *([{"name": "Yaourts fermiers", "quantity": "4", "cold": True}] if cold else []),
        ],
    }


def build_driver_world(
    *, delivery_date: date | None = None, status: str = PlanStatus.PUBLISHED, suffix: str = ""
) -> DriverWorld:
    """A cycle past its cutoff with three orders and a published one-van plan for a driver."""
    delivery_date = delivery_date or timezone.localdate()
    cycle = OrderCycleFactory(name=f"Semaine 49{suffix}", delivery_date=delivery_date)
    territory = cycle.territory
    farm = ProducerFactory(territory=territory, name="Ferme du Marais", slug=f"marais{suffix}")
    carrots = OfferFactory(
        cycle=cycle,
        product=ProductFactory(producer=farm, name="Carottes", unit=Unit.KG),
        quantity_available=Decimal("100"),
    )
    relay_a = RelayPointFactory(
        territory=territory,
        name="Mairie de Loos",
        slug=f"mairie-loos{suffix}",
        latitude=Decimal("50.457900"),
        longitude=Decimal("2.793300"),
    )
    relay_b = RelayPointFactory(
        territory=territory,
        name="La Poste de Lens",
        slug=f"poste-lens{suffix}",
        latitude=Decimal("50.432800"),
        longitude=Decimal("2.831000"),
    )
    orders = {
        "camille": _order(cycle, relay_a, carrots, "Camille", "Durand"),
        "louis": _order(cycle, relay_a, carrots, "Louis", "Martin"),
        "ines": _order(cycle, relay_b, carrots, "Inès", "Bernard"),
    }
    now = timezone.now()
    OrderCycle.objects.filter(pk=cycle.pk).update(
        opens_at=now - timedelta(days=3), closes_at=now - timedelta(hours=1)
    )
    cycle.refresh_from_db()
    driver = UserFactory(
        email=f"chauffeur{suffix}@example.test",
        role=Role.DRIVER,
        first_name="Karim",
        last_name="Lefebvre",
        territory=territory,
    )
    coordinator = UserFactory(
        email=f"coordination{suffix}@example.test",
        role=Role.COORDINATOR,
        first_name="Claire",
        last_name="Petit",
        territory=territory,
    )
    depot = Depot.objects.create(
        territory=territory,
        name="Base 11/19",
        slug=f"base-11-19{suffix}",
        latitude=Decimal("50.446000"),
        longitude=Decimal("2.793000"),
    )
    van = Vehicle.objects.create(
        territory=territory,
        depot=depot,
        name="Utilitaire 1",
        slug=f"van-1{suffix}",
        kind="van",
        capacity_kg=800,
        capacity_crates=60,
        cold_volume_litres=200,
        average_speed_kmh=Decimal("30"),
        cost_per_km=Decimal("0.300"),
        cost_per_hour=Decimal("24.00"),
        shift_start=time(8),
        shift_end=time(13),
    )
    plan = DeliveryPlan.objects.create(
        cycle=cycle,
        status=status,
        solve_state="done",
        solved_at=now,
        published_at=now if status == PlanStatus.PUBLISHED else None,
    )
    route = PlanRoute.objects.create(
        plan=plan,
        vehicle=van,
        driver=driver,
        position=1,
        km=Decimal("14.250"),
        duration_min=95,
        co2_kg=Decimal("3.833"),
    )
    zone = ZoneInfo(territory.timezone)

    def at(hour: int, minute: int) -> datetime:
        return datetime.combine(delivery_date, time(hour, minute), tzinfo=zone)

    manifest_a = {
        "place": f"relay:{relay_a.slug}",
        "name": relay_a.name,
        "orders": [
            _drop(orders["camille"], "Camille D.", cold=True),
            _drop(orders["louis"], "Louis M.", cold=False),
        ],
        "order_count": 2,
        "baskets": 2,
        "lines": 2,
        "crates": 2,
        "kg": 4.0,
        "cold_items": 1,
    }
    manifest_b = {
        "place": f"relay:{relay_b.slug}",
        "name": relay_b.name,
        "orders": [_drop(orders["ines"], "Inès B.", cold=False)],
        "order_count": 1,
        "baskets": 1,
        "lines": 1,
        "crates": 1,
        "kg": 2.0,
        "cold_items": 0,
    }
    common = {"route": route}
    depot_start = PlanStop.objects.create(
        **common,
        position=0,
        place=f"depot:{depot.slug}",
        kind=StopKind.DEPOT_START,
        name=depot.name,
        address="Rue Léon Blum, 62750 Loos-en-Gohelle",
        latitude=depot.latitude,
        longitude=depot.longitude,
        eta=at(8, 0),
        load_kg_after=6,
        manifest={
            "load_in_order": [
                {
                    "place": manifest_b["place"],
                    "name": relay_b.name,
                    "crates": 1,
                    "kg": 2.0,
                    "cold_items": 0,
                },
                {
                    "place": manifest_a["place"],
                    "name": relay_a.name,
                    "crates": 2,
                    "kg": 4.0,
                    "cold_items": 1,
                },
            ]
        },
    )
    pickup = PlanStop.objects.create(
        **common,
        position=1,
        place=f"farm:{farm.slug}",
        kind=StopKind.PICKUP,
        name=farm.name,
        address="Chemin des Marais, 62750 Loos-en-Gohelle",
        contact="06 12 34 56 78",
        latitude=farm.latitude,
        longitude=farm.longitude,
        eta=at(8, 20),
        load_kg_after=9,
        manifest={
            "place": f"farm:{farm.slug}",
            "name": farm.name,
            "collect": [
                {
                    "destination": manifest_a["place"],
                    "name": relay_a.name,
                    "kg": 3.0,
                    "cold_items": 1,
                }
            ],
            "kg": 3.0,
        },
    )
    stop_a = PlanStop.objects.create(
        **common,
        position=2,
        place=manifest_a["place"],
        kind=StopKind.DELIVERY,
        name=relay_a.name,
        address="Place de la République, 62750 Loos-en-Gohelle",
        contact="03 21 69 88 77 · accueil@mairie.example",
        latitude=relay_a.latitude,
        longitude=relay_a.longitude,
        window_end=at(16, 0),
        eta=at(8, 45),
        load_kg_after=2,
        manifest=manifest_a,
    )
    stop_b = PlanStop.objects.create(
        **common,
        position=3,
        place=manifest_b["place"],
        kind=StopKind.DELIVERY,
        name=relay_b.name,
        address="Rue de la Gare, 62300 Lens",
        contact="",
        latitude=relay_b.latitude,
        longitude=relay_b.longitude,
        window_end=at(16, 0),
        eta=at(9, 10),
        load_kg_after=0,
        manifest=manifest_b,
    )
    depot_end = PlanStop.objects.create(
        **common,
        position=4,
        place=f"depot:{depot.slug}",
        kind=StopKind.DEPOT_END,
        name=depot.name,
        latitude=depot.latitude,
        longitude=depot.longitude,
        eta=at(9, 35),
        load_kg_after=0,
    )
    return DriverWorld(
        cycle=cycle,
        plan=plan,
        route=route,
        driver=driver,
        coordinator=coordinator,
        relay_a=relay_a,
        relay_b=relay_b,
        orders=orders,
        depot_start=depot_start,
        pickup=pickup,
        stop_a=stop_a,
        stop_b=stop_b,
        depot_end=depot_end,
    )
