"""50 households check out at the same instant on PostgreSQL, through the whole order_place.

One race is for the last 10 units of an offer, the other for the last 10 places of a pickup
slot: each sells or books exactly 10, and every refused household is left with nothing
held and nothing booked. The stock race's control lives in tests/marche/cycles.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from marche.cycles.errors import OutOfStock
from marche.cycles.models import HoldStatus, Offer, StockHold
from marche.orders.models import Order, OrderStatus
from marche.orders.services import cart_set_item, order_place
from marche.relays.errors import PickupSlotFull
from marche.relays.models import PickupSlot, RelayDay
from marche.relays.services import pickup_slots_ensure
from tests.factories import OfferFactory, OrderCycleFactory, RelayPointFactory, UserFactory

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

HOUSEHOLDS = 50


def checkout_race(*, offer: Offer, relay_id: int, slot_id: int) -> dict[str, int]:
    households = [UserFactory() for _ in range(HOUSEHOLDS)]
    for household in households:
        cart_set_item(
            customer=household, cycle_id=offer.cycle_id, offer_id=offer.pk, count=Decimal("1")
        )
    barrier = threading.Barrier(HOUSEHOLDS)
    outcome = {"placed": 0, "out_of_stock": 0, "slot_full": 0, "other": 0}
    lock = threading.Lock()

    def household_checks_out(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            order_place(
                customer=households[index],
                cycle_id=offer.cycle_id,
                relay_point_id=relay_id,
                pickup_slot_id=slot_id,
                payment_method="pickup",
                idempotency_key="checkout",
            )
            result = "placed"
        except OutOfStock:
            result = "out_of_stock"
        except PickupSlotFull:
            result = "slot_full"
        except Exception:
            result = "other"
        finally:
            connections.close_all()
        with lock:
            outcome[result] += 1

    threads = [threading.Thread(target=household_checks_out, args=(i,)) for i in range(HOUSEHOLDS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcome


def setting(*, units: Decimal | None, slot_capacity: int) -> tuple[Offer, int, int]:
    cycle = OrderCycleFactory()
    relay = RelayPointFactory(territory=cycle.territory, capacity_per_day=500)
    relay.slot_capacity = slot_capacity
    relay.save()
    slot = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)[0]
    offer = OfferFactory(cycle=cycle, quantity_available=units)
    return offer, relay.pk, slot.pk


def test_fifty_checkouts_for_the_last_ten_units_place_exactly_ten_orders() -> None:
    assert connection.vendor == "postgresql"
    offer, relay_id, slot_id = setting(units=Decimal("10"), slot_capacity=100)
    outcome = checkout_race(offer=offer, relay_id=relay_id, slot_id=slot_id)
    assert outcome == {"placed": 10, "out_of_stock": 40, "slot_full": 0, "other": 0}
    offer.refresh_from_db()
    assert (offer.quantity_held, offer.quantity_sold) == (Decimal("0"), Decimal("10"))
    assert Order.objects.filter(status=OrderStatus.CONFIRMED).count() == 10
    assert Order.objects.count() == 10  # refused checkouts left no order behind
    assert StockHold.objects.filter(status=HoldStatus.CONFIRMED).count() == 10
    assert StockHold.objects.count() == 10
    assert PickupSlot.objects.get(pk=slot_id).booked == 10
    assert RelayDay.objects.get().booked == 10


def test_fifty_checkouts_for_the_last_ten_places_of_a_slot_book_exactly_ten() -> None:
    offer, relay_id, slot_id = setting(units=None, slot_capacity=10)
    outcome = checkout_race(offer=offer, relay_id=relay_id, slot_id=slot_id)
    assert outcome == {"placed": 10, "out_of_stock": 0, "slot_full": 40, "other": 0}
    assert PickupSlot.objects.get(pk=slot_id).booked == 10
    assert RelayDay.objects.get().booked == 10
    offer.refresh_from_db()
    assert (offer.quantity_held, offer.quantity_sold) == (Decimal("0"), Decimal("10"))
    assert Order.objects.count() == 10
