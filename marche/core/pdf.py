"""What the project's PDF documents share (invoices, delivery notes, packing lists, route
sheets): embedded fonts, the footer with page numbers, and the PDF/A-3 colour and metadata
parts of an archived document.

Fonts: every PDF sets its text in Bitstream Vera, the TrueType family that ``reportlab``
itself ships (``reportlab/fonts``, Bitstream Vera licence), registered once here and embedded
(subset) in each document. reportlab's 14 standard fonts (Helvetica ...) are never embedded,
which a PDF/A file forbids and which leaves the glyphs to the reader's substitute font.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, cast

import reportlab
from django.utils.translation import gettext as _
from lxml import etree
from PIL import ImageCms
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)
from reportlab.lib import colors
from reportlab.lib.fonts import addMapping
from reportlab.lib.styles import StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Table as _Table
from reportlab.platypus import TableStyle

FONT = "MarcheSans"
FONT_BOLD = "MarcheSans-Bold"
FONT_ITALIC = "MarcheSans-Italic"
FONT_BOLD_ITALIC = "MarcheSans-BoldItalic"

_FONT_FILES = {
    FONT: "Vera.ttf",
    FONT_BOLD: "VeraBd.ttf",
    FONT_ITALIC: "VeraIt.ttf",
    FONT_BOLD_ITALIC: "VeraBI.ttf",
}
# Spaces French typography uses that Vera has no glyph for: drawn with the space glyph (as
# reportlab already does for the no-break space), never as the font's ".notdef" box.
_SPACE_ALIASES = (
    0x202F,  # narrow no-break space, before « ; : ! ? » and in amounts
    0x2009,  # thin space
    0x2007,  # figure space
)
# The standard fonts reportlab's sample styles and tables name, and their embedded stand-in.
_STANDARD_FONTS = {
    "Helvetica": FONT,
    "Helvetica-Bold": FONT_BOLD,
    "Helvetica-Oblique": FONT_ITALIC,
    "Helvetica-BoldOblique": FONT_BOLD_ITALIC,
    "Times-Roman": FONT,
    "Times-Bold": FONT_BOLD,
    "Times-Italic": FONT_ITALIC,
    "Times-BoldItalic": FONT_BOLD_ITALIC,
    "Courier": FONT,
    "Courier-Bold": FONT_BOLD,
    "Courier-Oblique": FONT_ITALIC,
    "Courier-BoldOblique": FONT_BOLD_ITALIC,
}


@cache
def fonts_register() -> None:
    """Register the embedded family once per process (``<b>``, ``<i>`` map within it)."""
    folder = Path(reportlab.__file__).parent / "fonts"
    for name, filename in _FONT_FILES.items():
        font = TTFont(name, str(folder / filename))
        face = font.face
        space_glyph, space_width = face.charToGlyph[0x20], face.charWidths[0x20]
        for code in _SPACE_ALIASES:
            face.charToGlyph.setdefault(code, space_glyph)
            face.charWidths.setdefault(code, space_width)
        pdfmetrics.registerFont(font)
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD_ITALIC
    )
    for bold, italic, name in ((0, 0, FONT), (1, 0, FONT_BOLD), (0, 1, FONT_ITALIC)):
        addMapping(FONT, bold, italic, name)
    addMapping(FONT, 1, 1, FONT_BOLD_ITALIC)


fonts_register()


def sample_styles() -> StyleSheet1:
    """reportlab's sample style sheet with every style set in the embedded family."""
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        for attribute in ("fontName", "bulletFontName"):
            name = getattr(style, attribute, None)
            if name is not None:
                setattr(style, attribute, _STANDARD_FONTS.get(name, name))
    return styles


class Table(_Table):
    """reportlab's table with every cell in the embedded family: a table sets the font of
    each cell it draws, even one holding only paragraphs, and reportlab's default is
    Helvetica. The table's own style (``style=`` or ``setStyle``) comes on top."""

    def __init__(self, data: Any, *args: Any, style: Any = None, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        if self._nrows and self._ncols:
            self.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT)]))
        if style:
            self.setStyle(style)


class NumberedCanvas(Canvas):
    """A canvas (A4 unless told) that writes a footer and "page n / N" once the number of
    pages is known. Its initial font (the one every page's preamble names) is the embedded
    family, so no page refers to a standard font."""

    def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
        # Document templates pass initialFontName=None: None means reportlab's Helvetica.
        kwargs["initialFontName"] = kwargs.get("initialFontName") or FONT
        super().__init__(*args, **kwargs)
        self._saved: list[dict[str, object]] = []
        self._footer = footer

    def showPage(self) -> None:
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved)
        for state in self._saved:
            self.__dict__.update(state)
            self.setFont(FONT, 8)
            self.setFillColor(colors.grey)
            self.drawString(15 * mm, 10 * mm, self._footer)
            self.drawRightString(
                self._pagesize[0] - 15 * mm,
                10 * mm,
                _("Page %(page)s / %(pages)s") % {"page": self._pageNumber, "pages": total},
            )
            super().showPage()
        super().save()


