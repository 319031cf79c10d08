"""Dunkerque's demo runs its own delivery chain beside Loos-en-Gohelle's: a cycle to plan
with its own invented households (their own addresses) and its canteens, paid in euros only,
closed and planned from its own depot with its own fleet, without touching Loos-en-Gohelle."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from logistics.models import CycleClosing, DeliveryPlan, PlanStop, StopKind
from logistics.services import cycle_close, plan_compute
from marche.accounts.models import Role, User
from marche.canteens.models import CanteenOrder, CanteenOrderStatus
from marche.cycles.models import OrderCycle
from marche.demo.spec import DATA_DIR, DEFAULT_SPEC
from marche.mannes.models import Account, Transaction, TransferRequest
from marche.orders.models import Order, OrderStatus
from marche.payments.models import Payment, PaymentStatus
from marche.territories.models import Territory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=PARIS)
EVENING = WEDNESDAY.replace(hour=21)
DUNKERQUE = DATA_DIR / "dunkerque.toml"
DUNKERQUE_PLACES = {"relay:dunkerque-jean-bart", "relay:dunkerque-malo-carrefour-market"}
DUNKERQUE_CANTEENS = {"canteen:maternelle-des-dunes", "canteen:residence-malo"}


def load(**options: Any) -> str:
    out = io.StringIO()
    with time_machine.travel(WEDNESDAY, tick=False):
        call_command("load_demo", stdout=out, due_cycle=True, **options)
    return out.getvalue()


def spec_copy(tmp_path: Path, source: Path, *replacements: tuple[str, str]) -> Path:
    """A copy of a shipped demo file beside its place files, with some lines replaced."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name in ("places-lensois.csv", "communes-lensois.csv"):
        (tmp_path / name).write_bytes((DATA_DIR / name).read_bytes())
    text = source.read_text(encoding="utf-8")
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / source.name
    path.write_text(text, encoding="utf-8")
    return path


def small_loos(tmp_path: Path) -> Path:
    """Loos-en-Gohelle's file with a cycle to plan of 12 orders instead of 150 (faster)."""
    return spec_copy(tmp_path / "loos", DEFAULT_SPEC, ("orders = 150", "orders = 12"))


def due_cycle(slug: str) -> OrderCycle:
    return OrderCycle.objects.get(territory__slug=slug, schedule__isnull=True)


def territory_rows(slug: str) -> dict[str, Any]:
    """A territory's users, cycles, orders and plans, by natural values (no timestamps)."""
    return {
        "users": sorted(
            User.objects.filter(territory__slug=slug).values_list("email", "role", "first_name")
        ),
        "cycles": sorted(
            OrderCycle.objects.filter(territory__slug=slug).values_list(
                "pk", "name", "opens_at", "closes_at"
            )
        ),
        "orders": sorted(
            Order.objects.filter(cycle__territory__slug=slug).values_list(
                "pk", "customer__email", "status", "total", "relay_point__slug"
            )
        ),
        "canteen_orders": sorted(
            CanteenOrder.objects.filter(canteen__territory__slug=slug).values_list(
                "pk", "canteen__slug", "status"
            )
        ),
        "payments": sorted(
            Payment.objects.filter(order__cycle__territory__slug=slug).values_list(
                "pk", "currency", "status", "amount"
            )
        ),
        "stops": sorted(
            PlanStop.objects.filter(route__plan__cycle__territory__slug=slug).values_list(
                "route__vehicle__slug", "position", "place", "kind", "eta"
            )
        ),
    }


def close_and_plan(cycle: OrderCycle) -> DeliveryPlan:
    """What the coordination does the evening before the delivery."""
    assert cycle_close(cycle=cycle, now=EVENING, plan=False)
    return plan_compute(cycle_id=cycle.pk, time_limit=1, now=EVENING).plan


