"""The structured invoice embedded in a canteen invoice's PDF: Factur-X, profile EN 16931.

``facturx_xml`` writes the UN/CEFACT Cross Industry Invoice (CII D16B) the French public
buyers' platform (Chorus Pro) and the European norm EN 16931 read, from the invoice's rows
and snapshots; ``facturx_embed`` attaches it to the printable PDF as ``factur-x.xml`` with
the pinned ``factur-x`` library, which checks it against the EN 16931 XSD first and writes
the Factur-X XMP metadata. The amounts are the invoice's own (lines rounded to the cent,
VAT per rate on each rate's sum), never recomputed differently here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import facturx
from lxml import etree

from marche.canteens.models import Invoice, InvoiceLine
from marche.core.pdf import pdfa3_complete

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931 = "urn:cen.eu:en16931:2017"
COMMERCIAL_INVOICE = "380"
SEPA_CREDIT_TRANSFER = "58"
# UNCL 4461 "instrument not defined": a transfer (30 or 58) must name the account it goes to
# (CII-SR-470), which a seller without an IBAN on file cannot.
PAYMENT_MEANS_UNDEFINED = "1"
# ISO/IEC 6523 schemes of a French establishment (SIRET, 14 digits) and of its company (SIREN,
# its first 9 digits), and the electronic-address scheme of the French e-invoicing directory,
# whose default address for a company is its SIREN.
SIRET_SCHEME = "0009"
SIREN_SCHEME = "0002"
FRENCH_DIRECTORY_ADDRESS = "0225"
# BT-23, the French billing mode: "B1", an invoice of goods, to be paid.
BILLING_MODE_GOODS = "B1"
# UN/ECE Recommendation 20 unit codes of the catalogue's units.
UNIT_CODES = {"kg": "KGM", "piece": "H87", "bunch": "H87", "dozen": "DZN", "litre": "LTR"}
CENT = Decimal("0.01")


class VatRow(Protocol):
    rate: Decimal
    basis: Decimal
    vat: Decimal


def _q(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> Any:
    element = etree.SubElement(parent, _q(tag), attrs)
    if text is not None:
        element.text = text
    return element


def _date(parent: etree._Element, tag: str, value: date) -> None:
    holder = _sub(parent, tag)
    _sub(holder, "udt:DateTimeString", value.strftime("%Y%m%d"), format="102")


def _amount(value: Decimal) -> str:
    return f"{value.quantize(CENT):f}"


def _plain(value: Decimal) -> str:
    """A quantity or a price without trailing zeros: ``10``, ``2.35``, ``1.1234``."""
    text = f"{value.normalize():f}"
    return text


def _address_lines(text: str) -> tuple[list[str], str, str]:
    """Free-text address -> (street lines, postcode, city): "… \\n62750 Loos" is split."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for index in range(len(lines) - 1, -1, -1):
        match = re.match(r"^(\d{5})\s+(.+)$", lines[index])
        if match:
            return lines[:index] + lines[index + 1 :], match[1], match[2]
    return lines, "", ""


def _postal_address(
    parent: etree._Element, *, lines: Sequence[str], postcode: str, city: str, country: str
) -> None:
    address = _sub(parent, "ram:PostalTradeAddress")
    if postcode:
        _sub(address, "ram:PostcodeCode", postcode)
    for tag, line in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), lines, strict=False):
        _sub(address, tag, line)
    if city:
        _sub(address, "ram:CityName", city)
    _sub(address, "ram:CountryID", country or "FR")


def _vat_category(rate: Decimal, *, registered: bool) -> str:
    """The EN 16931 VAT category: ``S`` (standard or reduced rate) for a positive rate; at
    0 %, ``E`` (exempt) for a seller registered for VAT, ``O`` (not subject to VAT) for one
    without a VAT number, such as a farm under the "franchise en base" (article 293 B of the
    French tax code): the norm asks an exempt seller for its VAT number (BR-E-02) and
    forbids one, and any rate, on a seller outside VAT (BR-O-02, BR-O-05)."""
    if rate > 0:
        return "S"
    return "E" if registered else "O"


def _party_identity(party: etree._Element, *, name: str, siret: str, trade_name: str = "") -> None:
    """A party's establishment (SIRET, BT-29/BT-46), name and company (SIREN, BT-30/BT-47):
    the French rules read the company's SIREN in its legal registration and check that the
    SIRET begins with it."""
    if siret:
        _sub(party, "ram:GlobalID", siret, schemeID=SIRET_SCHEME)
    _sub(party, "ram:Name", name)
    if siret or (trade_name and trade_name != name):
        legal = _sub(party, "ram:SpecifiedLegalOrganization")
        if siret:
            _sub(legal, "ram:ID", siret[:9], schemeID=SIREN_SCHEME)
        if trade_name and trade_name != name:
            _sub(legal, "ram:TradingBusinessName", trade_name)


