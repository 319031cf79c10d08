"""Pick lists and packing lists as CSV (for spreadsheets) and PDF (to print and sign).

CSV files are written for French spreadsheets: UTF-8 with a byte-order mark (so Excel reads
the accents), ``;`` as separator and a decimal comma (``1,5``), which is what a French Excel
or LibreOffice opens as numbers without an import dialog. Amounts keep two decimals
(``27,15``); quantities and weights drop trailing zeros (``2,5``). Headers and labels are
in the language of the person who downloads them (French unless they chose English).
Text typed by people (names, designations, phone numbers) that starts like a formula
(``=``, ``+``, ``-``, ``@``) is prefixed with an apostrophe so a spreadsheet shows it as text.

PDFs are A4 with the standard PDF fonts (whose encoding covers French accents, ``Œ`` and
``€``), a title naming the cycle and the producer or relay point, tables whose header row
repeats on every page, and "page n / N" at the bottom. A packing list ends with a box the
relay point signs when it receives the baskets. Each basket's heading carries the order's
QR code (``marche.relays.qr``), drawn as vector squares: the relay point scans it to open
the order on its pickup page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from marche.core.pdf import FONT, FONT_BOLD, NumberedCanvas, Table, sample_styles
from marche.orders.display import unit_label
from marche.orders.selectors import PackingLine, PackingList, PackingOrder, PickList
from marche.relays.qr import order_qr_rows
from marche.territories.selectors import territory_site_url

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GREEN = colors.HexColor("#2f6b3a")

PICK_HEADERS = [
    _("Producteur"),
    _("Produit"),
    _("Unité"),
    _("Destination"),
    _("Type de destination"),
    _("Quantité"),
]
PACKING_HEADERS = [
    _("Créneau"),
    _("Référence"),
    _("Client"),
    _("Téléphone"),
    _("Type"),
    _("Désignation"),
    _("Nombre"),
    _("Quantité"),
    _("Unité"),
    _("Producteur"),
    _("Poids estimé (kg)"),
    _("Poids pesé (kg)"),
    _("Prix au kg (€)"),
    _("Montant (€)"),
    _("Total commande (€)"),
    _("Total définitif"),
    _("Paiement"),
    _("État du paiement"),
]
DESTINATION_KINDS = {"relay_point": _("point relais")}


def fr_quantity(value: Decimal | None) -> str:
    """A quantity or weight with a decimal comma and no trailing zeros: ``2,5``."""
    if value is None:
        return ""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in {"-0", ""}:
        text = "0"
    return text.replace(".", ",")


def fr_money(value: Decimal | None) -> str:
    """An amount with two decimals and a decimal comma: ``27,15``."""
    if value is None:
        return ""
    return f"{value:.2f}".replace(".", ",")


def _with_unit(value: Decimal, unit: str) -> str:
    """A quantity and its French unit word, agreeing with it: "3,5 kg", "2 pièces"."""
    with translation.override("fr"):
        return f"{fr_quantity(value)} {unit_label(unit, value)}".strip() if unit else ""


def pack_quantity(line: PackingLine) -> str:
    """What to put in the basket: "3,5 kg", "2 pièces"; items of a variant, "2 (10 kg)"."""
    if not line.unit:
        return fr_quantity(line.count)
    if line.count != line.quantity:
        return f"{fr_quantity(line.count)} ({_with_unit(line.quantity, line.unit)})"
    return _with_unit(line.quantity, line.unit)


def _orders_count(count: int) -> str:
    return ngettext("%(count)s commande", "%(count)s commandes", count) % {"count": count}


def _text(value: str) -> str:
    """Free text typed by people, made inert for spreadsheets (no formula injection)."""
    if value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def _csv(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(rows)
    return (BOM + buffer.getvalue()).encode("utf-8")


# --- CSV ------------------------------------------------------------------------------------


def pick_list_csv(pick_list: PickList) -> bytes:
    """One row per offer and destination, then a "Total" row per offer (0 when none)."""
    rows = [PICK_HEADERS]
    for row in pick_list.rows:
        for item in row.destinations:
            rows.append(
                [
                    _text(row.producer_name),
                    _text(row.product_name),
                    row.unit_label,
                    _text(item.destination.name),
                    DESTINATION_KINDS.get(item.destination.kind, item.destination.kind),
                    fr_quantity(item.quantity),
                ]
            )
        rows.append(
            [
                _text(row.producer_name),
                _text(row.product_name),
                row.unit_label,
                gettext("Total"),
                "",
                fr_quantity(row.total),
            ]
        )
    return _csv(rows)


def _slot(order: PackingOrder) -> str:
    return f"{order.slot_date:%d/%m/%Y} {order.slot_starts_at:%H:%M}-{order.slot_ends_at:%H:%M}"


def packing_list_csv(packing_list: PackingList) -> bytes:
    """One row per line of every basket, components right after their composed basket."""
    rows = [PACKING_HEADERS]
    for order in packing_list.orders:
        payment = order.payment_method_label
        if order.payment_means_label:
            payment = f"{payment} ({order.payment_means_label})"
        flat = []
        for line in order.lines:
            flat.append(line)
            flat.extend(line.components)
        for line in flat:
            rows.append(
                [
                    _slot(order),
                    order.reference,
                    _text(order.customer_name),
                    _text(order.customer_phone),
                    line.kind_label,
                    _text(line.name),
                    fr_quantity(line.count),
                    fr_quantity(line.quantity),
                    line.unit_label,
                    _text(line.producer_name),
                    fr_quantity(line.estimated_weight_kg),
                    fr_quantity(line.weight_kg),
                    fr_money(line.price_per_kg),
                    fr_money(line.total),
                    fr_money(order.total),
                    gettext("oui") if order.is_final else gettext("non"),
                    payment,
                    order.payment_status_label,
                ]
            )
    return _csv(rows)


# --- PDF ------------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    base = sample_styles()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=16, textColor=GREEN),
        "sub": ParagraphStyle("s", parent=base["Normal"], fontSize=10, spaceAfter=6),
        "h": ParagraphStyle("h", parent=base["Heading3"], fontSize=11, spaceBefore=8),
        "cell": ParagraphStyle("c", parent=base["Normal"], fontSize=8.5, leading=10.5),
        "indent": ParagraphStyle(
            "i", parent=base["Normal"], fontSize=8.5, leading=10.5, leftIndent=4 * mm
        ),
        "small": ParagraphStyle("m", parent=base["Normal"], fontSize=8, textColor=colors.grey),
    }


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(
    data: list[list[object]],
    widths: list[float],
    *,
    emphasis: Iterable[int] = (),
    extra: Iterable[tuple[object, ...]] = (),
) -> Table:
    table = Table(data, colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, 0), FONT_BOLD, 8.5),
        ("FONT", (0, 1), (-1, -1), FONT, 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4efe0")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa89a")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
    ]
    for row in emphasis:
        style.append(("FONT", (0, row), (-1, row), FONT_BOLD, 8.5))
        style.append(("BACKGROUND", (0, row), (-1, row), colors.HexColor("#f4f7f2")))
    style.extend(extra)
    table.setStyle(TableStyle(style))
    return table


class QrCode(Flowable):
    """An order's QR code in a PDF: one filled rectangle per run of dark modules.

    Drawn with the four-module quiet zone readers need inside ``size``, so the code stays
    readable however close the table borders are.
    """

    QUIET_ZONE = 4

    def __init__(self, reference: str, size: float = 26 * mm, *, base_url: str | None = None):
        super().__init__()
        self.reference = reference
        self.rows = order_qr_rows(reference, base_url=base_url)
        self.width = self.height = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        modules = len(self.rows) + 2 * self.QUIET_ZONE
        cell = self.width / modules
        canvas = self.canv
        canvas.setFillColor(colors.black)
        for r, row in enumerate(self.rows):
            y = self.height - (r + 1 + self.QUIET_ZONE) * cell
            c = 0
            while c < len(row):
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                x = (start + self.QUIET_ZONE) * cell
                canvas.rect(x, y, (c - start) * cell, cell, stroke=0, fill=1)


def _build(story: list[Flowable], *, title: str, footer: str) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=gettext("Marché local"),
        lang="fr-FR",
    )
    doc.build(story, canvasmaker=lambda *a, **k: NumberedCanvas(*a, footer=footer, **k))
    return buffer.getvalue()


def _local(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "d/m/Y H:i")


def _printed_at() -> str:
    return _local(timezone.now())


def _footer(title: str) -> str:
    return gettext("%(title)s · imprimé le %(when)s") % {"title": title, "when": _printed_at()}


def pick_list_pdf(pick_list: PickList) -> bytes:
    """The pick list as a printable A4 PDF: one table, totals in bold."""
    styles = _styles()
    cycle = pick_list.cycle
    title = gettext("Liste de cueillette — %(producer)s") % {"producer": pick_list.producer.name}
    story: list[Flowable] = [
        Paragraph(_esc(title), styles["title"]),
        Paragraph(
            _esc(
                gettext(
                    "Cycle : %(cycle)s · livraison le %(delivery)s · commandes closes le %(closed)s"
                )
                % {
                    "cycle": cycle.name,
                    "delivery": f"{cycle.delivery_date:%d/%m/%Y}",
                    "closed": _local(cycle.closes_at),
                }
            ),
            styles["sub"],
        ),
    ]
    if pick_list.includes_member_farms:
        story.append(
            Paragraph(
                _esc(gettext("Comprend les offres des fermes membres du collectif.")),
                styles["small"],
            )
        )
    data: list[list[object]] = [
        [gettext("Produit"), gettext("Producteur"), gettext("Destination"), gettext("Quantité")]
    ]
    emphasis = []
    for row in pick_list.rows:
        name = Paragraph(_esc(row.product_name), styles["cell"])
        farm = Paragraph(_esc(row.producer_name), styles["cell"])
        for item in row.destinations:
            data.append(
                [
                    name,
                    farm,
                    Paragraph(
                        _esc(gettext("Point relais %(name)s") % {"name": item.destination.name}),
                        styles["cell"],
                    ),
                    _with_unit(item.quantity, row.unit),
                ]
            )
        data.append([name, farm, gettext("Total à récolter"), _with_unit(row.total, row.unit)])
        emphasis.append(len(data) - 1)
    if len(data) == 1:
        data.append([gettext("Aucune offre dans ce cycle."), "", "", ""])
    story += [
        Spacer(1, 4 * mm),
        _table(data, [60 * mm, 40 * mm, 50 * mm, 30 * mm], emphasis=emphasis),
    ]
    return _build(story, title=title, footer=_footer(title))


def packing_list_pdf(packing_list: PackingList) -> bytes:
    """The packing list: one table per basket, then the relay point's signature box."""
    styles = _styles()
    cycle = packing_list.cycle
    relay = packing_list.relay_point
    base_url = territory_site_url(territory=cycle.territory)  # the QR codes' site
    title = gettext("Liste de colisage — Point relais %(name)s") % {"name": relay.name}
    story: list[Flowable] = [
        Paragraph(_esc(title), styles["title"]),
        Paragraph(
            _esc(
                gettext("Cycle : %(cycle)s · livraison le %(delivery)s · %(orders)s")
                % {
                    "cycle": cycle.name,
                    "delivery": f"{cycle.delivery_date:%d/%m/%Y}",
                    "orders": _orders_count(len(packing_list.orders)),
                }
            ),
            styles["sub"],
        ),
    ]
    if not packing_list.orders:
        story.append(
            Paragraph(_esc(gettext("Aucune commande pour ce point relais.")), styles["sub"])
        )
    for order in packing_list.orders:
        heading = gettext("%(name)s — %(reference)s — créneau %(slot)s") % {
            "name": order.customer_name,
            "reference": order.reference,
            "slot": _slot(order),
        }
        if order.customer_phone:
            heading += gettext(" — tél. %(phone)s") % {"phone": order.customer_phone}
        data: list[list[object]] = [
            [
                gettext("Désignation"),
                gettext("Quantité"),
                gettext("Producteur"),
                gettext("Poids"),
                gettext("Montant (€)"),
            ]
        ]
        for line in order.lines:
            weight = ""
            if line.is_variable_weight:
                weight = (
                    gettext("pesé %(weight)s kg") % {"weight": fr_quantity(line.weight_kg)}
                    if line.weight_kg is not None
                    else gettext("estimé %(weight)s kg — à peser")
                    % {"weight": fr_quantity(line.estimated_weight_kg)}
                )
            data.append(
                [
                    Paragraph(_esc(line.name), styles["cell"]),
                    pack_quantity(line),
                    Paragraph(_esc(line.producer_name), styles["cell"]),
                    Paragraph(_esc(weight), styles["cell"]),
                    fr_money(line.total),
                ]
            )
            for component in line.components:
                data.append(
                    [
                        Paragraph(
                            _esc(gettext("dont %(name)s") % {"name": component.name}),
                            styles["indent"],
                        ),
                        _with_unit(component.quantity, component.unit),
                        Paragraph(_esc(component.producer_name), styles["cell"]),
                        "",
                        "",
                    ]
                )
        total = gettext("Total") if order.is_final else gettext("Total (estimé)")
        payment = order.payment_method_label
        if order.payment_status_label:
            payment += f" — {order.payment_status_label}"
        if order.payment_means_label:
            payment += f" ({order.payment_means_label})"
        if order.amount_to_collect is not None:
            payment += gettext(" — à encaisser %(amount)s €") % {
                "amount": fr_money(order.amount_to_collect)
            }
        data.append(
            [
                Paragraph(f"<b>{_esc(total)}</b> · {_esc(payment)}", styles["cell"]),
                "",
                "",
                gettext("Retiré : [  ]"),
                fr_money(order.total),
            ]
        )
        last = len(data) - 1
        head = Table(
            [[Paragraph(_esc(heading), styles["h"]), QrCode(order.reference, base_url=base_url)]],
            colWidths=[152 * mm, 28 * mm],
        )
        head.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ]
            )
        )
        story.append(
            KeepTogether(
                [
                    Spacer(1, 3 * mm),
                    head,
                    _table(
                        data,
                        [62 * mm, 22 * mm, 42 * mm, 34 * mm, 20 * mm],
                        emphasis=[last],
                        extra=[("SPAN", (0, last), (2, last))],
                    ),
                ]
            )
        )
    signature = Table(
        [
            [gettext("Réception par le point relais")],
            [gettext("Paniers reçus : ........ / %(count)s") % {"count": len(packing_list.orders)}],
            [
                gettext("Nom : %(name)s   Date et heure : %(when)s")
                % {"name": "." * 40, "when": "." * 28}
            ],
            [gettext("Signature du point relais :")],
            [""],
        ],
        colWidths=[180 * mm],
        rowHeights=[7 * mm, 8 * mm, 8 * mm, 7 * mm, 18 * mm],
    )
    signature.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1, GREEN),
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 10),
                ("FONT", (0, 1), (-1, -1), FONT, 9),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4efe0")),
            ]
        )
    )
    story += [Spacer(1, 8 * mm), KeepTogether([signature])]
    return _build(story, title=title, footer=_footer(title))
