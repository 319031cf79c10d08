"""A product sold by weight is ordered from MARCHE_ORDER_MIN_WEIGHT up (50 g by default)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from marche.orders.errors import QuantityBelowMinimum
from marche.orders.models import Cart, CartItem
from marche.orders.services import cart_add_item, cart_quote, cart_set_item

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("count", ["0.001", "0.01", "0.049"])
def test_less_than_fifty_grams_is_refused_and_changes_nothing(market, count: str) -> None:
    with pytest.raises(QuantityBelowMinimum) as refused:
        cart_add_item(
            customer=market.household,
            cycle_id=market.cycle.pk,
            offer_id=market.carrots.pk,
            count=Decimal(count),
        )
    assert refused.value.message == "Commandez au moins 0,05 kg de ce produit."
    assert refused.value.params == {"minimum": "0.05"}
    assert CartItem.objects.count() == 0


def test_fifty_grams_is_accepted(market) -> None:
    item = cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.carrots.pk,
        count=Decimal("0.05"),
    )
    assert item is not None and item.count == Decimal("0.050")


def test_one_gram_typed_in_the_shop_is_refused_with_a_clear_message(client, market) -> None:
    client.force_login(market.household)
    response = client.post(
        reverse("orders:cart_add"),
        {"cycle": market.cycle.pk, "offer": market.carrots.pk, "count": "0,001"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Commandez au moins 0,05 kg de ce produit."
    ]
    assert CartItem.objects.count() == 0


def test_the_bound_is_a_setting_and_a_stored_line_below_it_is_a_cart_problem(
    market, settings
) -> None:
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.carrots.pk,
        count=Decimal("0.1"),
    )
    settings.MARCHE_ORDER_MIN_WEIGHT = "0.2"
    quote = cart_quote(cart=Cart.objects.get(), lenient=True)
    assert quote.lines == []
    assert [(p.name, p.message) for p in quote.problems] == [
        ("Carottes", "Commandez au moins 0,2 kg de ce produit.")
    ]
