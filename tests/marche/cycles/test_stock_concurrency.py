"""50 buyers race for the last 10 units on PostgreSQL: exactly 10 are sold.

The control runs the same race through a read-check-write hold (what the service must not
do) to show that the race is real on this database, so the main test could fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, connections

from marche.cycles import services
from marche.cycles.errors import OutOfStock
from marche.cycles.models import Offer, StockHold
from tests.factories import OfferFactory

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

BUYERS = 50
UNITS = Decimal("10")


def race(offer_id: int, hold: Callable[..., object]) -> tuple[int, int]:
    """Start BUYERS threads, each with its own connection, released at the same instant."""
    barrier = threading.Barrier(BUYERS)
    outcome = {"held": 0, "refused": 0}
    lock = threading.Lock()

    def buyer(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            hold(offer_id=offer_id, quantity=Decimal("1"), key=f"buyer-{index}")
            result = "held"
        except OutOfStock:
            result = "refused"
        finally:
            connections.close_all()
        with lock:
            outcome[result] += 1

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome["held"], outcome["refused"]


def test_fifty_buyers_for_ten_units_sell_exactly_ten() -> None:
    assert connection.vendor == "postgresql"
    offer = OfferFactory(quantity_available=UNITS)
    held, refused = race(offer.pk, services.stock_hold)
    offer.refresh_from_db()
    assert (held, refused) == (10, 40)
    assert offer.quantity_held == UNITS
    assert StockHold.objects.filter(offer=offer).count() == 10
    for hold in StockHold.objects.filter(offer=offer):
        services.stock_confirm(hold_id=hold.pk)
    offer.refresh_from_db()
    assert (offer.quantity_held, offer.quantity_sold) == (Decimal("0"), UNITS)


def unguarded_reserve(*, offer_id: int, quantity: Decimal) -> bool:
    """The control: read, check in Python, then save the counter (a read-modify-write)."""
    offer = Offer.objects.get(pk=offer_id)
    remaining = offer.quantity_available - offer.quantity_held - offer.quantity_sold
    if remaining < quantity:
        return False
    time.sleep(0.005)  # the latency between a read and a write in a real request
    offer.quantity_held += quantity
    offer.save(update_fields=["quantity_held"])
    return True


def test_control_without_the_guard_the_race_is_real(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "_reserve", unguarded_reserve)
    offer = OfferFactory(quantity_available=UNITS)
    held, _ = race(offer.pk, services.stock_hold)
    offer.refresh_from_db()
    # More buyers were granted a unit than there were units: sold twice, counter lost updates.
    assert held > 10
    assert StockHold.objects.filter(offer=offer).count() == held
    assert offer.quantity_held < held
