"""What the tests check in the project's PDFs: fonts embedded, PDF/A-3 parts."""

from __future__ import annotations

import io
from collections.abc import Iterator

from pypdf import PdfReader
from pypdf.generic import DictionaryObject


def _resources_fonts(resources: DictionaryObject | None, seen: set[int]) -> Iterator:  # type: ignore[type-arg]
    if resources is None:
        return
    resources = resources.get_object()
    for _name, font in (resources.get("/Font") or {}).items():
        yield font.get_object()
    for _name, xobject in (resources.get("/XObject") or {}).items():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form" and id(xobject) not in seen:
            seen.add(id(xobject))
            yield from _resources_fonts(xobject.get("/Resources"), seen)


def pdf_fonts(pdf: bytes) -> list[DictionaryObject]:
    """Every font dictionary a page (or a form it draws) names."""
    reader = PdfReader(io.BytesIO(pdf))
    fonts = []
    for page in reader.pages:
        fonts += list(_resources_fonts(page.get("/Resources"), set()))
    return fonts


def unembedded_fonts(pdf: bytes) -> list[str]:
    """The base names of the fonts whose program is not in the file (empty when all are)."""
    missing = []
    for font in pdf_fonts(pdf):
        described = font
        if font.get("/Subtype") == "/Type0":
            described = font["/DescendantFonts"][0].get_object()
        descriptor = described.get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            missing.append(str(font.get("/BaseFont")))
    return missing
