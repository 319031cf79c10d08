"""What a French household reads: quantities, plurals and messages of the shop and its e-mails."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.utils import translation

from marche.catalog.models import Unit
from marche.orders.notifications import order_notification_send
from marche.orders.services import cart_set_item, order_place
from tests.factories import OfferFactory, ProductFactory

pytestmark = pytest.mark.django_db


def place(market, *items, key: str = "wording") -> object:
    for fields, count in items:
        cart_set_item(
            customer=market.household, cycle_id=market.cycle.pk, count=Decimal(count), **fields
        )
    order, _ = order_place(
        customer=market.household,
        cycle_id=market.cycle.pk,
        relay_point_id=market.relay.pk,
        pickup_slot_id=market.slots[0].pk,
        payment_method="pickup",
        idempotency_key=key,
    )
    return order


def test_confirmation_email_writes_quantities_as_the_shop_does(market) -> None:
    salads = OfferFactory(
        cycle=market.cycle,
        product=ProductFactory(name="Salade", unit=Unit.PIECE),
        unit_price=Decimal("1.20"),
        quantity_available=Decimal("30"),
    )
    order = place(
        market,
        ({"offer_id": market.carrots.pk}, "1.5"),
        ({"offer_id": market.eggs.pk}, "2"),
        ({"offer_id": salads.pk}, "2"),
        ({"basket_id": market.basket.pk}, "1"),
    )
    mail.outbox.clear()
    with translation.override("fr"):
        assert order_notification_send(order_id=order.pk, event="confirmed")
    lines = [line for line in mail.outbox[-1].body.splitlines() if line.startswith("- ")]
    assert lines == [
        "- 1,5 kg Carottes : 3,75 €",
        "- 2 douzaines Œufs : 8,40 €",
        "- 2 × Salade : 2,40 €",
        f"- 1 × {market.basket.name} : 15,00 €",
    ]
