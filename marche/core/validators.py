"""Validators for the French and European business identifiers the invoices carry."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import iban as stdnum_iban
from stdnum.fr import siret as stdnum_siret


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
