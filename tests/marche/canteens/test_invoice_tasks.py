"""The daily beat task issues last month's canteen invoices once."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from marche.canteens.invoice_tasks import invoices_issue_previous_month
from marche.canteens.models import Invoice
from tests.marche.canteens.test_invoicing import deliver, make_producer, november  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_task_is_on_the_beat_schedule() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["canteen-invoices"]
    assert entry["task"] == invoices_issue_previous_month.name
    assert "marche.canteens.invoice_tasks" in settings.CELERY_IMPORTS


def test_the_task_issues_last_month_once_and_reports_incomplete_sellers(november) -> None:  # noqa: F811
    canteen, _producer = november
    no_siret = make_producer(canteen.territory, name="Sans SIRET", siret="")
    deliver(canteen, no_siret, date(2026, 11, 12), [("Salades", "4", "1.0000", "5.50")])
    paris = ZoneInfo("Europe/Paris")

    with time_machine.travel(datetime(2026, 11, 30, 23, 0, tzinfo=paris), tick=False):
        assert invoices_issue_previous_month.delay().get() == {
            "issued": 0,
            "seller_incomplete": 0,
        }  # October: nothing delivered
    with time_machine.travel(datetime(2026, 12, 1, 0, 5, tzinfo=paris), tick=False):
        first = invoices_issue_previous_month.delay().get()
        again = invoices_issue_previous_month.delay().get()

    assert first == {"issued": 1, "seller_incomplete": 1}
    assert again == {"issued": 0, "seller_incomplete": 1}
    assert list(Invoice.objects.values_list("number", "issued_on", "period_start")) == [
        ("2026-0001", date(2026, 12, 1), date(2026, 11, 1))
    ]
