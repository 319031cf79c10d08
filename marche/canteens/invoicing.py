"""Canteens' monthly invoices: issue, number without gaps, record payments, list what is unpaid.

Each month, each producer invoices each canteen for what it delivered that month (lines with
``quantity_delivered > 0`` whose order was delivered in the month and that are on no invoice
yet). Amounts follow EN 16931: each line's total excluding VAT is rounded to the cent, then
the VAT of each rate is computed once on the sum of the lines at that rate, and rounded.

Numbers are ``<year>-<rank>`` per issuer (``2026-0001``), given by the issuer's
``InvoiceSequence`` row for the year, locked with ``select_for_update`` until the invoice,
its lines and its Factur-X PDF are written: two invoices of one issuer issued at once wait
for each other, and an invoice that fails rolls its number back, so numbers never repeat and
never leave a gap (French invoicing rules ask for a continuous series).
"""

from __future__ import annotations

import calendar
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marche.accounts.models import Role, User
from marche.canteens.invoice_pdf import invoice_pdf_render
from marche.canteens.models import (
    Canteen,
    CanteenOrderLine,
    CanteenOrderStatus,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    InvoiceSequence,
    InvoiceStatus,
)
from marche.core.locking import locking_atomic
from marche.core.numbers import NumberKind, parse_decimal
from marche.errors import DomainError
from marche.money import format_money, round_money
from marche.producers.models import Producer, ProducerMembership
from marche.territories.models import Territory

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")

# The most a payment may be (parse_decimal bounds); negative values are read so that they are
# refused as ``invalid_amount`` rather than as an unreadable number.
MAX_PAYMENT = Decimal("1000000")
# A payment received, as people type it: "1 250,40", "201,08 €".
PAYMENT = NumberKind(
    _("Le montant reçu"), 2, Decimal("0"), MAX_PAYMENT, "1 250,40", ("€", "eur", "euro", "euros")
)


# --- Errors -----------------------------------------------------------------------------------


class InvoicingError(DomainError):
    code = "invoicing_error"


class MonthNotEnded(InvoicingError):
    code = "month_not_ended"
    default_message = _("Le mois n'est pas terminé : ses factures seront émises le mois suivant.")


class InvalidMonth(InvoicingError):
    code = "invalid_month"
    default_message = _("Indiquez un mois sous la forme 2026-11.")


class SellerIncomplete(InvoicingError):
    code = "seller_incomplete"
    default_message = _(
        "Le producteur n'a pas indiqué son SIRET : il ne peut pas émettre de facture."
    )


class NothingToInvoice(InvoicingError):
    code = "nothing_to_invoice"
    default_message = _("Aucune livraison à facturer ce mois-là.")


class InvalidAmount(InvoicingError):
    code = "invalid_amount"
    default_message = _("Le montant d'un paiement est supérieur à zéro.")


class Overpayment(InvoicingError):
    code = "overpayment"
    default_message = _("Ce paiement dépasse ce qui reste à payer sur la facture.")


class InvoiceAlreadyPaid(InvoicingError):
    code = "invoice_paid"
    default_message = _("Cette facture est déjà soldée.")


class PaymentKeyReused(InvoicingError):
    code = "payment_key_reused"
    status = 409
    default_message = _(
        "Ce paiement a déjà été enregistré avec un autre montant ou une autre facture."
    )


class PaymentDateInvalid(InvoicingError):
    code = "invalid_received_on"
    default_message = _("La date de réception du paiement ne peut pas être dans le futur.")


# --- Months -------------------------------------------------------------------------------------


def month_bounds(*, year: int, month: int) -> tuple[date, date]:
    """The first and last day of a month."""
    if not 1 <= month <= 12 or not 2000 <= year <= 2999:
        raise InvalidMonth()
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def month_parse(text: str) -> tuple[int, int]:
    """``"2026-11"`` -> ``(2026, 11)``; anything else is :class:`InvalidMonth`."""
    raw = (text or "").strip()
    year, sep, month = raw.partition("-")
    if not sep or len(year) != 4 or not (year.isdigit() and month.isdigit()) or len(month) > 2:
        raise InvalidMonth()
    month_bounds(year=int(year), month=int(month))
    return int(year), int(month)


