"""Refusals of delivery planning: stable codes for programs, French messages for people."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marche.errors import DomainError, NotFound


class PlanningError(DomainError):
    """A delivery plan that cannot be built from the data as it is; nothing is stored."""

    code = "planning_error"
    default_message = _("Le plan de livraison ne peut pas être calculé.")


class CycleNotFound(NotFound):
    code = "cycle_not_found"
    default_message = _("Ce cycle de commande n'existe pas.")


class CycleStillOpen(PlanningError):
    code = "cycle_open"
    default_message = _(
        "Le cycle est encore ouvert aux commandes : il sera planifié après sa clôture."
    )


class NoVehicle(PlanningError):
    code = "no_vehicle"
    default_message = _(
        "Aucun véhicule actif dans ce territoire : ajoutez-en un avant de planifier."
    )


class MissingCoordinates(PlanningError):
    code = "missing_coordinates"
    default_message = _("Un lieu de la tournée n'a pas de coordonnées.")


class PlanPublished(PlanningError):
    code = "plan_published"
    status = 409
    default_message = _("Le plan de ce cycle est publié : il ne peut plus être recalculé.")