# PDF/A-3 ----------------------------------------------------------------------------------

SRGB = "sRGB IEC61966-2.1"
_XMP_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
}


@cache
def srgb_icc_profile() -> bytes:
    """An sRGB ICC profile (display class, RGB, 3 components), made by Pillow's LittleCMS
    at run time: no profile file to ship, and the same bytes on every machine."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _pdf_date(moment: datetime) -> str:
    return moment.strftime("D:%Y%m%d%H%M%S+00'00'")


def _xmp_set(description: etree._Element, prefix: str, name: str, value: str) -> None:
    tag = f"{{{_XMP_NS[prefix]}}}{name}"
    element = description.find(tag)
    if element is None:
        element = etree.SubElement(description, tag, nsmap={prefix: _XMP_NS[prefix]})
    element.text = value


def pdfa3_complete(pdf: bytes, *, moment: datetime | None = None) -> bytes:
    """Finish a PDF whose XMP metadata already declares PDF/A-3 (``pdfaid:part`` 3, as the
    ``factur-x`` library writes it) into a PDF/A-3b file.

    Adds what the library leaves out: the sRGB output intent with its embedded ICC profile
    (the colours reportlab writes are device RGB and grey, which PDF/A only accepts under an
    output intent), a document and an instance id in the XMP, and the agreement PDF/A asks
    between the document information dictionary and the XMP (``pdf:Keywords`` and
    ``pdf:Producer`` mirrored, both dates from one moment, no ``/Trapped`` key left alone
    in the dictionary). The XMP packet is the library's one, amended in place and left
    unfiltered; the trailer keeps a file identifier. Fonts are the caller's business: see
    ``FONT``.
    """
    moment = (moment or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    writer.pdf_header = "%PDF-1.7"
    root = writer._root_object

    icc = DecodedStreamObject()
    icc.set_data(srgb_icc_profile())
    profile = icc.flate_encode()
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject(SRGB),
            NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
            NameObject("/Info"): TextStringObject(SRGB),
            NameObject("/DestOutputProfile"): writer._add_object(profile),
        }
    )
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])

    metadata = cast(StreamObject, root["/Metadata"].get_object())
    packet = metadata.get_data()
    tree = etree.fromstring(packet.split(b"?>", 1)[1].rsplit(b"<?xpacket", 1)[0].strip())
    rdf = tree.find(f"{{{_XMP_NS['rdf']}}}RDF")
    if rdf is None or tree.find(f".//{{{_XMP_NS['pdfaid']}}}part") is None:
        raise ValueError("the PDF's XMP metadata does not declare a PDF/A part")
    about = {f"{{{_XMP_NS['rdf']}}}about": ""}
    description = etree.SubElement(rdf, f"{{{_XMP_NS['rdf']}}}Description", about)

    info = cast(DictionaryObject, writer._info.get_object() if writer._info else {})
    producer = tree.findtext(f".//{{{_XMP_NS['pdf']}}}Producer") or "pypdf"
    for element in tree.iter(f"{{{_XMP_NS['pdf']}}}Producer"):
        element.getparent().remove(element)
    _xmp_set(description, "pdf", "Producer", producer)
    keywords = str(info.get("/Keywords", ""))
    if keywords:
        _xmp_set(description, "pdf", "Keywords", keywords)
    for name in ("CreateDate", "ModifyDate", "MetadataDate"):
        for element in tree.iter(f"{{{_XMP_NS['xmp']}}}{name}"):
            element.getparent().remove(element)
        _xmp_set(description, "xmp", name, moment.isoformat())
    document_id = f"uuid:{uuid.uuid4()}"
    _xmp_set(description, "xmpMM", "DocumentID", document_id)
    _xmp_set(description, "xmpMM", "InstanceID", document_id)
    for element in rdf.findall(f"{{{_XMP_NS['rdf']}}}Description"):
        if len(element) == 0 and not element.attrib.keys() - about.keys():
            rdf.remove(element)
        else:
            element.attrib.update(about)
    text = etree.tostring(tree, encoding="unicode", pretty_print=True)
    head = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    metadata.set_data(f'{head}\n{text}<?xpacket end="w"?>'.encode())

    writer.add_metadata(
        {
            "/Producer": producer,
            "/CreationDate": _pdf_date(moment),
            "/ModDate": _pdf_date(moment),
        }
    )
    info = cast(DictionaryObject, writer._info.get_object() if writer._info else {})
    info.pop(NameObject("/Trapped"), None)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