def month_previous(today: date) -> tuple[int, int]:
    """The month before ``today``'s, as ``(year, month)``."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.year, last.month


# --- Amounts ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VatBreakdown:
    """The lines at one VAT rate: their total excluding VAT and the VAT on that total."""

    rate: Decimal
    basis: Decimal
    vat: Decimal


def line_total_ht(*, quantity: Decimal, unit_price_ht: Decimal) -> Decimal:
    """A line's total excluding VAT, rounded to the cent."""
    return round_money(quantity * unit_price_ht)


def vat_breakdown(lines: list[tuple[Decimal, Decimal]]) -> list[VatBreakdown]:
    """``[(vat_rate, line_total_ht), ...]`` -> VAT per rate, computed on each rate's sum.

    EN 16931 (BT-117): the VAT of a category is its taxable amount times its rate, rounded
    once, not the sum of VAT rounded line by line.
    """
    sums: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for rate, total in lines:
        sums[Decimal(rate)] += total
    return [
        VatBreakdown(rate=rate, basis=basis, vat=round_money(basis * rate / Decimal("100")))
        for rate, basis in sorted(sums.items())
    ]


def invoice_vat_breakdown(*, invoice: Invoice) -> list[VatBreakdown]:
    """An issued invoice's VAT per rate, from its lines."""
    return vat_breakdown([(line.vat_rate, line.total_ht) for line in invoice.lines.all()])


# --- Numbering ----------------------------------------------------------------------------------


def invoice_number_format(*, year: int, rank: int) -> str:
    return f"{year}-{rank:04d}"


def invoice_number_take(*, issuer_id: int, year: int) -> tuple[int, str]:
    """Take the issuer's next invoice number of ``year``: ``(rank, "2026-0001")``.

    Runs inside the caller's transaction and keeps the issuer's sequence row locked until
    it ends: a second invoice of the same issuer waits here, so two invoices never share a
    number; the caller's rollback gives the number back, so none is skipped. The row is
    created with ``INSERT ... ON CONFLICT DO NOTHING`` first, so that two first invoices of
    a year created at once do not fail on the unique (issuer, year).
    """
    InvoiceSequence.objects.bulk_create(
        [InvoiceSequence(issuer_id=issuer_id, year=year, last_number=0)], ignore_conflicts=True
    )
    sequence = InvoiceSequence.objects.select_for_update().get(issuer_id=issuer_id, year=year)
    rank = sequence.last_number + 1
    InvoiceSequence.objects.filter(pk=sequence.pk).update(last_number=rank)
    return rank, invoice_number_format(year=year, rank=rank)


# --- Snapshots ----------------------------------------------------------------------------------


def seller_snapshot(*, producer: Producer) -> dict[str, str]:
    """What the invoice says about its seller, as it is on the day of issue."""
    return {
        "name": producer.legal_name or producer.name,
        "trade_name": producer.name,
        "address": producer.address,
        "postcode": producer.postcode,
        "city": producer.city,
        "country": "FR",
        "siret": producer.siret,
        "vat_number": producer.vat_number,
        "iban": producer.iban.replace(" ", "").upper(),
        "mentions": producer.invoice_mentions,
    }


def buyer_snapshot(*, canteen: Canteen) -> dict[str, str]:
    """What the invoice says about its buyer: the public buyer who pays, and the canteen."""
    town = f"{canteen.postcode} {canteen.city}".strip()
    delivery_address = "\n".join(part for part in (canteen.address, town) if part)
    return {
        "name": canteen.invoiced_to,
        "canteen": canteen.name,
        "address": canteen.buyer_address or delivery_address,
        "delivery_address": delivery_address,
        "country": "FR",
        "siret": canteen.buyer_siret or canteen.siret,
        "service_code": canteen.buyer_service_code,
        "order_reference": canteen.buyer_order_reference,
        "email": canteen.invoice_email,
    }


# --- Issuing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SkippedInvoice:
    """An invoice the monthly run did not issue, and why."""

    producer: Producer
    canteen: Canteen
    code: str
    message: str


