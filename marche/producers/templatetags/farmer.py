"""Template filters of the farmer dashboard."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def quantity(value: Decimal | None) -> str:
    """A stock quantity without useless zeros, localised: 10.000 -> "10", 2.500 -> "2,5"."""
    if value is None:
        return ""
    return number_format(Decimal(f"{value.normalize():f}"))
