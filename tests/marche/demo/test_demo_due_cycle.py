"""The demo's cycle to plan: past its cutoff, delivered the day after the load, 150 orders."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db.models import Sum

from logistics.models import CycleClosing, DeliveryPlan, PlanStop, StopKind
from logistics.services import cycle_close_due, plan_compute
from marche.accounts.models import Role, User
from marche.canteens.models import (
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    LineStatus,
    StandingOrder,
)
from marche.core.models import OutboxMessage
from marche.cycles.models import HoldStatus, Offer, OrderCycle, StockHold
from marche.demo.spec import DEFAULT_SPEC
from marche.mannes.models import Transaction
from marche.mannes.selectors import ledger_drifts
from marche.orders.models import Order, OrderLine, OrderStatus
from marche.payments.models import Payment, PaymentStatus
from marche.relays.models import PickupSlot, RelayDay, RelayPoint

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=PARIS)


def load(**options: object) -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out, due_cycle=True, **options)
    return out.getvalue()


def small_spec(tmp_path: Path, **due: object) -> Path:
    """The demo description with some keys of its [due_cycle] section replaced."""
    for name in ("places-lensois.csv", "communes-lensois.csv"):
        (tmp_path / name).write_bytes((DEFAULT_SPEC.parent / name).read_bytes())
    text = DEFAULT_SPEC.read_text(encoding="utf-8")
    head, section = text.split("[due_cycle]\n")
    for key, value in due.items():
        lines = section.split("\n")
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{key} = "))
        lines[index] = f"{key} = {value}"
        section = "\n".join(lines)
    path = tmp_path / "demo.toml"
    path.write_text(head + "[due_cycle]\n" + section, encoding="utf-8")
    return path


def due_cycle() -> OrderCycle:
    return OrderCycle.objects.get(schedule__isnull=True)


def snapshot() -> dict[str, object]:
    return {
        "users": User.objects.count(),
        "cycles": OrderCycle.objects.count(),
        "orders": sorted(Order.objects.values_list("pk", "status", "total")),
        "lines": OrderLine.objects.count(),
        "holds": sorted(StockHold.objects.values_list("pk", "status")),
        "offers": sorted(
            Offer.objects.values_list("pk", "quantity_available", "quantity_held", "quantity_sold")
        ),
        "payments": sorted(Payment.objects.values_list("pk", "status", "amount")),
        "transactions": Transaction.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "slots": sorted(PickupSlot.objects.values_list("pk", "booked")),
        "canteen_orders": sorted(CanteenOrder.objects.values_list("pk", "status")),
        "canteen_lines": sorted(
            CanteenOrderLine.objects.values_list("pk", "quantity_ordered", "quantity_confirmed")
        ),
    }


@pytest.mark.slow
def test_a_cycle_past_its_cutoff_with_150_confirmed_orders_over_the_10_relays() -> None:
    with time_machine.travel(WEDNESDAY, tick=False):
        output = load()
    cycle = due_cycle()
    assert (cycle.delivery_date, cycle.opens_at, cycle.closes_at) == (
        date(2026, 12, 3),
        WEDNESDAY - timedelta(days=6),
        WEDNESDAY - timedelta(minutes=10),
    )
    assert cycle.name == "Livraison du jeudi 03/12/2026 (cycle à planifier)"
    # Nobody closed or planned it yet: the coordination does.
    assert not CycleClosing.objects.filter(cycle=cycle).exists()
    assert not DeliveryPlan.objects.filter(cycle=cycle).exists()
    assert "Cycle à planifier : Livraison du jeudi 03/12/2026" in output
    assert "150 commandes confirmées dans 10 points relais" in output
    assert "foyer001@demo.test à foyer150@demo.test" in output

    orders = Order.objects.filter(cycle=cycle)
    assert orders.count() == 150
    assert set(orders.values_list("status", flat=True)) == {OrderStatus.CONFIRMED}
    assert all(cycle.opens_at <= o.confirmed_at < cycle.closes_at for o in orders)
    customers = User.objects.filter(orders__cycle=cycle)
    assert customers.distinct().count() == 150
    assert set(customers.values_list("role", flat=True)) == {Role.HOUSEHOLD}
    assert sorted(customers.values_list("email", flat=True)) == [
        f"foyer{n:03d}@demo.test" for n in range(1, 151)
    ]
    assert all(c.first_name and len(c.last_name) > 1 for c in customers)

    # Spread over the 10 relay points in proportion to their daily room (265 places).
    per_relay = Counter(orders.values_list("relay_point__slug", flat=True))
    assert len(per_relay) == RelayPoint.objects.count() == 10
    rooms = dict(RelayPoint.objects.values_list("slug", "capacity_per_day"))
    for slug, count in per_relay.items():
        assert abs(count - 150 * rooms[slug] / 265) < 1
        day = RelayDay.objects.get(relay_point__slug=slug, date=cycle.delivery_date)
        assert day.booked == count <= day.capacity
    for slot in PickupSlot.objects.filter(date=cycle.delivery_date):
        assert slot.booked == orders.filter(pickup_slot=slot).count() <= slot.capacity

    # Stock: every line's quantity is sold on its offer, nothing is left held.
    offers = Offer.objects.filter(cycle=cycle)
    assert offers.count() == 16
    for offer in offers:
        sold = OrderLine.objects.filter(offer=offer).aggregate(total=Sum("quantity"))["total"]
        to_canteens = sum(
            (line.quantity_due for line in CanteenOrderLine.objects.filter(offer=offer)),
            start=Decimal(0),
        )
        assert (offer.quantity_held, offer.quantity_sold) == (
            Decimal(0),
            (sold or Decimal(0)) + to_canteens,
        )
        assert offer.quantity_available is None or offer.quantity_sold <= offer.quantity_available
    holds = StockHold.objects.filter(offer__cycle=cycle)
    assert (
        holds.count() == OrderLine.objects.filter(order__cycle=cycle, offer__isnull=False).count()
    )
    assert set(holds.values_list("status", flat=True)) == {HoldStatus.CONFIRMED}
    assert sum(o.total for o in orders) == sum(
        OrderLine.objects.filter(order__cycle=cycle, parent__isnull=True).values_list(
            "total", flat=True
        )
    )
    kinds = Counter(OrderLine.objects.filter(order__cycle=cycle).values_list("kind", flat=True))
    assert kinds["basket"] > 50 and kinds["item"] > 200

    # Payments: at pickup in euros, partly or wholly in mannes earned for a lent garden.
    payments = Payment.objects.filter(order__cycle=cycle)
    euros = set(payments.filter(currency="EUR").values_list("order", flat=True))
    mannes = set(payments.filter(currency="MAN").values_list("order", flat=True))
    assert len(euros) > 100 and len(mannes) > 20
    assert mannes - euros and mannes & euros  # some paid all in mannes, some split
    assert set(payments.filter(currency="EUR").values_list("method", "status")) == {
        ("pickup", PaymentStatus.PENDING)
    }
    assert set(payments.filter(currency="MAN").values_list("status", flat=True)) == {
        PaymentStatus.SUCCEEDED
    }
    assert ledger_drifts() == []
    assert User.objects.filter(email__startswith="foyer", solidarity_until__isnull=False).count()
    assert OrderLine.objects.filter(order__cycle=cycle, is_solidarity_price=True).exists()
    # The canteens order in it: the nursery school from its standing order, the residence by
    # its manager, an hour after the opening; the cutoff passed, every line is confirmed.
    canteen_orders = {
        order.canteen.slug: order
        for order in CanteenOrder.objects.filter(cycle=cycle).select_related("canteen", "placed_by")
    }
    assert set(canteen_orders) == {"cantine-maternelle-loos", "foyer-logement-loos"}
    school, residence = (
        canteen_orders["cantine-maternelle-loos"],
        canteen_orders["foyer-logement-loos"],
    )
    assert school.standing_order == StandingOrder.objects.get(canteen=school.canteen)
    assert school.placed_by is None
    assert residence.standing_order is None
    assert residence.placed_by.email == "residence@demo.test"
    assert (school.window_starts_at.isoformat(), school.window_ends_at.isoformat()) == (
        "07:30:00",
        "10:00:00",
    )
    assert (residence.window_starts_at.isoformat(), residence.window_ends_at.isoformat()) == (
        "08:00:00",
        "11:00:00",
    )
    for order in canteen_orders.values():
        assert order.status == CanteenOrderStatus.CONFIRMED
        lines = order.lines.all()
        assert {line.status for line in lines} == {LineStatus.CONFIRMED}
        assert all(line.quantity_confirmed == line.quantity_ordered for line in lines)
    standing = dict(
        StandingOrder.objects.get(canteen=school.canteen).lines.values_list(
            "product__slug", "quantity"
        )
    )
    # Every product of the standing order in season in December is ordered (no leftovers).
    assert dict(school.lines.values_list("product__slug", "quantity_ordered")) == standing
    assert dict(residence.lines.values_list("product__slug", "quantity_ordered")) == {
        "pommes-de-terre": Decimal(10),
        "pommes": Decimal(6),
        "oeufs-plein-air": Decimal(5),
    }

    # Invented households get no e-mail; the canteens' e-mails of moments gone are not sent.
    assert not OutboxMessage.objects.filter(key__startswith="order-").exists()
    assert not OutboxMessage.objects.filter(key__startswith="canteen-").exists()
    assert mail.outbox == []

    before = snapshot()
    with time_machine.travel(WEDNESDAY + timedelta(hours=2), tick=False):
        load()
    assert snapshot() == before

    # The coordination computes its plan, in the evening before the delivery: the demo fleet
    # and its drivers serve every relay, leaving on the delivery day's morning.
    evening = WEDNESDAY.replace(hour=21)
    plan = plan_compute(cycle_id=cycle.pk, time_limit=2, now=evening).plan
    assert plan.unserved == []
    assert all(
        route.stops.get(position=0).eta.astimezone(PARIS).date() == date(2026, 12, 3)
        for route in plan.routes.all()
    )
    routes = list(plan.routes.select_related("driver"))
    assert routes and all(route.driver and route.driver.role == Role.DRIVER for route in routes)
    served = {stop.place for route in routes for stop in route.stops.filter(kind="delivery")}
    assert served == {f"relay:{slug}" for slug in per_relay} | {
        "canteen:cantine-maternelle-loos",
        "canteen:foyer-logement-loos",
    }
    # Each canteen stop (one per round carrying some of its lines) within its window.
    for order in canteen_orders.values():
        stops = PlanStop.objects.filter(
            route__plan=plan, place=f"canteen:{order.canteen.slug}", kind=StopKind.DELIVERY
        )
        assert stops
        for stop in stops:
            arrival = stop.eta.astimezone(PARIS)
            assert arrival.date() == cycle.delivery_date
            assert order.window_starts_at <= arrival.time() <= order.window_ends_at


def test_a_cutoff_a_few_minutes_ahead_lets_the_beat_close_it_then_it_plans(
    tmp_path: Path,
) -> None:
    spec = small_spec(tmp_path, orders=12, closes_minutes_after_load=5)
    with time_machine.travel(WEDNESDAY, tick=False):
        load(spec=spec)
    cycle = due_cycle()
    assert cycle.is_open(WEDNESDAY)
    assert Order.objects.filter(cycle=cycle, status=OrderStatus.CONFIRMED).count() == 12
    assert cycle_close_due(now=WEDNESDAY) == []
    later = WEDNESDAY + timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        assert cycle_close_due(now=later) == [cycle.pk]
        assert CycleClosing.objects.get(cycle=cycle).orders_count == 12
        plan = plan_compute(cycle_id=cycle.pk, time_limit=1, now=later).plan
    assert plan.unserved == []
    served = {
        stop.place for route in plan.routes.all() for stop in route.stops.filter(kind="delivery")
    }
    # The canteens' orders, made before the cutoff and confirmed by the beat after it, too.
    assert served == {
        f"relay:{slug}"
        for slug in Order.objects.filter(cycle=cycle).values_list("relay_point__slug", flat=True)
    } | {"canteen:cantine-maternelle-loos", "canteen:foyer-logement-loos"}


def test_loaded_on_a_saturday_the_cycle_is_delivered_on_monday(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, orders=3)
    saturday = datetime(2026, 12, 5, 18, 0, tzinfo=PARIS)
    with time_machine.travel(saturday, tick=False):
        load(spec=spec)
    assert due_cycle().delivery_date == date(2026, 12, 7)
    assert Order.objects.filter(cycle=due_cycle()).count() == 3


def test_a_cutoff_long_before_the_load_leaves_no_moment_to_pay_in_mannes(
    tmp_path: Path,
) -> None:
    spec = small_spec(tmp_path, orders=10, closes_minutes_after_load=-180, manne_share='"1"')
    with time_machine.travel(WEDNESDAY, tick=False):
        load(spec=spec)
    cycle = due_cycle()
    assert Order.objects.filter(cycle=cycle, status=OrderStatus.CONFIRMED).count() == 10
    assert not Payment.objects.filter(currency="MAN").exists()


def test_without_the_option_the_setting_decides(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MARCHE_DEMO_DUE_CYCLE = False
    with time_machine.travel(WEDNESDAY, tick=False):
        call_command("load_demo", stdout=io.StringIO())
    assert not OrderCycle.objects.filter(schedule__isnull=True).exists()
    assert Order.objects.count() == 0


def test_loaded_again_the_next_day_it_adds_that_day_s_cycle(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, orders=6, manne_share='"1"')
    with time_machine.travel(WEDNESDAY, tick=False):
        load(spec=spec)
    with time_machine.travel(WEDNESDAY + timedelta(days=1), tick=False):
        load(spec=spec)
    cycles = OrderCycle.objects.filter(schedule__isnull=True).order_by("delivery_date")
    assert [c.delivery_date for c in cycles] == [date(2026, 12, 3), date(2026, 12, 4)]
    for cycle in cycles:
        orders = Order.objects.filter(cycle=cycle, status=OrderStatus.CONFIRMED)
        assert orders.count() == 6
        # The same households paid in mannes both days: each day's reward is its own.
        assert Payment.objects.filter(order__cycle=cycle, currency="MAN").exists()
    assert User.objects.filter(email__startswith="foyer0").count() == 6
    assert ledger_drifts() == []
