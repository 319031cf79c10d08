"""Canteen housekeeping and e-mails (tasks take ids, re-read, are idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from marche.canteens.models import CanteenOrder, CanteenOrderStatus
from marche.canteens.notifications import canteen_notification_send
from marche.canteens.services import orders_confirm_at_cutoff, standing_orders_materialise
from marche.cycles.models import OrderCycle

# How far back the cutoff task looks for cycles whose orders still wait (a worker down
# for a weekend still confirms them when it comes back).
CUTOFF_LOOKBACK = timedelta(days=14)


@shared_task(name="canteens.orders_housekeeping", acks_late=True)
def canteen_orders_housekeeping() -> dict[str, int]:
    """Make the standing orders of open cycles; confirm, after cutoff, what producers left."""
    now = timezone.now()
    created = 0
    for cycle in OrderCycle.objects.filter(closes_at__gt=now, opens_at__lte=now).order_by("pk"):
        created += len(standing_orders_materialise(cycle=cycle, now=now))
    confirmed = 0
    due = OrderCycle.objects.filter(
        closes_at__lte=now,
        closes_at__gt=now - CUTOFF_LOOKBACK,
        pk__in=CanteenOrder.objects.filter(status=CanteenOrderStatus.SUBMITTED).values("cycle_id"),
    )
    for cycle in due.order_by("pk"):
        confirmed += orders_confirm_at_cutoff(cycle=cycle, now=now)
    return {"created": created, "confirmed": confirmed}


@shared_task(
    name="canteens.notify",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def canteen_notify(
    canteen_id: int, event: str, key: str, data: dict[str, Any] | None = None
) -> int:
    """Send the canteen's managers the e-mail for an event (once per key and manager)."""
    return canteen_notification_send(canteen_id=canteen_id, event=event, key=key, data=data)
