"""Canteen orders on the rounds: a destination with its reception window, lines and load."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from logistics.errors import MissingCoordinates
from logistics.selectors import cycle_consolidate, plan_as_dict, plan_problem_build
from logistics.services import plan_compute
from marche.canteens.models import Canteen, CanteenOrder, CanteenOrderStatus
from tests.factories.canteens import (
    CanteenFactory,
    CanteenOrderFactory,
    CanteenOrderLineFactory,
)
from tests.logistics.test_plan_problem import World, _routes, build_world, counts


def _canteen_order(world: World, **canteen: object) -> CanteenOrder:
    """The nursery school of Loos: 20 kg of carrots (the hub's farm), 12 yoghurt pots of
    125 g (the dairy), a line the dairy refused; delivered 8:30-9:30."""
    school = CanteenFactory(
        territory=world.cycle.territory,
        name="École maternelle Jean-Macé",
        slug="maternelle-jean-mace",
        latitude=Decimal("50.455000"),
        longitude=Decimal("2.790000"),
        **canteen,
    )
    order = CanteenOrderFactory(
        canteen=school,
        cycle=world.cycle,
        reference="C-2026-0001",
        window_starts_at=time(8, 30),
        window_ends_at=time(9, 30),
    )
    CanteenOrderLineFactory(
        order=order,
        offer=world.offers["carrots"],
        quantity_ordered=Decimal("25"),
        quantity_confirmed=Decimal("20"),
        allergens=[],
    )
    CanteenOrderLineFactory(
        order=order,
        offer=world.offers["yoghurts"],
        name="Yaourts nature 125 g",
        unit="piece",
        quantity_ordered=Decimal("12"),
        weight_per_unit_kg=Decimal("0.125"),
        is_chilled=True,
        allergens=["milk"],
    )
    return order


def _refused_line(world: World, order: CanteenOrder) -> None:
    from tests.factories import OfferFactory, ProductFactory

    offer = OfferFactory(
        cycle=world.cycle,
        product=ProductFactory(producer=world.market, name="Poireaux"),
        quantity_available=Decimal("50"),
    )
    CanteenOrderLineFactory(
        order=order, offer=offer, quantity_ordered=Decimal("5"), quantity_confirmed=Decimal("0")
    )


@pytest.mark.django_db
def test_a_canteen_order_is_a_destination_with_its_lines_load_and_window() -> None:
    world = build_world(chilled=True)
    order = _canteen_order(world)
    _refused_line(world, order)
    consolidation = cycle_consolidate(cycle=world.cycle)
    places = [d.place for d in consolidation.destinations]
    # Relay points first (slug order), then canteens.
    assert places == [
        "relay:mairie-loos",
        "relay:poste-lens",
        "relay:poste-lievin",
        "canteen:maternelle-jean-mace",
    ]
    school = consolidation.destinations[-1]
    assert school.kg == Decimal("21.500")  # 20 kg + 12 x 0.125 kg
    assert school.hub_kg == Decimal("21.500")  # neither farm is collected on the round
    assert (school.cold_items, school.crates, school.lines) == (1, 2, 2)
    assert school.window() == (8 * 3600 + 1800, 9 * 3600 + 1800)
    assert consolidation.order_count == 4  # household orders only
    assert consolidation.canteen_order_count == 1
    manifest = school.as_dict()
    assert manifest["orders"] == [] and manifest["name"] == "École maternelle Jean-Macé"
    canteen_order = manifest["canteen_order"]
    assert canteen_order["reference"] == "C-2026-0001"
    assert canteen_order["window"] == ["08:30", "09:30"]
    assert [
        (line["producer"], line["name"], line["quantity_label"], line["cold"], line["allergens"])
        for line in canteen_order["lines"]
    ] == [
        ("Ferme du Marais", "Carottes", "20 kg", False, []),
        ("Laiterie des Terrils", "Yaourts nature 125 g", "12 pièces", True, ["milk"]),
    ]
    farms = {f.place: f for f in consolidation.farms}
    assert farms["farm:terrils"].kg_by_destination["canteen:maternelle-jean-mace"] == Decimal(
        "1.500"
    )


@pytest.mark.django_db
def test_cancelled_and_fully_refused_canteen_orders_are_not_delivered() -> None:
    world = build_world()
    order = _canteen_order(world)
    CanteenOrder.objects.filter(pk=order.pk).update(status=CanteenOrderStatus.CANCELLED)
    assert [d.place for d in cycle_consolidate(cycle=world.cycle).destinations][-1] == (
        "relay:poste-lievin"
    )
    CanteenOrder.objects.filter(pk=order.pk).update(status=CanteenOrderStatus.CONFIRMED)
    order.lines.update(quantity_confirmed=Decimal("0"))
    assert "canteen:maternelle-jean-mace" not in {
        d.place for d in cycle_consolidate(cycle=world.cycle).destinations
    }


@pytest.mark.django_db
def test_the_canteen_stop_of_the_problem_carries_its_window_demand_and_cold_chain() -> None:
    world = build_world(collected=True, chilled=True)
    world.van("van-froid", cold_l=200)
    _canteen_order(world)
    built = plan_problem_build(consolidation=cycle_consolidate(cycle=world.cycle))
    stops = {stop.id: stop for stop in built.problem.stops}
    school = stops["canteen:maternelle-jean-mace"]
    # The carrots are loaded at the hub; the yoghurts ride from the dairy collected on the way.
    assert school.demand == {"kg": 20, "crates": 2}
    assert [(w.start, w.end) for w in school.windows] == [(30600, 34200)]
    pickup = stops["farm:terrils#canteen:maternelle-jean-mace"]
    drop = stops["canteen:maternelle-jean-mace#farm:terrils"]
    assert pickup.demand == drop.demand == {"kg": 2, "crates": 0, "cold_l": 3}
    assert drop.windows == school.windows
    assert drop.requires == frozenset({"cold"})
    assert built.places["canteen:maternelle-jean-mace"].name == "École maternelle Jean-Macé"


@pytest.mark.django_db
def test_a_canteen_without_coordinates_is_refused_and_nothing_is_stored() -> None:
    world = build_world()
    world.van("van-1")
    order = _canteen_order(world)
    Canteen.objects.filter(pk=order.canteen_id).update(latitude=0, longitude=0)
    before = counts()
    with pytest.raises(MissingCoordinates) as raised:
        plan_compute(cycle_id=world.cycle.pk, time_limit=1)
    assert raised.value.code == "missing_coordinates"
    assert "canteen:maternelle-jean-mace" in raised.value.message
    assert counts() == before


@pytest.mark.django_db
def test_the_stored_canteen_stop_snapshots_the_canteen_and_its_window() -> None:
    world = build_world(chilled=True)
    world.van("van-froid", cold_l=200)
    order = _canteen_order(world)
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=2).plan
    assert plan.unserved == []
    (route,) = _routes(plan).values()
    stop = next(s for s in route if s.place == "canteen:maternelle-jean-mace")
    zone = ZoneInfo(world.cycle.territory.timezone)
    assert (stop.kind, stop.name) == ("delivery", "École maternelle Jean-Macé")
    assert stop.address == "1 rue de l'École, 62750 Loos-en-Gohelle"
    assert (stop.latitude, stop.longitude) == (Decimal("50.455000"), Decimal("2.790000"))
    assert stop.window_start.astimezone(zone).time() == time(8, 30)
    assert stop.window_end.astimezone(zone).time() == time(9, 30)
    assert time(8, 30) <= stop.eta.astimezone(zone).time() <= time(9, 30)
    assert stop.manifest["canteen_order"]["id"] == order.pk
    assert stop.manifest["crates"] == 2 and stop.manifest["kg"] == 21.5
    depot = route[0]
    loads = {entry["place"]: entry for entry in depot.manifest["load_in_order"]}
    assert loads["canteen:maternelle-jean-mace"]["name"] == "École maternelle Jean-Macé"
    assert loads["canteen:maternelle-jean-mace"]["crates"] == 2
    as_json = plan_as_dict(plan=plan)
    assert as_json["canteen_orders"] == 1
    assert "canteen:maternelle-jean-mace" in {d["place"] for d in as_json["destinations"]}
