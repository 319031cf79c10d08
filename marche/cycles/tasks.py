"""Periodic stock housekeeping."""

from celery import shared_task

from marche.cycles.services import stock_holds_expire


@shared_task(name="cycles.expire_stock_holds", acks_late=True)
def expire_stock_holds() -> int:
    """Release expired holds so their stock is on sale again (idempotent)."""
    return stock_holds_expire()
