"""Periodic housekeeping of the manne ledger."""

from celery import shared_task

from marche.mannes.services import manne_holds_expire


@shared_task(name="mannes.expire_holds", acks_late=True)
def expire_manne_holds() -> int:
    """Release manne holds past their expiry so the mannes are spendable again (idempotent)."""
    return manne_holds_expire()
