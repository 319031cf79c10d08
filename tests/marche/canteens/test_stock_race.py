"""Canteens racing for the last crates, on PostgreSQL with real threads and connections.

Ten canteens order 20 kg each of the last 100 kg at the same instant: exactly five get their
line, the others are refused with ``insufficient_stock`` and keep nothing, and the offer's
sold counter equals the lines' due quantities. The control replaces the locked conditional
UPDATE with a read-check-write (no lock): the same race then sells more than the stock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum

from marche.canteens import services
from marche.canteens.errors import InsufficientStock
from marche.canteens.models import Canteen, CanteenOrder, CanteenOrderLine
from marche.cycles.models import Offer
from tests.factories.canteens import CanteenFactory
from tests.marche.canteens.conftest import Kitchen

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

CANTEENS = 10


def _race(workers: list[Callable[[], object]]) -> dict[str, int]:
    barrier = threading.Barrier(len(workers))
    outcome = {"placed": 0, "insufficient_stock": 0, "other": 0}
    errors: list[BaseException] = []
    guard = threading.Lock()

    def run(work: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            work()
            result = "placed"
        except InsufficientStock:
            result = "insufficient_stock"
        except Exception as error:  # reported below
            result = "other"
            errors.append(error)
        finally:
            connections.close_all()
        with guard:
            outcome[result] += 1

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return outcome


def _canteens(k: Kitchen) -> list[Canteen]:
    canteens = [CanteenFactory(territory=k.canteen.territory) for _ in range(CANTEENS)]
    for canteen in canteens:
        canteen.managers.add(k.manager)
    return canteens


def _orders_race(k: Kitchen, canteens: list[Canteen]) -> dict[str, int]:
    def order_for(canteen: Canteen) -> Callable[[], object]:
        return lambda: services.order_place(
            canteen=canteen, cycle=k.cycle, quantities={k.carrots.pk: "20"}, user=k.manager
        )

    return _race([order_for(canteen) for canteen in canteens])


def _lines_total(offer: Offer) -> Decimal:
    return CanteenOrderLine.objects.filter(offer=offer).aggregate(total=Sum("quantity_ordered"))[
        "total"
    ] or Decimal("0")


def test_ten_canteens_for_the_last_hundred_kilos_get_exactly_five_lines(
    kitchen: Kitchen,
) -> None:
    assert connection.vendor == "postgresql"
    k = kitchen
    outcome = _orders_race(k, _canteens(k))
    assert outcome == {"placed": 5, "insufficient_stock": 5, "other": 0}
    k.carrots.refresh_from_db()
    assert k.carrots.quantity_sold == Decimal("100")
    assert _lines_total(k.carrots) == Decimal("100")
    assert CanteenOrder.objects.count() == 5  # a refused canteen keeps no empty order


def test_control_without_the_lock_the_same_race_oversells(
    kitchen: Kitchen, monkeypatch: pytest.MonkeyPatch
) -> None:
    k = kitchen

    def take_unlocked(*, offer: Offer, quantity: Decimal, already: Decimal) -> None:
        # Read, check, wait a moment (another request's time), write: no lock, no WHERE.
        fresh = Offer.objects.get(pk=offer.pk)
        if fresh.quantity_remaining is not None and fresh.quantity_remaining < quantity:
            raise InsufficientStock()
        time.sleep(0.05)
        fresh.quantity_sold += quantity
        fresh.save(update_fields=["quantity_sold"])

    monkeypatch.setattr(services, "_stock_take", take_unlocked)
    monkeypatch.setattr(services, "offers_lock", lambda *, offer_ids: [])
    outcome = _orders_race(k, _canteens(k))
    k.carrots.refresh_from_db()
    assert outcome["other"] == 0
    # More was promised to canteens than the farm has, and the counter no longer says so.
    assert outcome["placed"] > 5
    assert _lines_total(k.carrots) > k.carrots.quantity_available
    assert k.carrots.quantity_sold < _lines_total(k.carrots)


def test_two_runs_of_the_standing_orders_at_once_make_one_order(kitchen: Kitchen) -> None:
    k = kitchen
    services.standing_order_save(
        canteen=k.canteen,
        quantities={k.carrots.product_id: "12"},
        starts_on=k.cycle.delivery_date,
        user=k.manager,
    )
    made: list[int] = []

    def materialise() -> None:
        made.extend(o.pk for o in services.standing_orders_materialise(cycle=k.cycle))

    outcome = _race([materialise, materialise, materialise])
    assert outcome == {"placed": 3, "insufficient_stock": 0, "other": 0}
    assert len(made) == 1
    assert CanteenOrder.objects.count() == 1
    k.carrots.refresh_from_db()
    assert k.carrots.quantity_sold == Decimal("12")
