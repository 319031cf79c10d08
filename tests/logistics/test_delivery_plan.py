"""From orders to a plan: closing due cycles, consolidation, the problem, the stored plan."""

from __future__ import annotations

import io
import itertools
import json
import threading
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from logistics.errors import CycleStillOpen, MissingCoordinates, NoVehicle
from logistics.models import CycleClosing, DeliveryPlan, Depot, DriverShift, PlanStop, Vehicle
from logistics.selectors import cycle_consolidate
from logistics.services import cycle_close_due, plan_compute
from logistics.tasks import close_due_cycles, plan_compute_task
from marche.accounts.models import Role
from marche.catalog.models import Unit
from marche.cycles.models import OrderCycle
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

# Real places around Loos-en-Gohelle (../shared/data/places-lensois.csv).
RELAYS = {
    "mairie-loos": ("50.457900", "2.793300"),
    "poste-lens": ("50.432800", "2.831000"),
    "poste-lievin": ("50.423400", "2.779000"),
}


def _order(cycle: OrderCycle, relay: RelayPoint, items: list[tuple[object, str]], key: str):
    user = UserFactory(email=f"{key}@example.test")
    user.save()
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


def build_cycle(*, vehicle: bool = True, prefix: str = "") -> OrderCycle:
    """A cycle past its cutoff: orders at three relay points, one hub and one van.

    ``prefix`` tells apart the people of several such cycles (each on its own territory).
    """
    cycle = OrderCycleFactory(name="Semaine 12")
    territory = cycle.territory
    farm = ProducerFactory(territory=territory, name="Ferme du Marais", slug="marais")
    carrots = OfferFactory(
        cycle=cycle,
        product=ProductFactory(producer=farm, name="Carottes", unit=Unit.KG),
        quantity_available=Decimal("100"),
    )
    eggs = OfferFactory(
        cycle=cycle,
        product=ProductFactory(producer=farm, name="Œufs", unit=Unit.DOZEN),
        quantity_available=Decimal("100"),
    )
    relays = {
        slug: RelayPointFactory(
            territory=territory, slug=slug, name=slug, latitude=Decimal(lat), longitude=Decimal(lon)
        )
        for slug, (lat, lon) in RELAYS.items()
    }
    _order(cycle, relays["mairie-loos"], [(carrots, "3"), (eggs, "2")], f"{prefix}a")
    _order(cycle, relays["mairie-loos"], [(carrots, "5")], f"{prefix}b")
    _order(cycle, relays["poste-lens"], [(carrots, "10")], f"{prefix}c")
    _order(cycle, relays["poste-lievin"], [(carrots, "4"), (eggs, "1")], f"{prefix}d")
    depot = Depot.objects.create(
        territory=territory,
        name="Base 11/19",
        slug="base-11-19",
        latitude=Decimal("50.446000"),
        longitude=Decimal("2.793000"),
    )
    if vehicle:
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
            shift_start=time(8),
            shift_end=time(13),
        )
        DriverShift.objects.create(
            vehicle=van,
            driver=UserFactory(
                email=f"{prefix}chauffeur@example.test",
                role=Role.DRIVER,
                first_name="Léa",
                last_name="Roy",
            ),
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
def test_consolidation_counts_orders_and_estimated_kg_per_relay_and_farm() -> None:
    cycle = build_cycle()
    consolidation = cycle_consolidate(cycle=cycle)
    by_place = {d.place: d for d in consolidation.destinations}
    assert sorted(by_place) == ["relay:mairie-loos", "relay:poste-lens", "relay:poste-lievin"]
    mairie = by_place["relay:mairie-loos"]
    assert len(mairie.orders) == 2
    assert mairie.lines == 3
    assert mairie.crates == 2
    # 3 kg + 5 kg of carrots, and two dozen eggs at the setting's 0.7 kg a dozen.
    assert mairie.kg == Decimal("9.4")
    assert mairie.cold_items == 0
    assert mairie.pickup_opens == time(16)
    assert by_place["relay:poste-lens"].kg == Decimal("10")
    (farm,) = consolidation.farms
    assert farm.place == "farm:marais"
    assert farm.kg_by_destination == {
        "relay:mairie-loos": Decimal("9.4"),
        "relay:poste-lens": Decimal("10"),
        "relay:poste-lievin": Decimal("4.7"),
    }


@pytest.mark.django_db
def test_plan_compute_stores_a_feasible_route_and_the_command_prints_it() -> None:
    cycle = build_cycle()
    result = plan_compute(cycle_id=cycle.pk, time_limit=1)
    assert result.closed_now is True
    assert CycleClosing.objects.get(cycle=cycle).orders_count == 4

    out = io.StringIO()
    call_command("delivery_plan", str(cycle.pk), "--time-limit", "1", "--json", stdout=out)
    plan = json.loads(out.getvalue())
    assert plan["cycle"] == cycle.pk
    assert plan["status"] == "draft"
    assert plan["version"] == 3  # created, then written by each of the two computations
    assert [d["place"] for d in plan["destinations"]] == [
        "relay:mairie-loos",
        "relay:poste-lens",
        "relay:poste-lievin",
    ]
    assert [d["order_count"] for d in plan["destinations"]] == [2, 1, 1]
    assert plan["unserved"] == []
    (route,) = plan["routes"]
    assert route["vehicle"] == {
        "slug": "van-1",
        "name": "Utilitaire 1",
        "kind": "van",
        "capacity": {"kg": 800, "crates": 60, "cold_l": 0},
    }
    stops = route["stops"]
    places = [stop["place"] for stop in stops]
    assert places[0] == places[-1] == "depot:base-11-19"
    # every relay with orders, once
    assert sorted(places[1:-1]) == [d["place"] for d in plan["destinations"]]
    assert [stop["kind"] for stop in stops] == ["depot_start"] + ["delivery"] * 3 + ["depot_end"]
    loads = [stop["load_kg_after"] for stop in stops]
    # 9.4 + 10 + 4.7 = 24.1 kg leave the hub, the loading list's total to the kg (not the
    # engine's whole kg rounded up per place, 25); each drop lowers the load.
    assert loads[0] == 24
    assert loads[-1] == 0
    assert all(a > b for a, b in itertools.pairwise(loads[:-1])), loads
    etas = [stop["eta"] for stop in stops]
    assert etas == sorted(etas)
    for stop in stops[1:-1]:
        assert stop["window"]["end"].startswith(f"{cycle.delivery_date.isoformat()}T16:00")
        assert stop["eta"] < stop["window"]["end"]
        assert stop["manifest"]["place"] == stop["place"]
    assert stops[1]["manifest"]["order_count"] >= 1
    assert route["km"] > 0
    assert route["co2_kg"] == pytest.approx(round(route["km"] * 0.269, 3), abs=0.001)
    assert plan["total_km"] == route["km"]
    assert DeliveryPlan.objects.filter(cycle=cycle).count() == 1
    assert PlanStop.objects.filter(route__plan__cycle=cycle).count() == 5


@pytest.mark.django_db
def test_no_active_vehicle_is_refused_and_nothing_is_stored() -> None:
    cycle = build_cycle(vehicle=False)
    with pytest.raises(NoVehicle) as raised:
        plan_compute(cycle_id=cycle.pk, time_limit=1)
    assert raised.value.code == "no_vehicle"
    assert DeliveryPlan.objects.count() == 0
    assert CycleClosing.objects.count() == 0


@pytest.mark.django_db
def test_a_relay_without_coordinates_is_refused_by_the_command_with_exit_code_2() -> None:
    cycle = build_cycle()
    RelayPoint.objects.filter(slug="poste-lens").update(latitude=0, longitude=0)
    with pytest.raises(MissingCoordinates):
        plan_compute(cycle_id=cycle.pk, time_limit=1)
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("delivery_plan", str(cycle.pk), stdout=io.StringIO(), stderr=err)
    assert exited.value.code == 2
    assert err.getvalue().strip().endswith("(missing_coordinates)")
    assert "relay:poste-lens" in err.getvalue()
    assert err.getvalue().count("\n") == 1
    assert DeliveryPlan.objects.count() == 0
    assert CycleClosing.objects.count() == 0


@pytest.mark.django_db
def test_an_open_cycle_is_not_planned() -> None:
    cycle = OrderCycleFactory()
    with pytest.raises(CycleStillOpen):
        plan_compute(cycle_id=cycle.pk, time_limit=1)
    assert plan_compute_task.delay(cycle.pk, 1).get() == {
        "ok": False,
        "code": "cycle_open",
        "message": str(CycleStillOpen.default_message),
    }
    assert DeliveryPlan.objects.count() == 0


@pytest.mark.django_db
def test_plan_compute_task_replaces_the_draft() -> None:
    cycle = build_cycle()
    first = plan_compute_task.delay(cycle.pk, 1).get()
    second = plan_compute_task.delay(cycle.pk, 1).get()
    assert first["ok"] and second["ok"] and first["plan"] == second["plan"]
    assert second["version"] == first["version"] + 1
    assert PlanStop.objects.filter(route__plan__cycle=cycle).count() == 5


@pytest.mark.django_db
def test_closing_due_cycles_twice_changes_nothing_the_second_time() -> None:
    now = timezone.now()
    due = OrderCycleFactory(opens_at=now - timedelta(days=2), closes_at=now - timedelta(minutes=1))
    OrderCycleFactory()  # still open
    assert cycle_close_due(now=now) == [due.pk]
    closing = CycleClosing.objects.get()
    assert close_due_cycles.delay().get() == []
    assert list(CycleClosing.objects.all()) == [closing]
    assert CycleClosing.objects.get().closed_at == closing.closed_at


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_closing_at_once_close_each_cycle_once() -> None:
    assert connection.vendor == "postgresql"
    now = timezone.now()
    cycles = [
        OrderCycleFactory(opens_at=now - timedelta(days=2), closes_at=now - timedelta(minutes=1))
        for _ in range(5)
    ]
    workers = 2
    barrier = threading.Barrier(workers)
    closed: list[list[int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            ids = cycle_close_due(now=now)
            with lock:
                closed.append(ids)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(closed) == workers
    assert sorted(pk for ids in closed for pk in ids) == sorted(c.pk for c in cycles)
    assert CycleClosing.objects.count() == len(cycles)
