"""Filters of the household pages: amounts, quantities and units in the active language."""

from __future__ import annotations

from decimal import Decimal

from django import template

from marche.accounts.models import User
from marche.money import EUR, format_money
from marche.orders.display import format_quantity, line_count_label, quantity_label, unit_label
from marche.orders.models import LineKind, Order, OrderLine
from marche.orders.selectors import order_list_for_customer

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = EUR) -> str:
    """``{{ total|money }}`` gives "27,15 €" in French, "27.15 €" in English."""
    return "" if amount is None else format_money(amount, currency)


@register.filter
def quantity(value: Decimal | None) -> str:
    """``{{ line.count|quantity }}`` gives "1,5" (no trailing zeros)."""
    return "" if value is None else format_quantity(value)


@register.filter(name="unit")
def unit_filter(unit: str, count: Decimal | None = None) -> str:
    """``{{ line.unit|unit:line.count }}`` gives "pièces" on a French page."""
    return unit_label(unit, Decimal(1) if count is None else Decimal(str(count)))


@register.filter
def with_unit(count: Decimal | None, unit: str) -> str:
    """``{{ line.count|with_unit:line.unit }}`` gives "1,5 kg", "2 douzaines"."""
    return "" if count is None else quantity_label(count, unit)


@register.filter
def line_count(line: OrderLine) -> str:
    """``{{ line|line_count }}`` gives "1,5 kg" for carrots by weight, "2 ×" for a basket."""
    by_count = line.kind != LineKind.ITEM or bool(line.variant_id) or line.is_variable_weight
    return line_count_label(count=line.count, unit=line.unit, by_count=by_count)


@register.simple_tag
def recent_orders(user: object, limit: int = 5) -> list[Order]:
    """``{% recent_orders user as orders %}``: a household's latest orders, for its account page.

    A tag rather than a value from the account view, so that accounts need not import orders.
    """
    if not isinstance(user, User) or not user.is_authenticated:
        return []
    return list(order_list_for_customer(customer=user)[:limit])
