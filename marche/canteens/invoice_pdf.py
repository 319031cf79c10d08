"""A canteen invoice as a French Factur-X PDF: printed with reportlab, ``factur-x.xml`` inside.

The printed page carries what French law asks of an invoice between professionals and to a
public buyer: seller and buyer identities and addresses, SIRET, the seller's VAT number or
the VAT exemption mention the producer gave, number and date, delivery dates, each line
(designation, quantity, unit, unit price and total excluding VAT, VAT rate), totals excluding
VAT per rate, VAT and total, the due date, the late-payment interest of public buyers (the
ECB rate plus 8 points) and the 40 € fixed recovery indemnity, and payment by transfer with
the IBAN. An invoice is a French legal document: it is always printed in French.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus.flowables import Flowable

from marche.canteens.facturx import VatRow, facturx_embed, facturx_xml
from marche.canteens.models import Invoice, InvoiceLine
from marche.catalog.models import Unit
from marche.core.pdf import FONT, FONT_BOLD, NumberedCanvas, Table, sample_styles

GREEN = colors.HexColor("#2f6b3a")
PALE = colors.HexColor("#e4efe0")
RULE = colors.HexColor("#9aa89a")


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _lines(text: str) -> str:
    return "<br/>".join(_esc(line) for line in (text or "").splitlines() if line.strip())


def _money(value: Decimal) -> str:
    """``1234.5`` -> ``1 234,50 €`` (no-break spaces), whatever the active language."""
    whole, _sep, cents = f"{value:,.2f}".partition(".")
    return f"{whole.replace(',', '\u00a0')},{cents}\u00a0€"


def _number(value: Decimal, places: int | None = None) -> str:
    """A quantity or a price without useless zeros, French style: ``2,5``, ``1,1234``."""
    text = f"{value:.{places}f}" if places is not None else f"{value.normalize():f}"
    whole, _sep, frac = text.partition(".")
    whole = f"{int(whole):,}".replace(",", "\u00a0") if whole.lstrip("-").isdigit() else whole
    return f"{whole},{frac}" if frac else whole


def _unit_price(value: Decimal) -> str:
    """A unit price shows at least the cents and up to its four stored decimals."""
    places = max(2, -value.normalize().as_tuple().exponent)
    return _number(value, min(places, 4)) + "\u00a0€"


def _rate(value: Decimal) -> str:
    return _number(value.normalize()) + "\u00a0%"


def _unit(code: str) -> str:
    try:
        return str(Unit(code).label)
    except ValueError:
        return code


def _styles() -> dict[str, ParagraphStyle]:
    base = sample_styles()
    return {
        "title": ParagraphStyle(
            "t", parent=base["Title"], fontSize=18, textColor=GREEN, alignment=2, spaceAfter=2
        ),
        "normal": ParagraphStyle("n", parent=base["Normal"], fontSize=9, leading=11.5),
        "right": ParagraphStyle("r", parent=base["Normal"], fontSize=9, leading=11.5, alignment=2),
        "h": ParagraphStyle(
            "h", parent=base["Heading4"], fontSize=9.5, spaceBefore=0, spaceAfter=2, textColor=GREEN
        ),
        "cell": ParagraphStyle("c", parent=base["Normal"], fontSize=8.5, leading=10.5),
        "small": ParagraphStyle(
            "s",
            parent=base["Normal"],
            fontSize=7.8,
            leading=9.8,
            textColor=colors.HexColor("#333333"),
        ),
    }


def _party_blocks(invoice: Invoice, st: dict[str, ParagraphStyle]) -> Table:
    seller, buyer = invoice.seller, invoice.buyer
    seller_lines = [f"<b>{_esc(seller['name'])}</b>"]
    if seller.get("trade_name") and seller["trade_name"] != seller["name"]:
        seller_lines.append(_esc(seller["trade_name"]))
    if seller.get("address"):
        seller_lines.append(_esc(seller["address"]))
    seller_lines.append(_esc(f"{seller.get('postcode', '')} {seller.get('city', '')}".strip()))
    seller_lines.append(_("SIRET : %(siret)s") % {"siret": _esc(seller["siret"])})
    if seller.get("vat_number"):
        seller_lines.append(
            _("N° de TVA intracommunautaire : %(vat)s") % {"vat": _esc(seller["vat_number"])}
        )
    if seller.get("mentions"):
        seller_lines.append(_lines(seller["mentions"]))

    title = [
        Paragraph(_("FACTURE"), st["title"]),
        Paragraph(_("N° <b>%(number)s</b>") % {"number": _esc(invoice.number)}, st["right"]),
        Paragraph(
            _("Date d'émission : %(date)s") % {"date": f"{invoice.issued_on:%d/%m/%Y}"},
            st["right"],
        ),
        Paragraph(
            _("Livraisons du %(start)s au %(end)s")
            % {
                "start": f"{invoice.period_start:%d/%m/%Y}",
                "end": f"{invoice.period_end:%d/%m/%Y}",
            },
            st["right"],
        ),
        Paragraph(
            _("Échéance : <b>%(date)s</b>") % {"date": f"{invoice.due_on:%d/%m/%Y}"}, st["right"]
        ),
    ]
    buyer_lines = [f"<b>{_esc(buyer['name'])}</b>", _lines(buyer.get("address", ""))]
    if buyer.get("siret"):
        buyer_lines.append(_("SIRET : %(siret)s") % {"siret": _esc(buyer["siret"])})
    if buyer.get("service_code"):
        buyer_lines.append(_("Code service : %(code)s") % {"code": _esc(buyer["service_code"])})
    if buyer.get("order_reference"):
        buyer_lines.append(
            _("Engagement / bon de commande : %(ref)s") % {"ref": _esc(buyer["order_reference"])}
        )
    delivered_lines = [
        f"<b>{_esc(buyer.get('canteen', ''))}</b>",
        _lines(buyer.get("delivery_address", "")),
    ]
    table = Table(
        [
            [
                [
                    Paragraph(_("Vendeur"), st["h"]),
                    Paragraph("<br/>".join(seller_lines), st["normal"]),
                ],
                title,
            ],
            [
                [
                    Paragraph(_("Facturé à"), st["h"]),
                    Paragraph("<br/>".join(buyer_lines), st["normal"]),
                ],
                [
                    Paragraph(_("Livré à"), st["h"]),
                    Paragraph("<br/>".join(delivered_lines), st["normal"]),
                ],
            ],
        ],
        colWidths=[95 * mm, 85 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 1), (0, 1), 0.5, RULE),
                ("BOX", (1, 1), (1, 1), 0.5, RULE),
                ("TOPPADDING", (0, 1), (-1, 1), 5),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 6),
                ("LEFTPADDING", (0, 1), (-1, 1), 6),
            ]
        )
    )
    return table


def _grid(data: list[list[object]], widths: list[float], *, right_from: int) -> Table:
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 8.5),
                ("FONT", (0, 1), (-1, -1), FONT, 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), PALE),
                ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (right_from, 0), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def invoice_pdf_story(
    *, invoice: Invoice, lines: Sequence[InvoiceLine], breakdown: Sequence[VatRow]
) -> list[Flowable]:
    """The printed invoice's flowables (in the active language: call under French)."""
    st = _styles()
    story: list[Flowable] = [_party_blocks(invoice, st), Spacer(1, 6 * mm)]
    rows: list[list[object]] = [
        [
            _("Livré le"),
            _("Désignation"),
            _("Quantité"),
            _("Unité"),
            _("Prix unit. HT"),
            _("TVA"),
            _("Total HT"),
        ]
    ]
    for line in lines:
        rows.append(
            [
                f"{line.delivery_date:%d/%m/%Y}",
                Paragraph(_esc(line.description), st["cell"]),
                _number(line.quantity),
                _unit(line.unit),
                _unit_price(line.unit_price_ht),
                _rate(line.vat_rate),
                _money(line.total_ht),
            ]
        )
    story.append(
        _grid(rows, [20 * mm, 62 * mm, 17 * mm, 17 * mm, 23 * mm, 14 * mm, 27 * mm], right_from=2)
    )
    story.append(Spacer(1, 5 * mm))

    vat_rows: list[list[object]] = [[_("Taux de TVA"), _("Total HT"), _("TVA")]]
    for row in breakdown:
        vat_rows.append([_rate(row.rate), _money(row.basis), _money(row.vat)])
    totals = [
        [_("Total HT"), _money(invoice.total_ht)],
        [_("Total TVA"), _money(invoice.total_vat)],
        [_("Total TTC"), _money(invoice.total_ttc)],
        [_("Net à payer"), _money(invoice.total_ttc)],
    ]
    totals_table = Table(totals, colWidths=[30 * mm, 30 * mm])
    totals_table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9),
                ("FONT", (0, 2), (-1, 3), FONT_BOLD, 9.5),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LINEABOVE", (0, 2), (-1, 2), 0.6, GREEN),
                ("BACKGROUND", (0, 3), (-1, 3), PALE),
            ]
        )
    )
    summary = Table(
        [[_grid(vat_rows, [25 * mm, 30 * mm, 25 * mm], right_from=1), totals_table]],
        colWidths=[100 * mm, 80 * mm],
    )
    summary.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT")])
    )
    story += [summary, Spacer(1, 6 * mm)]

    seller = invoice.seller
    payment = _(
        "À régler au plus tard le <b>%(due)s</b> (%(days)s jours après la date de facture), "
        "par virement, en rappelant le numéro de facture <b>%(number)s</b>."
    ) % {
        "due": f"{invoice.due_on:%d/%m/%Y}",
        "days": (invoice.due_on - invoice.issued_on).days,
        "number": _esc(invoice.number),
    }
    story.append(Paragraph(_("Paiement"), st["h"]))
    story.append(Paragraph(payment, st["normal"]))
    if seller.get("iban"):
        iban = " ".join(seller["iban"][i : i + 4] for i in range(0, len(seller["iban"]), 4))
        story.append(Paragraph(_("IBAN : <b>%(iban)s</b>") % {"iban": _esc(iban)}, st["normal"]))
    story.append(Spacer(1, 4 * mm))
    story.append(Paragraph(_("Conditions"), st["h"]))
    for text in (
        _(
            "En cas de retard de paiement, des intérêts moratoires sont dus au taux d'intérêt "
            "appliqué par la Banque centrale européenne à ses opérations principales de "
            "refinancement les plus récentes, majoré de 8 points (acheteurs publics, article "
            "R. 2192-31 du code de la commande publique)."
        ),
        _(
            "Indemnité forfaitaire pour frais de recouvrement due en cas de retard de "
            "paiement : 40 € (articles L. 441-10 et D. 441-5 du code de commerce)."
        ),
        _("Pas d'escompte pour paiement anticipé."),
    ):
        story.append(Paragraph(text, st["small"]))
    story.append(Spacer(1, 3 * mm))
    story.append(
        Paragraph(
            _(
                "Facture électronique Factur-X (profil EN 16931) : les données structurées de "
                "cette facture sont jointes au fichier (factur-x.xml)."
            ),
            st["small"],
        )
    )
    return story


def invoice_pdf_render(
    *, invoice: Invoice, lines: Iterable[InvoiceLine], breakdown: Iterable[VatRow]
) -> bytes:
    """The invoice's Factur-X PDF: the printed French invoice with ``factur-x.xml`` inside."""
    lines = list(lines)
    breakdown = list(breakdown)
    buffer = io.BytesIO()
    with translation.override("fr"):
        seller = invoice.seller.get("name", "")
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=15 * mm,
            bottomMargin=18 * mm,
            title=_("Facture %(number)s") % {"number": invoice.number},
            author=seller,
            lang="fr-FR",
        )
        footer = _("%(seller)s · facture %(number)s · SIRET %(siret)s") % {
            "seller": seller,
            "number": invoice.number,
            "siret": invoice.seller.get("siret", ""),
        }
        doc.build(
            invoice_pdf_story(invoice=invoice, lines=lines, breakdown=breakdown),
            canvasmaker=lambda *a, **k: NumberedCanvas(*a, footer=footer, **k),
        )
    xml = facturx_xml(invoice=invoice, lines=lines, breakdown=breakdown)
    return facturx_embed(pdf=buffer.getvalue(), xml=xml, invoice=invoice)
