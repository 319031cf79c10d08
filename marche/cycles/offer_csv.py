"""A producer's offers of one cycle as a spreadsheet: export, edit, import back.

The file is what French spreadsheets open and save without questions: UTF-8 with a BOM,
``;`` between columns, decimal commas (dots are read too). The import also reads files saved
with ``,`` or tabs between columns (LibreOffice's and Google Sheets' default): the separator
is guessed by ``csv.Sniffer`` among those three and confirmed by the header; a decimal comma
in a quoted cell (``"2,50"``) is still read. Columns: ``produit`` (the
product's identifier), ``nom`` and ``unité`` (for reading only), ``prix`` (empty: not
offered), ``quantité`` (empty: on demand; 0: withdrawn from sale) and ``max par commande``
(an on-demand offer's maximum per order; empty: unchanged). A variable-weight product is
priced per kg and counted in pieces; its ``unité`` cell says so. Files of the earlier layout,
without the last column, are still read.

What the export writes, the import reads back unchanged: a withdrawn offer is written with
quantity 0, and a line for a withdrawn offer never puts it back on sale (that is done on
the dashboard), so an old file cannot undo a withdrawal. Cells a spreadsheet would run as
a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are
written with a leading ``'``, as OWASP advises against CSV injection, and read back without it.

Import is all or nothing: every row is checked first and the errors reported with their
line number (the first 50, then how many more); only a file without errors is applied, in
one transaction, by the same service the dashboard and the API use. A price far from the
product's usual price is an error until the farmer confirms the file's prices.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marche.accounts.models import User
from marche.catalog.models import Product
from marche.core.numbers import InvalidNumber, parse_decimal
from marche.cycles.errors import CycleNotFound
from marche.cycles.models import Offer, OrderCycle
from marche.cycles.services import (
    offer_check_member,
    offer_check_price,
    offer_check_price_usual,
    offer_editable_cycle,
    offer_quantity_places,
    offer_save,
    offer_withdraw,
)
from marche.errors import DomainError
from marche.producers.models import Producer

COLUMNS = ("produit", "nom", "unité", "prix", "quantité", "max par commande")
# The earlier layout, without the maximum per order: files saved from it are still read.
COLUMNS_V1 = COLUMNS[:5]
DELIMITER = ";"
# Separators an import may use: the export's, then what other spreadsheets save by default.
DELIMITERS = (";", ",", "\t")
# The box that confirms a file's unusual prices; its errors name it exactly so.
CONFIRM_PRICES_LABEL = gettext_lazy("Je confirme les prix inhabituels de ce fichier")
BOM = "\ufeff"
# Reported errors: a file of 20,000 wrong lines shows the first ones and how many more.
MAX_ERRORS = 50
# What a spreadsheet would take for the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A value quoted in an error message is cut to this length.
MAX_QUOTED = 40


@dataclass(frozen=True)
class RowError:
    """A refused line of an imported file (line 1 is the header)."""

    line: int
    message: str

    def __str__(self) -> str:
        return _("Ligne %(line)s : %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class ImportReport:
    """The outcome of an import: offers saved, or the errors that stopped it.

    ``errors`` holds the first ``MAX_ERRORS`` errors and ``more_errors`` how many others
    there were. ``unusual_prices`` is true when some errors are prices to confirm: the same
    file imported with ``confirm_prices`` goes through. ``ignored`` lists the lines of
    withdrawn products that were left as they are.
    """

    errors: list[RowError] = field(default_factory=list)
    more_errors: int = 0
    unusual_prices: bool = False
    saved: int = 0
    withdrawn: int = 0
    ignored: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, error: RowError) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.more_errors += 1


@dataclass(frozen=True)
class _Row:
    line: int
    product: Product
    unit_price: Decimal
    quantity: Decimal | None
    max_per_order: Decimal | None = None
    withdraw: bool = False


def _decimal_text(value: Decimal, *, places: str | None = None) -> str:
    value = value.quantize(Decimal(places)) if places else value.normalize()
    return f"{value:f}".replace(".", ",")


def _cell(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _uncell(text: str) -> str:
    """The text of a cell written by :func:`_cell`."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def _quoted(text: str) -> str:
    return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + "…"


def _number(text: str, kind: str, **bounds: object) -> Decimal:
    """A number of the file: the one parser, once a currency sign shown by a sheet is gone."""
    return parse_decimal(text.replace("€", ""), kind, **bounds)  # type: ignore[arg-type]


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
        price = quantity = limit = ""
        if offer is not None:
            price = _decimal_text(offer.unit_price, places="0.01")
            if offer.withdrawn_at is not None:
                quantity = "0"
            elif offer.quantity_available is not None:
                quantity = _decimal_text(offer.quantity_available)
            else:
                limit = _decimal_text(offer.max_per_order)
        writer.writerow(
            [
                _cell(product.slug),
                _cell(product.name),
                _cell(_unit_cell(product)),
                price,
                quantity,
                limit,
            ]
        )
    return BOM + buffer.getvalue()


