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


class VehicleWithoutDriver(PlanningError):
    code = "vehicle_without_driver"
    default_message = _(
        "Un véhicule actif n'a pas de chauffeur le jour de livraison : affectez-lui un "
        "chauffeur ou désactivez-le."
    )


class DriverShiftOutsideService(PlanningError):
    code = "driver_shift_outside_service"
    default_message = _("Le créneau du chauffeur ne recoupe pas les heures de service du véhicule.")


class WindowUnreachable(PlanningError):
    code = "window_unreachable"
    default_message = _(
        "Un lieu ne peut être atteint par aucun véhicule avant la fermeture de sa fenêtre horaire."
    )


class RoutingFailed(PlanningError):
    """The routing engine refused the problem or its distances: its code is kept."""

    code = "routing_failed"
    default_message = _("Le calcul des tournées a échoué.")

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class SolveCrashed(PlanningError):
    code = "solve_crashed"
    default_message = _(
        "Le calcul des tournées s'est arrêté sur une erreur inattendue : le brouillon "
        "précédent est gardé. Réessayez ou prévenez l'équipe technique."
    )


class PlanningNotAllowed(DomainError):
    code = "not_allowed"
    status = 403
    default_message = _(
        "Seule la coordination du territoire peut calculer les tournées de ce cycle."
    )


class InvalidTimeLimit(PlanningError):
    code = "invalid_time_limit"
    default_message = _("La durée de calcul doit être comprise entre 0,1 et 600 secondes.")


class DeliveryDatePast(PlanningError):
    code = "delivery_date_past"
    default_message = _(
        "La date de livraison de ce cycle est passée : ses tournées ne peuvent plus être calculées."
    )


class PlanSharesMismatch(PlanningError):
    """The computed plan would lose or double a share of the cycle's goods: nothing is stored."""

    code = "plan_shares_mismatch"
    default_message = _(
        "Le plan calculé ne livre pas chaque part des commandes exactement une fois : il n'est "
        "pas enregistré. Relancez le calcul ou prévenez l'équipe technique."
    )
