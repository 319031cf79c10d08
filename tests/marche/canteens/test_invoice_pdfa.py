"""The canteen invoice is a PDF/A-3b Factur-X file: what can be checked without a validator.

The rules checked are those of ISO 19005-3 (PDF/A-3, level B) and of Factur-X 1.0 that a
reader can see in the file: every font program embedded, an sRGB output intent with its ICC
profile, the XMP declaring PDF/A-3B and agreeing with the document information, a file
identifier and no encryption, no transparency, and ``factur-x.xml`` attached as the
document's associated data, valid against the EN 16931 XSD.
"""

from __future__ import annotations

import io
from datetime import datetime

import facturx
import pytest
from lxml import etree
from PIL import ImageCms
from pypdf import PdfReader

from marche.canteens.invoicing import invoices_issue_month
from marche.canteens.models import Invoice
from tests.marche.canteens.test_invoicing import ISSUED, november  # noqa: F401
from tests.pdf_checks import pdf_fonts, unembedded_fonts

pytestmark = pytest.mark.django_db

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP_NS = {
    "rdf": RDF,
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
}


@pytest.fixture
def invoice_pdf(november) -> bytes:  # type: ignore[no-untyped-def]  # noqa: F811
    invoice = invoices_issue_month(year=2026, month=11, today=ISSUED)[0]
    return bytes(Invoice.objects.get(pk=invoice.pk).pdf)


def _xmp_value(root: etree._Element, prefix: str, name: str) -> str | None:
    """A simple XMP property, written as an element or as an attribute of a description."""
    element = root.find(f".//{{{XMP_NS[prefix]}}}{name}")
    if element is not None:
        items = element.findall(f".//{{{RDF}}}li")
        return (items[0].text if items else element.text) or ""
    for description in root.iter(f"{{{RDF}}}Description"):
        value = description.get(f"{{{XMP_NS[prefix]}}}{name}")
        if value is not None:
            return value
    return None


def test_every_font_of_every_page_is_embedded(invoice_pdf: bytes) -> None:
    assert pdf_fonts(invoice_pdf), "the invoice names no font at all"
    assert unembedded_fonts(invoice_pdf) == []


def test_an_srgb_output_intent_carries_its_icc_profile(invoice_pdf: bytes) -> None:
    root = PdfReader(io.BytesIO(invoice_pdf)).trailer["/Root"]
    intents = [intent.get_object() for intent in root.get("/OutputIntents", [])]
    pdfa = [intent for intent in intents if intent["/S"] == "/GTS_PDFA1"]
    assert len(pdfa) == 1
    assert pdfa[0]["/OutputConditionIdentifier"]
    profile = pdfa[0]["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3
    icc = ImageCms.ImageCmsProfile(io.BytesIO(profile.get_data())).profile
    assert icc.xcolor_space.strip() == "RGB"
    assert icc.device_class in ("mntr", "prtr")
    assert icc.version < 5


def test_the_xmp_declares_pdfa3b_and_agrees_with_the_document_information(
    invoice_pdf: bytes,
) -> None:
    reader = PdfReader(io.BytesIO(invoice_pdf))
    assert reader.pdf_header in ("%PDF-1.4", "%PDF-1.5", "%PDF-1.6", "%PDF-1.7")
    metadata = reader.trailer["/Root"]["/Metadata"].get_object()
    assert metadata["/Type"] == "/Metadata" and metadata["/Subtype"] == "/XML"
    packet = metadata.get_data()
    assert b"<?xpacket begin=" in packet and b"bytes=" not in packet.split(b"?>")[0]
    xmp = etree.fromstring(packet)
    assert _xmp_value(xmp, "pdfaid", "part") == "3"
    assert _xmp_value(xmp, "pdfaid", "conformance") == "B"
    assert len(xmp.findall(f".//{{{XMP_NS['pdfaid']}}}part")) == 1
    assert (_xmp_value(xmp, "xmpMM", "DocumentID") or "").startswith("uuid:")

    info = reader.metadata
    assert info is not None
    assert info["/Title"] == _xmp_value(xmp, "dc", "title")
    assert info["/Author"] == _xmp_value(xmp, "dc", "creator")
    assert info["/Subject"] == _xmp_value(xmp, "dc", "description")
    assert info["/Keywords"] == _xmp_value(xmp, "pdf", "Keywords")
    assert info["/Producer"] == _xmp_value(xmp, "pdf", "Producer")
    assert info["/Creator"] == _xmp_value(xmp, "xmp", "CreatorTool")
    assert info.creation_date == _parse_xmp_date(_xmp_value(xmp, "xmp", "CreateDate"))
    assert info.modification_date == _parse_xmp_date(_xmp_value(xmp, "xmp", "ModifyDate"))
    assert "/Trapped" not in info


def _parse_xmp_date(value: str | None) -> datetime:
    assert value
    return datetime.fromisoformat(value)


def test_the_file_has_an_identifier_no_encryption_and_no_transparency(invoice_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(invoice_pdf))
    file_id = reader.trailer.get("/ID")
    assert file_id is not None and len(file_id) == 2 and file_id[0] and file_id[1]
    assert "/Encrypt" not in reader.trailer
    for page in reader.pages:
        assert page.get("/Group") is None
        states = (page.get("/Resources") or {}).get("/ExtGState") or {}
        for state in states.values():
            state = state.get_object()
            assert state.get("/SMask", "/None") == "/None"
            assert float(state.get("/CA", 1)) == 1 and float(state.get("/ca", 1)) == 1
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        for xobject in xobjects.values():
            assert "/SMask" not in xobject.get_object()


def test_factur_x_xml_is_the_documents_associated_data_and_valid(invoice_pdf: bytes) -> None:
    root = PdfReader(io.BytesIO(invoice_pdf)).trailer["/Root"]
    names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    specs = {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}
    spec = specs["factur-x.xml"]
    assert spec["/F"] == "factur-x.xml" and spec["/UF"] == "factur-x.xml"
    assert spec["/AFRelationship"] == "/Data"
    assert spec in [item.get_object() for item in root["/AF"]]
    stream = spec["/EF"]["/F"].get_object()
    assert stream["/Subtype"] == "/text/xml"
    assert "/ModDate" in stream["/Params"]
    xml = stream.get_data()
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")


def test_french_text_and_amounts_read_back_from_the_page(invoice_pdf: bytes) -> None:
    text = PdfReader(io.BytesIO(invoice_pdf)).pages[0].extract_text()
    for expected in ("Échéance", "Désignation", "Net à payer", "€", "intérêts"):
        assert expected in text