class IssuedInvoices(list[Invoice]):
    """The invoices a monthly run issued; ``skipped`` says which it could not, and why."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: list[SkippedInvoice] = []


def _invoiceable_lines(*, start: date, end: date) -> QuerySet[CanteenOrderLine]:
    """Delivered lines of orders delivered between ``start`` and ``end``, on no invoice."""
    return CanteenOrderLine.objects.filter(
        quantity_delivered__gt=0,
        order__delivery_date__gte=start,
        order__delivery_date__lte=end,
        invoice_line__isnull=True,
    ).exclude(order__status=CanteenOrderStatus.CANCELLED)


def invoice_issue(
    *, issuer: Producer, canteen: Canteen, year: int, month: int, today: date | None = None
) -> Invoice:
    """Issue one producer's invoice to one canteen for a month's deliveries; or raise.

    In one transaction: the issuer's number is taken (its sequence row stays locked), the
    lines are locked and re-read (a line another run invoiced meanwhile is left out), the
    invoice, its lines and its Factur-X PDF are written. Taking the number first serialises
    one issuer's invoices: a second run reads the lines only once the first has committed,
    so it never meets them again. A delivery of the month recorded after that month's invoice
    gets its own, supplementary invoice with the next number (an issued invoice never changes).
    Refused: a month not ended (``month_not_ended``), a seller without SIRET
    (``seller_incomplete``), nothing left to invoice (``nothing_to_invoice``).
    """
    today = today or timezone.localdate()
    start, end = month_bounds(year=year, month=month)
    if today <= end:
        raise MonthNotEnded()
    if not issuer.siret:
        raise SellerIncomplete()
    with locking_atomic():
        rank, number = invoice_number_take(issuer_id=issuer.pk, year=today.year)
        lines = list(
            _invoiceable_lines(start=start, end=end)
            .filter(producer=issuer, order__canteen=canteen)
            .select_related("order")
            .select_for_update(of=("self",))
            .order_by("order__delivery_date", "name", "pk")
        )
        if not lines:
            raise NothingToInvoice()
        rows = [
            InvoiceLine(
                order_line=line,
                delivery_date=line.order.delivery_date,
                description=line.name,
                unit=line.unit,
                quantity=line.quantity_delivered,
                unit_price_ht=line.unit_price_ht,
                vat_rate=line.vat_rate,
                total_ht=line_total_ht(
                    quantity=line.quantity_delivered, unit_price_ht=line.unit_price_ht
                ),
            )
            for line in lines
        ]
        breakdown = vat_breakdown([(row.vat_rate, row.total_ht) for row in rows])
        total_ht = sum((b.basis for b in breakdown), ZERO)
        total_vat = sum((b.vat for b in breakdown), ZERO)
        invoice = Invoice.objects.create(
            issuer=issuer,
            canteen=canteen,
            number=number,
            sequence_year=today.year,
            sequence_number=rank,
            period_start=start,
            period_end=end,
            issued_on=today,
            due_on=today + timedelta(days=canteen.payment_terms_days),
            total_ht=total_ht,
            total_vat=total_vat,
            total_ttc=total_ht + total_vat,
            seller=seller_snapshot(producer=issuer),
            buyer=buyer_snapshot(canteen=canteen),
        )
        for row in rows:
            row.invoice = invoice
        InvoiceLine.objects.bulk_create(rows)
        invoice.pdf = invoice_pdf_render(invoice=invoice, lines=rows, breakdown=breakdown)
        invoice.save(update_fields=["pdf", "updated_at"])
    logger.info("invoice %s issued by producer %s to canteen %s", number, issuer.pk, canteen.pk)
    return invoice


def invoices_issue_month(
    *, year: int, month: int, territory: Territory | None = None, today: date | None = None
) -> IssuedInvoices:
    """Issue every producer's invoice to every canteen for a month's deliveries.

    Idempotent: a second run issues nothing (a line is invoiced once: ``InvoiceLine`` is
    one-to-one with it); a delivery recorded late is invoiced by the next run. Each invoice
    is its own transaction: a producer who cannot invoice (no SIRET: ``seller_incomplete``)
    is skipped and reported in ``skipped``, and the others are issued.
    """
    today = today or timezone.localdate()
    start, end = month_bounds(year=year, month=month)
    if today <= end:
        raise MonthNotEnded()
    pending = _invoiceable_lines(start=start, end=end)
    if territory is not None:
        pending = pending.filter(order__canteen__territory=territory)
    pairs = sorted(set(pending.values_list("producer_id", "order__canteen_id")))
    producers = Producer.objects.in_bulk({p for p, _c in pairs})
    canteens = Canteen.objects.in_bulk({c for _p, c in pairs})
    issued = IssuedInvoices()
    for producer_id, canteen_id in pairs:
        producer, canteen = producers[producer_id], canteens[canteen_id]
        try:
            issued.append(
                invoice_issue(issuer=producer, canteen=canteen, year=year, month=month, today=today)
            )
        except (SellerIncomplete, NothingToInvoice) as error:
            issued.skipped.append(
                SkippedInvoice(
                    producer=producer, canteen=canteen, code=error.code, message=error.message
                )
            )
    return issued


# --- Payments -----------------------------------------------------------------------------------


def invoice_payment_record(
    *,
    invoice: Invoice,
    amount: object,
    received_on: date,
    reference: str = "",
    key: str,
    user: User | None,
) -> InvoicePayment:
    """Record a payment received for an invoice; the same ``key`` records it once.

    ``amount`` is read as people type it ("1 250,40"). Refused, changing nothing: zero or
    negative (``invalid_amount``), more than is due (``overpayment``), a settled invoice
    (``invoice_paid``), a date to come, a key already used for another payment. The invoice
    row is locked, so two payments recorded at once cannot both fit in what is due.
    """
    value = parse_decimal(amount, PAYMENT, minimum=-MAX_PAYMENT, maximum=MAX_PAYMENT)
    if value <= 0:
        raise InvalidAmount()
    if received_on > timezone.localdate():
        raise PaymentDateInvalid()
    key = (key or "").strip()[:120]
    if not key:
        raise InvalidAmount(gettext("Le paiement n'a pas de clé d'idempotence."))
    with locking_atomic():
        locked = Invoice.objects.select_for_update().defer("pdf").get(pk=invoice.pk)
        existing = InvoicePayment.objects.filter(key=key).first()
        if existing is not None:
            if existing.invoice_id != locked.pk or existing.amount != value:
                raise PaymentKeyReused()
            return existing
        if locked.status == InvoiceStatus.PAID:
            raise InvoiceAlreadyPaid()
        if value > locked.amount_due:
            raise Overpayment(
                gettext("Ce paiement dépasse ce qui reste à payer : %(due)s.")
                % {"due": format_money(locked.amount_due)},
                due=str(locked.amount_due),
            )
        try:
            with transaction.atomic():
                payment = InvoicePayment.objects.create(
                    invoice=locked,
                    amount=value,
                    received_on=received_on,
                    reference=reference.strip()[:120],
                    key=key,
                    recorded_by=user,
                )
        except IntegrityError as error:
            # The same key recorded for another invoice at this instant.
            raise PaymentKeyReused() from error
        locked.amount_paid += value
        fields = ["amount_paid", "updated_at"]
        if locked.amount_paid == locked.total_ttc:
            locked.status = InvoiceStatus.PAID
            locked.paid_on = max(
                InvoicePayment.objects.filter(invoice=locked).values_list("received_on", flat=True)
            )
            fields += ["status", "paid_on"]
        locked.save(update_fields=fields)
    invoice.amount_paid, invoice.status, invoice.paid_on = (
        locked.amount_paid,
        locked.status,
        locked.paid_on,
    )
    return payment


# --- Selectors ----------------------------------------------------------------------------------


AGE_BUCKETS: list[tuple[str, object, int | None, int | None]] = [
    ("not_due", _("Pas encore échues"), None, 0),
    ("late_1_30", _("En retard de 1 à 30 jours"), 1, 30),
    ("late_31_60", _("En retard de 31 à 60 jours"), 31, 60),
    ("late_61_90", _("En retard de 61 à 90 jours"), 61, 90),
    ("late_over_90", _("En retard de plus de 90 jours"), 91, None),
]


@dataclass
class AgedRow:
    invoice: Invoice
    days_late: int
    amount_due: Decimal


@dataclass
class AgedBucket:
    code: str
    label: object
    rows: list[AgedRow] = field(default_factory=list)
    total_due: Decimal = ZERO


@dataclass
class AgedList:
    """Unpaid invoices by how late they are, with each bucket's total and the whole total."""

    today: date
    buckets: list[AgedBucket]
    total_due: Decimal = ZERO

    @property
    def count(self) -> int:
        return sum(len(bucket.rows) for bucket in self.buckets)


