"""The delivery note (bon de livraison) of a canteen order, with its allergen information.

In France every delivery to a canteen comes with a written allergen document: each line
says which of the 14 allergens of EU regulation 1169/2011 (annex II) it contains, or that
it contains none. The note lists what was ordered, confirmed by the producer and, once
recorded, delivered with each shortfall and its reason; it has boxes for the driver's and
the receiver's signatures. It is written in French whatever the reader's language: it is
the document kept by the canteen and shown to inspectors.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus.flowables import Flowable

from marche.canteens.models import CanteenOrder, CanteenOrderLine
from marche.catalog.models import Allergen
from marche.core.pdf import FONT, FONT_BOLD, NumberedCanvas, Table, sample_styles
from marche.orders.display import format_quantity, unit_label

GREEN = colors.HexColor("#2f6b3a")
NOTE_LANGUAGE = "fr"


def delivery_note_order(*, order_id: int) -> CanteenOrder | None:
    """The order with its canteen, cycle and lines (with their producers): two queries."""
    return (
        CanteenOrder.objects.select_related("canteen", "cycle")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=CanteenOrderLine.objects.select_related("producer").order_by(
                    "producer__name", "name", "pk"
                ),
            )
        )
        .filter(pk=order_id)
        .first()
    )


def allergen_names(codes: object) -> list[str]:
    """The names of allergen codes, in the order of the regulation (unknown codes left out)."""
    chosen = set(codes) if isinstance(codes, list) else set()
    return [str(label) for code, label in Allergen.choices if code in chosen]


def allergens_text(codes: object) -> str:
    names = allergen_names(codes)
    return ", ".join(names) if names else _("aucun des 14 allergènes")


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _qty(value: Decimal | None) -> str:
    return "" if value is None else format_quantity(value)


def _styles() -> dict[str, ParagraphStyle]:
    base = sample_styles()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=16, textColor=GREEN),
        "sub": ParagraphStyle("s", parent=base["Normal"], fontSize=9.5, leading=12),
        "h": ParagraphStyle("h", parent=base["Heading4"], fontSize=10, spaceAfter=2),
        "cell": ParagraphStyle("c", parent=base["Normal"], fontSize=8, leading=9.8),
        "small": ParagraphStyle("m", parent=base["Normal"], fontSize=7.5, leading=9),
    }


class _SignatureBox(Flowable):
    """A framed box with a caption, for a signature by hand."""

    def __init__(self, caption: str, name: str, width: float, height: float = 28 * mm) -> None:
        super().__init__()
        self.caption, self.name = caption, name
        self.width, self.height = width, height

    def draw(self) -> None:
        canvas = self.canv
        canvas.setStrokeColor(colors.black)
        canvas.setLineWidth(0.8)
        canvas.rect(0, 0, self.width, self.height)
        canvas.setFont(FONT_BOLD, 9)
        canvas.drawString(3 * mm, self.height - 5 * mm, self.caption)
        canvas.setFont(FONT, 8.5)
        canvas.drawString(3 * mm, self.height - 10 * mm, self.name)
        canvas.setFillColor(colors.grey)
        canvas.drawString(3 * mm, 3 * mm, _("Date, heure et signature"))


def _parties(order: CanteenOrder, st: dict[str, ParagraphStyle]) -> Table:
    suppliers: dict[int, list[str]] = {}
    for line in order.lines.all():
        producer = line.producer
        if producer.pk in suppliers:
            continue
        parts = [f"<b>{_esc(producer.legal_name or producer.name)}</b>"]
        if producer.legal_name and producer.legal_name != producer.name:
            parts.append(_esc(producer.name))
        if producer.full_address:
            parts.append(_esc(producer.full_address))
        if producer.siret:
            parts.append(_esc(_("SIRET %(siret)s") % {"siret": producer.siret}))
        suppliers[producer.pk] = parts
    canteen = order.canteen
    buyer = [f"<b>{_esc(canteen.name)}</b>"]
    if canteen.legal_name:
        buyer.append(_esc(canteen.legal_name))
    if canteen.full_address:
        buyer.append(_esc(canteen.full_address))
    if canteen.siret:
        buyer.append(_esc(_("SIRET %(siret)s") % {"siret": canteen.siret}))
    supplier_cells = [Paragraph("<br/>".join(parts), st["cell"]) for parts in suppliers.values()]
    heading = _("Fournisseur") if len(supplier_cells) == 1 else _("Fournisseurs")
    table = Table(
        [
            [Paragraph(f"<b>{_esc(heading)}</b>", st["h"]), Paragraph(_esc(_("Livré à")), st["h"])],
            [supplier_cells or "", Paragraph("<br/>".join(buyer), st["cell"])],
        ],
        colWidths=[130 * mm, 130 * mm],
    )
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


# The last lines kept on the page of the signatures.
KEPT_WITH_SIGNATURES = 2


def _lines_table(order: CanteenOrder, st: dict[str, ParagraphStyle], end: list[Flowable]) -> Table:
    """The lines, then ``end`` (the allergens' note and the signature boxes) in a last row
    across the table: a page break never leaves the signatures alone at the top of a page,
    the last lines go with them (and the column headings repeat above them)."""
    header = [
        _("Producteur"),
        _("Désignation"),
        _("Unité"),
        _("Commandé"),
        _("Confirmé"),
        _("Livré"),
        _("Écart et motif"),
        _("Allergènes (règlement UE 1169/2011)"),
        _("Froid"),
    ]
    data: list[list[object]] = [[Paragraph(f"<b>{_esc(h)}</b>", st["small"]) for h in header]]
    for line in order.lines.all():
        shortfall = line.shortfall
        if shortfall:
            gap = f"−{_qty(shortfall)}"
            if line.shortfall_reason:
                gap = f"{gap} : {line.shortfall_reason}"
        else:
            gap = "" if shortfall is None else "0"
        allergens = allergen_names(line.allergens)
        data.append(
            [
                Paragraph(_esc(line.producer.name), st["cell"]),
                Paragraph(_esc(line.name), st["cell"]),
                _esc(unit_label(line.unit, line.quantity_due)),
                _qty(line.quantity_ordered),
                _qty(line.quantity_confirmed) if line.quantity_confirmed is not None else "—",
                _qty(line.quantity_delivered),
                Paragraph(_esc(gap), st["cell"]),
                Paragraph(
                    f"<b>{_esc(', '.join(allergens))}</b>"
                    if allergens
                    else _esc(_("aucun des 14 allergènes")),
                    st["cell"],
                ),
                _("FROID") if line.is_chilled else "",
            ]
        )
    last_line = len(data) - 1
    data.append([end] + [""] * (len(header) - 1))
    table = Table(
        data,
        colWidths=[
            32 * mm,
            46 * mm,
            16 * mm,
            21 * mm,
            21 * mm,
            21 * mm,
            40 * mm,
            52 * mm,
            14 * mm,
        ],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 1), (-1, -1), FONT, 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4efe0")),
                ("GRID", (0, 0), (-1, -2), 0.4, colors.HexColor("#9aa89a")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (3, 1), (5, -1), "RIGHT"),
                ("FONT", (8, 1), (8, -1), FONT_BOLD, 8),
                ("SPAN", (0, -1), (-1, -1)),
                ("LEFTPADDING", (0, -1), (-1, -1), 0),
                ("RIGHTPADDING", (0, -1), (-1, -1), 0),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 0),
                ("NOSPLIT", (0, max(1, last_line - KEPT_WITH_SIGNATURES + 1)), (-1, -1)),
            ]
        )
    )
    return table


def delivery_note_pdf(order: CanteenOrder) -> bytes:
    """The order's delivery note as an A4 landscape PDF, in French."""
    with translation.override(NOTE_LANGUAGE):
        return _render(order)


def _render(order: CanteenOrder) -> bytes:
    st = _styles()
    title = _("Bon de livraison %(reference)s") % {"reference": order.reference}
    facts = _("Livraison du %(day)s, créneau de réception %(start)s–%(end)s · cycle %(cycle)s") % {
        "day": date_format(order.delivery_date, "l j F Y"),
        "start": order.window_starts_at.strftime("%H:%M"),
        "end": order.window_ends_at.strftime("%H:%M"),
        "cycle": order.cycle.name,
    }
    if order.delivered_at is not None:
        state = _("Livraison enregistrée le %(at)s, reçue par %(who)s.") % {
            "at": date_format(timezone.localtime(order.delivered_at), "j F Y à H:i"),
            "who": order.received_by or "—",
        }
    else:
        state = _("Quantités livrées à remplir à la réception.")
    end: list[Flowable] = [
        Spacer(1, 3 * mm),
        Paragraph(
            _esc(
                _(
                    "Allergènes : les 14 allergènes à déclarer (annexe II du règlement UE "
                    "1169/2011) contenus dans chaque produit, d'après sa fiche au jour de la "
                    "commande. « FROID » : produit à garder au froid dès la réception."
                )
            ),
            st["small"],
        ),
        Spacer(1, 6 * mm),
        Table(
            [
                [
                    _SignatureBox(_("Le chauffeur"), "", 125 * mm),
                    _SignatureBox(_("Reçu par"), order.received_by, 125 * mm),
                ]
            ],
            colWidths=[130 * mm, 130 * mm],
        ),
    ]
    story: list[Flowable] = [
        Paragraph(_esc(title), st["title"]),
        Paragraph(_esc(facts), st["sub"]),
        Paragraph(_esc(state), st["sub"]),
        Spacer(1, 4 * mm),
        _parties(order, st),
        Spacer(1, 5 * mm),
        _lines_table(order, st, end),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=12 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="Marché local",
        lang=NOTE_LANGUAGE,
    )
    printed = date_format(timezone.localtime(), "d/m/Y H:i")
    footer = _("%(title)s · %(canteen)s · imprimé le %(at)s") % {
        "title": title,
        "canteen": order.canteen.name,
        "at": printed,
    }
    doc.build(story, canvasmaker=lambda *a, **k: NumberedCanvas(*a, footer=footer, **k))
    return buffer.getvalue()
