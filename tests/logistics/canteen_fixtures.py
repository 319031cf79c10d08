"""A canteen delivery on a published round: the drivers' world plus a nursery-school stop.

The canteen's stop is written with the manifest the plan computation stores (read from the
consolidation), after the two relay points and before the return to the depot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from logistics.models import PlanStop, StopKind
from logistics.selectors import cycle_consolidate
from marche.accounts.models import User
from marche.canteens.models import Canteen, CanteenOrder, CanteenOrderLine
from marche.catalog.models import Allergen, Unit
from tests.factories import OfferFactory, ProducerFactory, ProductFactory
from tests.factories.canteens import (
    CanteenFactory,
    CanteenManagerFactory,
    CanteenOrderFactory,
    CanteenOrderLineFactory,
)
from tests.logistics.driver_fixtures import DriverWorld, build_driver_world


@dataclass
class CanteenWorld:
    world: DriverWorld
    canteen: Canteen
    manager: User
    order: CanteenOrder
    carrots: CanteenOrderLine
    yoghurts: CanteenOrderLine
    bread: CanteenOrderLine
    stop: PlanStop


def build_canteen_world(**driver_world: object) -> CanteenWorld:
    """Jean-Macé nursery school: 20 kg of carrots (25 ordered), 12 yoghurts (milk, chilled),
    6 loaves (gluten, sesame), delivered 7:30-10:00 on the driver's published round."""
    world = build_driver_world(**driver_world)  # type: ignore[arg-type]
    territory = world.cycle.territory
    manager = CanteenManagerFactory(
        email="cantine-jean-mace@example.test", first_name="Sophie", last_name="Lemaire"
    )
    canteen = CanteenFactory(
        territory=territory,
        name="École maternelle Jean-Macé",
        slug="maternelle-jean-mace",
        address="12 rue Jean-Macé",
        latitude=Decimal("50.455000"),
        longitude=Decimal("2.790000"),
        managers=[manager],
    )
    order = CanteenOrderFactory(
        canteen=canteen,
        cycle=world.cycle,
        reference="C-2026-00042",
        window_starts_at=time(7, 30),
        window_ends_at=time(10),
    )
    farm = ProducerFactory(territory=territory, name="Ferme Dupuis", slug="ferme-dupuis")
    dairy = ProducerFactory(territory=territory, name="Laiterie des Terrils", slug="terrils")
    bakery = ProducerFactory(territory=territory, name="Fournil du 11/19", slug="fournil")

    def offer(producer, name, unit, allergens=(), chilled=False):  # type: ignore[no-untyped-def]
        product = ProductFactory(
            producer=producer,
            name=name,
            unit=unit,
            allergens=list(allergens),
            is_chilled=chilled,
            wholesale_price=Decimal("1.5000"),
        )
        return OfferFactory(cycle=world.cycle, product=product, quantity_available=Decimal("200"))

    carrots = CanteenOrderLineFactory(
        order=order,
        offer=offer(farm, "Carottes des sables", Unit.KG),
        quantity_ordered=Decimal("25"),
        quantity_confirmed=Decimal("20"),
        status="adjusted",
    )
    yoghurts = CanteenOrderLineFactory(
        order=order,
        offer=offer(dairy, "Yaourts nature 125 g", Unit.PIECE, [Allergen.MILK], chilled=True),
        quantity_ordered=Decimal("12"),
        weight_per_unit_kg=Decimal("0.125"),
        is_chilled=True,
    )
    bread = CanteenOrderLineFactory(
        order=order,
        offer=offer(bakery, "Pain aux graines", Unit.PIECE, [Allergen.GLUTEN, Allergen.SESAME]),
        quantity_ordered=Decimal("6"),
        weight_per_unit_kg=Decimal("0.500"),
    )
    destination = next(
        d
        for d in cycle_consolidate(cycle=world.cycle).destinations
        if d.place == f"canteen:{canteen.slug}"
    )
    zone = ZoneInfo(territory.timezone)

    def at(hour: int, minute: int) -> datetime:
        return datetime.combine(world.cycle.delivery_date, time(hour, minute), tzinfo=zone)

    PlanStop.objects.filter(pk=world.depot_end.pk).update(position=5)
    stop = PlanStop.objects.create(
        route=world.route,
        position=4,
        place=destination.place,
        kind=StopKind.DELIVERY,
        name=canteen.name,
        address=canteen.full_address,
        latitude=canteen.latitude,
        longitude=canteen.longitude,
        window_start=at(7, 30),
        window_end=at(10, 0),
        eta=at(9, 40),
        load_kg_after=0,
        manifest=destination.as_dict(),
    )
    world.depot_end.refresh_from_db()
    return CanteenWorld(
        world=world,
        canteen=canteen,
        manager=manager,
        order=order,
        carrots=carrots,
        yoghurts=yoghurts,
        bread=bread,
        stop=stop,
    )
