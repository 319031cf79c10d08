"""One order paid partly in mannes and partly in euros (card or at pickup)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from marche.mannes.models import Account, ManneHold
from marche.mannes.selectors import ledger_drifts
from marche.mannes.services import manne_account_for_producer, manne_account_for_user
from marche.orders.models import Order, OrderStatus
from marche.orders.services import cart_set_item, order_cancel, order_place
from marche.payments.mannes_tender import ManneAmountTooHigh
from marche.payments.models import Payment, PaymentStatus
from marche.payments.payouts import payout_report
from marche.payments.stripe_services import stripe_event_process
from tests.marche.orders.conftest import Market

pytestmark = pytest.mark.django_db


def household_account(market: Market) -> Account:
    return manne_account_for_user(user=market.household, territory=market.cycle.territory)


def egg_farm_account(market: Market) -> Account:
    return manne_account_for_producer(producer=market.eggs.product.producer)


def order_eggs_and_carrots(market: Market, *, method: str, mannes: str, key: str = "split"):
    user, cycle_id = market.household, market.cycle.pk
    cart_set_item(customer=user, cycle_id=cycle_id, offer_id=market.eggs.pk, count=Decimal("2"))
    cart_set_item(customer=user, cycle_id=cycle_id, offer_id=market.carrots.pk, count=Decimal("2"))
    return order_place(
        customer=user,
        cycle_id=cycle_id,
        relay_point_id=market.relay.pk,
        pickup_slot_id=market.slots[0].pk,
        payment_method=method,
        idempotency_key=key,
        payment_options={"mannes": mannes},
    )


def test_five_mannes_and_the_rest_by_card(manne_market, fake_stripe) -> None:
    market = manne_market
    order, start = order_eggs_and_carrots(market, method="card", mannes="5")
    assert start is not None and start.redirect_url is not None
    # 2 × 4.20 eggs + 2 kg × 2.50 carrots = 13.40 €; only the eggs (8.40) accept mannes.
    assert order.total == Decimal("13.40")
    assert order.status == OrderStatus.PENDING
    card = Payment.objects.get(order=order, method="card")
    assert card.amount == Decimal("8.40")
    assert fake_stripe.sessions[card.reference]["amount_total"] == 840
    manne = Payment.objects.get(order=order, method="mannes")
    assert (manne.amount, manne.currency, manne.status) == (
        Decimal("5.00"),
        "MAN",
        PaymentStatus.PENDING,
    )
    account = household_account(market)
    account.refresh_from_db()
    assert (account.balance, account.held) == (Decimal("20.00"), Decimal("5.00"))

    stripe_event_process(event=fake_stripe.pay(card.reference))
    order.refresh_from_db()
    manne.refresh_from_db()
    account.refresh_from_db()
    farm = egg_farm_account(market)
    assert order.status == OrderStatus.CONFIRMED
    assert manne.status == PaymentStatus.SUCCEEDED
    assert (account.balance, account.held) == (Decimal("15.00"), Decimal("0.00"))
    assert farm.balance == Decimal("5.00")
    assert ledger_drifts() == []

    report = payout_report(cycle=market.cycle)
    assert report.orders_total == Decimal("13.40")
    assert report.column("local_currency") == Decimal("5.00")
    assert report.column("card") == Decimal("8.40")
    rows = {row.producer.pk: row for row in report.rows}
    assert rows[market.eggs.product.producer_id].local_currency == Decimal("5.00")
    assert rows[market.eggs.product.producer_id].card == Decimal("3.40")


def test_more_mannes_than_the_accepting_part_is_refused_and_changes_nothing(
    manne_market, fake_stripe
) -> None:
    market = manne_market
    before = (Order.objects.count(), list(Account.objects.values_list("balance", "held")))
    with pytest.raises(ManneAmountTooHigh) as refused:
        order_eggs_and_carrots(market, method="card", mannes="8.41")
    assert refused.value.params == {"usable": "8.40"}
    # Written the French way, with the currency's name (it read "au plus 8.40").
    assert "au plus 8,40 mannes pour cette commande" in refused.value.message
    assert (Order.objects.count(), list(Account.objects.values_list("balance", "held"))) == before
    assert ManneHold.objects.count() == 0 and fake_stripe.sessions == {}


def test_expired_checkout_releases_the_manne_hold(client, manne_market, fake_stripe) -> None:
    market = manne_market
    order, _ = order_eggs_and_carrots(market, method="card", mannes="5")
    card = Payment.objects.get(order=order, method="card")
    stripe_event_process(event=fake_stripe.expire(card.reference))
    account = household_account(market)
    account.refresh_from_db()
    assert (account.balance, account.held) == (Decimal("20.00"), Decimal("0.00"))
    assert Payment.objects.get(order=order, method="mannes").status == PaymentStatus.CANCELLED
    assert ManneHold.objects.get().status == "released"


def test_pay_at_pickup_with_mannes_and_cancel_refunds_them(manne_market) -> None:
    market = manne_market
    order, start = order_eggs_and_carrots(market, method="pickup", mannes="8.40")
    assert order.status == OrderStatus.CONFIRMED and start.confirmed
    pickup = Payment.objects.get(order=order, method="pickup")
    assert pickup.amount == Decimal("5.00")  # only the carrots are left for the relay
    account, farm = household_account(market), egg_farm_account(market)
    account.refresh_from_db()
    farm.refresh_from_db()
    assert (account.balance, farm.balance) == (Decimal("11.60"), Decimal("8.40"))

    order_cancel(order_id=order.pk, by=market.household)
    account.refresh_from_db()
    farm.refresh_from_db()
    assert (account.balance, account.held, farm.balance) == (
        Decimal("20.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert Payment.objects.get(order=order, method="mannes").status == PaymentStatus.REFUNDED
    assert ledger_drifts() == []


def test_reconcile_ledger_after_split_payments(manne_market, fake_stripe) -> None:
    market = manne_market
    order, _ = order_eggs_and_carrots(market, method="card", mannes="3.5")
    stripe_event_process(
        event=fake_stripe.pay(Payment.objects.get(order=order, method="card").reference)
    )
    call_command("reconcile_ledger")  # exits non-zero (SystemExit) on any drift


def test_checkout_form_offers_the_usable_mannes(client, manne_market) -> None:
    market = manne_market
    client.force_login(market.household)
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.eggs.pk,
        count=Decimal("1"),
    )
    page = client.get(reverse("orders:cart", args=[market.cycle.pk]), {"relay": market.relay.pk})
    body = page.content.decode()
    # A text input (a French browser keeps "10,5"); the bound is said in words, French style.
    assert '<input type="text" name="mannes" value="0" inputmode="decimal"' in body
    assert "jusqu'à 4,20 mannes (votre solde" in body