def _bucket_for(days_late: int) -> int:
    for index, (_code, _label, low, high) in enumerate(AGE_BUCKETS):
        if (low is None or days_late >= low) and (high is None or days_late <= high):
            return index
    raise AssertionError(days_late)  # pragma: no cover - the buckets cover every integer


def invoices_aged(
    *,
    territory: Territory | int | None = None,
    producer: Producer | int | None = None,
    canteen: Canteen | int | None = None,
    today: date,
) -> AgedList:
    """Unpaid invoices in buckets: not yet due, 1–30, 31–60, 61–90 and over 90 days late."""
    invoices = (
        Invoice.objects.filter(status=InvoiceStatus.ISSUED)
        .select_related("issuer", "canteen")
        .defer("pdf")
    )
    if territory is not None:
        invoices = invoices.filter(canteen__territory=territory)
    if producer is not None:
        invoices = invoices.filter(issuer=producer)
    if canteen is not None:
        invoices = invoices.filter(canteen=canteen)
    buckets = [AgedBucket(code=code, label=label) for code, label, _low, _high in AGE_BUCKETS]
    aged = AgedList(today=today, buckets=buckets)
    for invoice in invoices.order_by("due_on", "issuer__name", "number"):
        due = invoice.amount_due
        if due <= 0:
            continue
        days_late = (today - invoice.due_on).days
        bucket = buckets[_bucket_for(days_late)]
        bucket.rows.append(AgedRow(invoice=invoice, days_late=max(days_late, 0), amount_due=due))
        bucket.total_due += due
        aged.total_due += due
    return aged


