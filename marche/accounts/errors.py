"""Refusals of API authentication, each with a stable code and a French message."""

from django.utils.translation import gettext_lazy as _

from marche.errors import DomainError


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    default_message = _(
        "Authentification requise : envoyez un jeton d'API valide "
        "(en-tête « Authorization: Bearer … »)."
    )


class RoleForbidden(DomainError):
    code = "forbidden"
    status = 403
    default_message = _("Votre compte n'a pas accès à cette partie de l'API.")
