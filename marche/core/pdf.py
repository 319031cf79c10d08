"""What the project's PDF documents share (packing lists, route sheets)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas


class NumberedCanvas(Canvas):
    """A canvas (A4 unless told) that writes a footer and "page n / N" once the number of
    pages is known."""

    def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
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
            self.setFont("Helvetica", 8)
            self.setFillColor(colors.grey)
            self.drawString(15 * mm, 10 * mm, self._footer)
            self.drawRightString(
                self._pagesize[0] - 15 * mm,
                10 * mm,
                _("Page %(page)s / %(pages)s") % {"page": self._pageNumber, "pages": total},
            )
            super().showPage()
        super().save()
