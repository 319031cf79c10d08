"""A correctly signed webhook body that is not a usable event is refused with a code (400),
stores nothing, and is refused again when replayed; it never answers 500."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from marche.orders.models import OrderStatus
from marche.orders.services import cart_set_item, order_place
from marche.payments.models import Payment, PaymentStatus, StripeEvent
from tests.fakes.stripe_server import sign

pytestmark = pytest.mark.django_db

MALFORMED = {"code": "malformed_event", "message": "Événement Stripe mal formé."}


@pytest.fixture(autouse=True)
def _no_exception_reraised(client) -> None:
    # A 500 must show as a 500 response here (the test client re-raises by default).
    client.raise_request_exception = False


def post_signed(client, fake, payload: bytes, *, signature: str | None = None):
    return client.post(
        reverse("payments:stripe_webhook"),
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature or sign(payload, fake.webhook_secret)},
    )


def pending_card_order(market):
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.eggs.pk,
        count=Decimal("2"),
    )
    order, _start = order_place(
        customer=market.household,
        cycle_id=market.cycle.pk,
        relay_point_id=market.relay.pk,
        pickup_slot_id=market.slots[0].pk,
        payment_method="card",
        idempotency_key="card-malformed",
    )
    return order


def test_a_signed_completed_event_without_data_is_refused_and_stores_nothing(
    client, market, fake_stripe
) -> None:
    order = pending_card_order(market)
    event = fake_stripe.pay(Payment.objects.get(order=order).reference)
    del event["data"]
    payload = json.dumps(event).encode()
    for _delivery in range(2):  # Stripe retries a refused delivery: refused the same way
        response = post_signed(client, fake_stripe, payload)
        assert (response.status_code, response.json()) == (400, MALFORMED)
    assert StripeEvent.objects.count() == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert Payment.objects.get(order=order).status == PaymentStatus.PENDING


@pytest.mark.parametrize(
    "body",
    [
        {"id": "evt_1", "type": "checkout.session.completed", "data": None},
        {"id": "evt_1", "type": "checkout.session.completed", "data": {}},
        {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": "cs_1"}},
        {"id": "evt_1", "type": "checkout.session.completed", "data": []},
        {"id": 7, "type": "checkout.session.completed", "data": {"object": {}}},
        {"id": "", "type": "checkout.session.completed", "data": {"object": {}}},
        {"id": "e" * 256, "type": "checkout.session.completed", "data": {"object": {}}},
        {"id": "evt_1", "data": {"object": {}}},
        {"id": "evt_1", "type": ["refund.created"], "data": {"object": {}}},
        {"type": "checkout.session.completed", "data": {"object": {}}},
        [],
        "evt_1",
        1,
        None,
    ],
    ids=[
        "data null",
        "data empty",
        "object a string",
        "data a list",
        "id a number",
        "id empty",
        "id too long",
        "no type",
        "type a list",
        "no id",
        "a list",
        "a string",
        "a number",
        "null",
    ],
)
def test_a_signed_body_that_is_not_an_event_object_is_refused(
    client, market, fake_stripe, body
) -> None:
    response = post_signed(client, fake_stripe, json.dumps(body).encode())
    assert (response.status_code, response.json()) == (400, MALFORMED)
    assert StripeEvent.objects.count() == 0


def test_a_signed_body_that_is_not_json_is_refused(client, market, fake_stripe) -> None:
    response = post_signed(client, fake_stripe, b'{"id": "evt_1", "data": ')
    assert (response.status_code, response.json()) == (400, MALFORMED)
    assert StripeEvent.objects.count() == 0


def test_the_signature_is_checked_before_the_body_is_read(client, market, fake_stripe) -> None:
    response = post_signed(client, fake_stripe, b"[]", signature="t=1,v1=deadbeef")
    assert (response.status_code, response.json()["code"]) == (400, "bad_signature")
    assert StripeEvent.objects.count() == 0


@pytest.mark.parametrize("order_id", ["²", "١٢", str(2**63), "-1"])
def test_an_order_id_in_metadata_that_is_not_an_id_finds_no_payment(
    client, market, fake_stripe, order_id
) -> None:
    order = pending_card_order(market)
    session = {"id": "cs_unknown", "payment_status": "paid", "metadata": {"order_id": order_id}}
    event = fake_stripe.event("checkout.session.completed", session)
    response = post_signed(client, fake_stripe, json.dumps(event).encode())
    assert (response.status_code, response.json()) == (
        200,
        {"received": True, "outcome": "unknown_session"},
    )
    assert list(StripeEvent.objects.values_list("event_id", "outcome")) == [
        (event["id"], "unknown_session")
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
