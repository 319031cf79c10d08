"""Split tender when one manne is not worth one euro (1 manne = 0,90 € and 1,25 €).

The cart's usable mannes, the placed order's payments, the amount due at pickup, the
Stripe amount, the producers' transfers and the payout report must agree to the cent, and
the ledger must reconcile. Euros and mannes are never added: the manne part is converted
once at the territory's rate.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from marche.accounts.models import Role
from marche.mannes.models import Account, ManneHold, Transaction
from marche.mannes.selectors import ledger_drifts, manne_usable_for_order
from marche.money import local_currency_for, local_currency_value, tender_split
from marche.orders.models import Cart, CartItem, Order, OrderStatus
from marche.orders.packing import order_line_mark_missing
from marche.orders.selectors import packing_list_for_relay
from marche.orders.services import cart_quote, cart_set_item
from marche.payments.mannes_tender import (
    InvalidManneAmount,
    ManneAmountTooHigh,
    manne_amount_option,
    manne_usable_for_quote,
)
from marche.payments.methods import payment_amount_left
from marche.payments.models import Payment, PaymentStatus, PickupMeans, Transfer
from marche.payments.payouts import payout_report
from marche.payments.services import order_collect
from marche.payments.stripe_services import producer_onboarding_link, stripe_event_process
from tests.factories import UserFactory
from tests.marche.orders.conftest import Market
from tests.marche.payments.test_split_tender import (
    egg_farm_account,
    household_account,
    order_eggs_and_carrots,
)

pytestmark = pytest.mark.django_db


def set_rate(market: Market, rate: str) -> None:
    territory = market.cycle.territory
    territory.local_currency_euro_rate = Decimal(rate)
    territory.save(update_fields=["local_currency_euro_rate"])
    market.cycle.refresh_from_db()


def usable_on_cart(market: Market) -> Decimal:
    """What the cart page offers (the view calls exactly this on the cart's quote)."""
    cart = Cart.objects.get(customer=market.household, cycle=market.cycle)
    return manne_usable_for_quote(
        customer=market.household, cycle=market.cycle, quote=cart_quote(cart=cart)
    )


def fill_cart(market: Market) -> None:
    user, cycle_id = market.household, market.cycle.pk
    cart_set_item(customer=user, cycle_id=cycle_id, offer_id=market.eggs.pk, count=Decimal("2"))
    cart_set_item(customer=user, cycle_id=cycle_id, offer_id=market.carrots.pk, count=Decimal("2"))


def ledger_state() -> tuple[object, ...]:
    return (
        list(Account.objects.order_by("pk").values_list("balance", "held")),
        ManneHold.objects.count(),
        Transaction.objects.count(),
        Order.objects.count(),
        Payment.objects.count(),
    )


# The one split helper -------------------------------------------------------------------------


def test_the_split_converts_the_manne_part_once_at_the_rate() -> None:
    assert tender_split(Decimal("13.40"), Decimal("9.33"), Decimal("0.90")) == (
        Decimal("5.00"),
        Decimal("8.40"),
    )
    assert tender_split(Decimal("13.40"), Decimal("5.50"), Decimal("1.25")) == (
        Decimal("6.52"),
        Decimal("6.88"),
    )
    # An order that shrank below its manne value has nothing left to pay in euros.
    assert tender_split(Decimal("1.00"), Decimal("5.00"), Decimal("1")) == (
        Decimal("0.00"),
        Decimal("5.00"),
    )
    assert local_currency_value(Decimal("0.005"), Decimal("1")) == Decimal("0.01")  # half up
    assert local_currency_for(Decimal("8.40"), Decimal("0.90")) == Decimal("9.33")  # down
    assert local_currency_for(Decimal("8.40"), Decimal("1.25")) == Decimal("6.72")
    with pytest.raises(TypeError):
        local_currency_value(0.1, Decimal("1"))  # type: ignore[arg-type]


# 1 manne = 0,90 € : the whole accepting part in mannes, the rest by card ------------------------


def test_rate_090_cart_order_card_transfers_and_report_agree(
    manne_market,
    fake_stripe,
    django_capture_on_commit_callbacks,
) -> None:
    market = manne_market
    set_rate(market, "0.90")
    eggs_producer = market.eggs.product.producer
    carrots_producer = market.carrots.product.producer
    for producer in (eggs_producer, carrots_producer):
        producer_onboarding_link(producer=producer, refresh_url="http://x", return_url="http://x")
    fill_cart(market)
    # 2 × 4,20 € eggs (accept mannes) + 2 kg × 2,50 € carrots = 13,40 €; 8,40 € / 0,90.
    assert usable_on_cart(market) == Decimal("9.33")

    order, start = order_eggs_and_carrots(market, method="card", mannes="9,33")
    assert start is not None and start.redirect_url is not None
    assert order.total == Decimal("13.40")
    assert manne_usable_for_order(user=market.household, order=order) == Decimal("9.33")
    manne = Payment.objects.get(order=order, method="mannes")
    assert (manne.amount, manne.currency, manne.producer_id) == (
        Decimal("9.33"),
        "MAN",
        eggs_producer.pk,
    )
    card = Payment.objects.get(order=order, method="card")
    assert card.amount == Decimal("5.00")  # 13,40 - 9,33 × 0,90 (8,397 -> 8,40)
    assert fake_stripe.sessions[card.reference]["amount_total"] == 500
    assert payment_amount_left(order=order, method_code="card") == Decimal("5.00")

    stripe_event_process(event=fake_stripe.pay(card.reference))
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    account, farm = household_account(market), egg_farm_account(market)
    account.refresh_from_db()
    farm.refresh_from_db()
    assert (account.balance, account.held, farm.balance) == (
        Decimal("10.67"),
        Decimal("0.00"),
        Decimal("9.33"),
    )
    assert ledger_drifts() == []

    report = payout_report(cycle=market.cycle)
    rows = {row.producer.pk: row for row in report.rows}
    eggs_row, carrots_row = rows[eggs_producer.pk], rows[carrots_producer.pk]
    assert (eggs_row.total, eggs_row.local_currency, eggs_row.local_currency_value) == (
        Decimal("8.40"),
        Decimal("9.33"),
        Decimal("8.40"),
    )
    assert (eggs_row.card, eggs_row.pickup) == (Decimal("0.00"), Decimal("0.00"))
    assert (carrots_row.total, carrots_row.card, carrots_row.local_currency) == (
        Decimal("5.00"),
        Decimal("5.00"),
        Decimal("0"),
    )
    assert report.orders_local_currency == Decimal("9.33")
    assert report.orders_local_currency_value == Decimal("8.40")
    assert report.orders_euros == report.column("card") == Decimal("5.00")

    # At pickup the card's 5,00 € goes to the carrot farm alone: the egg farm was paid
    # in mannes for all of its share.
    market.cycle.closes_at = timezone.now() - timedelta(minutes=1)  # after the cutoff
    market.cycle.save(update_fields=["closes_at"])
    staff = UserFactory(role=Role.COORDINATOR)
    with django_capture_on_commit_callbacks(execute=True):
        order_collect(order_id=order.pk, means=PickupMeans.CASH, by=staff)
    assert Transfer.objects.get(order=order).producer_id == carrots_producer.pk
    assert [t["amount"] for t in fake_stripe.transfers.values()] == [500]


def test_rate_090_one_cent_of_mannes_more_than_usable_is_refused(manne_market) -> None:
    market = manne_market
    set_rate(market, "0.90")
    before = ledger_state()
    with pytest.raises(ManneAmountTooHigh) as refused:
        order_eggs_and_carrots(market, method="pickup", mannes="9.34")
    assert refused.value.params == {"usable": "9.33"}
    assert ledger_state() == before


# 1 manne = 1,25 € : part in mannes, the rest at pickup, after a missing line ------------------


def test_rate_125_pickup_amount_follows_the_rate_through_packing_and_collection(
    manne_market,
) -> None:
    market = manne_market
    set_rate(market, "1.25")
    fill_cart(market)
    assert usable_on_cart(market) == Decimal("6.72")  # 8,40 € / 1,25

    order, start = order_eggs_and_carrots(market, method="pickup", mannes="5,5")
    assert order.status == OrderStatus.CONFIRMED and start.confirmed
    manne = Payment.objects.get(order=order, method="mannes")
    assert (manne.amount, manne.status) == (Decimal("5.50"), PaymentStatus.SUCCEEDED)
    pickup = Payment.objects.get(order=order, method="pickup")
    assert pickup.amount == Decimal("6.52")  # 13,40 - 5,50 × 1,25 (6,875 -> 6,88)
    account, farm = household_account(market), egg_farm_account(market)
    account.refresh_from_db()
    farm.refresh_from_db()
    assert (account.balance, farm.balance) == (Decimal("14.50"), Decimal("5.50"))

    # After the cutoff the carrots are missing: the order is 8,40 €, of which 6,88 € was
    # paid in mannes; 1,52 € is left to cash at the relay point.
    after_cutoff = market.cycle.closes_at + timedelta(minutes=1)
    coordinator = UserFactory(role=Role.COORDINATOR, territory=market.cycle.territory)
    carrots_line = order.lines.get(offer=market.carrots)
    order_line_mark_missing(line_id=carrots_line.pk, by=coordinator, now=after_cutoff)
    order.refresh_from_db()
    assert order.total == Decimal("8.40")
    pickup.refresh_from_db()
    assert pickup.amount == Decimal("1.52")
    packing = packing_list_for_relay(relay_point=market.relay, cycle=market.cycle)
    assert [o.amount_to_collect for o in packing.orders] == [Decimal("1.52")]

    order_collect(order_id=order.pk, means=PickupMeans.CASH, by=coordinator, now=after_cutoff)
    pickup.refresh_from_db()
    assert (pickup.amount, pickup.status) == (Decimal("1.52"), PaymentStatus.SUCCEEDED)
    report = payout_report(cycle=market.cycle)
    eggs_row = next(r for r in report.rows if r.producer.pk == market.eggs.product.producer_id)
    assert (eggs_row.local_currency, eggs_row.local_currency_value, eggs_row.pickup) == (
        Decimal("5.50"),
        Decimal("6.88"),
        Decimal("1.52"),
    )
    assert report.orders_euros == report.column("pickup") == Decimal("1.52")
    assert ledger_drifts() == []


# The amount typed at checkout -------------------------------------------------------------------


def test_manne_amount_is_read_as_french_people_type_it() -> None:
    assert manne_amount_option({"mannes": "10,5"}) == Decimal("10.50")
    assert manne_amount_option({"mannes": " 3.25 "}) == Decimal("3.25")
    assert manne_amount_option({"mannes": ""}) == Decimal("0")
    assert manne_amount_option({}) == Decimal("0")
    for bad in ("1E+400", "1e-9", "10,555", "-1", "1_0", "²", "NaN", "Infinity", "9" * 60):
        with pytest.raises(InvalidManneAmount) as refused:
            manne_amount_option({"mannes": bad})
        assert refused.value.code == "invalid_manne_amount"
        assert refused.value.message  # a French sentence from the one number parser


@pytest.mark.parametrize("typed", ["1E+400", "10,555", "abc"])
def test_checkout_with_an_unreadable_manne_amount_is_refused_in_french(
    client,
    manne_market,
    typed,
) -> None:
    market = manne_market
    fill_cart(market)
    client.force_login(market.household)
    before = ledger_state()
    response = client.post(
        reverse("orders:checkout", args=[market.cycle.pk]),
        {
            "relay": market.relay.pk,
            "slot": market.slots[0].pk,
            "payment_method": "pickup",
            "idempotency_key": "typed-mannes",
            "mannes": typed,
        },
    )
    assert response.status_code == 302
    errors = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert len(errors) == 1 and errors[0].startswith("Le montant")
    assert ledger_state() == before
    assert CartItem.objects.filter(cart__customer=market.household).count() == 2


def test_checkout_with_ten_and_a_half_mannes_typed_with_a_comma(
    client,
    manne_market,
) -> None:
    market = manne_market
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.eggs.pk,
        count=Decimal("3"),
    )
    client.force_login(market.household)
    response = client.post(
        reverse("orders:checkout", args=[market.cycle.pk]),
        {
            "relay": market.relay.pk,
            "slot": market.slots[0].pk,
            "payment_method": "pickup",
            "idempotency_key": "comma-mannes",
            "mannes": "10,5",
        },
    )
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.total == Decimal("12.60")
    payments = order.payments.order_by("method").values_list("method", "currency", "amount")
    assert list(payments) == [
        ("mannes", "MAN", Decimal("10.50")),
        ("pickup", "EUR", Decimal("2.10")),
    ]


def test_rate_125_capture_with_a_fee_on_order_payments_reconciles(manne_market) -> None:
    """The capture also locks the issuer's account when the scheme takes a fee."""
    from marche.mannes.models import TransferKind, TransferRule
    from marche.mannes.services import manne_issuer_account

    market = manne_market
    set_rate(market, "1.25")
    TransferRule.objects.create(
        territory=market.cycle.territory,
        kind=TransferKind.ORDER_PAYMENT,
        sender_kinds=["household"],
        recipient_kinds=["producer"],
        fee_percent=Decimal("10"),
    )
    issuer = manne_issuer_account(territory=market.cycle.territory)
    issuer.refresh_from_db()
    issued = issuer.balance
    order, _start = order_eggs_and_carrots(market, method="pickup", mannes="4")
    assert order.status == OrderStatus.CONFIRMED
    assert Payment.objects.get(order=order, method="pickup").amount == Decimal("8.40")  # 13,40 - 5
    farm = egg_farm_account(market)
    farm.refresh_from_db()
    issuer.refresh_from_db()
    assert (farm.balance, issuer.balance - issued) == (Decimal("3.60"), Decimal("0.40"))
    assert ledger_drifts() == []
