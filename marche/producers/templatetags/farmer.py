"""Template filters of the farmer dashboard."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from marche.catalog.models import Product, Unit
from marche.orders.display import quantity_label, unit_label

register = template.Library()


@register.filter
def quantity(value: Decimal | None) -> str:
    """A stock quantity without useless zeros, localised: 10.000 -> "10", 2.500 -> "2,5"."""
    if value is None:
        return ""
    return number_format(Decimal(f"{value.normalize():f}"))


@register.filter
def with_unit(value: Decimal | None, unit: str) -> str:
    """A quantity and its unit word agreeing with it: "30 pièces", "1 pièce", "2,5 kg"."""
    if value is None:
        return ""
    return quantity_label(value, unit)


@register.filter
def unit_for(unit: str, count: Decimal | None) -> str:
    """The unit word agreeing with ``count``: ``{{ product.unit|unit_for:offer.quantity_held }}``
    gives "pièces" for 0 or 29, "pièce" for 1."""
    return unit_label(unit, Decimal(0) if count is None else count)


@register.filter
def units(unit: str) -> str:
    """The unit word in the plural, for a label: "Quantité (pièces)"."""
    return unit_label(unit, Decimal(2))


@register.filter
def price_unit(product: Product) -> str:
    """What the price is per: a kg for a variable-weight product (counted in pieces)."""
    return unit_label(Unit.KG if product.is_variable_weight else product.unit)
