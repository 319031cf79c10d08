"""How the manne pages write numbers: French decimals, no useless zeros for hours."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def hours(value: Decimal | None) -> str:
    """1.50 → "1,5"; 2.00 → "2"; 0.25 → "0,25"."""
    if value is None:
        return ""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")