def _unit_cell(product: Product) -> str:
    """The ``unité`` cell: what the price is per and what the quantity counts."""
    if product.is_variable_weight and product.estimated_weight_kg:
        return _(
            "prix au kg, quantité en pièces (environ %(weight)s kg la pièce, prix final à la pesée)"
        ) % {"weight": _decimal_text(product.estimated_weight_kg)}
    return str(product.get_unit_display())


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content.removeprefix(BOM)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # A spreadsheet saved as "CSV (Windows)" rather than "CSV UTF-8".
        return content.decode("cp1252", errors="replace")


def _check_rows(
    *, text: str, producer_id: int, cycle: OrderCycle, report: ImportReport
) -> list[_Row]:
    """Parse and check every line; returns the rows to apply, errors go to the report."""
    delimiter = _delimiter(text)
    if delimiter is None:
        report.add_error(
            RowError(
                1,
                _(
                    "en-tête attendu « %(columns)s » (colonnes séparées par des "
                    "points-virgules, des virgules ou des tabulations)."
                )
                % {"columns": DELIMITER.join(COLUMNS)},
            )
        )
        return []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    columns = [_uncell(cell).strip().lower() for cell in next(reader)]
    products = {p.slug: p for p in Product.objects.filter(producer_id=producer_id)}
    offers = {
        offer.product_id: offer
        for offer in Offer.objects.filter(cycle=cycle, product__producer_id=producer_id)
    }
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            # A cell too large for the reader, or a broken quote: the rest is unreadable.
            report.add_error(
                RowError(
                    reader.line_num,
                    _("ligne illisible (cellule trop longue ou guillemet non fermé)."),
                )
            )
            break
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        checked = _check_row(
            [_uncell(cell).strip() for cell in cells],
            width=len(columns),
            delimiter=delimiter,
            line=line,
            products=products,
            offers=offers,
            seen=seen,
            report=report,
        )
        if isinstance(checked, str):
            report.add_error(RowError(line, checked))
        elif checked is not None:
            rows.append(checked)
    return rows


def _header(text: str, delimiter: str) -> list[str]:
    """The first line's column names as read with ``delimiter``."""
    try:
        cells = next(csv.reader(io.StringIO(text), delimiter=delimiter), None)
    except csv.Error:
        return []
    return [_uncell(cell).strip().lower() for cell in cells or []]


def _delimiter(text: str) -> str | None:
    """The file's column separator: ``;``, ``,`` or tab, whichever reads the known header.

    ``csv.Sniffer`` (limited to those three) makes the first guess; the header decides, so
    a guess fooled by decimal commas never reads a file with the wrong separator.
    """
    try:
        guess = csv.Sniffer().sniff(text[:4096], delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        guess = DELIMITER
    expected = (list(COLUMNS), list(COLUMNS_V1))
    for delimiter in dict.fromkeys((guess, *DELIMITERS)):
        if _header(text, delimiter) in expected:
            return delimiter
    return None


def _check_row(
    cells: list[str],
    *,
    width: int,
    delimiter: str,
    line: int,
    products: dict[str, Product],
    offers: dict[int, Offer],
    seen: dict[str, int],
    report: ImportReport,
) -> _Row | str | None:
    """One line: the row to apply, None for a product left out, or the error message."""
    if len(cells) != width:
        message = _("%(count)s colonnes au lieu de %(expected)s.") % {
            "count": len(cells),
            "expected": width,
        }
        if delimiter == "," and len(cells) > width:
            message += " " + _(
                "Dans un fichier séparé par des virgules, un nombre à virgule s'écrit entre "
                'guillemets ("2,50") ou avec un point (2.50).'
            )
        return message
    slug, _name, _unit, price_text, quantity_text = cells[:5]
    limit_text = cells[5] if width > 5 else ""
    if not slug:
        return _("la colonne « produit » est vide.")
    product = products.get(slug)
    if product is None or not product.is_active:
        return _("produit inconnu « %(slug)s ».") % {"slug": _quoted(slug)}
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
                "de le vendre, mettez sa quantité à 0."
            ) % {"slug": slug}
        return None
    try:
        unit_price = offer_check_price(_number(price_text, "price"))
    except DomainError:
        return _("prix invalide « %(value)s » : un montant positif, au centime près.") % {
            "value": _quoted(price_text)
        }
    places = offer_quantity_places(product)
    quantity: Decimal | None = None
    if quantity_text:
        try:
            quantity = _number(quantity_text, "stock", places=places)
        except InvalidNumber:
            if places == 0:
                return _(
                    "quantité invalide « %(value)s » : %(product)s se vend à l'unité, "
                    "indiquez un nombre entier (0 : retiré de la vente ; vide : à la demande)."
                ) % {"value": _quoted(quantity_text), "product": product.name}
            return _(
                "quantité invalide « %(value)s » : un nombre positif (au plus 3 décimales), "
                "0 pour retirer de la vente, ou vide pour « à la demande »."
            ) % {"value": _quoted(quantity_text)}
    max_per_order: Decimal | None = None
    if limit_text:
        try:
            max_per_order = _number(
                limit_text, "weight", places=places, minimum=Decimal(1).scaleb(-places)
            )
        except InvalidNumber as error:
            return _("maximum par commande invalide « %(value)s » : %(reason)s") % {
                "value": _quoted(limit_text),
                "reason": error.message,
            }
    if offer is not None and offer.withdrawn_at is not None:
        if quantity != 0:
            report.ignored.append(
                RowError(
                    line,
                    _(
                        "« %(slug)s » est retiré de la vente : ligne ignorée. Pour le remettre "
                        "en vente, enregistrez-le depuis le tableau de bord."
                    )
                    % {"slug": slug},
                )
            )
        return None
    if quantity == 0:
        if offer is None:
            return None  # not on sale: nothing to withdraw
        return _Row(line=line, product=product, unit_price=unit_price, quantity=None, withdraw=True)
    if offer is not None and quantity is not None:
        committed = offer.quantity_held + offer.quantity_sold
        if quantity < committed:
            return _("quantité %(value)s inférieure à %(committed)s, déjà réservé ou vendu.") % {
                "value": quantity_text,
                "committed": _decimal_text(committed),
            }
    return _Row(
        line=line,
        product=product,
        unit_price=unit_price,
        quantity=quantity,
        max_per_order=max_per_order,
    )


