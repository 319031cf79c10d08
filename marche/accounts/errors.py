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


class VerificationLinkInvalid(DomainError):
    code = "verification_link_invalid"
    default_message = _(
        "Ce lien de confirmation n'est pas valable. Demandez un nouveau lien ci-dessous."
    )


class VerificationLinkExpired(DomainError):
    code = "verification_link_expired"
    default_message = _("Ce lien de confirmation a expiré. Demandez un nouveau lien ci-dessous.")


class InvitationForbidden(DomainError):
    code = "invitation_forbidden"
    status = 403
    default_message = _("Seule la coordination peut inviter des producteurs, cantines et livreurs.")


class InvitationInvalid(DomainError):
    code = "invitation_invalid"
    status = 404
    default_message = _(
        "Ce lien d'invitation n'est pas valable ou a déjà servi. "
        "Demandez une nouvelle invitation à la coordination."
    )


class InvitationExpired(DomainError):
    code = "invitation_expired"
    status = 410
    default_message = _(
        "Ce lien d'invitation a expiré. Demandez une nouvelle invitation à la coordination."
    )


class InvitationTargetInvalid(DomainError):
    code = "invitation_target_invalid"
    default_message = _(
        "Choisissez le producteur d'un producteur invité, la cantine d'un gestionnaire de "
        "cantine, le point relais d'un responsable de point relais, et rien pour un livreur, "
        "sur le territoire de l'invitation."
    )


class EmailAlreadyUsed(DomainError):
    code = "email_already_used"
    status = 409
    default_message = _("Un compte utilise déjà cette adresse e-mail.")
