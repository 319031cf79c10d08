"""Payments received for canteen invoices, and the aged list of what is unpaid."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from marche.canteens.invoicing import (
    InvalidAmount,
    InvoiceAlreadyPaid,
    Overpayment,
    PaymentDateInvalid,
    PaymentKeyReused,
    invoice_payment_record,
    invoices_aged,
    invoices_issue_month,
)
from marche.canteens.models import Invoice, InvoicePayment, InvoiceStatus
from marche.core.numbers import InvalidNumber
from tests.factories import UserFactory
from tests.factories.canteens import CanteenFactory
from tests.marche.canteens.test_invoicing import ISSUED, deliver, make_producer, november  # noqa: F401

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 20, 10, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def _frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def invoice(november) -> Invoice:  # type: ignore[no-untyped-def]  # noqa: F811
    """The November invoice: 80,17 € TTC."""
    return invoices_issue_month(year=2026, month=11, today=ISSUED)[0]


def _state(invoice: Invoice) -> tuple[object, ...]:
    invoice.refresh_from_db()
    return (
        invoice.amount_paid,
        invoice.status,
        invoice.paid_on,
        list(InvoicePayment.objects.values_list("amount", "key")),
    )


def test_payments_typed_with_a_decimal_comma_settle_the_invoice(invoice: Invoice) -> None:
    user = UserFactory()
    first = invoice_payment_record(
        invoice=invoice,
        amount="50,17",
        received_on=date(2026, 12, 10),
        reference="VIR-0001",
        key="pay-1",
        user=user,
    )
    assert first.amount == Decimal("50.17") and first.recorded_by == user
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.status, invoice.paid_on) == (
        Decimal("50.17"),
        InvoiceStatus.ISSUED,
        None,
    )
    assert invoice.amount_due == Decimal("30.00")

    invoice_payment_record(
        invoice=invoice, amount="30", received_on=date(2026, 12, 18), key="pay-2", user=user
    )

    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.status, invoice.paid_on) == (
        Decimal("80.17"),
        InvoiceStatus.PAID,
        date(2026, 12, 18),
    )
    assert invoice.amount_due == Decimal("0")


def test_the_same_key_records_a_payment_once(invoice: Invoice) -> None:
    first = invoice_payment_record(
        invoice=invoice, amount="10,00", received_on=date(2026, 12, 10), key="k", user=None
    )
    again = invoice_payment_record(
        invoice=invoice, amount="10", received_on=date(2026, 12, 10), key="k", user=None
    )
    assert again.pk == first.pk
    assert _state(invoice)[0] == Decimal("10.00")
    assert InvoicePayment.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "error", "code"),
    [
        ("0", InvalidAmount, "invalid_amount"),
        ("0,00", InvalidAmount, "invalid_amount"),
        ("-5", InvalidAmount, "invalid_amount"),
        ("80,18", Overpayment, "overpayment"),
        ("1 000", Overpayment, "overpayment"),
        ("douze", InvalidNumber, "invalid_number"),
        ("1,234", InvalidNumber, "invalid_number"),
        ("1e3", InvalidNumber, "invalid_number"),
    ],
)
def test_refused_payments_change_nothing(invoice: Invoice, amount: str, error, code) -> None:  # type: ignore[no-untyped-def]
    invoice_payment_record(
        invoice=invoice, amount="20", received_on=date(2026, 12, 5), key="before", user=None
    )
    before = _state(invoice)

    with pytest.raises(error) as refused:
        invoice_payment_record(
            invoice=invoice, amount=amount, received_on=date(2026, 12, 10), key="new", user=None
        )

    assert refused.value.code == code
    assert refused.value.message and refused.value.message[0].isupper()
    assert _state(invoice) == before


def test_overpayment_says_what_is_left_to_pay(invoice: Invoice) -> None:
    with pytest.raises(Overpayment) as refused:
        invoice_payment_record(
            invoice=invoice, amount="100", received_on=date(2026, 12, 10), key="k", user=None
        )
    assert "80,17" in refused.value.message
    assert refused.value.params == {"due": "80.17"}


def test_other_refusals_change_nothing(invoice: Invoice) -> None:
    invoice_payment_record(
        invoice=invoice, amount="80,17", received_on=date(2026, 12, 10), key="all", user=None
    )
    settled = _state(invoice)
    assert settled[1] == InvoiceStatus.PAID
    with pytest.raises(InvoiceAlreadyPaid):
        invoice_payment_record(
            invoice=invoice, amount="1", received_on=date(2026, 12, 11), key="more", user=None
        )
    # The same key again with another amount: refused, not taken as a replay.
    with pytest.raises(PaymentKeyReused):
        invoice_payment_record(
            invoice=invoice, amount="5", received_on=date(2026, 12, 10), key="all", user=None
        )
    with pytest.raises(PaymentDateInvalid):
        invoice_payment_record(
            invoice=invoice, amount="5", received_on=date(2026, 12, 21), key="future", user=None
        )
    assert _state(invoice) == settled


def test_aged_list_buckets_unpaid_invoices_by_days_late(november) -> None:  # noqa: F811
    canteen, producer = november
    # Invoices of several months, issued on the 1st, due 30 days later.
    months = [(2026, 7), (2026, 8), (2026, 9), (2026, 10), (2026, 11)]
    for year, month in months:
        deliver(canteen, producer, date(year, month, 8), [("Pommes", "10", "2.0000", "5.50")])
    for year, month in months:
        issued_on = date(year + month // 12, month % 12 + 1, 1)
        invoices_issue_month(year=year, month=month, today=issued_on)
    other = CanteenFactory(territory=canteen.territory)
    deliver(other, producer, date(2026, 10, 8), [("Poires", "5", "3.0000", "5.50")])
    paid = invoices_issue_month(year=2026, month=10, today=date(2026, 11, 1))[0]
    invoice_payment_record(
        invoice=paid, amount=str(paid.total_ttc), received_on=date(2026, 11, 20), key="p", user=None
    )
    dues = dict(Invoice.objects.filter(canteen=canteen).values_list("period_start", "due_on"))
    assert dues[date(2026, 11, 1)] == date(2026, 12, 31)

    aged = invoices_aged(territory=canteen.territory, today=date(2026, 12, 31))

    summary = [
        (bucket.code, [row.invoice.period_start.month for row in bucket.rows], bucket.total_due)
        for bucket in aged.buckets
    ]
    # Due: Jul -> 31/08 (122 days late), Aug -> 01/10 (91), Sep -> 31/10 (61),
    # Oct -> 01/12 (30), Nov -> 31/12 (not late yet). 10 kg x 2 € + 5.5 % = 21.10 each.
    assert summary == [
        ("not_due", [11], Decimal("101.27")),  # with the fixture's 80,17 €
        ("late_1_30", [10], Decimal("21.10")),
        ("late_31_60", [], Decimal("0.00")),
        ("late_61_90", [9], Decimal("21.10")),
        ("late_over_90", [7, 8], Decimal("42.20")),
    ]
    assert [row.days_late for row in aged.buckets[4].rows] == [122, 91]
    assert aged.total_due == Decimal("185.67") and aged.count == 5
    # A partial payment leaves what is still due.
    november_invoice = aged.buckets[0].rows[0].invoice
    invoice_payment_record(
        invoice=november_invoice, amount="0,17", received_on=date(2026, 12, 19), key="x", user=None
    )
    again = invoices_aged(producer=producer, canteen=canteen, today=date(2026, 12, 31))
    assert again.buckets[0].total_due == Decimal("101.10")
    assert invoices_aged(canteen=other, today=date(2026, 12, 31)).count == 0


def test_aged_list_reads_in_one_query(november, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    canteen, _producer = november
    invoices_issue_month(year=2026, month=11, today=ISSUED)
    second = CanteenFactory(territory=canteen.territory)
    deliver(second, make_producer(canteen.territory, name="B", siret="80156026900012"),
            date(2026, 11, 5), [("Œufs", "30", "0.3000", "5.50")])  # fmt: skip
    invoices_issue_month(year=2026, month=11, today=ISSUED + timedelta(days=1))
    with django_assert_num_queries(1):
        aged = invoices_aged(territory=canteen.territory, today=date(2027, 3, 1))
        names = [
            (row.invoice.issuer.name, row.invoice.canteen.name)
            for bucket in aged.buckets
            for row in bucket.rows
        ]
    assert sorted(names) == [("B", second.name), ("Ferme des Hirondelles", canteen.name)]
