"""Money helpers: Decimal from strings, one rounding rule, currencies never mixed.

Euros and mannes are different currencies; a :class:`Money` refuses to be added to another
currency, so a sum of euros and mannes cannot be written by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
EUR = "EUR"


def to_decimal(value: str | int | Decimal) -> Decimal:
    """Build a Decimal from a string, an int or a Decimal; floats are refused."""
    if isinstance(value, float):
        raise TypeError("Money amounts are never built from floats; pass a string.")
    return Decimal(value)


def round_money(value: Decimal) -> Decimal:
    """Round to the cent, half up (the single rounding rule of the project)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency (``EUR`` or a territory's local currency code)."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(f"Cannot combine {self.currency} with {other.currency}.")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def rounded(self) -> Money:
        """This amount rounded to the cent."""
        return Money(round_money(self.amount), self.currency)

    def cents(self) -> int:
        """Integer cents, for payment-provider boundaries only."""
        return int(round_money(self.amount) * 100)