def _check_prices(
    *, rows: list[_Row], offers: dict[int, Offer], cycle: OrderCycle, report: ImportReport
) -> None:
    """Flag each price far from the product's usual price (``price_unusual``) as an error."""
    for row in rows:
        if row.withdraw:
            continue
        offer = offers.get(row.product.pk)
        try:
            offer_check_price_usual(
                product=row.product,
                cycle_id=cycle.pk,
                unit_price=row.unit_price,
                current_price=offer.unit_price if offer is not None else None,
                confirm_label=str(CONFIRM_PRICES_LABEL),
            )
        except DomainError as error:
            report.unusual_prices = True
            report.add_error(RowError(row.line, error.message))


def offer_csv_import(
    *,
    user: User,
    producer_id: int,
    cycle_id: int,
    content: bytes | str,
    confirm_prices: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Apply an edited export: every row, or none when any row is wrong (errors listed).

    A price far from the product's usual one stops the import too, until the farmer imports
    the file again with ``confirm_prices``.
    """
    now = now or timezone.now()
    offer_check_member(user=user, producer_id=producer_id)
    producer, _cycle = _producer_cycle(producer_id=producer_id, cycle_id=cycle_id)
    cycle = offer_editable_cycle(cycle_id=cycle_id, territory_id=producer.territory_id, now=now)
    report = ImportReport()
    rows = _check_rows(text=_decode(content), producer_id=producer_id, cycle=cycle, report=report)
    if report.errors:
        return report
    if not confirm_prices:
        offers = {
            offer.product_id: offer
            for offer in Offer.objects.filter(cycle=cycle, product__producer_id=producer_id)
        }
        _check_prices(rows=rows, offers=offers, cycle=cycle, report=report)
        if report.errors:
            return report
    with transaction.atomic():
        for row in rows:
            try:
                if row.withdraw:
                    offer = Offer.objects.get(cycle=cycle, product=row.product)
                    offer_withdraw(user=user, offer_id=offer.pk, now=now)
                    report.withdrawn += 1
                    continue
                offer_save(
                    user=user,
                    cycle_id=cycle.pk,
                    product_id=row.product.pk,
                    unit_price=row.unit_price,
                    quantity_available=row.quantity,
                    max_per_order=row.max_per_order,
                    confirm_price=True,  # checked above, or confirmed by the farmer
                    now=now,
                )
            except DomainError as error:
                # Stock moved between the check and the write (a buyer held some): nothing
                # of the file is kept, and the farmer sees why.
                report.add_error(RowError(row.line, error.message))
        if report.errors:
            transaction.set_rollback(True)
            report.withdrawn = 0
        else:
            report.saved = len(rows) - report.withdrawn
    return report
