"""The number parser's decimal-places message agrees with its number (no "décimale(s)")."""

from __future__ import annotations

import pytest

from marche.core.numbers import InvalidNumber, parse_decimal


@pytest.mark.parametrize(
    ("text", "kind", "places", "message"),
    [
        ("1,25", "price", 1, "Le prix a 1 décimale au plus."),
        ("1,255", "price", None, "Le prix a 2 décimales au plus."),
        ("1,2345", "weight", None, "La quantité a 3 décimales au plus."),
    ],
)
def test_decimal_places_message_is_singular_or_plural(text, kind, places, message) -> None:
    with pytest.raises(InvalidNumber) as refused:
        parse_decimal(text, kind, places=places)
    assert refused.value.message == message
