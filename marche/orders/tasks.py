"""Order housekeeping and notifications (tasks take ids, re-read, are idempotent)."""

from __future__ import annotations

from celery import shared_task

from marche.orders.notifications import order_notification_send
from marche.orders.services import orders_expire_pending


@shared_task(name="orders.expire_pending", acks_late=True)
def expire_pending_orders() -> int:
    """Expire unpaid orders past their deadline so their stock and room go back."""
    return orders_expire_pending()


@shared_task(
    name="orders.notify",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def order_notify(order_id: int, event: str, key: str | None = None) -> bool:
    """Send the household the e-mail for an order event (once per key)."""
    return order_notification_send(order_id=order_id, event=event, key=key)
