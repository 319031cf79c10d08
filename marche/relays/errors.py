"""Refusals of the relay-point services, each with a stable code and a French message."""

from django.utils.translation import gettext_lazy as _

from marche.errors import DomainError, NotFound


class RelayPointNotFound(NotFound):
    code = "relay_point_not_found"
    default_message = _("Ce point relais n'existe pas ou n'est pas ouvert.")


class PickupSlotNotFound(NotFound):
    code = "pickup_slot_not_found"
    default_message = _("Ce créneau de retrait n'existe pas pour ce point relais et ce jour.")


class RelayPointFull(DomainError):
    code = "relay_point_full"
    status = 409
    default_message = _(
        "Ce point relais est complet pour ce jour de livraison : choisissez-en un autre."
    )


class PickupSlotFull(DomainError):
    code = "pickup_slot_full"
    status = 409
    default_message = _("Ce créneau de retrait est complet : choisissez-en un autre.")


class RelayOrderNotFound(NotFound):
    """No order with that reference to hand over here (unknown, or another relay point's)."""

    code = "relay_order_not_found"
    default_message = _("Aucune commande avec cette référence n'est à retirer à ce point relais.")


class PickupCycleNotFound(NotFound):
    code = "pickup_cycle_not_found"
    default_message = _("Ce cycle de commande n'existe pas pour ce point relais.")


class BasketPresenceUnconfirmed(DomainError):
    """A handover before the driver checked the delivery off needs the keeper's word."""

    code = "basket_presence_unconfirmed"
    default_message = _(
        "La livraison de ce point n'est pas encore pointée par le chauffeur : cochez « Le "
        "panier est bien là » après avoir vérifié qu'il est arrivé."
    )
