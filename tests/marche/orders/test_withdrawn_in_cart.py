"""A product withdrawn by its farmer (or sold out) after the shop showed it: composed baskets
that contain it are unavailable, cart lines that hold it are marked with a way to remove them,
and every refusal names the product."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marche.cycles.errors import OfferWithdrawn, OutOfStock
from marche.cycles.models import Offer
from marche.orders.models import CartItem, Order
from marche.orders.services import cart_add_item, cart_set_item
from tests.marche.orders.conftest import Market

pytestmark = pytest.mark.django_db

ADD = reverse("orders:cart_add")
WITHDRAWN_BASKET = (
    "Le panier « {basket} » n'est plus disponible : Pommes de terre a été retiré de la vente "
    "par son producteur."
)


def withdraw(offer: Offer) -> None:
    """What ``offer_withdraw`` leaves: marked withdrawn, nothing left to sell."""
    Offer.objects.filter(pk=offer.pk).update(
        withdrawn_at=timezone.now(), quantity_available=Decimal("0")
    )


def potatoes(market: Market) -> Offer:
    return Offer.objects.get(cycle=market.cycle, product__name="Pommes de terre")


def shop_card(client, market: Market) -> str:  # type: ignore[no-untyped-def]
    body = html.unescape(client.get(reverse("orders:shop")).content.decode())
    start = body.index(f'id="panier-{market.basket.pk}"')
    return body[start : body.index("<h2>", start)]  # up to "À la carte"


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


def test_a_basket_with_a_withdrawn_component_is_unavailable_and_says_why(client, market) -> None:
    withdraw(potatoes(market))
    client.force_login(market.household)
    card = shop_card(client, market)
    reason = WITHDRAWN_BASKET.format(basket=market.basket.name)
    assert 'class="withdrawn"' in card and "retiré de la vente</span>" in card
    assert f'<p class="sold-out unavailable">{reason}</p>' in card
    assert f'name="basket" value="{market.basket.pk}"' not in card  # no "Ajouter"

    response = client.post(
        ADD, {"cycle": market.cycle.pk, "basket": market.basket.pk, "count": "1"}, follow=True
    )
    assert messages_of(response) == [reason]  # it said "Stock insuffisant..."
    assert CartItem.objects.count() == 0


def test_a_basket_with_a_sold_out_component_is_unavailable_and_says_why(client, market) -> None:
    # The basket takes 1 kg of carrots; 0.5 kg is left.
    Offer.objects.filter(pk=market.carrots.pk).update(quantity_sold=Decimal("9.5"))
    client.force_login(market.household)
    reason = f"Le panier « {market.basket.name} » n'est plus disponible : Carottes est épuisé."
    card = shop_card(client, market)
    assert f'<p class="sold-out unavailable">{reason}</p>' in card
    assert f'name="basket" value="{market.basket.pk}"' not in card
    with pytest.raises(OutOfStock) as refused:
        cart_add_item(
            customer=market.household,
            cycle_id=market.cycle.pk,
            basket_id=market.basket.pk,
            count=Decimal("1"),
        )
    assert refused.value.message == reason
    assert CartItem.objects.count() == 0


def test_a_basket_that_is_short_for_the_quantity_asked_says_so(market) -> None:
    # 2.5 kg of carrots left: one basket (1 kg) fits, three (3 kg) do not.
    Offer.objects.filter(pk=market.carrots.pk).update(quantity_sold=Decimal("7.5"))
    with pytest.raises(OutOfStock) as refused:
        cart_set_item(
            customer=market.household,
            cycle_id=market.cycle.pk,
            basket_id=market.basket.pk,
            count=Decimal("3"),
        )
    assert refused.value.message == (
        f"Le panier « {market.basket.name} » : il ne reste pas assez de Carottes "
        "pour cette quantité."
    )
    assert CartItem.objects.count() == 0


def test_a_withdrawn_offer_cannot_be_added_and_the_refusal_names_it(market) -> None:
    withdraw(market.eggs)
    with pytest.raises(OfferWithdrawn) as refused:
        cart_add_item(
            customer=market.household,
            cycle_id=market.cycle.pk,
            offer_id=market.eggs.pk,
            count=Decimal("1"),
        )
    assert refused.value.message == "Œufs a été retiré de la vente par son producteur."
    assert refused.value.params == {"product": "Œufs"}
    assert CartItem.objects.count() == 0


def test_the_cart_marks_lines_withdrawn_since_they_were_added(client, market) -> None:
    user, cycle_id = market.household, market.cycle.pk
    cart_set_item(customer=user, cycle_id=cycle_id, offer_id=market.eggs.pk, count=Decimal("2"))
    cart_set_item(customer=user, cycle_id=cycle_id, basket_id=market.basket.pk, count=Decimal("1"))
    cart_set_item(
        customer=user, cycle_id=cycle_id, offer_id=market.carrots.pk, count=Decimal("1.5")
    )
    withdraw(market.eggs)
    withdraw(potatoes(market))
    eggs_item = CartItem.objects.get(offer=market.eggs)
    basket_item = CartItem.objects.get(basket=market.basket)

    client.force_login(user)
    cart_url = reverse("orders:cart", args=[cycle_id])
    body = html.unescape(client.get(cart_url, {"relay": market.relay.pk}).content.decode())
    assert (
        f'<li class="message error" data-cart-item="{eggs_item.pk}"><strong>Œufs</strong> (2) : '
        "Œufs a été retiré de la vente par son producteur." in body
    )
    assert (
        f'<li class="message error" data-cart-item="{basket_item.pk}">'
        f"<strong>{market.basket.name}</strong> (1) : "
        + WITHDRAWN_BASKET.format(basket=market.basket.name)
        in body
    )
    for item in (eggs_item, basket_item):
        assert f'<input type="hidden" name="item" value="{item.pk}">' in body  # "Retirer"
    assert 'id="cart-total">3,75 €<' in body  # only the carrots are priced
    assert "Commander (" not in body

    before = sorted(CartItem.objects.values_list("pk", "count"))
    response = client.post(
        reverse("orders:checkout", args=[cycle_id]),
        {
            "relay": market.relay.pk,
            "slot": market.slots[0].pk,
            "payment_method": "pickup",
            "next": cart_url,
        },
        follow=True,
    )
    # The refusal names the product (it read "Ce produit a été retiré de la vente...").
    assert messages_of(response)[0] in {
        "Œufs a été retiré de la vente par son producteur.",
        WITHDRAWN_BASKET.format(basket=market.basket.name),
    }
    assert Order.objects.count() == 0
    assert sorted(CartItem.objects.values_list("pk", "count")) == before
