"""Monthly canteen invoices: what is invoiced, numbers, amounts per VAT rate, Factur-X, reruns."""

from __future__ import annotations

import io
from datetime import date, time
from decimal import Decimal

import pytest
from django.core.management import call_command
from facturx import get_facturx_xml_from_pdf
from lxml import etree
from pypdf import PdfReader

from marche.canteens.facturx import NS
from marche.canteens.invoicing import (
    InvalidMonth,
    MonthNotEnded,
    NothingToInvoice,
    SellerIncomplete,
    invoice_issue,
    invoices_issue_month,
    month_parse,
    vat_breakdown,
)
from marche.canteens.models import (
    CanteenOrderStatus,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
)
from marche.cycles.models import OrderCycle
from tests.factories import OfferFactory, OrderCycleFactory, ProducerFactory, ProductFactory
from tests.factories.canteens import (
    CanteenFactory,
    CanteenOrderFactory,
    CanteenOrderLineFactory,
)

pytestmark = pytest.mark.django_db

ISSUED = date(2026, 12, 1)
SELLER_SIRET = "44135606000018"
IBAN = "FR7630006000011234567890189"


def make_producer(territory, **extra):  # type: ignore[no-untyped-def]
    """A farm that may invoice: legal name, SIRET, VAT number, IBAN and address."""
    values = {
        "territory": territory,
        "name": "Ferme des Hirondelles",
        "legal_name": "EARL des Hirondelles",
        "siret": SELLER_SIRET,
        "vat_number": "FR32441356060",
        "iban": IBAN,
        "address": "12 chemin des Marais",
        "postcode": "62750",
        "city": "Loos-en-Gohelle",
        "invoice_mentions": "EARL au capital de 7 500 €",
    }
    values.update(extra)
    return ProducerFactory(**values)


def make_exempt_producer(territory):  # type: ignore[no-untyped-def]
    """A farm under the "franchise en base": no VAT number, no IBAN on file."""
    return make_producer(
        territory,
        vat_number="",
        iban="",
        invoice_mentions="TVA non applicable, article 293 B du code général des impôts",
    )


def make_cycle(territory, delivery: date) -> OrderCycle:  # type: ignore[no-untyped-def]
    return OrderCycleFactory(
        territory=territory,
        opens_at=f"{delivery - (delivery - delivery.replace(day=1))}T08:00:00+01:00",
        closes_at=f"{delivery}T06:00:00+01:00",
        delivery_date=delivery,
    )


def deliver(  # type: ignore[no-untyped-def]
    canteen, producer, delivery: date, items: list[tuple[str, str, str, str]], cycle=None
):
    """An order of ``canteen`` delivered on ``delivery``: items (name, delivered, price, vat)."""
    cycle = cycle or make_cycle(canteen.territory, delivery)
    order = CanteenOrderFactory(
        canteen=canteen,
        cycle=cycle,
        delivery_date=delivery,
        window_starts_at=time(7, 30),
        window_ends_at=time(10),
        status=CanteenOrderStatus.DELIVERED,
    )
    lines = []
    for name, delivered, price, vat in items:
        product = ProductFactory(producer=producer, name=name, vat_rate=Decimal(vat))
        offer = OfferFactory(cycle=cycle, product=product)
        lines.append(
            CanteenOrderLineFactory(
                order=order,
                offer=offer,
                quantity_ordered=Decimal(delivered) if Decimal(delivered) > 0 else Decimal("1"),
                quantity_delivered=Decimal(delivered),
                unit_price_ht=Decimal(price),
                vat_rate=Decimal(vat),
            )
        )
    return order, lines


@pytest.fixture
def november(db):  # type: ignore[no-untyped-def]
    """A canteen delivered twice in November by one farm, at 5.5 % and 20 %."""
    canteen = CanteenFactory(
        name="Cantine maternelle Basly",
        buyer_siret="32212231800015",
        buyer_service_code="SERVICE-CANTINE",
        buyer_order_reference="ENG-2026-118",
        payment_terms_days=30,
    )
    producer = make_producer(canteen.territory)
    deliver(
        canteen,
        producer,
        date(2026, 11, 3),
        [
            ("Carottes bio", "12.500", "1.8750", "5.50"),
            ("Pommes de terre bio", "20", "1.1234", "5.50"),
        ],
    )
    deliver(
        canteen,
        producer,
        date(2026, 11, 17),
        [
            ("Carottes bio", "7.250", "1.8750", "5.50"),
            ("Jus de pomme pétillant", "6", "2.4167", "20.00"),
            # Ordered but nothing arrived: not invoiced.
            ("Poireaux bio", "0", "2.1000", "5.50"),
        ],
    )
    return canteen, producer


