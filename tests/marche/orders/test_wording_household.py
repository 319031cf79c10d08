"""What a French household reads: quantities, plurals and messages of the shop and its e-mails."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from marche.catalog.models import Unit
from marche.orders.models import CartItem, Order, OrderStatus
from marche.orders.notifications import order_notification_send
from marche.orders.services import cart_set_item, order_place
from tests.factories import OfferFactory, ProductFactory, RelayPointFactory, UserFactory

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


def _cart_page(client, market, **params) -> str:
    response = client.get(reverse("orders:cart", args=[market.cycle.pk]), params)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_seeing_slots_without_a_relay_point_says_so_beside_the_choice(client, market) -> None:
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.eggs.pk,
        count=Decimal("2"),
    )
    before = list(CartItem.objects.values_list("pk", "offer_id", "count"))
    client.force_login(market.household)
    assert "relay-error" not in _cart_page(client, market)

    page = _cart_page(client, market, voir="creneaux")
    relay_form = page[page.index('<form method="get" class="relay-form">') :]
    relay_form = relay_form[: relay_form.index("</form>")]
    assert (
        '<p class="message error inline-error" id="relay-error" role="alert">'
        "Choisissez un point relais pour voir ses créneaux de retrait.</p>"
    ) in relay_form
    assert 'aria-describedby="relay-error"' in relay_form
    assert "checkout-form" not in page
    assert list(CartItem.objects.values_list("pk", "offer_id", "count")) == before

    other = RelayPointFactory()  # another territory's relay point is not offered here
    page = _cart_page(client, market, relay=other.pk, voir="creneaux")
    assert "Ce point relais n'est pas proposé pour ce cycle : choisissez-en un dans la liste." in (
        page
    )
    assert "checkout-form" not in page
    page = _cart_page(client, market, relay=market.relay.pk, voir="creneaux")
    assert "relay-error" not in page and "checkout-form" in page
    assert list(CartItem.objects.values_list("pk", "offer_id", "count")) == before


def test_a_confirmed_pickup_order_has_no_payment_deadline_on_its_admin_page(client, market) -> None:
    order = place(market, ({"offer_id": market.eggs.pk}, "2"), key="deadline")
    assert (order.status, order.payment_method) == (OrderStatus.CONFIRMED, "pickup")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/orders/inspect/{order.pk}/"
    page = html.unescape(client.get(url).content.decode())
    assert order.reference in page and "Paiement au retrait" in page
    assert "payer avant" not in page.lower()
    # Only an order still waiting for its payment has a deadline to show.
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PENDING)
    page = html.unescape(client.get(url).content.decode())
    assert "<dt>à payer avant</dt>" in page.lower()
