"""manage.py bench_delivery: a CSV of timings, on a territory of its own that it removes."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from logistics.models import CycleClosing, DeliveryPlan, Depot, DriverShift, Vehicle
from marche.accounts.models import User
from marche.catalog.models import Category, Product
from marche.core.models import OutboxMessage
from marche.cycles.models import Offer, OrderCycle, StockHold
from marche.demo.spec import DEFAULT_SPEC
from marche.orders.models import Order, OrderLine
from marche.relays.models import PickupSlot, RelayPoint
from marche.territories.models import Territory

pytestmark = pytest.mark.django_db

MODELS = (
    Territory,
    User,
    RelayPoint,
    PickupSlot,
    Product,
    Category,
    OrderCycle,
    Offer,
    Order,
    OrderLine,
    StockHold,
    Vehicle,
    Depot,
    DriverShift,
    CycleClosing,
    DeliveryPlan,
    OutboxMessage,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def bench(**options: object) -> str:
    out = io.StringIO()
    call_command("bench_delivery", stdout=out, **options)
    return out.getvalue()


def test_a_small_run_prints_a_well_formed_csv_and_leaves_nothing_behind(tmp_path: Path) -> None:
    # The demo with a small cycle to plan, past its cutoff: the bench must not close it.
    for name in ("places-lensois.csv", "communes-lensois.csv"):
        (tmp_path / name).write_bytes((DEFAULT_SPEC.parent / name).read_bytes())
    spec = tmp_path / "demo.toml"
    spec.write_text(
        DEFAULT_SPEC.read_text(encoding="utf-8").replace("orders = 150\n", "orders = 5\n"),
        encoding="utf-8",
    )
    with time_machine.travel(datetime(2026, 12, 2, 10, tzinfo=ZoneInfo("Europe/Paris"))):
        call_command("load_demo", stdout=io.StringIO(), due_cycle=True, spec=spec)
    assert Order.objects.count() == 5
    before = counts()
    demo_orders = sorted(Order.objects.values_list("pk", "status", "total"))

    output = bench(orders="200", time_limit=1)

    lines = output.splitlines()
    rows = [line for line in lines if not line.startswith("#")]
    parsed = list(csv.reader(rows))
    assert parsed[0] == ["orders", "close_s", "consolidate_s", "plan_s"]
    assert len(parsed) == 2
    assert parsed[1][0] == "200"
    close_s, consolidate_s, plan_s = (float(value) for value in parsed[1][1:])
    assert 0 <= close_s < consolidate_s + plan_s
    assert all(len(value.split(".")[1]) == 3 for value in parsed[1][1:])
    comments = [line for line in lines if line.startswith("#")]
    assert len(comments) == 1
    assert "200 commandes" in comments[0] and "µs/commande" in comments[0]
    assert "0 non desservies" in comments[0]
    # The bench territory is gone; the demo is as it was, its cycle to plan still open for
    # the coordination (not closed by the bench's closing tick).
    assert counts() == before
    assert not Territory.objects.filter(slug="bench-delivery").exists()
    assert sorted(Order.objects.values_list("pk", "status", "total")) == demo_orders
    # (The demo's past cycles, the canteens' delivered history, were closed by the demo.)
    assert not CycleClosing.objects.filter(cycle__schedule__isnull=True).exists()


def test_two_sizes_compare_the_time_per_order() -> None:
    output = bench(orders="30,60", time_limit=0.5)
    rows = [line for line in output.splitlines() if not line.startswith("#")]
    assert [row.split(",")[0] for row in rows] == ["orders", "30", "60"]
    comments = [line for line in output.splitlines() if line.startswith("# ")]
    assert any(line.startswith("# clôture : ") for line in comments)
    assert any(line.startswith("# consolidation : ") for line in comments)
    assert not Territory.objects.filter(slug="bench-delivery").exists()


def test_keep_leaves_the_last_territory_with_its_plan() -> None:
    bench(orders="40", time_limit=0.5, keep=True)
    cycle = OrderCycle.objects.get(territory__slug="bench-delivery")
    assert Order.objects.filter(cycle=cycle).count() == 40
    plan = DeliveryPlan.objects.get(cycle=cycle)
    assert plan.routes.exists()
    # Consistent data: each offer sold what its lines hold, through confirmed holds.
    for offer in Offer.objects.filter(cycle=cycle):
        lines = OrderLine.objects.filter(offer=offer)
        assert offer.quantity_sold == sum(line.quantity for line in lines)
        assert all(line.hold.quantity == line.quantity for line in lines)
    # A second run rebuilds it from scratch.
    bench(orders="20", time_limit=0.5)
    assert not Territory.objects.filter(slug="bench-delivery").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"orders": "abc"}, "--orders : des nombres entiers"),
        ({"orders": "0"}, "--orders : chaque taille entre 1 et 200000"),
        ({"orders": "1000,-5"}, "--orders : chaque taille entre 1 et 200000"),
        ({"orders": "10", "time_limit": 0}, "--time-limit : entre 0,1 et 600 secondes"),
    ],
)
def test_bad_options_are_refused_in_french_and_create_nothing(
    options: dict[str, object], message: str
) -> None:
    before = counts()
    with pytest.raises(CommandError, match=message):
        bench(**options)
    assert counts() == before
