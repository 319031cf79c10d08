"""Template filters of the canteen pages."""

from __future__ import annotations

from datetime import date

from django import template
from django.utils.formats import date_format

from marche.orders.display import unit_label

register = template.Library()


@register.filter
def per_unit(unit: str) -> str:
    """The unit a price is per, in the singular: "kg", "douzaine"."""
    return unit_label(unit)


@register.filter
def months(numbers: list[int]) -> str:
    """The months a product is in season, in the active language: "janvier, février, mars"."""
    return ", ".join(date_format(date(2000, month, 1), "F") for month in sorted(numbers))
