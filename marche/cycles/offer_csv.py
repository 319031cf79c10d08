"""A producer's offers of one cycle as a spreadsheet: export, edit, import back.

The file is what French spreadsheets open and save without questions: UTF-8 with a BOM,
``;`` between columns, decimal commas (dots are read too). Columns: ``produit`` (the
product's identifier), ``nom`` and ``unité`` (for reading only), ``prix`` (empty: not offered)
and ``quantité`` (empty: on demand).

Import is all or nothing: every row is checked first and every error reported with its line
number; only a file without errors is applied, in one transaction, by the same service the
dashboard and the API use.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marche.accounts.models import User
from marche.catalog.models import Product
from marche.cycles.errors import CycleNotFound
from marche.cycles.models import Offer, OrderCycle
from marche.cycles.services import (
    offer_check_member,
    offer_check_price,
    offer_check_quantity,
    offer_editable_cycle,
    offer_save,
)
from marche.errors import DomainError
from marche.producers.models import Producer

COLUMNS = ("produit", "nom", "unité", "prix", "quantité")
DELIMITER = ";"
BOM = "\ufeff"


@dataclass(frozen=True)
class RowError:
    """A refused line of an imported file (line 1 is the header)."""

    line: int
    message: str

    def __str__(self) -> str:
        return _("Ligne %(line)s : %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class ImportReport:
    """The outcome of an import: offers saved, or the errors that stopped it."""

    errors: list[RowError] = field(default_factory=list)
    saved: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Row:
    line: int
    product: Product
    unit_price: Decimal
    quantity: Decimal | None


def _decimal_text(value: Decimal, *, places: str | None = None) -> str:
    value = value.quantize(Decimal(places)) if places else value.normalize()
    return f"{value:f}".replace(".", ",")


def _parse_decimal(text: str) -> Decimal:
    cleaned = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("€", "")
    try:
        value = Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def _producer_cycle(*, producer_id: int, cycle_id: int) -> tuple[Producer, OrderCycle]:
    producer = Producer.objects.get(pk=producer_id)
    cycle = OrderCycle.objects.filter(pk=cycle_id, territory_id=producer.territory_id).first()
    if cycle is None:
        raise CycleNotFound()
    return producer, cycle


def offer_csv_export(*, user: User, producer_id: int, cycle_id: int) -> str:
    """The producer's active products with their offer in the cycle, as CSV text with a BOM."""
    offer_check_member(user=user, producer_id=producer_id)
    _producer, cycle = _producer_cycle(producer_id=producer_id, cycle_id=cycle_id)
    products = Product.objects.filter(producer_id=producer_id, is_active=True).order_by("slug")
    offers = {
        offer.product_id: offer
        for offer in Offer.objects.filter(cycle=cycle, product__producer_id=producer_id)
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for product in products:
        offer = offers.get(product.pk)
        price = quantity = ""
        if offer is not None:
            price = _decimal_text(offer.unit_price, places="0.01")
            if offer.quantity_available is not None:
                quantity = _decimal_text(offer.quantity_available)
        writer.writerow([product.slug, product.name, product.get_unit_display(), price, quantity])
    return BOM + buffer.getvalue()


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content.removeprefix(BOM)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # A spreadsheet saved as "CSV (Windows)" rather than "CSV UTF-8".
        return content.decode("cp1252", errors="replace")


def _check_rows(
    *, text: str, producer_id: int, cycle: OrderCycle
) -> tuple[list[_Row], list[RowError]]:
    """Parse and check every line; returns the rows to apply and every error found."""
    errors: list[RowError] = []
    reader = csv.reader(io.StringIO(text), delimiter=DELIMITER)
    header = next(reader, None)
    if header is None or [cell.strip().lower() for cell in header] != list(COLUMNS):
        errors.append(
            RowError(
                1,
                _("en-tête attendu « %(columns)s » (colonnes séparées par des points-virgules).")
                % {"columns": DELIMITER.join(COLUMNS)},
            )
        )
        return [], errors
    products = {p.slug: p for p in Product.objects.filter(producer_id=producer_id)}
    offers = {
        offer.product_id: offer
        for offer in Offer.objects.filter(cycle=cycle, product__producer_id=producer_id)
    }
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        error = _check_row(cells, line=line, products=products, offers=offers, seen=seen)
        if isinstance(error, str):
            errors.append(RowError(line, error))
        elif error is not None:
            rows.append(error)
    return rows, errors


def _check_row(
    cells: list[str],
    *,
    line: int,
    products: dict[str, Product],
    offers: dict[int, Offer],
    seen: dict[str, int],
) -> _Row | str | None:
    """One line: the row to apply, None for a product left out, or the error message."""
    if len(cells) != len(COLUMNS):
        return _("%(count)s colonnes au lieu de %(expected)s.") % {
            "count": len(cells),
            "expected": len(COLUMNS),
        }
    slug, _name, _unit, price_text, quantity_text = (cell.strip() for cell in cells)
    if not slug:
        return _("la colonne « produit » est vide.")
    product = products.get(slug)
    if product is None or not product.is_active:
        return _("produit inconnu « %(slug)s ».") % {"slug": slug}
    if slug in seen:
        return _("le produit « %(slug)s » figure déjà ligne %(line)s.") % {
            "slug": slug,
            "line": seen[slug],
        }
    seen[slug] = line
    offer = offers.get(product.pk)
    if not price_text:
        if quantity_text:
            return _("prix manquant pour « %(slug)s ».") % {"slug": slug}
        if offer is not None:
            return _(
                "prix manquant : « %(slug)s » est déjà en vente dans ce cycle ; pour arrêter "
                "de le vendre, utilisez « Retirer de la vente » sur le tableau de bord."
            ) % {"slug": slug}
        return None
    try:
        unit_price = offer_check_price(_parse_decimal(price_text))
    except (ValueError, DomainError):
        return _("prix invalide « %(value)s » : un montant positif, au centime près.") % {
            "value": price_text
        }
    quantity: Decimal | None = None
    if quantity_text:
        try:
            quantity = offer_check_quantity(_parse_decimal(quantity_text))
        except (ValueError, DomainError):
            return _(
                "quantité invalide « %(value)s » : un nombre strictement positif "
                "(au plus 3 décimales), ou vide pour « à la demande »."
            ) % {"value": quantity_text}
    if offer is not None and quantity is not None:
        committed = offer.quantity_held + offer.quantity_sold
        if quantity < committed:
            return _("quantité %(value)s inférieure à %(committed)s, déjà réservé ou vendu.") % {
                "value": quantity_text,
                "committed": _decimal_text(committed),
            }
    return _Row(line=line, product=product, unit_price=unit_price, quantity=quantity)


def offer_csv_import(
    *,
    user: User,
    producer_id: int,
    cycle_id: int,
    content: bytes | str,
    now: datetime | None = None,
) -> ImportReport:
    """Apply an edited export: every row, or none when any row is wrong (all errors listed)."""
    now = now or timezone.now()
    offer_check_member(user=user, producer_id=producer_id)
    producer, _cycle = _producer_cycle(producer_id=producer_id, cycle_id=cycle_id)
    cycle = offer_editable_cycle(cycle_id=cycle_id, territory_id=producer.territory_id, now=now)
    rows, errors = _check_rows(text=_decode(content), producer_id=producer_id, cycle=cycle)
    report = ImportReport(errors=errors)
    if errors:
        return report
    with transaction.atomic():
        for row in rows:
            try:
                offer_save(
                    user=user,
                    cycle_id=cycle.pk,
                    product_id=row.product.pk,
                    unit_price=row.unit_price,
                    quantity_available=row.quantity,
                    now=now,
                )
            except DomainError as error:
                # Stock moved between the check and the write (a buyer held some): nothing
                # of the file is kept, and the farmer sees why.
                report.errors.append(RowError(row.line, error.message))
        if report.errors:
            transaction.set_rollback(True)
        else:
            report.saved = len(rows)
    return report
