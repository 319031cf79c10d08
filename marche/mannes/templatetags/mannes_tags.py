"""How the manne pages write numbers: the page's language decides the decimal mark
(1,5 in French, 1.5 in English); no useless zeros for hours."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def hours(value: Decimal | None) -> str:
    """1.50 → "1,5" ("1.5" in English); 2.00 → "2"; 0.25 → "0,25"."""
    if value is None:
        return ""
    text = f"{value:f}"
    places = len(text.partition(".")[2].rstrip("0"))
    return number_format(value, decimal_pos=places)
