"""Money helpers: Decimal from strings, one rounding rule, currencies never mixed.

Euros and mannes are different currencies; a :class:`Money` refuses to be added to another
currency, so a sum of euros and mannes cannot be written by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

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


def format_money(amount: Decimal, currency: str = EUR) -> str:
    """An amount to the cent as the active language writes it: "1 234,50 €" in French.

    ``currency`` is ``EUR`` (shown as €) or the name to show after a local currency amount
    ("mannes"). Every message and page that shows an amount goes through this function.
    """
    text = number_format(round_money(to_decimal(amount)), 2, force_grouping=True)
    return f"{text} {'€' if currency == EUR else currency}"


# Split tender ----------------------------------------------------------------------------------
#
# A territory prices its local currency with a rate: what one unit is worth in euros
# (``Territory.local_currency_euro_rate``; 1 in the demo, 0.90 or 1.25 elsewhere). An order
# is priced in euros; the household may pay part of it in local currency. The manne amount is
# converted to euros once, at that rate, rounded by ``round_money``; the euro rest is the
# total less that value. Every place that needs the split (the cart, the order, the amount
# due at pickup, the card payment, the payout report, the Stripe transfers) goes through
# these helpers, so they agree to the cent.


def local_currency_value(mannes: Decimal, rate: Decimal) -> Decimal:
    """What an amount of local currency is worth in euros at ``rate``, rounded to the cent."""
    return round_money(to_decimal(mannes) * to_decimal(rate))


def local_currency_for(euros: Decimal, rate: Decimal) -> Decimal:
    """The most local currency, to the cent, worth no more than ``euros`` at ``rate``.

    Rounded down, so that paying it never covers more than ``euros``.
    """
    rate = to_decimal(rate)
    if rate <= 0:
        raise ValueError("A local currency rate is strictly positive.")
    return (to_decimal(euros) / rate).quantize(CENT, rounding=ROUND_DOWN)


def tender_split(total_eur: Decimal, mannes: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """Split an order's euro total into ``(euro_part, manne_value_eur)``.

    ``manne_value_eur`` is ``mannes`` converted once at ``rate``; ``euro_part`` is what is
    left to pay in euros, never negative (an order whose total fell after packing below the
    mannes it was paid with has nothing left to pay in euros).
    """
    value = local_currency_value(mannes, rate)
    return max(to_decimal(total_eur) - value, Decimal("0.00")), value


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
