from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marche.accounts.models import Role
from marche.cycles.models import Offer
from marche.orders.models import CartItem, Order, OrderStatus
from marche.relays.models import PickupSlot
from tests.factories import (
    BasketFactory,
    BasketItemFactory,
    OfferFactory,
    ProductFactory,
    ProductVariantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def login(client, user) -> None:
    client.force_login(user)


def add(client, market, **fields) -> object:
    data = {"cycle": market.cycle.pk, "count": "1", **fields}
    return client.post(reverse("orders:cart_update"), data)


def shop_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("orders:shop"))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_shop_lists_baskets_and_offers_with_a_constant_number_of_queries(client, market) -> None:
    client.force_login(market.household)
    few, body = shop_queries(client)
    assert market.basket.name in body and "Carottes" in body and "Œufs" in body
    assert "7,50" in body  # solidarity price shown
    for n in range(8):
        offer = OfferFactory(cycle=market.cycle, product=ProductFactory(name=f"Chou {n}"))
        ProductVariantFactory(product=offer.product)
        BasketItemFactory(basket=BasketFactory(cycle=market.cycle), offer=offer)
    many, body = shop_queries(client)
    assert "Chou 7" in body
    assert many == few


def test_household_fills_cart_checks_out_and_cancels(client, market) -> None:
    login(client, market.household)
    assert add(client, market, basket=market.basket.pk).status_code == 302
    add(client, market, offer=market.carrots.pk, count="1,5")
    add(client, market, offer=market.eggs.pk, count="2")
    cart_page = client.get(
        reverse("orders:cart", args=[market.cycle.pk]), {"relay": market.relay.pk}
    )
    body = cart_page.content.decode()
    assert "27,15" in body and "16:00" in body and "Paiement au retrait" in body
    response = client.post(
        reverse("orders:checkout", args=[market.cycle.pk]),
        {
            "relay": market.relay.pk,
            "slot": market.slots[1].pk,
            "payment_method": "pickup",
            "idempotency_key": "form-1",
        },
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("orders:detail", args=[order.reference])
    assert (order.status, order.total, order.pickup_slot_id) == (
        OrderStatus.CONFIRMED,
        Decimal("27.15"),
        market.slots[1].pk,
    )
    detail = client.get(response.url).content.decode()
    assert order.reference in detail and "Pommes de terre" in detail
    assert order.reference in client.get(reverse("orders:list")).content.decode()

    client.post(reverse("orders:cancel", args=[order.reference]))
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert Offer.objects.get(pk=market.eggs.pk).quantity_sold == 0


def test_double_submit_of_the_checkout_form_places_one_order(client, market) -> None:
    login(client, market.household)
    add(client, market, offer=market.eggs.pk, count="2")
    form = {
        "relay": market.relay.pk,
        "slot": market.slots[0].pk,
        "payment_method": "pickup",
        "idempotency_key": "same-form",
    }
    client.post(reverse("orders:checkout", args=[market.cycle.pk]), form)
    client.post(reverse("orders:checkout", args=[market.cycle.pk]), form)
    assert Order.objects.count() == 1
    assert PickupSlot.objects.get(pk=market.slots[0].pk).booked == 1


def test_full_slot_shows_a_french_message_and_changes_nothing(client, market) -> None:
    login(client, market.household)
    add(client, market, offer=market.eggs.pk, count="2")
    PickupSlot.objects.filter(pk=market.slots[0].pk).update(capacity=0)
    response = client.post(
        reverse("orders:checkout", args=[market.cycle.pk]),
        {"relay": market.relay.pk, "slot": market.slots[0].pk, "payment_method": "pickup"},
        follow=True,
    )
    assert "Ce créneau de retrait est complet" in response.content.decode()
    assert Order.objects.count() == 0
    assert CartItem.objects.count() == 1
    assert Offer.objects.get(pk=market.eggs.pk).quantity_held == 0


def test_bad_quantity_is_refused_with_a_message(client, market) -> None:
    login(client, market.household)
    response = add(client, market, offer=market.eggs.pk, count="-2")
    assert response.status_code == 302
    page = html.unescape(client.get(reverse("orders:shop")).content.decode())
    assert 'role="alert">Un nombre négatif n\'est pas accepté ici.</li>' in page
    assert CartItem.objects.count() == 0


def test_only_households_order_and_others_cannot_see_an_order(client, market) -> None:
    farmer = UserFactory(role=Role.FARMER)
    login(client, farmer)
    add(client, market, offer=market.eggs.pk)
    assert CartItem.objects.count() == 0
    login(client, market.household)
    add(client, market, offer=market.eggs.pk)
    client.post(
        reverse("orders:checkout", args=[market.cycle.pk]),
        {"relay": market.relay.pk, "slot": market.slots[0].pk, "payment_method": "pickup"},
    )
    order = Order.objects.get()
    login(client, UserFactory())
    assert client.get(reverse("orders:detail", args=[order.reference])).status_code == 404
    assert client.post(reverse("orders:cancel", args=[order.reference])).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