def user_is_invoice_coordinator(*, user: User) -> bool:
    """Coordinators (and superusers) see every invoice of their territory and record payments."""
    return bool(user.is_superuser or user.role == Role.COORDINATOR)


def _coordinator_scope(user: User) -> Q:
    if user.is_superuser or user.territory_id is None:
        return Q()
    return Q(canteen__territory_id=user.territory_id)


def invoices_visible_to(*, user: User) -> QuerySet[Invoice]:
    """The invoices a user may open: their canteens', their producers', or their territory's."""
    if not user.is_authenticated:
        return Invoice.objects.none()
    if user_is_invoice_coordinator(user=user):
        return Invoice.objects.filter(_coordinator_scope(user))
    member_of = ProducerMembership.objects.filter(user=user).values("producer_id")
    return Invoice.objects.filter(Q(canteen__managers=user) | Q(issuer_id__in=member_of)).distinct()


def invoices_payable_by(*, user: User) -> QuerySet[Invoice]:
    """The invoices whose payments a user may record: their producers', or the territory's."""
    if not user.is_authenticated:
        return Invoice.objects.none()
    if user_is_invoice_coordinator(user=user):
        return Invoice.objects.filter(_coordinator_scope(user))
    member_of = ProducerMembership.objects.filter(user=user).values("producer_id")
    return Invoice.objects.filter(issuer_id__in=member_of)


def invoice_list_for_canteens(*, user: User) -> list[Invoice]:
    """The invoices addressed to the canteens a manager runs, newest first."""
    return list(
        Invoice.objects.filter(canteen__managers=user)
        .select_related("issuer", "canteen")
        .defer("pdf")
        .order_by("-issued_on", "canteen__name", "issuer__name", "-sequence_number")
    )


def invoice_list_for_producers(*, user: User) -> list[Invoice]:
    """The invoices issued by the producers a farmer is a member of, newest first."""
    member_of = ProducerMembership.objects.filter(user=user).values("producer_id")
    return list(
        Invoice.objects.filter(issuer_id__in=member_of)
        .select_related("issuer", "canteen")
        .defer("pdf")
        .order_by("-issued_on", "issuer__name", "-sequence_number")
    )


def user_manages_a_canteen(*, user: User) -> bool:
    return Canteen.objects.filter(managers=user).exists()


def user_is_producer_member(*, user: User) -> bool:
    return ProducerMembership.objects.filter(user=user).exists()
