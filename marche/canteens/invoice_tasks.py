"""The monthly canteen invoices, issued by Celery beat (declared in settings' beat schedule).

The task runs every day and issues the previous month's invoices: the first run of a month
issues them, the others issue nothing more (the run is idempotent), except an invoice a
run could not issue before (a producer who has since given their SIRET). A day the worker is
down therefore delays the invoices by a day, never skips them.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from marche.canteens.invoicing import invoices_issue_month, month_previous
from marche.core.locking import ServiceBusy

logger = logging.getLogger(__name__)


@shared_task(
    name="canteens.invoices_issue_previous_month",
    acks_late=True,
    autoretry_for=(ServiceBusy,),
    retry_backoff=30,
    max_retries=5,
)
def invoices_issue_previous_month() -> dict[str, int]:
    """Issue every canteen invoice of last month not yet issued; returns what it did."""
    today = timezone.localdate()
    year, month = month_previous(today)
    issued = invoices_issue_month(year=year, month=month, today=today)
    incomplete = [s for s in issued.skipped if s.code == "seller_incomplete"]
    for skipped in incomplete:
        logger.warning(
            "canteen invoice not issued: producer %s has no SIRET (canteen %s, %02d/%s)",
            skipped.producer.pk,
            skipped.canteen.pk,
            month,
            year,
        )
    return {"issued": len(issued), "seller_incomplete": len(incomplete)}
