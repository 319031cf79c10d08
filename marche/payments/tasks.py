"""Payment work done after the request: producer transfers once a basket is collected."""

from __future__ import annotations

import stripe
from celery import shared_task

from marche.payments.stripe_services import order_transfers_create


@shared_task(
    name="payments.order_transfers",
    acks_late=True,
    autoretry_for=(stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError),
    retry_backoff=True,
    max_retries=8,
)
def order_transfers(order_id: int) -> int:
    """One transfer per producer for a collected order (deterministic keys: retry-safe)."""
    return len(order_transfers_create(order_id=order_id))
