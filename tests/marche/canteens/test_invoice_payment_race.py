"""Two payments recorded at once for one invoice (PostgreSQL): together they cannot overpay.

Each thread, once it holds the invoice row, waits for the other to arrive or to be waiting
for that lock; the invoice row is locked before what is due is read, so the second payment
reads the first one's amount and is refused (``overpayment``) instead of both fitting in
the same 80,17 €.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connections

from marche.canteens import invoicing
from marche.canteens.invoicing import Overpayment, invoice_payment_record, invoices_issue_month
from marche.canteens.models import Invoice, InvoicePayment
from tests.factories.canteens import CanteenFactory
from tests.locking import someone_waits_for_a_lock
from tests.marche.canteens.test_invoicing import ISSUED, deliver, make_producer

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_two_payments_at_once_cannot_overpay(monkeypatch: pytest.MonkeyPatch) -> None:
    canteen = CanteenFactory()
    producer = make_producer(canteen.territory)
    deliver(canteen, producer, date(2026, 11, 3), [("Carottes", "40", "1.0000", "5.50")])
    invoice = invoices_issue_month(year=2026, month=11, today=ISSUED)[0]
    assert invoice.total_ttc == Decimal("42.20")

    arrived = [False, False]
    local = threading.local()
    real_manager = InvoicePayment.objects

    class Meeting:
        """``InvoicePayment.objects.filter(key=...)`` runs right after the invoice is locked."""

        def filter(self, **kwargs):  # type: ignore[no-untyped-def]
            if "key" in kwargs and not arrived[local.index]:
                arrived[local.index] = True
                deadline = time.monotonic() + 30
                while not arrived[1 - local.index] and not someone_waits_for_a_lock():
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
            return real_manager.filter(**kwargs)

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(real_manager, name)

    monkeypatch.setattr(invoicing.InvoicePayment, "objects", Meeting(), raising=False)
    start = threading.Barrier(2)
    outcomes: list[str] = []
    guard = threading.Lock()

    def pays(index: int) -> None:
        local.index = index
        try:
            start.wait(timeout=30)
            invoice_payment_record(
                invoice=Invoice.objects.get(pk=invoice.pk),
                amount="30",
                received_on=ISSUED,  # in the past: no clock to freeze across threads
                key=f"transfer-{index}",
                user=None,
            )
            result = "recorded"
        except Overpayment as error:
            result = error.code
        except Exception as error:  # pragma: no cover - shown in the assertion
            result = repr(error)
        finally:
            connections.close_all()
        with guard:
            outcomes.append(result)

    threads = [threading.Thread(target=pays, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    monkeypatch.undo()

    assert sorted(outcomes) == ["overpayment", "recorded"]
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("30.00")
    assert InvoicePayment.objects.count() == 1