def test_one_invoice_per_producer_and_canteen_with_lines_and_totals(november) -> None:
    issued = invoices_issue_month(year=2026, month=11, today=ISSUED)

    assert len(issued) == 1 and issued.skipped == []
    invoice = issued[0]
    assert invoice.number == "2026-0001"
    assert (invoice.sequence_year, invoice.sequence_number) == (2026, 1)
    assert (invoice.period_start, invoice.period_end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert invoice.issued_on == ISSUED and invoice.due_on == date(2026, 12, 31)
    rows = list(
        invoice.lines.order_by("delivery_date", "description").values_list(
            "delivery_date", "description", "quantity", "unit_price_ht", "vat_rate", "total_ht"
        )
    )
    assert rows == [
        (date(2026, 11, 3), "Carottes bio", Decimal("12.500"), Decimal("1.8750"),
         Decimal("5.50"), Decimal("23.44")),  # 23.4375 rounded half up
        (date(2026, 11, 3), "Pommes de terre bio", Decimal("20.000"), Decimal("1.1234"),
         Decimal("5.50"), Decimal("22.47")),  # 22.468
        (date(2026, 11, 17), "Carottes bio", Decimal("7.250"), Decimal("1.8750"),
         Decimal("5.50"), Decimal("13.59")),  # 13.59375
        (date(2026, 11, 17), "Jus de pomme pétillant", Decimal("6.000"), Decimal("2.4167"),
         Decimal("20.00"), Decimal("14.50")),  # 14.5002
    ]  # fmt: skip
    # 5.5 %: basis 23.44 + 22.47 + 13.59 = 59.50, VAT 3.2725 -> 3.27; 20 %: 14.50 -> 2.90.
    assert invoice.total_ht == Decimal("74.00")
    assert invoice.total_vat == Decimal("6.17")
    assert invoice.total_ttc == Decimal("80.17")
    assert invoice.amount_paid == Decimal("0") and invoice.status == InvoiceStatus.ISSUED
    assert invoice.seller == {
        "name": "EARL des Hirondelles",
        "trade_name": "Ferme des Hirondelles",
        "address": "12 chemin des Marais",
        "postcode": "62750",
        "city": "Loos-en-Gohelle",
        "country": "FR",
        "siret": SELLER_SIRET,
        "vat_number": "FR32441356060",
        "iban": IBAN,
        "mentions": "EARL au capital de 7 500 €",
    }
    assert invoice.buyer["name"] == "Commune de Loos-en-Gohelle"
    assert invoice.buyer["siret"] == "32212231800015"
    assert invoice.buyer["service_code"] == "SERVICE-CANTINE"
    assert invoice.buyer["order_reference"] == "ENG-2026-118"
    assert invoice.buyer["address"] == "Place de la République\n62750 Loos-en-Gohelle"
    assert bytes(invoice.pdf).startswith(b"%PDF")


def test_vat_is_computed_per_rate_on_the_sum_of_the_lines() -> None:
    # Three lines of 0.10 € at 5.5 %: per line 0.0055 -> 0.01 each (0.03); on the sum, 0.02.
    rows = vat_breakdown(
        [(Decimal("5.50"), Decimal("0.10"))] * 3 + [(Decimal("20.00"), Decimal("1.03"))]
    )
    assert [(r.rate, r.basis, r.vat) for r in rows] == [
        (Decimal("5.50"), Decimal("0.30"), Decimal("0.02")),
        (Decimal("20.00"), Decimal("1.03"), Decimal("0.21")),
    ]


def _text(root, path: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [element.text for element in root.xpath(path, namespaces=NS)]


def test_the_pdf_is_factur_x_and_its_xml_matches_the_invoice(november) -> None:
    invoice = invoices_issue_month(year=2026, month=11, today=ISSUED)[0]
    pdf = bytes(Invoice.objects.get(pk=invoice.pk).pdf)

    filename, xml = get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    reader = PdfReader(io.BytesIO(pdf))
    assert "factur-x.xml" in reader.attachments
    assert b"fx:ConformanceLevel" in pdf or b"EN 16931" in reader.xmp_metadata.stream.get_data()
    root = etree.fromstring(xml)
    context = "//rsm:ExchangedDocumentContext/"
    assert _text(root, context + "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [
        "urn:cen.eu:en16931:2017"
    ]
    # The French billing mode (BT-23): goods, to be paid.
    assert _text(root, context + "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == [
        "B1"
    ]
    assert _text(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID") == ["2026-0001"]
    assert _text(root, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == [
        "20261201"
    ]
    # Lines: name, quantity, net unit price, VAT rate and total, as the invoice rows.
    items = root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS)
    from_xml = [
        (
            item.xpath("string(ram:SpecifiedTradeProduct/ram:Name)", namespaces=NS),
            Decimal(item.xpath("string(.//ram:BilledQuantity)", namespaces=NS)),
            Decimal(item.xpath("string(.//ram:NetPriceProductTradePrice/ram:ChargeAmount)",
                               namespaces=NS)),
            Decimal(item.xpath("string(.//ram:RateApplicablePercent)", namespaces=NS)),
            Decimal(item.xpath("string(.//ram:LineTotalAmount)", namespaces=NS)),
            item.xpath("string(.//ram:BilledQuantity/@unitCode)", namespaces=NS),
        )
        for item in items
    ]  # fmt: skip
    assert from_xml == [
        (line.description, line.quantity, line.unit_price_ht, line.vat_rate, line.total_ht, "KGM")
        for line in invoice.lines.order_by("delivery_date", "description", "pk")
    ]
    # VAT breakdown, one per rate, with its basis and amount.
    taxes = root.xpath(
        "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS
    )
    breakdown = [
        (
            Decimal(tax.xpath("string(ram:RateApplicablePercent)", namespaces=NS)),
            Decimal(tax.xpath("string(ram:BasisAmount)", namespaces=NS)),
            Decimal(tax.xpath("string(ram:CalculatedAmount)", namespaces=NS)),
            tax.xpath("string(ram:CategoryCode)", namespaces=NS),
        )
        for tax in taxes
    ]
    assert breakdown == [
        (Decimal("5.50"), Decimal("59.50"), Decimal("3.27"), "S"),
        (Decimal("20.00"), Decimal("14.50"), Decimal("2.90"), "S"),
    ]
    total = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
    assert _text(root, total + "ram:LineTotalAmount") == ["74.00"]
    assert _text(root, total + "ram:TaxBasisTotalAmount") == ["74.00"]
    assert _text(root, total + "ram:TaxTotalAmount") == ["6.17"]
    assert _text(root, total + "ram:GrandTotalAmount") == ["80.17"]
    assert _text(root, total + "ram:DuePayableAmount") == ["80.17"]
    assert _text(root, "//ram:SellerTradeParty/ram:GlobalID") == [SELLER_SIRET]
    assert _text(root, "//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID") == [
        SELLER_SIRET[:9]
    ]
    assert _text(root, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == [
        "FR32441356060"
    ]
    assert _text(root, "//ram:BuyerTradeParty/ram:GlobalID") == ["32212231800015"]
    assert _text(root, "//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID") == [
        "322122318"
    ]
    assert _text(root, "//ram:BuyerReference") == ["SERVICE-CANTINE"]
    assert _text(root, "//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == [
        "ENG-2026-118"
    ]
    assert _text(root, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == [IBAN]
    assert _text(root, "//ram:DueDateDateTime/udt:DateTimeString") == ["20261231"]


def test_the_pdf_prints_the_legal_mentions(november) -> None:
    invoice = invoices_issue_month(year=2026, month=11, today=ISSUED)[0]
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(bytes(invoice.pdf))).pages
    ).replace("\u00a0", " ")
    for expected in (
        "FACTURE",
        "2026-0001",
        "EARL des Hirondelles",
        "SIRET : 44135606000018",
        "FR32441356060",
        "Commune de Loos-en-Gohelle",
        "SIRET : 32212231800015",
        "Code service : SERVICE-CANTINE",
        "03/11/2026",
        "17/11/2026",
        "Jus de pomme pétillant",
        "1,1234 €",
        "5,5 %",
        "20 %",
        "74,00 €",
        "6,17 €",
        "80,17 €",
        "31/12/2026",
        "majoré de 8 points",
        "40 €",
        "FR76 3000 6000 0112 3456 7890 189",
    ):
        assert expected in text, expected


def test_a_second_run_issues_nothing(november) -> None:
    first = invoices_issue_month(year=2026, month=11, today=ISSUED)
    before = (
        Invoice.objects.count(),
        InvoiceLine.objects.count(),
        InvoiceSequence.objects.get().last_number,
    )

    again = invoices_issue_month(year=2026, month=11, today=date(2026, 12, 2))

    assert len(first) == 1 and list(again) == [] and again.skipped == []
    assert (Invoice.objects.count(), InvoiceLine.objects.count()) == before[:2] == (1, 4)
    assert InvoiceSequence.objects.get().last_number == before[2] == 1


def test_a_delivery_recorded_after_the_month_was_invoiced_gets_a_supplementary_invoice(
    november,
) -> None:
    canteen, producer = november
    first = invoices_issue_month(year=2026, month=11, today=ISSUED)
    pdf_before = bytes(first[0].pdf)
    # A delivery of November recorded after the invoice: the issued invoice never changes,
    # the late line gets its own invoice with the next number.
    deliver(canteen, producer, date(2026, 11, 24), [("Oignons", "3", "1.5000", "5.50")])

    late = invoices_issue_month(year=2026, month=11, today=ISSUED)

    assert [invoice.number for invoice in late] == ["2026-0002"]
    assert [line.description for line in late[0].lines.all()] == ["Oignons"]
    assert late[0].total_ht == Decimal("4.50")
    first[0].refresh_from_db()
    assert first[0].lines.count() == 4 and bytes(first[0].pdf) == pdf_before
    assert list(invoices_issue_month(year=2026, month=11, today=ISSUED)) == []
    with pytest.raises(NothingToInvoice) as refused:
        invoice_issue(issuer=producer, canteen=canteen, year=2026, month=11, today=ISSUED)
    assert refused.value.code == "nothing_to_invoice"
    assert InvoiceSequence.objects.get().last_number == 2


def test_a_month_not_ended_is_refused(november) -> None:
    for today in (date(2026, 11, 30), date(2026, 11, 15)):
        with pytest.raises(MonthNotEnded) as refused:
            invoices_issue_month(year=2026, month=11, today=today)
        assert refused.value.code == "month_not_ended"
        assert "mois" in refused.value.message
    assert Invoice.objects.count() == 0 and InvoiceSequence.objects.count() == 0


def test_numbers_follow_each_other_per_issuer_and_restart_each_year(november) -> None:
    canteen, producer = november
    other_canteen = CanteenFactory(territory=canteen.territory)
    deliver(other_canteen, producer, date(2026, 11, 5), [("Navets", "4", "1.2000", "5.50")])
    other_farm = make_producer(canteen.territory, name="Autre ferme", siret="80156026900012")
    deliver(canteen, other_farm, date(2026, 11, 6), [("Œufs", "30", "0.3000", "5.50")])
    deliver(canteen, producer, date(2026, 12, 2), [("Courges", "8", "1.4000", "5.50")])

    november_run = invoices_issue_month(year=2026, month=11, today=ISSUED)
    december_run = invoices_issue_month(year=2026, month=12, today=date(2027, 1, 4))

    assert sorted((i.issuer.name, i.canteen_id, i.number) for i in november_run) == sorted(
        [
            ("Ferme des Hirondelles", canteen.pk, "2026-0001"),
            ("Ferme des Hirondelles", other_canteen.pk, "2026-0002"),
            ("Autre ferme", canteen.pk, "2026-0001"),
        ]
    )
    assert [(i.number, i.sequence_year) for i in december_run] == [("2027-0001", 2027)]


def test_a_producer_without_siret_is_skipped_and_reported(november) -> None:
    canteen, producer = november
    no_siret = make_producer(canteen.territory, name="Ferme sans SIRET", siret="")
    deliver(canteen, no_siret, date(2026, 11, 9), [("Salades", "10", "0.9000", "5.50")])

    issued = invoices_issue_month(year=2026, month=11, today=ISSUED)

    assert [i.issuer for i in issued] == [producer]
    assert [(s.producer, s.canteen, s.code) for s in issued.skipped] == [
        (no_siret, canteen, "seller_incomplete")
    ]
    assert "SIRET" in issued.skipped[0].message
    assert not Invoice.objects.filter(issuer=no_siret).exists()
    assert not InvoiceSequence.objects.filter(issuer=no_siret).exists()
    with pytest.raises(SellerIncomplete):
        invoice_issue(issuer=no_siret, canteen=canteen, year=2026, month=11, today=ISSUED)


def test_only_delivered_uninvoiced_lines_of_the_month_and_territory(november) -> None:
    canteen, producer = november
    # October delivery, a cancelled order and another territory's canteen: not in this run.
    deliver(canteen, producer, date(2026, 10, 30), [("Octobre", "5", "1.0000", "5.50")])
    cancelled, _lines = deliver(
        canteen, producer, date(2026, 11, 20), [("Annulé", "5", "1", "5.5")]
    )
    cancelled.status = CanteenOrderStatus.CANCELLED
    cancelled.save()
    elsewhere = CanteenFactory()
    deliver(elsewhere, producer, date(2026, 11, 4), [("Ailleurs", "2", "1.0000", "5.50")])

    issued = invoices_issue_month(year=2026, month=11, territory=canteen.territory, today=ISSUED)

    assert len(issued) == 1
    assert sorted(issued[0].lines.values_list("description", flat=True)) == [
        "Carottes bio",
        "Carottes bio",
        "Jus de pomme pétillant",
        "Pommes de terre bio",
    ]
    with pytest.raises(NothingToInvoice):
        invoice_issue(issuer=producer, canteen=CanteenFactory(), year=2026, month=11, today=ISSUED)


def test_the_command_issues_and_prints_what_it_did(november) -> None:
    canteen, _producer = november
    make_producer(canteen.territory, name="Ferme sans SIRET", siret="")
    no_siret = canteen.territory.producers.get(name="Ferme sans SIRET")
    deliver(canteen, no_siret, date(2026, 11, 9), [("Salades", "10", "0.9000", "5.50")])
    out = io.StringIO()

    call_command("canteen_invoices", "--month", "2026-11", "--today", "2026-12-01", stdout=out)

    text = out.getvalue()
    assert "2026-0001" in text and "Ferme des Hirondelles" in text and "80,17" in text
    assert "Ferme sans SIRET" in text and "seller_incomplete" in text
    out = io.StringIO()
    call_command("canteen_invoices", "--month", "2026-11", "--today", "2026-12-01", stdout=out)
    assert "Aucune facture émise" in out.getvalue()


@pytest.mark.parametrize("text", ["2026-13", "2026/11", "nov", "", "26-11", "2026-1x"])
def test_a_badly_written_month_is_refused(text: str) -> None:
    with pytest.raises(InvalidMonth):
        month_parse(text)


def test_months_parse() -> None:
    assert month_parse("2026-11") == (2026, 11)
    assert month_parse(" 2027-1 ") == (2027, 1)


def test_a_seller_exempt_from_vat_prints_its_mention_and_the_xml_says_exempt(db) -> None:  # type: ignore[no-untyped-def]
    canteen = CanteenFactory(siret="73282932000074", buyer_siret="", buyer_service_code="")
    exempt = make_exempt_producer(canteen.territory)
    deliver(canteen, exempt, date(2026, 11, 10), [("Miel", "4", "6.5000", "0")])

    invoice = invoices_issue_month(year=2026, month=11, today=ISSUED)[0]

    assert (invoice.total_ht, invoice.total_vat, invoice.total_ttc) == (
        Decimal("26.00"),
        Decimal("0.00"),
        Decimal("26.00"),
    )
    assert invoice.buyer["siret"] == "73282932000074"  # the canteen's, without a buyer SIRET
    _name, xml = get_facturx_xml_from_pdf(bytes(invoice.pdf), check_xsd=True)
    root = etree.fromstring(xml)
    header_tax = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/"
    assert _text(root, header_tax + "ram:CategoryCode") == ["O"]  # no VAT number: outside VAT
    assert _text(root, header_tax + "ram:RateApplicablePercent") == []
    assert _text(root, header_tax + "ram:ExemptionReason") == [
        "TVA non applicable, article 293 B du code général des impôts"
    ]
    assert _text(root, "//ram:SpecifiedTaxRegistration/ram:ID") == []
    # No IBAN on file: no transfer can be named (CII-SR-470), the means is "not defined".
    assert _text(root, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["1"]
    assert _text(root, "//ram:BuyerReference") == []
    text = PdfReader(io.BytesIO(bytes(invoice.pdf))).pages[0].extract_text()
    assert "293 B" in text and "intracommunautaire" not in text
