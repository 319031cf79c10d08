"""How the household pages write quantities and units: French numbers, translated units.

An order line copies its product's unit code ("piece") so that a past order never changes;
these helpers turn the code into the word of the active language, in the singular or the
plural, at display time (never at import time).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext, npgettext

from marche.catalog.models import Unit


def format_quantity(value: Decimal) -> str:
    """A count or weight without trailing zeros, as the active language writes it: "1,5"."""
    whole = value == value.to_integral_value()
    return number_format(value.quantize(Decimal(1)) if whole else value.normalize(), use_l10n=True)


def _plural_n(count: Decimal) -> int:
    # gettext plural rules take integers; below 2, French keeps the singular (1,5 kilo).
    if count == count.to_integral_value():
        return int(min(count, Decimal(1_000_000)))
    return 1 if count < 2 else 2


def unit_label(unit: str, count: Decimal = Decimal(1)) -> str:
    """The word for a unit code in the active language, agreeing with ``count``."""
    n = _plural_n(count)
    match unit:
        case Unit.KG:
            return gettext("kg")
        case Unit.PIECE:
            return npgettext("unité", "pièce", "pièces", n)
        case Unit.BUNCH:
            return npgettext("unité", "botte", "bottes", n)
        case Unit.DOZEN:
            return npgettext("unité", "douzaine", "douzaines", n)
        case Unit.LITRE:
            return npgettext("unité", "litre", "litres", n)
    return unit


def quantity_label(count: Decimal, unit: str) -> str:
    """A count with its unit: "1,5 kg", "2 douzaines"."""
    return f"{format_quantity(count)} {unit_label(unit, count)}"


def line_count_label(*, count: Decimal, unit: str, by_count: bool) -> str:
    """How much of a line, written before its name: "1,5 kg", "2 douzaines", or "2 ×".

    ``by_count`` lines (baskets, variants, pieces of a variable-weight product) are counted
    items: "2 ×". So are products sold by the piece, whose unit word adds nothing before the
    name; other units are measures and keep their word.
    """
    if by_count or not unit or unit == Unit.PIECE:
        return f"{format_quantity(count)} ×"
    return quantity_label(count, unit)
