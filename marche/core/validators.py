"""Validators for the French and European business identifiers the invoices carry, and for
the phone numbers of the places a round stops at."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import iban as stdnum_iban
from stdnum.fr import siret as stdnum_siret

PHONE_TYPED = re.compile(r"\+?[0-9][0-9 .]*")


def validate_siret(value: str) -> None:
    """A SIRET: 14 digits whose Luhn check digit holds (La Poste's establishments excepted)."""
    if not stdnum_siret.is_valid(value):
        raise ValidationError(
            _("« %(value)s » n'est pas un numéro SIRET valide (14 chiffres, clé de contrôle)."),
            code="invalid_siret",
            params={"value": value},
        )


def validate_iban(value: str) -> None:
    """An IBAN whose country format and check digits hold (spaces allowed)."""
    if not stdnum_iban.is_valid(value):
        raise ValidationError(
            _("« %(value)s » n'est pas un IBAN valide."),
            code="invalid_iban",
            params={"value": value},
        )


def validate_phone(value: str) -> None:
    """A phone number as people type it: digits, spaces, dots, a leading + ("06 12 34 56 78",
    "+33 3 21 00 00 00", "03.21.00.00.00"), with 6 to 15 digits."""
    digits = sum(ch.isdigit() for ch in value)
    if not PHONE_TYPED.fullmatch(value) or not 6 <= digits <= 15:
        raise ValidationError(
            _(
                "« %(value)s » n'est pas un numéro de téléphone : des chiffres, des espaces ou "
                "des points, un + au début (06 12 34 56 78)."
            ),
            code="invalid_phone",
            params={"value": value},
        )
