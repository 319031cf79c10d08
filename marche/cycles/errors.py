"""Refusals of the cycle services (stock, farmers' offers): a stable code, a French message."""

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


class InvalidSchedule(DomainError):
    code = "invalid_schedule"
    default_message = _(
        "Calendrier invalide : la clôture des commandes doit venir après leur ouverture."
    )


class CycleNotFound(NotFound):
    code = "cycle_not_found"
    default_message = _("Ce cycle de commande n'existe pas.")


class ProductNotFound(NotFound):
    code = "product_not_found"
    default_message = _("Ce produit n'existe pas ou a été retiré du catalogue.")


class NotYourProducer(DomainError):
    code = "not_your_producer"
    status = 403
    default_message = _(
        "Vous n'êtes pas membre de ce producteur : vous ne pouvez pas modifier ses offres."
    )


class InvalidPrice(DomainError):
    code = "invalid_price"
    default_message = _("Le prix doit être strictement positif, au centime près.")


class QuantityBelowCommitted(DomainError):
    code = "quantity_below_committed"
    status = 409
    default_message = _(
        "La quantité ne peut pas être inférieure à ce qui est déjà réservé ou vendu."
    )


class OfferAlreadyPublished(DomainError):
    code = "offer_exists"
    status = 409
    default_message = _("Ce produit est déjà proposé dans ce cycle : modifiez l'offre existante.")


class PriceUnusual(DomainError):
    code = "price_unusual"
    default_message = _(
        "Ce prix est très éloigné du prix habituel de ce produit : vérifiez-le, puis confirmez-le."
    )


class MaxPerOrderExceeded(DomainError):
    code = "max_per_order_exceeded"
    status = 409
    default_message = _("Cette quantité dépasse le maximum par commande fixé par le producteur.")


class OfferWithdrawn(DomainError):
    code = "offer_withdrawn"
    status = 409
    default_message = _("Ce produit a été retiré de la vente par son producteur.")


class InvalidMaxPerOrder(DomainError):
    code = "invalid_max_per_order"
    default_message = _(
        "Le maximum par commande doit être strictement positif et ne peut pas dépasser 10 000."
    )
