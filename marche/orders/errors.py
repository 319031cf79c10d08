"""Refusals of the cart and order services, each with a stable code and a French message."""

from django.utils.translation import gettext_lazy as _

from marche.errors import DomainError, NotFound


class BasketNotFound(NotFound):
    code = "basket_not_found"
    default_message = _("Ce panier composé n'est pas proposé dans ce cycle.")


class VariantNotFound(NotFound):
    code = "variant_not_found"
    default_message = _("Ce conditionnement n'existe pas pour ce produit.")


class OrderNotFound(NotFound):
    code = "order_not_found"
    default_message = _("Cette commande n'existe pas.")


class WholeNumberRequired(DomainError):
    code = "whole_number_required"
    default_message = _("Ce produit se commande à l'unité : indiquez un nombre entier.")


class CartEmpty(DomainError):
    code = "cart_empty"
    default_message = _("Votre panier est vide.")


class MinimumOrderNotReached(DomainError):
    code = "minimum_order_not_reached"
    default_message = _("Le montant minimum de commande pour ce cycle n'est pas atteint.")


class CancellationTooLate(DomainError):
    code = "cancellation_too_late"
    status = 409
    default_message = _(
        "Les commandes de ce cycle sont closes : la commande ne peut plus être annulée."
    )


class OrderNotCancellable(DomainError):
    code = "order_not_cancellable"
    status = 409
    default_message = _("Cette commande ne peut pas être annulée dans son état actuel.")


class OrderNotPending(DomainError):
    code = "order_not_pending"
    status = 409
    default_message = _("Cette commande n'attend plus de paiement (annulée ou expirée).")


class PaymentMethodUnavailable(DomainError):
    code = "payment_method_unavailable"
    default_message = _("Ce moyen de paiement n'est pas disponible.")


class CheckoutFormInvalid(DomainError):
    code = "checkout_form_invalid"
    default_message = _("Ce formulaire de commande n'est plus valide : rechargez votre panier.")
