"""bench_rush's checks (not its timings): each reports a state built to be wrong, and passes
on a good one; the preparation is idempotent; the summary counts per kind; SQLite is refused."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from logistics.models import DeliveryPlan, Depot, PlanRoute, PlanStop, StopKind, Vehicle
from marche.accounts.models import Role, User
from marche.core.bench.rush import (
    EMAIL,
    check_ledger,
    check_oversold,
    check_plan_coverage,
    rush_prepare,
)
from marche.core.management.commands.bench_rush import summarise
from marche.cycles.models import Offer
from marche.mannes.models import Account
from marche.orders.models import Order, OrderLine
from marche.orders.services import cart_set_item, order_place
from marche.relays.services import pickup_slots_ensure
from tests.factories import (
    OfferFactory,
    OrderCycleFactory,
    ProductFactory,
    RelayPointFactory,
    UserFactory,
)
from tests.marche.mannes.conftest import make_ledger

pytestmark = pytest.mark.django_db


def rush_order(cycle, relay, offer, *, count: str, key: str) -> Order:  # type: ignore[no-untyped-def]
    household = UserFactory(territory=cycle.territory)
    cart_set_item(customer=household, cycle_id=cycle.pk, offer_id=offer.pk, count=Decimal(count))
    order, _start = order_place(
        customer=household,
        cycle_id=cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)[0].pk,
        payment_method="pickup",
        idempotency_key=key,
    )
    return order


@pytest.fixture
def sold():  # type: ignore[no-untyped-def]
    """A cycle whose one offer (3 available) sold 2 to one household at one relay point."""
    cycle = OrderCycleFactory()
    relay = RelayPointFactory(territory=cycle.territory)
    offer = OfferFactory(
        cycle=cycle,
        product=ProductFactory(name="Chicons"),
        unit_price=Decimal("4.90"),
        quantity_available=Decimal("3"),
    )
    order = rush_order(cycle, relay, offer, count="2", key="rush-1")
    return cycle, relay, offer, order


def test_units_sold_within_the_stock_pass_and_lines_beyond_it_are_reported(sold) -> None:
    cycle, _relay, offer, order = sold
    assert check_oversold(cycle=cycle) == []
    OrderLine.objects.filter(order=order).update(quantity=Decimal("5"))  # counters untouched
    assert check_oversold(cycle=cycle) == [f"offer #{offer.pk}: 5.000 units sold, 3.000 available"]


def test_cancelled_orders_do_not_count_as_sold(sold) -> None:
    cycle, _relay, _offer, order = sold
    OrderLine.objects.filter(order=order).update(quantity=Decimal("5"))
    Order.objects.filter(pk=order.pk).update(status="cancelled")
    assert check_oversold(cycle=cycle) == []


def test_a_sound_ledger_passes() -> None:
    ledger = make_ledger()
    ledger.fund(ledger.alice_account, "30.00")
    cycle = OrderCycleFactory(territory=ledger.territory)
    assert check_ledger(cycle=cycle) == []


@pytest.mark.ledger_drift_expected
def test_a_balance_that_is_not_the_sum_of_its_entries_is_reported() -> None:
    ledger = make_ledger()
    ledger.fund(ledger.alice_account, "30.00")
    cycle = OrderCycleFactory(territory=ledger.territory)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mannes_account SET balance = balance + 1 WHERE id = %s",
            [ledger.alice_account.pk],
        )
    assert check_ledger(cycle=cycle) == [
        f"balance : compte #{ledger.alice_account.pk}, attendu 30.00, trouvé 31.00"
    ]
    assert Account.objects.get(pk=ledger.alice_account.pk).balance == Decimal("31.00")


def plan_with_stop(cycle, place: str | None, unserved: list[dict[str, str]]) -> DeliveryPlan:  # type: ignore[no-untyped-def]
    plan = DeliveryPlan.objects.create(cycle=cycle, solve_state="done", unserved=unserved)
    if place is None:
        return plan
    depot = Depot.objects.create(
        territory=cycle.territory,
        name="Base",
        slug="base",
        latitude=Decimal("50.446000"),
        longitude=Decimal("2.793000"),
    )
    van = Vehicle.objects.create(
        territory=cycle.territory,
        depot=depot,
        name="Utilitaire",
        slug="van",
        kind="van",
        capacity_kg=800,
        capacity_crates=60,
        average_speed_kmh=Decimal("30"),
        cost_per_km=Decimal("0.300"),
        cost_per_hour=Decimal("24.00"),
        shift_start=time(8),
        shift_end=time(13),
    )
    route = PlanRoute.objects.create(
        plan=plan, vehicle=van, position=1, km=Decimal("4"), duration_min=30, co2_kg=Decimal("1")
    )
    PlanStop.objects.create(
        route=route,
        position=1,
        place=place,
        kind=StopKind.DELIVERY,
        eta=timezone.now() + timedelta(days=1),
        load_kg_after=0,
    )
    return plan


def test_an_order_whose_relay_point_is_a_stop_passes(sold) -> None:
    cycle, relay, _offer, _order = sold
    plan_with_stop(cycle, f"relay:{relay.slug}", [])
    assert check_plan_coverage(cycle=cycle) == []


def test_an_order_whose_relay_point_is_unserved_with_a_reason_passes(sold) -> None:
    cycle, relay, _offer, _order = sold
    plan_with_stop(
        cycle, None, [{"place": f"relay:{relay.slug}", "reason_fr": "Aucun véhicule libre."}]
    )
    assert check_plan_coverage(cycle=cycle) == []


def test_an_order_left_out_of_the_plan_is_reported(sold) -> None:
    cycle, relay, _offer, order = sold
    assert check_plan_coverage(cycle=cycle) == [
        f"no plan for cycle #{cycle.pk} (1 accepted orders)"
    ]
    other = RelayPointFactory(territory=cycle.territory)
    plan_with_stop(
        cycle, f"relay:{other.slug}", [{"place": f"relay:{relay.slug}", "reason_fr": ""}]
    )
    assert check_plan_coverage(cycle=cycle) == [
        f"order {order.reference}: relay:{relay.slug} neither on a route nor unserved"
    ]


def test_the_preparation_is_idempotent_and_leaves_stock_finite(sold) -> None:
    cycle, _relay, offer, _order = sold
    plenty = OfferFactory(
        cycle=cycle, product=ProductFactory(name="Mâche"), unit_price=Decimal("2.40")
    )
    for _ in range(2):
        config = rush_prepare(cycle=cycle, households=4, browse_paths=["/"], scarce_units=5)
    assert User.objects.filter(email__startswith="foyer-rush-", role=Role.HOUSEHOLD).count() == 4
    assert config.emails[0] == EMAIL.format(1)
    offer.refresh_from_db()
    plenty.refresh_from_db()
    assert (offer.quantity_available, plenty.quantity_available) == (Decimal("7"), Decimal("12"))
    assert [(o.id, o.scarce) for o in config.offers] == [(offer.pk, True), (plenty.pk, False)]
    assert config.relay_slots and config.manne_emails == []
    # One household in ten logs in through the form; the others arrive logged in.
    assert sorted(config.sessions) == [EMAIL.format(n) for n in (2, 3, 4)]
    store = import_module(settings.SESSION_ENGINE).SessionStore
    session = store(session_key=config.sessions[EMAIL.format(2)])
    assert session["_auth_user_id"] == str(User.objects.get(email=EMAIL.format(2)).pk)
    assert Offer.objects.filter(cycle=cycle, quantity_available__isnull=True).count() == 0


def test_the_summary_counts_requests_latencies_and_errors_per_kind() -> None:
    records = [
        {"kind": "browse", "ms": 10.0, "status": 200, "outcome": "ok"},
        {"kind": "browse", "ms": 30.0, "status": 500, "outcome": "http_500"},
        {"kind": "checkout", "ms": 50.0, "status": 302, "outcome": "ok"},
        {"kind": "checkout", "ms": None, "status": None, "outcome": "sold_out"},
        {"kind": "basket", "ms": 5.0, "status": 0, "outcome": "transport"},
    ]
    rows = {row["kind"]: row for row in summarise(records, elapsed=2.0)}
    assert rows["browse"] == {
        "kind": "browse",
        "requests": 2,
        "per_second": 1.0,
        "p50": 10.0,
        "p95": 30.0,
        "p99": 30.0,
        "4xx": 0,
        "5xx": 1,
        "transport": 0,
    }
    assert (rows["checkout"]["requests"], rows["basket"]["transport"]) == (1, 1)
    assert (rows["all"]["requests"], rows["all"]["5xx"], rows["login"]["requests"]) == (4, 1, 0)


def test_sqlite_is_refused_with_a_clear_message() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("the refusal is for SQLite")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("bench_rush", users=1, seconds=1)
