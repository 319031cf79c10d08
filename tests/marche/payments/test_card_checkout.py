"""Card payment through Stripe Checkout against the local fake Stripe."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import stripe
from django.urls import reverse

from marche.cycles.models import Offer
from marche.orders.models import Order, OrderStatus
from marche.orders.services import cart_set_item, order_place
from marche.payments.models import Payment, PaymentStatus, Refund, StripeEvent
from marche.payments.stripe_services import (
    RefundTooLarge,
    checkout_fulfil,
    payment_refund,
)
from marche.relays.models import RelayDay

pytestmark = pytest.mark.django_db


def place_by_card(market, key="card-1"):
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.eggs.pk,
        count=Decimal("2"),
    )
    return order_place(
        customer=market.household,
        cycle_id=market.cycle.pk,
        relay_point_id=market.relay.pk,
        pickup_slot_id=market.slots[0].pk,
        payment_method="card",
        idempotency_key=key,
    )


def eggs(market) -> tuple[Decimal, Decimal]:
    offer = Offer.objects.get(pk=market.eggs.pk)
    return offer.quantity_held, offer.quantity_sold


def post_event(client, fake, event, *, signature=None):
    payload, good = fake.signed(event)
    return client.post(
        reverse("payments:stripe_webhook"),
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature or good},
    )


def test_checkout_session_carries_the_order_and_expires_with_the_hold(market, fake_stripe):
    order, start = place_by_card(market)
    assert order.status == OrderStatus.PENDING
    payment = Payment.objects.get(order=order)
    session = fake_stripe.sessions[payment.reference]
    assert start.redirect_url == session["url"]
    assert session["metadata"] == {"order_id": str(order.pk), "order_reference": order.reference}
    assert session["amount_total"] == 840
    assert session["expires_at"] == int(order.expires_at.timestamp())
    assert eggs(market) == (Decimal("2"), Decimal("0"))


def test_completed_event_replayed_ten_times_confirms_once(client, market, fake_stripe):
    order, _ = place_by_card(market)
    payment = Payment.objects.get(order=order)
    event = fake_stripe.pay(payment.reference)
    outcomes = [post_event(client, fake_stripe, event).json()["outcome"] for _ in range(10)]
    assert outcomes == ["fulfilled"] + ["duplicate"] * 9
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert (payment.status, payment.provider_payment_id) == (
        PaymentStatus.SUCCEEDED,
        fake_stripe.sessions[payment.reference]["payment_intent"],
    )
    assert eggs(market) == (Decimal("0"), Decimal("2"))
    assert StripeEvent.objects.count() == 1
    # The same session delivered under a new event id (a retry by Stripe) changes nothing.
    again = fake_stripe.event("checkout.session.completed", fake_stripe.sessions[payment.reference])
    assert post_event(client, fake_stripe, again).json()["outcome"] == "already_fulfilled"
    assert eggs(market) == (Decimal("0"), Decimal("2"))


def test_expired_after_completed_changes_nothing(client, market, fake_stripe):
    order, _ = place_by_card(market)
    reference = Payment.objects.get(order=order).reference
    completed = fake_stripe.pay(reference)
    expired = fake_stripe.event("checkout.session.expired", fake_stripe.sessions[reference])
    post_event(client, fake_stripe, completed)
    assert post_event(client, fake_stripe, expired).json()["outcome"] == "ignored"
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert eggs(market) == (Decimal("0"), Decimal("2"))


def test_expired_first_releases_stock_and_room_then_a_late_payment_is_refunded(
    client, market, fake_stripe
):
    order, _ = place_by_card(market)
    reference = Payment.objects.get(order=order).reference
    expired = fake_stripe.expire(reference)
    assert post_event(client, fake_stripe, expired).json()["outcome"] == "released"
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert eggs(market) == (Decimal("0"), Decimal("0"))
    assert RelayDay.objects.get().booked == 0
    # Out of order: a "completed" delivered after "expired" means money was taken for
    # stock already back on sale. It is refunded in full; the order stays expired.
    late = fake_stripe.pay(reference)
    assert post_event(client, fake_stripe, late).json()["outcome"] == "refunded_late"
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert eggs(market) == (Decimal("0"), Decimal("0"))
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [840]
    assert Payment.objects.get(order=order).status == PaymentStatus.REFUNDED
    # Delivered once more, or fulfilled from the return page: nothing more happens.
    assert checkout_fulfil(session=fake_stripe.sessions[reference]) == "already_fulfilled"
    assert len(fake_stripe.refunds) == 1


def test_async_failure_releases_everything(client, market, fake_stripe):
    order, _ = place_by_card(market)
    reference = Payment.objects.get(order=order).reference
    failed = fake_stripe.event(
        "checkout.session.async_payment_failed", fake_stripe.sessions[reference]
    )
    assert post_event(client, fake_stripe, failed).json()["outcome"] == "released"
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert Payment.objects.get(order=order).status == PaymentStatus.FAILED
    assert eggs(market) == (Decimal("0"), Decimal("0"))


def test_bad_signature_is_refused_with_400_and_records_nothing(client, market, fake_stripe):
    order, _ = place_by_card(market)
    event = fake_stripe.pay(Payment.objects.get(order=order).reference)
    response = post_event(client, fake_stripe, event, signature="t=1,v1=deadbeef")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_signature"
    assert StripeEvent.objects.count() == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    # A body altered after signing is refused too.
    payload, signature = fake_stripe.signed(event)
    tampered = payload.replace(b'"paid"', b'"PAID"')
    response = client.post(
        reverse("payments:stripe_webhook"),
        data=tampered,
        content_type="application/json",
        headers={"Stripe-Signature": signature},
    )
    assert response.status_code == 400 and StripeEvent.objects.count() == 0


def test_return_page_fulfils_with_the_same_function(client, market, fake_stripe):
    order, _ = place_by_card(market)
    reference = Payment.objects.get(order=order).reference
    fake_stripe.pay(reference)
    client.force_login(market.household)
    response = client.get(reverse("payments:card_return"), {"session_id": reference})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    # The webhook arriving afterwards finds it done.
    event = fake_stripe.event("checkout.session.completed", fake_stripe.sessions[reference])
    assert post_event(client, fake_stripe, event).json()["outcome"] == "already_fulfilled"
    assert eggs(market) == (Decimal("0"), Decimal("2"))


def test_partial_then_full_refund_with_idempotency_keys(client, market, fake_stripe):
    order, _ = place_by_card(market)
    payment = Payment.objects.get(order=order)
    post_event(client, fake_stripe, fake_stripe.pay(payment.reference))
    first = payment_refund(
        payment_id=payment.pk, amount=Decimal("4.20"), reason="œufs cassés", key="r1"
    )
    replay = payment_refund(
        payment_id=payment.pk, amount=Decimal("4.20"), reason="œufs cassés", key="r1"
    )
    assert replay.pk == first.pk and len(fake_stripe.refunds) == 1
    assert next(iter(fake_stripe.refunds.values()))["amount"] == 420
    with pytest.raises(RefundTooLarge):
        payment_refund(payment_id=payment.pk, amount=Decimal("4.21"), reason="x", key="r2")
    assert Refund.objects.count() == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    payment_refund(payment_id=payment.pk, amount=Decimal("4.20"), reason="reste", key="r3")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    # The refund.created webhooks of our own refunds do not create new refunds.
    for refund in list(fake_stripe.refunds.values()):
        post_event(client, fake_stripe, fake_stripe.event("refund.created", refund))
    assert Refund.objects.count() == 2


def test_refund_made_in_the_dashboard_is_picked_up(client, market, fake_stripe):
    order, _ = place_by_card(market)
    payment = Payment.objects.get(order=order)
    post_event(client, fake_stripe, fake_stripe.pay(payment.reference))
    payment.refresh_from_db()
    event = fake_stripe.dashboard_refund(payment.provider_payment_id, 300)
    assert post_event(client, fake_stripe, event).json()["outcome"] == "refund_recorded"
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.payment_id) == (
        Decimal("3.00"),
        "succeeded",
        payment.pk,
    )


def test_cancelling_a_paid_order_refunds_it(client, market, fake_stripe):
    from marche.orders.services import order_cancel

    order, _ = place_by_card(market)
    payment = Payment.objects.get(order=order)
    post_event(client, fake_stripe, fake_stripe.pay(payment.reference))
    order_cancel(order_id=order.pk, by=market.household)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [840]
    assert eggs(market) == (Decimal("0"), Decimal("0"))


def test_stripe_down_at_checkout_refuses_and_gives_everything_back(market, fake_stripe):
    fake_stripe.fail_next = 10
    from marche.payments.card import CardUnavailable

    with pytest.raises(CardUnavailable):
        place_by_card(market)
    order = Order.objects.get()
    assert order.status == OrderStatus.EXPIRED
    assert eggs(market) == (Decimal("0"), Decimal("0"))
    assert RelayDay.objects.get().booked == 0


def test_no_stripe_configured_card_is_unavailable(market, settings):
    from marche.orders.errors import PaymentMethodUnavailable
    from marche.payments import methods

    settings.CARD_PAYMENTS_ENABLED = False
    methods._registry.cache_clear()
    with pytest.raises(PaymentMethodUnavailable):
        place_by_card(market)
    assert Order.objects.count() == 0
    assert json.dumps(stripe.__name__)  # the library stays importable without keys


def test_payment_just_after_the_deadline_but_before_the_release_is_honoured(
    client, market, fake_stripe
):
    order, _ = place_by_card(market)
    payment = Payment.objects.get(order=order)
    Order.objects.filter(pk=order.pk).update(expires_at=order.created_at)
    from marche.cycles.models import StockHold

    StockHold.objects.update(expires_at=order.created_at)
    assert post_event(client, fake_stripe, fake_stripe.pay(payment.reference)).json() == {
        "received": True,
        "outcome": "fulfilled",
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert eggs(market) == (Decimal("0"), Decimal("2"))
    from marche.orders.services import orders_expire_pending

    assert orders_expire_pending() == 0
    assert eggs(market) == (Decimal("0"), Decimal("2"))