def _electronic_address(party: etree._Element, *, siret: str, email: str = "") -> None:
    """Where the party receives invoices (BT-34/BT-49): its invoicing e-mail when it gave
    one, otherwise its company's default address in the French directory, the SIREN."""
    if not (email or siret):
        return
    uri = _sub(party, "ram:URIUniversalCommunication")
    if email:
        _sub(uri, "ram:URIID", email, schemeID="EM")
    else:
        _sub(uri, "ram:URIID", siret[:9], schemeID=FRENCH_DIRECTORY_ADDRESS)


def facturx_notes(invoice: Invoice) -> list[tuple[str, str]]:
    """The invoice's legal notes as (UNTDID 4451 subject code, text)."""
    seller = invoice.seller
    notes = []
    if seller.get("mentions"):
        notes.append(("REG", seller["mentions"]))
    notes.append(
        (
            "PMD",
            "En cas de retard de paiement, intérêts moratoires au taux de la Banque centrale "
            "européenne majoré de 8 points (acheteur public).",
        )
    )
    notes.append(
        ("PMT", "Indemnité forfaitaire pour frais de recouvrement en cas de retard : 40 €.")
    )
    notes.append(("AAB", "Pas d'escompte pour paiement anticipé."))
    return notes


def facturx_xml(
    *, invoice: Invoice, lines: Iterable[InvoiceLine], breakdown: Iterable[VatRow]
) -> bytes:
    """The invoice as a Cross Industry Invoice of the Factur-X EN 16931 profile (UTF-8)."""
    seller, buyer = invoice.seller, invoice.buyer
    registered = bool(seller.get("vat_number"))
    root = etree.Element(_q("rsm:CrossIndustryInvoice"), nsmap=NS)
    context = _sub(root, "rsm:ExchangedDocumentContext")
    process = _sub(context, "ram:BusinessProcessSpecifiedDocumentContextParameter")
    _sub(process, "ram:ID", BILLING_MODE_GOODS)
    guideline = _sub(context, "ram:GuidelineSpecifiedDocumentContextParameter")
    _sub(guideline, "ram:ID", EN16931)

    document = _sub(root, "rsm:ExchangedDocument")
    _sub(document, "ram:ID", invoice.number)
    _sub(document, "ram:TypeCode", COMMERCIAL_INVOICE)
    _date(document, "ram:IssueDateTime", invoice.issued_on)
    for subject, text in facturx_notes(invoice):
        note = _sub(document, "ram:IncludedNote")
        _sub(note, "ram:Content", text)
        _sub(note, "ram:SubjectCode", subject)

    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    for index, line in enumerate(lines, start=1):
        item = _sub(transaction, "ram:IncludedSupplyChainTradeLineItem")
        line_doc = _sub(item, "ram:AssociatedDocumentLineDocument")
        _sub(line_doc, "ram:LineID", str(index))
        product = _sub(item, "ram:SpecifiedTradeProduct")
        _sub(product, "ram:Name", line.description)
        agreement = _sub(item, "ram:SpecifiedLineTradeAgreement")
        price = _sub(agreement, "ram:NetPriceProductTradePrice")
        _sub(price, "ram:ChargeAmount", _plain(line.unit_price_ht))
        delivery = _sub(item, "ram:SpecifiedLineTradeDelivery")
        _sub(
            delivery,
            "ram:BilledQuantity",
            _plain(line.quantity),
            unitCode=UNIT_CODES.get(line.unit, "H87"),
        )
        settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:TypeCode", "VAT")
        category = _vat_category(line.vat_rate, registered=registered)
        _sub(tax, "ram:CategoryCode", category)
        if category != "O":
            _sub(tax, "ram:RateApplicablePercent", _amount(line.vat_rate))
        period = _sub(settlement, "ram:BillingSpecifiedPeriod")
        _date(period, "ram:StartDateTime", line.delivery_date)
        _date(period, "ram:EndDateTime", line.delivery_date)
        summation = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _sub(summation, "ram:LineTotalAmount", _amount(line.total_ht))

    agreement = _sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    if buyer.get("service_code"):
        _sub(agreement, "ram:BuyerReference", buyer["service_code"])
    seller_party = _sub(agreement, "ram:SellerTradeParty")
    _party_identity(
        seller_party,
        name=seller["name"],
        siret=seller["siret"],
        trade_name=seller.get("trade_name", ""),
    )
    _postal_address(
        seller_party,
        lines=[seller["address"]] if seller.get("address") else [],
        postcode=seller.get("postcode", ""),
        city=seller.get("city", ""),
        country=seller.get("country", "FR"),
    )
    _electronic_address(seller_party, siret=seller["siret"])
    if seller.get("vat_number"):
        registration = _sub(seller_party, "ram:SpecifiedTaxRegistration")
        _sub(registration, "ram:ID", seller["vat_number"], schemeID="VA")

    buyer_party = _sub(agreement, "ram:BuyerTradeParty")
    _party_identity(buyer_party, name=buyer["name"], siret=buyer.get("siret", ""))
    street, postcode, city = _address_lines(buyer.get("address", ""))
    _postal_address(
        buyer_party, lines=street, postcode=postcode, city=city, country=buyer.get("country", "FR")
    )
    _electronic_address(buyer_party, siret=buyer.get("siret", ""), email=buyer.get("email", ""))
    if buyer.get("order_reference"):
        order = _sub(agreement, "ram:BuyerOrderReferencedDocument")
        _sub(order, "ram:IssuerAssignedID", buyer["order_reference"])

    header_delivery = _sub(transaction, "ram:ApplicableHeaderTradeDelivery")
    ship_to = _sub(header_delivery, "ram:ShipToTradeParty")
    _sub(ship_to, "ram:Name", buyer.get("canteen") or buyer["name"])
    street, postcode, city = _address_lines(buyer.get("delivery_address", ""))
    _postal_address(ship_to, lines=street, postcode=postcode, city=city, country="FR")

    header = _sub(transaction, "ram:ApplicableHeaderTradeSettlement")
    _sub(header, "ram:PaymentReference", invoice.number)
    _sub(header, "ram:InvoiceCurrencyCode", "EUR")
    means = _sub(header, "ram:SpecifiedTradeSettlementPaymentMeans")
    if seller.get("iban"):
        _sub(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER)
        account = _sub(means, "ram:PayeePartyCreditorFinancialAccount")
        _sub(account, "ram:IBANID", seller["iban"])
    else:
        _sub(means, "ram:TypeCode", PAYMENT_MEANS_UNDEFINED)
    for row in breakdown:
        tax = _sub(header, "ram:ApplicableTradeTax")
        _sub(tax, "ram:CalculatedAmount", _amount(row.vat))
        _sub(tax, "ram:TypeCode", "VAT")
        category = _vat_category(row.rate, registered=registered)
        if category in ("E", "O"):
            _sub(tax, "ram:ExemptionReason", seller.get("mentions") or "TVA non applicable")
        _sub(tax, "ram:BasisAmount", _amount(row.basis))
        _sub(tax, "ram:CategoryCode", category)
        if category != "O":
            _sub(tax, "ram:RateApplicablePercent", _amount(row.rate))
    period = _sub(header, "ram:BillingSpecifiedPeriod")
    _date(period, "ram:StartDateTime", invoice.period_start)
    _date(period, "ram:EndDateTime", invoice.period_end)
    terms = _sub(header, "ram:SpecifiedTradePaymentTerms")
    _sub(
        terms,
        "ram:Description",
        f"Paiement {'par virement ' if seller.get('iban') else ''}"
        f"à {(invoice.due_on - invoice.issued_on).days} jours",
    )
    _date(terms, "ram:DueDateDateTime", invoice.due_on)
    summation = _sub(header, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(summation, "ram:LineTotalAmount", _amount(invoice.total_ht))
    _sub(summation, "ram:TaxBasisTotalAmount", _amount(invoice.total_ht))
    _sub(summation, "ram:TaxTotalAmount", _amount(invoice.total_vat), currencyID="EUR")
    _sub(summation, "ram:GrandTotalAmount", _amount(invoice.total_ttc))
    _sub(summation, "ram:DuePayableAmount", _amount(invoice.total_ttc))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def facturx_embed(*, pdf: bytes, xml: bytes, invoice: Invoice) -> bytes:
    """The printable PDF with ``factur-x.xml`` attached: a Factur-X PDF (EN 16931).

    The library checks the XML against the profile's XSD and raises if it does not hold,
    attaches it (``/AF``, ``/AFRelationship /Data``) and writes the XMP metadata declaring
    PDF/A-3b and Factur-X; ``pdfa3_complete`` adds what PDF/A-3 asks beyond that (the sRGB
    output intent, XMP ids and dates agreeing with the document information).
    """
    seller = invoice.seller.get("name", "")
    pdf = facturx.generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata={
            "author": seller,
            "keywords": "Factur-X, Facture",
            "title": f"{seller} : facture {invoice.number}",
            "subject": (
                f"Facture {invoice.number} du {invoice.issued_on:%d/%m/%Y} émise par {seller}"
            ),
        },
        lang="fr-FR",
        xmp_compression=False,
    )
    return pdfa3_complete(pdf)
