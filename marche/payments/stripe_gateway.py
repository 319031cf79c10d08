"""The only module that talks to Stripe: a configured client, amounts in integer cents.

Keys come from the environment (settings). ``STRIPE_API_BASE`` points the client at a local
address instead of api.stripe.com (the tests run a local fake server there), so no test
reaches the network. Never call these functions inside a database transaction or a lock.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings

from marche.money import Money


def stripe_client() -> stripe.StripeClient:
    """A Stripe client built from the settings of this instance."""
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base, "connect": base, "files": base} if base else None,
        max_network_retries=2,
    )


def cents(amount: Decimal) -> int:
    """Integer cents of a euro amount (the Stripe boundary only)."""
    return Money(amount, "EUR").cents()


def checkout_session_create(
    *,
    order_id: int,
    reference: str,
    amount: Decimal,
    description: str,
    customer_email: str,
    expires_at: datetime,
    success_url: str,
    cancel_url: str,
    key: str,
) -> Any:
    """Open a Checkout Session for the euro part of an order (metadata carries the order)."""
    metadata = {"order_id": str(order_id), "order_reference": reference}
    return stripe_client().v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "client_reference_id": reference,
            "customer_email": customer_email,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": cents(amount),
                        "product_data": {"name": description},
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata, "transfer_group": reference},
            "expires_at": int(expires_at.timestamp()),
            "success_url": success_url,
            "cancel_url": cancel_url,
        },
        options={"idempotency_key": key},
    )


def checkout_session_retrieve(session_id: str) -> Any:
    """The current state of a Checkout Session."""
    return stripe_client().v1.checkout.sessions.retrieve(session_id)


def refund_create(*, payment_intent: str, amount: Decimal, key: str, reason: str) -> Any:
    """Refund part or all of a payment; the idempotency key makes a retry harmless."""
    return stripe_client().v1.refunds.create(
        params={
            "payment_intent": payment_intent,
            "amount": cents(amount),
            "metadata": {"reason": reason[:450]},
        },
        options={"idempotency_key": key},
    )


def connected_account_create(*, email: str, name: str, key: str) -> Any:
    """Create an Express connected account for a producer."""
    return stripe_client().v1.accounts.create(
        params={
            "type": "express",
            "country": "FR",
            "email": email,
            "business_profile": {"name": name},
            "capabilities": {"transfers": {"requested": True}},
        },
        options={"idempotency_key": key},
    )


def account_link_create(*, account_id: str, refresh_url: str, return_url: str) -> Any:
    """A one-time onboarding link for a connected account."""
    return stripe_client().v1.account_links.create(
        params={
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }
    )


def transfer_create(
    *, amount: Decimal, destination: str, transfer_group: str, source_charge: str, key: str
) -> Any:
    """Send a producer its share of an order ("separate charges and transfers")."""
    params: dict[str, Any] = {
        "amount": cents(amount),
        "currency": "eur",
        "destination": destination,
        "transfer_group": transfer_group,
    }
    if source_charge:
        params["source_transaction"] = source_charge
    return stripe_client().v1.transfers.create(params=params, options={"idempotency_key": key})


EVENT_ID_MAX = 255  # StripeEvent.event_id
EVENT_TYPE_MAX = 100  # StripeEvent.type


class MalformedEvent(ValueError):
    """A correctly signed webhook body that is not an event this site can act on."""


def _is_event(data: Any) -> bool:
    """An event object: a string id and type, and ``data.object`` an object."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("id"), str)
        and 0 < len(data["id"]) <= EVENT_ID_MAX
        and isinstance(data.get("type"), str)
        and 0 < len(data["type"]) <= EVENT_TYPE_MAX
        and isinstance(data.get("data"), dict)
        and isinstance(data["data"].get("object"), dict)
    )


def webhook_event_construct(*, payload: bytes, signature: str) -> Any:
    """Verify the signature of a webhook body (raw bytes) and build its Event.

    The signature is checked before the body is read, so an unsigned body learns nothing;
    a signed one that is not an event object (no ``data``, an id that is not a string, a
    JSON list...) raises :class:`MalformedEvent` before anything is stored or done.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    stripe.WebhookSignature.verify_header(
        payload, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE
    )
    try:
        data = json.loads(payload)
    except ValueError as error:
        raise MalformedEvent("not JSON") from error
    if not _is_event(data):
        raise MalformedEvent("not an event object")
    return stripe.Webhook.construct_event(payload, signature, secret)
