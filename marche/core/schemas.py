"""API field types shared by every app: ids, the numbers people type, decimals returned.

Inputs go through the one parser (:mod:`marche.core.numbers`), so the API accepts what the
site accepts ("1,5" and 1.5 alike) and refuses the rest with the same code and French
message (``invalid_number``, ``invalid_id``: a 400 in the API's error shape). The JSON
schema of each type says what is accepted, so generated clients and schemathesis see the
real bounds; outputs say what is really returned (decimals as plain strings, "2.50").
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from marche.core.numbers import BIGINT_MAX, KINDS, InvalidId, InvalidNumber, parse_decimal, parse_id
from marche.errors import DomainError

# What a decimal looks like on the way out: plain digits, a dot, never an exponent.
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


def _field_error(error: DomainError) -> PydanticCustomError:
    """The parser's refusal as a validation error of its field, keeping code and message.

    Pydantic then reports every invalid field at once; ``marche.api`` answers a lone one
    with the parser's own code and French message (as the site does), several with
    ``invalid_input`` listing them.
    """
    return PydanticCustomError(error.code, error.message, {"params": error.params})


def _not_null(value: object) -> None:
    # null is a validation error pydantic handles (it moves on to ``| None`` in a union, or
    # reports the field as missing), not a refusal raised past it.
    if value is None:
        raise PydanticCustomError("null", "A value is required.")


def _id(value: object) -> int:
    """An id from JSON (an integer) or from a URL or query string (ASCII digits)."""
    _not_null(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= BIGINT_MAX:
        return value
    try:
        return parse_id(value if isinstance(value, str) else None)
    except InvalidId as error:
        raise _field_error(error) from error


Id = Annotated[
    int,
    BeforeValidator(_id),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX}),
]
"""A database id: 1 to PostgreSQL's bigint; anything else is ``invalid_id`` (400)."""


def _number_schema(kind: str) -> dict[str, Any]:
    spec = KINDS[kind]
    digits = len(str(int(spec.maximum)))
    frac = rf"([.,][0-9]{{0,{spec.places}}})?" if spec.places else r"([.,]0*)?"
    if spec.places == 0:
        places_text = "sans décimale"
    else:
        places_text = f"{spec.places} décimale{'s' if spec.places > 1 else ''} au plus"
    return {
        "anyOf": [
            {
                "type": "string",
                "pattern": rf"^[0-9]{{1,{digits}}}{frac}$",
                "examples": [spec.example],
            },
            {
                "type": "number" if spec.places else "integer",
                "minimum": float(spec.minimum) if spec.places else int(spec.minimum),
                "maximum": float(spec.maximum) if spec.places else int(spec.maximum),
            },
        ],
        "description": (
            f"Nombre (virgule ou point, {places_text}, "
            f"de {spec.minimum} à {spec.maximum}) ; sans exposant."
        ),
    }


def _typed_number(kind: str) -> Any:
    def parse(value: object) -> Decimal:
        # A JSON number arrives as a float: its shortest form is what the client wrote
        # ("1.5"), which the parser reads as text; "1e-09" or "1e+30" are refused as typed.
        _not_null(value)
        text = repr(value) if isinstance(value, float) else value
        try:
            return parse_decimal(text, kind)
        except InvalidNumber as error:
            raise _field_error(error) from error

    return Annotated[Decimal, BeforeValidator(parse), WithJsonSchema(_number_schema(kind))]


Count = _typed_number("weight")
"""How many items, or how much by weight or volume: up to 10 000, to the gram."""
Stock = _typed_number("stock")
"""A farmer's quantity on offer: up to 1 000 000, to the gram."""
Price = _typed_number("price")
"""A price in euros, to the cent."""


DecimalOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: format(value, "f"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN, "examples": ["2.50"]}),
]
"""A decimal as the API returns it: a string of plain digits ("2.50", "1.500")."""


LocalTime = Annotated[
    time,
    PlainSerializer(lambda value: value.isoformat(timespec="seconds"), return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "format": "partial-time",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$",
            "examples": ["16:00:00"],
            "description": "Heure locale du lieu, sans décalage horaire (ex. 16:00:00).",
        }
    ),
]
"""A wall-clock time at a place ("16:00:00"), read with the date beside it in its time zone.

JSON Schema's ``time`` format is RFC 3339's full-time, which requires an offset; these times
have none, so they are declared as RFC 3339's partial-time with the pattern they follow.
"""


class ErrorOut(Schema):
    """Every refusal: a stable ``code`` for programs, a ``message`` for people."""

    code: str = Field(examples=["invalid_number"])
    message: str
    params: dict[str, Any] | None = Field(
        None, description="Détails (champ, bornes, erreurs de validation) selon le code."
    )
