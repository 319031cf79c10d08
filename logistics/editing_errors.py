"""Refusals of a coordinator's edits of a delivery plan: stable codes, French messages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from logistics.errors import PlanPublished
from marche.errors import DomainError, NotFound


class PlanNotFound(NotFound):
    code = "plan_not_found"
    default_message = _("Ce plan de livraison n'existe pas.")


class RouteNotFound(NotFound):
    code = "route_not_found"
    default_message = _("Cette tournée n'existe pas dans ce plan.")


class StopNotFound(NotFound):
    code = "stop_not_found"
    default_message = _("Cette étape n'existe pas dans ce plan.")


class NotAllowed(DomainError):
    code = "not_allowed"
    status = 403
    default_message = _(
        "Seuls les coordinateurs du territoire de ce cycle peuvent modifier son plan."
    )


class PlanVersionConflict(DomainError):
    code = "plan_conflict"
    status = 409
    default_message = _(
        "Le plan a été modifié par quelqu'un d'autre depuis que vous l'avez ouvert : "
        "rechargez la page."
    )


class PlanAlreadyPublished(PlanPublished):
    """The same code as a refused recomputation: a published plan is not edited either."""

    default_message = _("Le plan est publié : il ne peut plus être modifié.")


class PlanSolving(DomainError):
    code = "plan_solving"
    status = 409
    default_message = _(
        "Les tournées sont en cours de calcul : attendez la fin du calcul pour modifier le plan."
    )


class StopNotMovable(DomainError):
    code = "stop_not_movable"
    default_message = _("Seules les livraisons et les enlèvements peuvent changer de tournée.")


class InvalidPosition(DomainError):
    code = "invalid_position"
    default_message = _("Cette position n'existe pas dans la tournée.")


class RouteLocked(DomainError):
    code = "route_locked"
    status = 409
    default_message = _(
        "Cette tournée est verrouillée : déverrouillez-la avant d'y ajouter ou d'en retirer "
        "une étape."
    )


class MoveRefused(DomainError):
    code = "move_refused"
    default_message = _("Ce déplacement enfreindrait une règle de la tournée.")


class VehicleUnavailable(DomainError):
    code = "vehicle_unavailable"
    status = 409
    default_message = _(
        "Le véhicule de cette tournée n'est plus disponible ce jour-là : recalculez le plan."
    )


class UnservedUnknown(DomainError):
    code = "unserved_unknown"
    default_message = _("Ce lieu n'est pas dans la liste des étapes non desservies du plan.")


class InvalidDecision(DomainError):
    code = "invalid_decision"
    default_message = _(
        "Choisissez « un autre véhicule », « un autre jour » ou « retrait au dépôt »."
    )


class UnservedUndecided(DomainError):
    code = "unserved_undecided"
    status = 409
    default_message = _("Des étapes non desservies attendent une décision avant la publication.")


class PlanNotComputed(DomainError):
    code = "plan_not_computed"
    status = 409
    default_message = _(
        "Les tournées de ce plan ne sont pas calculées : lancez le calcul avant de publier."
    )
