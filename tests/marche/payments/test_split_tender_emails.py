"""Order e-mails and pages of an order paid partly in mannes say both parts, never a sum."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from marche.mannes.selectors import manne_statement_lines
from marche.orders.services import order_cancel
from marche.payments.models import Payment
from marche.payments.stripe_services import stripe_event_process
from marche.producers.models import Producer
from tests.marche.orders.conftest import Market
from tests.marche.payments.test_split_tender import (
    household_account,
    order_eggs_and_carrots,
)

pytestmark = pytest.mark.django_db


def test_the_confirmation_of_a_pickup_order_paid_partly_in_mannes_says_what_is_left_to_pay(
    manne_market: Market,
    django_capture_on_commit_callbacks,
) -> None:
    # 2 × 4.20 eggs + 2 kg × 2.50 carrots = 13.40 €; 2.50 mannes on the eggs.
    with django_capture_on_commit_callbacks(execute=True):
        order, _start = order_eggs_and_carrots(manne_market, method="pickup", mannes="2,5")
    assert Payment.objects.get(order=order, method="pickup").amount == Decimal("10.90")
    [message] = mail.outbox
    assert "Total : 13,40 €\n" in message.body
    assert "Payé en monnaie locale : 2,50 mannes\n" in message.body
    assert "Reste à régler au retrait : 10,90 €\n" in message.body
    assert "Vous réglerez au retrait, en espèces ou par chèque." in message.body


def test_an_order_paid_wholly_in_mannes_has_nothing_left_to_pay_at_pickup(
    manne_market: Market,
    django_capture_on_commit_callbacks,
) -> None:
    market = manne_market
    # The carrot farm accepts mannes too: the whole order (13.40 €) may be paid in mannes.
    Producer.objects.filter(pk=market.carrots.product.producer_id).update(
        accepts_local_currency=True, territory=market.cycle.territory
    )
    market.carrots.product.producer.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        order, _start = order_eggs_and_carrots(market, method="pickup", mannes="13.40")
    assert not Payment.objects.filter(order=order, method="pickup").exists()
    [message] = mail.outbox
    assert "Payé en monnaie locale : 13,40 mannes\n" in message.body
    assert "Rien à régler au retrait." in message.body
    assert "Vous réglerez au retrait" not in message.body


def test_the_confirmation_of_a_card_order_with_mannes_gives_the_card_part(
    manne_market: Market,
    fake_stripe,
    django_capture_on_commit_callbacks,
) -> None:
    order, _start = order_eggs_and_carrots(manne_market, method="card", mannes="5")
    card = Payment.objects.get(order=order, method="card")
    with django_capture_on_commit_callbacks(execute=True):
        stripe_event_process(event=fake_stripe.pay(card.reference))
    [message] = mail.outbox
    assert "Payé en monnaie locale : 5,00 mannes\n" in message.body
    assert "Par carte bancaire : 8,40 €\n" in message.body
    assert "au retrait" not in message.body


def test_cancelling_says_the_mannes_are_refunded_in_the_mail_the_page_and_the_history(
    client,
    manne_market: Market,
    django_capture_on_commit_callbacks,
) -> None:
    market = manne_market
    order, _start = order_eggs_and_carrots(market, method="pickup", mannes="2.50")
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=order.pk, by=market.household)
    [message] = [m for m in mail.outbox if "annulée" in m.subject]
    assert "Remboursé en monnaie locale : 2,50 mannes\n" in message.body
    assert "Payé en monnaie locale" not in message.body
    assert "à régler" not in message.body.lower()

    client.force_login(market.household)
    page = client.get(reverse("orders:detail", args=[order.reference])).content.decode()
    assert "Payé en monnaie locale" not in page
    assert 'Remboursé en monnaie locale : <strong id="manne-refunded">2,50 mannes</strong>' in page

    lines = manne_statement_lines(account=household_account(market)).object_list
    assert [(line.kind_label, line.amount, line.memo) for line in lines[:2]] == [
        (f"Remboursement de la commande {order.reference}", Decimal("2.50"), ""),
        ("paiement de commande", Decimal("-2.50"), ""),
    ]
    page = client.get(reverse("mannes:overview")).content.decode()
    assert f"Remboursement de la commande {order.reference}" in page
    assert "Écriture inverse" not in page


def test_too_many_mannes_at_checkout_is_refused_in_french_with_the_currency_name(
    client,
    manne_market: Market,
) -> None:
    from marche.orders.models import Order
    from marche.orders.services import cart_set_item

    market = manne_market
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.eggs.pk,
        count=Decimal("1"),
    )
    client.force_login(market.household)
    cart_url = reverse("orders:cart", args=[market.cycle.pk])
    response = client.post(
        reverse("orders:checkout", args=[market.cycle.pk]),
        {
            "relay": market.relay.pk,
            "slot": market.slots[0].pk,
            "payment_method": "pickup",
            "mannes": "10,5",
            "next": cart_url,
        },
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Vous ne pouvez pas utiliser autant de mannes : au plus 4,20 mannes pour cette "
        "commande (votre solde disponible et la part des producteurs qui acceptent la manne)."
    ]
    assert Order.objects.count() == 0
