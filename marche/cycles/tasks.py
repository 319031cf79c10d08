"""Periodic housekeeping: stock holds expiry and cycle generation."""

from celery import shared_task
from django.utils import timezone

from marche.cycles.schedule import cycle_generate_from_schedules
from marche.cycles.services import stock_holds_expire


@shared_task(name="cycles.expire_stock_holds", acks_late=True)
def expire_stock_holds() -> int:
    """Release expired holds so their stock is on sale again (idempotent)."""
    return stock_holds_expire()


@shared_task(name="cycles.generate_from_schedules", acks_late=True)
def generate_from_schedules() -> int:
    """Create the upcoming cycles of every weekly schedule (idempotent); returns how many."""
    return len(cycle_generate_from_schedules(now=timezone.now()).created)
