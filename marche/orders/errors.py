"""Refusals of the cart and order services, each with a stable code and a French message."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from marche.errors import DomainError, NotFound
from marche.money import format_money


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


class QuantityBelowMinimum(DomainError):
    code = "quantity_below_minimum"
    default_message = _("Cette quantité est trop petite pour être préparée.")


class CartEmpty(DomainError):
    code = "cart_empty"
    default_message = _("Votre panier est vide.")


class MinimumOrderNotReached(DomainError):
    code = "minimum_order_not_reached"
    default_message = _("Le montant minimum de commande pour ce cycle n'est pas atteint.")
    amounts_message = _(
        "Il manque %(missing)s pour atteindre le minimum de commande de %(minimum)s."
    )

    def __init__(self, *, minimum: Decimal | None = None, total: Decimal | None = None) -> None:
        if minimum is None or total is None:
            super().__init__()
            return
        # Amounts written as people read them ("3,40 €"); the params keep "3.40" for machines.
        super().__init__(
            str(self.amounts_message)
            % {"missing": format_money(minimum - total), "minimum": format_money(minimum)},
            minimum=str(minimum),
            total=str(total),
        )


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
