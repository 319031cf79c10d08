"""Refusals of the stock services, each with a stable code and a French message."""

from django.utils.translation import gettext_lazy as _

from marche.errors import DomainError, NotFound


class InvalidQuantity(DomainError):
    code = "invalid_quantity"
    default_message = _("La quantité doit être strictement positive.")


class OfferNotFound(NotFound):
    code = "offer_not_found"
    default_message = _("Ce produit n'est pas proposé dans ce cycle.")


class CycleClosed(DomainError):
    code = "cycle_closed"
    status = 409
    default_message = _("Ce cycle de commande n'est pas ouvert : les commandes sont closes.")


class OutOfStock(DomainError):
    code = "out_of_stock"
    status = 409
    default_message = _("Stock insuffisant : il n'en reste plus assez pour cette quantité.")


class HoldExpired(DomainError):
    code = "hold_expired"
    status = 409
    default_message = _("La réservation a expiré : le stock a été remis en vente.")
