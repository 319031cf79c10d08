"""The one parser of numbers people type: what it accepts, and what it refuses clearly."""

from decimal import Decimal

import pytest

from marche.core.numbers import (
    BIGINT_MAX,
    InvalidId,
    InvalidNumber,
    parse_decimal,
    parse_decimal_of,
    parse_id,
    parse_id_or_none,
)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("1,5", "weight", Decimal("1.500")),
        ("1.5", "weight", Decimal("1.500")),
        (" 2,80 ", "price", Decimal("2.80")),
        ("2,8", "price", Decimal("2.80")),
        ("1 250,5", "stock", Decimal("1250.500")),
        ("1\u202f250", "stock", Decimal("1250.000")),
        ("3", "count", Decimal("3")),
        ("3,000", "count", Decimal("3")),
        (",5", "weight", Decimal("0.500")),
        ("0", "count", Decimal("0")),
        (Decimal("10.5"), "mannes", Decimal("10.50")),
        (7, "count", Decimal("7")),
    ],
)
def test_numbers_typed_the_french_or_the_browser_way_are_read(text, kind, expected):
    value = parse_decimal(text, kind)
    assert value == expected
    assert str(value) == str(expected)


@pytest.mark.parametrize(
    "text",
    [
        "1e-9",
        "1E+30",
        "1_000",
        "²",
        "1²",
        "١٢",
        "0.0000001",
        "1,2,3",
        "1.2.3",
        "abc",
        "",
        "   ",
        "-1",
        "NaN",
        "Infinity",
        "9" * 5000,
        "10001",
        None,
        1.5,
        True,
    ],
)
def test_anything_else_is_refused_with_a_french_message_and_a_stable_code(text):
    with pytest.raises(InvalidNumber) as refused:
        parse_decimal(text, "weight")
    assert refused.value.code == "invalid_number"
    assert refused.value.message
    assert "invalid" not in refused.value.message.lower()


def test_a_count_refuses_decimals_and_says_it_wants_a_whole_number():
    with pytest.raises(InvalidNumber) as refused:
        parse_decimal("1,5", "count")
    assert refused.value.message == "La quantité doit être un nombre entier."


def test_bounds_can_be_narrowed_and_are_written_the_french_way():
    with pytest.raises(InvalidNumber) as refused:
        parse_decimal("0", "price", minimum=Decimal("0.01"))
    assert refused.value.message == "Le prix doit être au moins 0,01."
    with pytest.raises(InvalidNumber) as refused:
        parse_decimal("20000", "weight")
    assert refused.value.message == "La quantité ne peut pas dépasser 10\u00a0000."
    assert parse_decimal("2", "weight", places=0) == Decimal("2")


@pytest.mark.parametrize("text", ["1", " 42 ", str(BIGINT_MAX)])
def test_ids_are_ascii_digits_within_bigint(text):
    assert parse_id(text) == int(text)


@pytest.mark.parametrize(
    "text", ["", "0", "-1", "²", "1²", "١", str(BIGINT_MAX + 1), "9" * 40, "1.0", None, True, "abc"]
)
def test_other_ids_are_refused(text):
    with pytest.raises(InvalidId):
        parse_id(text)
    assert parse_id_or_none(text) is None


@pytest.mark.parametrize(
    "value",
    [10**400, -(10**400), 2**53 + 1, Decimal("1E+999999999"), Decimal("1E-50"), Decimal("NaN")],
    ids=["1e400", "-1e400", "2**53+1", "1E+999999999", "1E-50", "NaN"],
)
def test_huge_ints_and_decimals_are_refused_without_being_formatted(value):
    # A JSON body may carry 10**400 (an int) or a Decimal with a huge exponent: formatting
    # them with "f" went through a float (OverflowError, a 500) or built a billion digits.
    with pytest.raises(InvalidNumber) as refused:
        parse_decimal(value, "stock")
    assert refused.value.code == "invalid_number"


def test_ints_are_read_exactly_not_through_a_float():
    assert parse_decimal(123456789012, "stock", maximum=Decimal(10**15)) == Decimal(
        "123456789012.000"
    )
    assert parse_decimal(9007199254740993, "stock", maximum=Decimal(10**17)) == Decimal(
        "9007199254740993.000"
    )


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("1 250", "stock", Decimal("1250.000")),
        ("999 999,5", "stock", Decimal("999999.500")),
        ("2,8 €", "price", Decimal("2.80")),
        ("2,80€", "price", Decimal("2.80")),
        (" 1,25 kg", "weight", Decimal("1.250")),
        ("1,5 h", "hours", Decimal("1.50")),
        ("10,5 mannes", "mannes", Decimal("10.50")),
    ],
)
def test_thousands_groups_and_the_fields_own_unit_are_read(text, kind, expected):
    assert parse_decimal(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("1 5", "weight"),  # a typo for 1,5 or 15: never guessed as 15
        ("2 5", "weight"),
        ("5 0", "stock"),
        ("12 34", "stock"),
        ("1 2345", "stock"),
        ("1,2 5", "weight"),
        ("500 g", "weight"),  # a unit that is not the field's
        ("2,80 kg", "price"),
        ("€", "price"),
        ("kg", "weight"),
    ],
)
def test_a_space_that_is_not_a_thousands_separator_or_another_unit_is_refused(text, kind):
    with pytest.raises(InvalidNumber):
        parse_decimal(text, kind)


def test_a_negative_number_says_so_whatever_the_field():
    for kind in ("weight", "hours", "price"):
        with pytest.raises(InvalidNumber) as refused:
            parse_decimal("-2", kind)
        assert refused.value.message == "Un nombre négatif n'est pas accepté ici."


def test_a_named_value_is_refused_with_its_name_and_where_it_was_typed():
    assert parse_decimal_of("12,5", "stock", name="Carottes", places=3, line=7) == Decimal("12.500")
    with pytest.raises(InvalidNumber) as raised:
        parse_decimal_of("2,5", "stock", name="Yaourts nature", places=0, offer=41, line=3)
    assert raised.value.message == "Yaourts nature : La quantité doit être un nombre entier."
    assert raised.value.code == "invalid_number"
    assert raised.value.params == {"example": "12,5", "places": 0, "offer": 41, "line": 3}
