"""Quick clicks on "Ajouter" race on PostgreSQL: every add counts.

Ten threads add 1 to the same household's cart at the same instant through ``cart_add_item``:
the cart ends with 10. The control does what the cart did before (read the count, then set
count + 1): the same race loses adds, which is what the cart row lock prevents.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connections

from marche.orders.models import CartItem
from marche.orders.services import cart_add_item, cart_get, cart_set_item

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

CLICKS = 10


def race(work: Callable[[], None]) -> list[BaseException]:
    barrier = threading.Barrier(CLICKS)
    errors: list[BaseException] = []

    def click() -> None:
        try:
            barrier.wait(timeout=30)
            work()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_simultaneous_adds_all_count(market) -> None:
    cart_get(customer=market.household, cycle=market.cycle)

    def add_one() -> None:
        cart_add_item(
            customer=market.household,
            cycle_id=market.cycle.pk,
            offer_id=market.potatoes_id,
            count=Decimal("1"),
        )

    assert race(add_one) == []
    assert CartItem.objects.get().count == Decimal(CLICKS)


def test_control_read_then_set_loses_adds_without_the_lock(market) -> None:
    cart_get(customer=market.household, cycle=market.cycle)
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.potatoes_id,
        count=Decimal("1"),
    )
    pause = threading.Barrier(CLICKS)

    def read_then_set() -> None:
        current = CartItem.objects.get().count
        pause.wait(timeout=30)  # every click has read before any writes: the race, made sure
        cart_set_item(
            customer=market.household,
            cycle_id=market.cycle.pk,
            offer_id=market.potatoes_id,
            count=current + 1,
        )

    assert race(read_then_set) == []
    assert CartItem.objects.get().count == Decimal("2")


@pytest.fixture
def market(market):  # type: ignore[no-untyped-def]
    """The shared market, with the id of its 40 kg potato offer (room for every click)."""
    market.potatoes_id = market.basket.items.get(offer__product__name="Pommes de terre").offer_id
    return market
