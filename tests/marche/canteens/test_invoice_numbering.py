"""Invoice numbers under concurrency (PostgreSQL): never shared, never a gap.

Two invoices of the same producer, to two canteens, are issued at the same instant by two
threads with their own connections. Each thread, once it has taken its number, waits for the
other to have taken one too, unless the other is waiting for a lock (then there is nothing to
wait for). With the issuer's sequence row locked (``select_for_update``), the second thread
waits for the first invoice to be committed and takes the next number: 2026-0001 and
2026-0002. The control runs the same race with a copy of the numbering function that reads
the sequence without the lock: both threads read the same last number and take the same
one; only the unique (issuer, year, rank) constraint keeps the second invoice out, which then
fails instead of being issued.
"""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.db import IntegrityError, connections

from marche.canteens import invoicing
from marche.canteens.invoicing import invoice_issue, invoice_number_format
from marche.canteens.models import Invoice, InvoiceSequence
from tests.factories.canteens import CanteenFactory
from tests.locking import someone_waits_for_a_lock
from tests.marche.canteens.test_invoicing import deliver, make_producer

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

ISSUED = date(2026, 12, 1)


def number_take_without_lock(*, issuer_id: int, year: int) -> tuple[int, str]:
    """CONTROL ONLY, never used by the application: ``invoice_number_take`` without its
    ``select_for_update``, to show the race the lock prevents (the row exists already)."""
    # get_or_create, not INSERT ... ON CONFLICT: that insert would wait for the other
    # transaction's uncommitted update of the row, and hide the race by chance.
    sequence, _created = InvoiceSequence.objects.get_or_create(issuer_id=issuer_id, year=year)
    rank = sequence.last_number + 1
    InvoiceSequence.objects.filter(pk=sequence.pk).update(last_number=rank)
    return rank, invoice_number_format(year=year, rank=rank)


def _two_canteens_delivered(sequence_exists: bool):  # type: ignore[no-untyped-def]
    first = CanteenFactory()
    second = CanteenFactory(territory=first.territory)
    producer = make_producer(first.territory)
    deliver(first, producer, date(2026, 11, 3), [("Carottes", "10", "1.5000", "5.50")])
    deliver(second, producer, date(2026, 11, 4), [("Poireaux", "5", "2.2000", "5.50")])
    if sequence_exists:
        InvoiceSequence.objects.create(issuer=producer, year=2026, last_number=0)
    return producer, [first, second]


def race(monkeypatch: pytest.MonkeyPatch, take, sequence_exists: bool = True):  # type: ignore[no-untyped-def]
    """Two threads issue the producer's invoices to two canteens at once; returns
    ``(ranks taken, outcomes, producer)``."""
    producer, canteens = _two_canteens_delivered(sequence_exists)
    start = threading.Barrier(2)
    arrived = [False, False]
    local = threading.local()
    taken: list[int] = []
    guard = threading.Lock()

    def take_then_meet(*, issuer_id: int, year: int) -> tuple[int, str]:
        rank, number = take(issuer_id=issuer_id, year=year)
        with guard:
            taken.append(rank)
        arrived[local.index] = True
        deadline = time.monotonic() + 30
        while not arrived[1 - local.index] and not someone_waits_for_a_lock():
            assert time.monotonic() < deadline, "the other thread never came"
            time.sleep(0.02)
        return rank, number

    monkeypatch.setattr(invoicing, "invoice_number_take", take_then_meet)
    outcomes: list[str] = []

    def issues(index: int) -> None:
        local.index = index
        try:
            start.wait(timeout=30)
            invoice = invoice_issue(
                issuer=producer, canteen=canteens[index], year=2026, month=11, today=ISSUED
            )
            result = f"issued {invoice.number}"
        except IntegrityError as error:
            result = f"IntegrityError {error.__cause__.diag.constraint_name}"
        except Exception as error:  # pragma: no cover - shown in the assertion
            result = repr(error)
        finally:
            connections.close_all()
        with guard:
            outcomes.append(result)

    threads = [threading.Thread(target=issues, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return sorted(taken), sorted(outcomes), producer


@pytest.mark.parametrize("sequence_exists", [True, False], ids=["sequence-row", "first-of-year"])
def test_two_invoices_at_once_take_consecutive_numbers(
    monkeypatch: pytest.MonkeyPatch, sequence_exists: bool
) -> None:
    taken, outcomes, producer = race(
        monkeypatch, invoicing.invoice_number_take, sequence_exists=sequence_exists
    )

    assert taken == [1, 2]
    assert outcomes == ["issued 2026-0001", "issued 2026-0002"]
    assert sorted(
        Invoice.objects.filter(issuer=producer).values_list("sequence_number", "number")
    ) == [(1, "2026-0001"), (2, "2026-0002")]
    assert InvoiceSequence.objects.get(issuer=producer, year=2026).last_number == 2


def test_control_without_the_lock_both_take_the_same_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken, outcomes, producer = race(monkeypatch, number_take_without_lock)

    # The race: both read last_number 0 and took number 1.
    assert taken == [1, 1]
    # Only the unique constraint keeps the duplicate out: the second invoice fails.
    assert outcomes == ["IntegrityError invoice_number_per_issuer", "issued 2026-0001"]
    assert list(Invoice.objects.filter(issuer=producer).values_list("number", flat=True)) == [
        "2026-0001"
    ]


def test_a_failed_invoice_gives_its_number_back(monkeypatch: pytest.MonkeyPatch) -> None:
    producer, canteens = _two_canteens_delivered(sequence_exists=False)

    def broken_pdf(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("PDF impossible")

    monkeypatch.setattr(invoicing, "invoice_pdf_render", broken_pdf)
    with pytest.raises(RuntimeError):
        invoice_issue(issuer=producer, canteen=canteens[0], year=2026, month=11, today=ISSUED)
    assert Invoice.objects.count() == 0
    assert not InvoiceSequence.objects.filter(issuer=producer, last_number__gt=0).exists()
    monkeypatch.undo()

    invoice = invoice_issue(issuer=producer, canteen=canteens[1], year=2026, month=11, today=ISSUED)
    assert invoice.number == "2026-0001"
