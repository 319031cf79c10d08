"""The household's order pages: cancelling asks first, /compte/ lists the orders, units and
amounts are written as the page's language writes them, and the language switch works both
ways."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from marche.catalog.models import Unit
from marche.money import format_money
from marche.orders.models import Order, OrderStatus
from marche.orders.services import cart_set_item, order_place
from tests.factories import BasketItemFactory, OfferFactory, ProductFactory

pytestmark = pytest.mark.django_db


def place(market, key: str = "k1", **item) -> Order:  # type: ignore[no-untyped-def]
    item = item or {"offer_id": market.eggs.pk, "count": Decimal("2")}
    cart_set_item(customer=market.household, cycle_id=market.cycle.pk, **item)
    order, _start = order_place(
        customer=market.household,
        cycle_id=market.cycle.pk,
        relay_point_id=market.relay.pk,
        pickup_slot_id=market.slots[0].pk,
        payment_method="pickup",
        idempotency_key=key,
    )
    return order


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


# --- 5. cancel with confirmation; the orders on /compte/ -----------------------------------------


def test_cancelling_asks_for_confirmation_and_only_the_post_cancels(client, market) -> None:
    order = place(market)
    client.force_login(market.household)
    cancel_url = reverse("orders:cancel", args=[order.reference])
    detail = text(client.get(reverse("orders:detail", args=[order.reference])))
    assert f'<a class="button danger" href="{cancel_url}">Annuler la commande</a>' in detail
    assert f'<form method="post" action="{cancel_url}"' not in detail

    confirm = client.get(cancel_url)
    body = text(confirm)
    assert confirm.status_code == 200
    assert f"Annuler la commande {order.reference} ?" in body
    assert "Oui, annuler la commande" in body and "Non, garder ma commande" in body
    assert 'id="order-total">8,40 €<' in body
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED

    done = client.post(cancel_url)
    assert done["Location"] == reverse("orders:detail", args=[order.reference])
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_the_confirmation_page_of_an_order_past_its_cutoff_goes_back_to_the_order(
    client, market
) -> None:
    order = place(market)
    type(market.cycle).objects.filter(pk=market.cycle.pk).update(
        closes_at=timezone.now() - timedelta(minutes=1)
    )
    client.force_login(market.household)
    response = client.get(reverse("orders:cancel", args=[order.reference]), follow=True)
    assert response.redirect_chain == [(reverse("orders:detail", args=[order.reference]), 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Cette commande ne peut plus être annulée."
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED


def test_the_account_page_lists_the_latest_orders(client, market) -> None:
    first = place(market, "k1")
    second = place(market, "k2", offer_id=market.carrots.pk, count=Decimal("1.5"))
    client.force_login(market.household)
    body = text(client.get(reverse("accounts:dashboard")))
    assert "Vos commandes apparaîtront ici" not in body
    references = re.findall(r'<tr data-order="([^"]+)">', body)
    assert references == [second.reference, first.reference]
    assert "3,75 €" in body and "8,40 €" in body


def test_the_account_page_of_a_household_without_orders_invites_to_order(client, market) -> None:
    client.force_login(market.household)
    body = text(client.get(reverse("accounts:dashboard")))
    assert "Vous n'avez pas encore commandé." in body
    assert "<table" not in body


# --- 6. units and amounts in the page's language; the language switch ----------------------------


def test_french_pages_write_units_in_french_and_agree_them(client, market) -> None:
    lettuce = OfferFactory(
        cycle=market.cycle,
        product=ProductFactory(name="Mâche", unit=Unit.PIECE),
        unit_price=Decimal("2.40"),
        quantity_available=Decimal("30"),
    )
    BasketItemFactory(basket=market.basket, offer=lettuce, quantity=Decimal("1"))
    order = place(market, basket_id=market.basket.pk, count=Decimal("1"))
    client.force_login(market.household)
    detail = text(client.get(reverse("orders:detail", args=[order.reference])))
    assert "1 pièce Mâche" in detail
    assert "2 kg Pommes de terre" in detail
    assert "piece" not in detail
    shop = text(client.get(reverse("orders:shop")))
    assert "2,40 € / pièce" in shop
    assert "Reste 5 douzaines" in shop


def test_amounts_are_formatted_the_way_the_language_writes_them() -> None:
    with translation.override("fr"):
        assert format_money(Decimal("10")) == "10,00 €"
        assert format_money(Decimal("1234.5")) == "1\xa0234,50 €"
        assert format_money(Decimal("5"), "mannes") == "5,00 mannes"
    with translation.override("en"):
        assert format_money(Decimal("1234.5")) == "1,234.50 €"


def test_the_minimum_order_message_writes_its_amount_in_french(client, market) -> None:
    type(market.cycle).objects.filter(pk=market.cycle.pk).update(
        minimum_order_amount=Decimal("10.00")
    )
    client.force_login(market.household)
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.eggs.pk,
        count=Decimal("1"),
    )
    cart_url = reverse("orders:cart", args=[market.cycle.pk])
    response = client.post(
        reverse("orders:checkout", args=[market.cycle.pk]),
        {
            "relay": market.relay.pk,
            "slot": market.slots[0].pk,
            "payment_method": "pickup",
            "next": cart_url,
        },
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    # One sentence that says what is missing (it read "... n'est pas atteint. (10,00 €)").
    assert messages == ["Il manque 5,80 € pour atteindre le minimum de commande de 10,00 €."]
    assert "Il manque 5,80 € pour atteindre le minimum de commande de 10,00 €." in text(response)
    assert Order.objects.count() == 0


def switch_next(client, url: str) -> str:  # type: ignore[no-untyped-def]
    body = client.get(url).content.decode()
    match = re.search(r'<input name="next" type="hidden" value="([^"]*)">', body)
    assert match is not None
    return html.unescape(match[1])


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("/en/commander/", "/commander/"),
        ("/en/commander/?cycle=1", "/commander/?cycle=1"),
        ("/en/compte/", "/compte/"),
    ],
)
def test_the_language_switch_goes_from_english_to_french_and_back(
    client, market, english: str, french: str
) -> None:
    client.force_login(market.household)
    sent = switch_next(client, english)
    assert sent == french
    to_french = client.post("/i18n/setlang/", {"language": "fr", "next": sent})
    assert to_french["Location"] == french
    sent = switch_next(client, french)
    assert sent == french
    to_english = client.post("/i18n/setlang/", {"language": "en", "next": sent})
    assert to_english["Location"] == english
    assert 'lang="en"' in client.get(english).content.decode()[:200]
    assert 'lang="fr"' in client.get(french).content.decode()[:200]
