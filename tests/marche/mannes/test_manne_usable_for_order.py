"""How many mannes a household may put on an order (split tender)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marche.catalog.models import Unit
from marche.mannes.selectors import (
    manne_order_allocation,
    manne_order_eligible_total,
    manne_usable_for_order,
)
from marche.orders.models import LineKind
from marche.orders.services import cart_set_item, order_place
from marche.relays.services import pickup_slots_ensure
from tests.factories import (
    BasketFactory,
    BasketItemFactory,
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    RelayPointFactory,
    UserFactory,
)
from tests.marche.mannes.conftest import make_ledger

pytestmark = pytest.mark.django_db


def offer(cycle, *, accepts: bool, price: str, name: str):
    producer = ProducerFactory(territory=cycle.territory, accepts_local_currency=accepts)
    return OfferFactory(
        cycle=cycle,
        product=ProductFactory(producer=producer, name=name, unit=Unit.PIECE),
        unit_price=Decimal(price),
        quantity_available=Decimal("50"),
    )


def place_order(ledger, *, mixed_basket: bool):
    cycle = OrderCycleFactory(territory=ledger.territory)
    relay = RelayPointFactory(territory=ledger.territory)
    [slot, *_] = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)
    bread = offer(cycle, accepts=True, price="4.00", name="Pain")  # 2 × 4.00 accepted
    eggs = offer(cycle, accepts=False, price="3.00", name="Œufs")  # 1 × 3.00 refused
    leeks = offer(cycle, accepts=True, price="2.00", name="Poireaux")
    basket = BasketFactory(cycle=cycle, price=Decimal("15.00"))
    BasketItemFactory(basket=basket, offer=leeks, quantity=Decimal("1"))
    BasketItemFactory(basket=basket, offer=eggs if mixed_basket else bread, quantity=Decimal("1"))
    customer = ledger.alice
    for target, count in ((bread, "2"), (eggs, "1")):
        cart_set_item(
            customer=customer, cycle_id=cycle.pk, offer_id=target.pk, count=Decimal(count)
        )
    cart_set_item(customer=customer, cycle_id=cycle.pk, basket_id=basket.pk, count=Decimal("1"))
    order, _ = order_place(
        customer=customer,
        cycle_id=cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=slot.pk,
        payment_method="pickup",
        idempotency_key="o1",
    )
    return order


def test_items_count_when_their_producer_accepts_and_a_basket_when_all_its_producers_do(
    db: None,
) -> None:
    ledger = make_ledger()
    order = place_order(ledger, mixed_basket=False)
    assert order.total == Decimal("26.00")
    assert set(order.lines.values_list("kind", flat=True)) == {
        LineKind.ITEM,
        LineKind.BASKET,
        LineKind.COMPONENT,
    }
    assert manne_order_eligible_total(order=order) == Decimal("23.00")  # 8.00 + 15.00
    ledger.fund(ledger.alice_account, "100.00")
    assert manne_usable_for_order(user=ledger.alice, order=order) == Decimal("23.00")


def test_a_basket_with_one_refusing_producer_is_paid_in_euros(db: None) -> None:
    ledger = make_ledger()
    order = place_order(ledger, mixed_basket=True)
    assert manne_order_eligible_total(order=order) == Decimal("8.00")


def test_usable_is_capped_by_the_available_balance(db: None) -> None:
    ledger = make_ledger()
    order = place_order(ledger, mixed_basket=False)
    assert manne_usable_for_order(user=ledger.alice, order=order) == Decimal("0.00")
    ledger.fund(ledger.alice_account, "10.00")
    assert manne_usable_for_order(user=ledger.alice, order=order) == Decimal("10.00")
    assert manne_usable_for_order(user=UserFactory(), order=order) == Decimal("0.00")


def test_the_scheme_rate_converts_euros_to_mannes(db: None) -> None:
    ledger = make_ledger(local_currency_euro_rate=Decimal("1.5000"))
    order = place_order(ledger, mixed_basket=False)
    ledger.fund(ledger.alice_account, "100.00")
    # 23.00 € at 1.50 € per manne: 15.33 mannes (rounded down, never more than the order).
    assert manne_usable_for_order(user=ledger.alice, order=order) == Decimal("15.33")


def test_nothing_is_usable_where_the_local_currency_is_off(db: None) -> None:
    ledger = make_ledger()
    order = place_order(ledger, mixed_basket=False)
    ledger.fund(ledger.alice_account, "100.00")
    ledger.territory.local_currency_enabled = False
    ledger.territory.save()
    order.cycle.territory.refresh_from_db()
    assert manne_usable_for_order(user=ledger.alice, order=order) == Decimal("0.00")


def producer_of(order, name: str) -> int:
    return order.lines.get(kind=LineKind.ITEM, name=name).producer_id


def test_a_manne_amount_is_split_among_the_accepting_producers(db: None) -> None:
    ledger = make_ledger()
    order = place_order(ledger, mixed_basket=False)
    bread = producer_of(order, "Pain")
    leeks = order.lines.get(kind=LineKind.COMPONENT, name="Poireaux").producer_id
    # Bread: 8.00 of items + 4/6 of the 15.00 basket = 18.00; leeks: 2/6 of it = 5.00.
    assert manne_order_allocation(order=order, amount=Decimal("23.00")) == sorted(
        [(bread, Decimal("18.00")), (leeks, Decimal("5.00"))]
    )
    # 10 × 18/23 = 7.826..., 10 × 5/23 = 2.173...: the cent left goes to the larger remainder.
    assert manne_order_allocation(order=order, amount=Decimal("10.00")) == sorted(
        [(bread, Decimal("7.83")), (leeks, Decimal("2.17"))]
    )
    assert manne_order_allocation(order=order, amount=Decimal("0.01")) == [(bread, Decimal("0.01"))]
    assert manne_order_allocation(order=order, amount=Decimal("0")) == []


def test_nothing_to_split_when_no_producer_accepts(db: None) -> None:
    ledger = make_ledger()
    order = place_order(ledger, mixed_basket=True)
    for line in order.lines.filter(kind=LineKind.ITEM, name="Pain"):
        line.producer.accepts_local_currency = False
        line.producer.save()
    assert manne_order_eligible_total(order=order) == Decimal("0.00")
    assert manne_order_allocation(order=order, amount=Decimal("5.00")) == []
