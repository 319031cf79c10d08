"""Refusals of the catalogue services, each with a stable code and a French message."""

from django.utils.translation import gettext_lazy as _

from marche.errors import DomainError


class CertificationDatesInvalid(DomainError):
    code = "certification_dates_invalid"
    default_message = _("La fin de validité du certificat précède son début.")


class CertificationDuplicate(DomainError):
    code = "certification_duplicate"
    status = 409
    default_message = _("Ce certificat est déjà enregistré pour ce produit et ce label.")


class UnknownAllergen(DomainError):
    code = "unknown_allergen"
    default_message = _("Allergène inconnu.")


class WholesaleTermsInvalid(DomainError):
    code = "wholesale_terms_invalid"
    default_message = _("Le prix de gros et le minimum doivent être positifs.")
