from decimal import Decimal

import pytest

from marche.money import Money, round_money, to_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.005", "0.01"), ("0.004", "0.00"), ("2.675", "2.68"), ("-0.005", "-0.01"), ("10", "10.00")],
)
def test_round_money_is_half_up_to_the_cent(value: str, expected: str) -> None:
    assert round_money(Decimal(value)) == Decimal(expected)


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        to_decimal(0.1)  # type: ignore[arg-type]


def test_euros_and_mannes_are_never_added() -> None:
    with pytest.raises(ValueError, match="EUR with MAN"):
        Money(Decimal("5"), "EUR") + Money(Decimal("5"), "MAN")


def test_same_currency_adds_and_converts_to_cents() -> None:
    total = Money(Decimal("2.675"), "EUR") + Money(Decimal("1"), "EUR")
    assert total == Money(Decimal("3.675"), "EUR")
    assert total.cents() == 368
