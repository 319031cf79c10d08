"""One way to read the numbers people type: quantities, prices, mannes and ids.

French people type "1,5" and browsers or spreadsheets send "1.5"; both mean one and a half.
Everything else is refused with a clear French message and a stable code, before anything is
looked up or changed: exponents ("1e-9", "1E+30"), underscores ("1_000"), non-ASCII digits
("²", "١"), more decimals than the unit allows, or a magnitude no household, farmer or
canteen could mean. Forms, the CSV import, the API and the staff pages all call
:func:`parse_decimal` (through one of the :data:`KINDS`) and :func:`parse_id`, so a value
accepted in one place is accepted everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marche.errors import DomainError

# Spaces people and spreadsheets put between thousands: space, no-break and narrow no-break.
_GROUPING = str.maketrans("", "", " \u00a0\u202f")
# ASCII digits only; one separator (comma or dot); an optional leading minus for the check.
# A space inside the whole part is a thousands separator only between groups of three digits
# ("1 250,5"): "1 5" is a typo for 1,5 or 15, and guessing would multiply the value by ten.
_NUMBER = re.compile(
    r"^(?P<sign>[-+]?)"
    r"(?P<int>[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+|[0-9]*)"
    r"(?:[.,](?P<frac>[0-9]*))?$"
)
# "1.234,56": dots between groups of three digits, then a decimal comma, as many French people
# type a price; the comma makes the dots thousands separators beyond doubt. "1.234" alone stays
# one and a quarter thousandths (a browser's or spreadsheet's decimal dot).
_DOTTED_THOUSANDS = re.compile(r"^[-+]?[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]*$")
# "1,234.56": the English way round, which a French reader would take for 1,234: refused.
_ENGLISH_THOUSANDS = re.compile(r"^[-+]?[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]*$")
# PostgreSQL's bigint: ids above it cannot exist, and casting them would fail in the database.
BIGINT_MAX = 9_223_372_036_854_775_807
MAX_TEXT = 40


class InvalidNumber(DomainError):
    code = "invalid_number"
    default_message = _("Indiquez un nombre, par exemple 2,50.")


class InvalidId(DomainError):
    code = "invalid_id"
    default_message = _("Identifiant invalide.")


@dataclass(frozen=True, slots=True)
class NumberKind:
    """The bounds of one kind of number: how many decimals, smallest and largest value."""

    label: Promise | str
    places: int
    minimum: Decimal
    maximum: Decimal
    example: str
    # Units people type after the number, in lower case: "2,80 €", "1,5 kg", "2 h".
    suffixes: tuple[str, ...] = ()


KINDS: dict[str, NumberKind] = {
    # Counts of pieces, baskets, bunches: whole numbers.
    "count": NumberKind(_("La quantité"), 0, Decimal("0"), Decimal("10000"), "3"),
    # Weights and volumes, in kg or litres: to the gram.
    "weight": NumberKind(
        _("La quantité"), 3, Decimal("0"), Decimal("10000"), "1,5", ("kg", "l", "litre", "litres")
    ),
    # A farmer's stock of a product for one cycle (kg, litres or pieces).
    "stock": NumberKind(_("La quantité"), 3, Decimal("0"), Decimal("1000000"), "12,5"),
    # Prices in euros, to the cent.
    "price": NumberKind(
        _("Le prix"), 2, Decimal("0"), Decimal("100000"), "2,80", ("€", "eur", "euro", "euros")
    ),
    # Amounts of local currency, to the cent.
    "mannes": NumberKind(
        _("Le montant"), 2, Decimal("0"), Decimal("100000"), "10,50", ("manne", "mannes")
    ),
    # Hours of time given, to the quarter hour at most (two decimals).
    "hours": NumberKind(
        _("La durée"), 2, Decimal("0"), Decimal("1000"), "1,5", ("h", "heure", "heures")
    ),
}


def _refuse(kind: NumberKind, message: str, **params: object) -> InvalidNumber:
    return InvalidNumber(message, example=kind.example, **params)


def parse_decimal(
    text: object,
    kind: str | NumberKind,
    *,
    places: int | None = None,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Decimal:
    """Read a number typed by a person (comma or dot), bounded by its kind; or raise.

    ``kind`` names one of :data:`KINDS`; ``places``, ``minimum`` and ``maximum`` narrow it
    (a unit sold by the piece passes ``places=0``). A ``Decimal`` or an ``int`` goes through
    the same checks as text; a float is refused (money is never a float).
    """
    spec = KINDS[kind] if isinstance(kind, str) else kind
    places = spec.places if places is None else places
    low = spec.minimum if minimum is None else minimum
    high = spec.maximum if maximum is None else maximum
    what = str(spec.label)
    if isinstance(text, bool | float):
        raise _refuse(spec, str(_("%(what)s doit être écrit(e) en chiffres.")) % {"what": what})
    if isinstance(text, int):
        # str(), not format(..., "f"): that goes through a float (wrong past 2**53, and an
        # OverflowError past 1e308); a value longer than MAX_TEXT digits is refused unread.
        text = str(text) if text.bit_length() <= 4 * MAX_TEXT else "9" * (MAX_TEXT + 1)
    elif isinstance(text, Decimal):
        if not text.is_finite():
            text = str(text)  # "NaN", "Infinity": refused below as not a number
        elif abs(text.adjusted()) > MAX_TEXT:
            # "1E+999999999" would format to a billion digits: refused unformatted.
            text = "9" * (MAX_TEXT + 1)
        else:
            text = format(text, "f")
    raw = "" if text is None else str(text)
    if len(raw) > MAX_TEXT:
        raise _refuse(spec, str(_("%(what)s est trop long(ue).")) % {"what": what})
    cleaned = _without_suffix(raw.strip(), spec.suffixes)
    if not cleaned.translate(_GROUPING):
        raise _refuse(spec, str(_("Indiquez %(what)s.")) % {"what": what.lower()})
    if _DOTTED_THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(".", "")
    elif _ENGLISH_THOUSANDS.match(cleaned):
        raise _refuse(
            spec,
            str(
                _(
                    "%(what)s s'écrit avec une virgule avant les décimales et une espace (ou "
                    "rien) entre les milliers, par exemple %(example)s."
                )
            )
            % {"what": what, "example": _thousands_example(places)},
        )
    match = _NUMBER.match(cleaned)
    if match is None or not (match["int"] or match["frac"]):
        raise _refuse(
            spec,
            str(_("%(what)s doit être un nombre, par exemple %(example)s."))
            % {"what": what, "example": spec.example},
        )
    frac = (match["frac"] or "").rstrip("0")
    if len(frac) > places:
        message = (
            _("%(what)s doit être un nombre entier.")
            if places == 0
            else ngettext(
                "%(what)s a %(places)s décimale au plus.",
                "%(what)s a %(places)s décimales au plus.",
                places,
            )
        )
        raise _refuse(spec, str(message) % {"what": what, "places": places}, places=places)
    try:
        whole = match["int"].translate(_GROUPING) or "0"
        value = Decimal(f"{match['sign']}{whole}.{frac or '0'}")
    except InvalidOperation as error:  # pragma: no cover - the pattern only lets digits in
        raise _refuse(spec, str(_("Nombre illisible."))) from error
    if value < 0 <= low:
        raise _refuse(spec, str(_("Un nombre négatif n'est pas accepté ici.")), minimum=str(low))
    if value < low:
        raise _refuse(
            spec,
            str(_("%(what)s doit être au moins %(min)s.")) % {"what": what, "min": _fr(low)},
            minimum=str(low),
        )
    if value > high:
        raise _refuse(
            spec,
            str(_("%(what)s ne peut pas dépasser %(max)s.")) % {"what": what, "max": _fr(high)},
            maximum=str(high),
        )
    # 2.50 stays 2.50 for prices; a weight of "1,500" is 1.5: trailing zeros never matter.
    return value.quantize(Decimal(1).scaleb(-places)) if places else value.quantize(Decimal(1))


def parse_decimal_of(
    text: object,
    kind: str | NumberKind,
    *,
    name: str,
    places: int | None = None,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    **params: object,
) -> Decimal:
    """:func:`parse_decimal` for a value of a named thing (a product on an order, a line on a
    delivery): a refusal starts with the name ("Carottes : La quantité a 3 décimales au plus.")
    and carries ``params`` besides its own (where the value was typed: ``line=12``)."""
    try:
        return parse_decimal(text, kind, places=places, minimum=minimum, maximum=maximum)
    except InvalidNumber as error:
        raise InvalidNumber(
            _("%(product)s : %(message)s") % {"product": name, "message": error.message},
            **error.params,
            **params,
        ) from error


def _thousands_example(places: int) -> str:
    """A number past a thousand, written the French way with ``places`` decimals: "1 234,56"."""
    return "1\u00a0234" + ("," + "56789"[:places] if places else "")


def _without_suffix(text: str, suffixes: tuple[str, ...]) -> str:
    """ "2,80 €" -> "2,80": the unit a person typed after the number, if it is the field's."""
    lowered = text.lower()
    for suffix in sorted(suffixes, key=len, reverse=True):
        rest = lowered.removesuffix(suffix)
        if rest != lowered and rest[-1:] and (rest[-1].isdigit() or rest[-1].isspace()):
            return text[: len(rest)].rstrip()
    return text


def parse_id(text: object) -> int:
    """An id from a URL, a form or a file: ASCII digits only, within PostgreSQL's bigint."""
    raw = "" if text is None else str(text).strip()
    if isinstance(text, bool) or not raw or len(raw) > 19 or not raw.isascii() or not raw.isdigit():
        raise InvalidId()
    value = int(raw)
    if value < 1 or value > BIGINT_MAX:
        raise InvalidId()
    return value


def parse_id_or_none(text: object) -> int | None:
    """Like :func:`parse_id`, but an empty or invalid value is ``None`` (optional fields)."""
    try:
        return parse_id(text)
    except InvalidId:
        return None


def _fr(value: Decimal) -> str:
    """A bound as a French person writes it: 10 000, 0,5."""
    text = f"{value.normalize():f}"
    whole, _sep, frac = text.partition(".")
    grouped = f"{int(whole):,}".replace(",", "\u00a0")
    return f"{grouped},{frac}" if frac else grouped
