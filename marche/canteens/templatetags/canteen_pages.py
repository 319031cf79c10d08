"""Template filters of the canteen pages."""

from __future__ import annotations

from django import template

from marche.orders.display import unit_label

register = template.Library()


@register.filter
def per_unit(unit: str) -> str:
    """The unit a price is per, in the singular: "kg", "douzaine"."""
    return unit_label(unit)
