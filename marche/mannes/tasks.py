"""Periodic housekeeping of the manne ledger."""

from celery import shared_task
from django.utils import timezone

from marche.mannes.services import manne_expire_units, manne_holds_expire
from marche.territories.models import Territory


@shared_task(name="mannes.expire_holds", acks_late=True)
def expire_manne_holds() -> int:
    """Release manne holds past their expiry so the mannes are spendable again (idempotent)."""
    return manne_holds_expire()


@shared_task(name="mannes.expire_units", acks_late=True)
def expire_manne_units() -> int:
    """Expire units past their validity in every territory whose scheme sets one (daily)."""
    today = timezone.localdate().isoformat()
    count = 0
    territories = Territory.objects.filter(
        local_currency_enabled=True, local_currency_expiry_months__isnull=False
    ).order_by("pk")
    for territory in territories:
        count += len(manne_expire_units(territory=territory, key=f"expiry:{territory.pk}:{today}"))
    return count