@pytest.mark.solver
def test_dunkerques_cycle_to_plan_runs_beside_loos_and_plans_from_its_own_depot(
    tmp_path: Path,
) -> None:
    load(spec=small_loos(tmp_path))
    loos_plan = close_and_plan(due_cycle("loos-en-gohelle"))
    assert loos_plan.unserved == []
    loos_before = territory_rows("loos-en-gohelle")

    output = load(territory="dunkerque")

    # Loos-en-Gohelle's households, orders, canteens and plan are untouched.
    assert territory_rows("loos-en-gohelle") == loos_before
    cycle = due_cycle("dunkerque")
    assert (cycle.delivery_date, cycle.closes_at) == (
        date(2026, 12, 3),
        WEDNESDAY - timedelta(minutes=10),
    )
    assert not CycleClosing.objects.filter(cycle=cycle).exists()
    assert "40 commandes confirmées dans 2 points relais" in output
    assert "foyer001.dunkerque@demo.test à foyer040.dunkerque@demo.test" in output

    # Its own invented households, at their own addresses, none shared with Loos-en-Gohelle.
    orders = Order.objects.filter(cycle=cycle)
    assert set(orders.values_list("status", flat=True)) == {OrderStatus.CONFIRMED}
    customers = User.objects.filter(orders__cycle=cycle).select_related("territory")
    assert sorted(customer.email for customer in customers) == [
        f"foyer{number:03d}.dunkerque@demo.test" for number in range(1, 41)
    ]
    assert {(c.territory.slug, c.role) for c in customers} == {("dunkerque", Role.HOUSEHOLD)}
    loos_emails = {email for email, _role, _name in loos_before["users"]}
    assert "foyer001@demo.test" in loos_emails
    assert not loos_emails & set(
        User.objects.filter(territory__slug="dunkerque").values_list("email", flat=True)
    )

    # In euros only, at pickup: no manne account, reward or posting in Dunkerque.
    payments = Payment.objects.filter(order__cycle=cycle)
    assert set(payments.values_list("currency", "method", "status")) == {
        ("EUR", "pickup", PaymentStatus.PENDING)
    }
    assert set(payments.values_list("order", flat=True)) == set(orders.values_list("pk", flat=True))
    assert not Account.objects.filter(territory__slug="dunkerque").exists()
    assert not TransferRequest.objects.filter(territory__slug="dunkerque").exists()
    assert not Transaction.objects.filter(territory__slug="dunkerque").exists()

    # Its canteens order in it: the school from its standing order, the residence by hand.
    canteen_orders = {
        order.canteen.slug: order
        for order in CanteenOrder.objects.filter(cycle=cycle).select_related("placed_by")
    }
    assert set(canteen_orders) == {"maternelle-des-dunes", "residence-malo"}
    assert canteen_orders["maternelle-des-dunes"].standing_order is not None
    assert canteen_orders["residence-malo"].placed_by.email == "residence-dunkerque@demo.test"
    assert {order.status for order in canteen_orders.values()} == {CanteenOrderStatus.CONFIRMED}

    plan = close_and_plan(cycle)

    assert plan.unserved == []
    routes = list(plan.routes.select_related("vehicle__territory", "vehicle__depot", "driver"))
    assert routes
    for route in routes:
        assert route.vehicle.territory.slug == "dunkerque"
        assert route.driver.territory.slug == "dunkerque"
        stops = list(route.stops.order_by("position"))
        assert (stops[0].kind, stops[0].place) == (StopKind.DEPOT_START, "depot:plateforme-gare")
        assert (stops[-1].kind, stops[-1].place) == (StopKind.DEPOT_END, "depot:plateforme-gare")
        assert route.vehicle.depot.slug == "plateforme-gare"
    places = set(
        PlanStop.objects.filter(route__plan=plan, kind=StopKind.DELIVERY).values_list(
            "place", flat=True
        )
    )
    assert places == DUNKERQUE_PLACES | DUNKERQUE_CANTEENS
    pickups = set(
        PlanStop.objects.filter(route__plan=plan, kind=StopKind.PICKUP).values_list(
            "place", flat=True
        )
    )
    assert pickups <= {"farm:ferme-des-moeres"}
    assert territory_rows("loos-en-gohelle") == loos_before

    # Loaded again, either territory: nothing changes, on either side.
    dunkerque_after = territory_rows("dunkerque")
    load(territory="dunkerque")
    load(spec=small_loos(tmp_path))
    assert territory_rows("dunkerque") == dunkerque_after
    assert territory_rows("loos-en-gohelle") == loos_before


def test_loaded_first_dunkerque_leaves_loos_its_own_households(tmp_path: Path) -> None:
    load(territory="dunkerque")
    dunkerque_before = territory_rows("dunkerque")

    load(spec=small_loos(tmp_path))

    assert territory_rows("dunkerque") == dunkerque_before
    customers = User.objects.filter(orders__cycle=due_cycle("loos-en-gohelle"))
    assert sorted(customers.values_list("email", "territory__slug")) == [
        (f"foyer{number:03d}@demo.test", "loos-en-gohelle") for number in range(1, 13)
    ]
    assert Order.objects.filter(cycle=due_cycle("dunkerque")).count() == 40


@pytest.mark.parametrize(
    ("replacement", "error"),
    [
        (
            # Without household_email, the default addresses: Loos-en-Gohelle's households.
            ('household_email = "foyer{number:03d}.dunkerque@demo.test"\n', ""),
            "Compte foyer001@demo.test : déjà inscrit dans le territoire Loos-en-Gohelle",
        ),
        (
            ("[due_cycle]\n", '[due_cycle]\nmanne_share = "0.2"\n'),
            "Cycle à planifier : manne_share demande une monnaie locale, que Dunkerque n'a pas",
        ),
        (
            ('"foyer{number:03d}.dunkerque@demo.test"', '"foyers-dunkerque@demo.test"'),
            "Cycle à planifier : household_email doit être une adresse contenant {number}, "
            "par exemple « foyer{number:03d}@demo.test »",
        ),
        (
            ('"foyer{number:03d}.dunkerque@demo.test"', '"foyer{numero}@demo.test"'),
            "Cycle à planifier (due_cycle) illisible : 'numero'",
        ),
    ],
    ids=["loos-addresses", "mannes", "one-address", "bad-pattern"],
)
def test_a_bad_cycle_to_plan_is_refused_in_french_and_changes_nothing(
    tmp_path: Path, replacement: tuple[str, str], error: str
) -> None:
    # Loos-en-Gohelle loaded first only where its households are the point (it takes time).
    if "Loos" in error:
        load(spec=small_loos(tmp_path))
    before = {slug: territory_rows(slug) for slug in ("loos-en-gohelle", "dunkerque")}
    spec = spec_copy(tmp_path / "dunkerque", DUNKERQUE, replacement)

    with pytest.raises(CommandError) as refused:
        load(spec=spec)

    assert str(refused.value) == error
    assert {slug: territory_rows(slug) for slug in before} == before
    assert not Territory.objects.filter(slug="dunkerque").exists()
