"""Card payment through Stripe Checkout, for the euro part of an order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from marche.errors import DomainError
from marche.payments.methods import (
    ManneSplitMixin,
    PaymentMethod,
    PaymentStart,
    payment_amount_left,
)
from marche.payments.models import Payment, PaymentStatus
from marche.territories.selectors import territory_site_url

if TYPE_CHECKING:
    from marche.orders.models import Order


class CardUnavailable(DomainError):
    code = "card_payment_unavailable"
    status = 503
    default_message = _(
        "Le paiement par carte ne répond pas pour l'instant : votre commande n'est pas "
        "enregistrée et les produits sont remis en vente. Réessayez dans un moment."
    )


class CardPayment(ManneSplitMixin, PaymentMethod):
    """Stripe Checkout: the household pays on Stripe's page; the webhook confirms."""

    code = "card"
    label = _("Carte bancaire")
    description = _("Paiement sécurisé par Stripe.")

    def is_available(self) -> bool:
        return bool(settings.CARD_PAYMENTS_ENABLED)

    def start(self, *, order: Order, options: Mapping[str, str]) -> PaymentStart:
        from marche.orders.services import order_payment_failed
        from marche.payments.stripe_gateway import checkout_session_create

        self.hold_mannes(order=order, options=options)
        amount = payment_amount_left(order=order, method_code=self.code)
        if amount <= 0:
            return PaymentStart(confirmed=True)
        with transaction.atomic():
            payment, _created = Payment.objects.get_or_create(
                order=order,
                method=self.code,
                currency="EUR",
                status=PaymentStatus.PENDING,
                defaults={"amount": amount, "expires_at": order.expires_at},
            )
        # back to the order's territory's own site, where the household is signed in
        site = territory_site_url(territory=order.cycle.territory)
        order_url = site + reverse("orders:detail", args=[order.reference])
        return_url = site + reverse("payments:card_return")
        try:
            session = checkout_session_create(
                order_id=order.pk,
                reference=order.reference,
                amount=amount,
                description=str(_("Commande %(ref)s") % {"ref": order.reference}),
                customer_email=order.customer.email,
                expires_at=order.expires_at,
                success_url=return_url + "?session_id={CHECKOUT_SESSION_ID}",
                cancel_url=order_url,
                key=f"checkout-{payment.pk}",
            )
        except Exception as error:
            import stripe

            if not isinstance(error, stripe.StripeError):
                raise
            Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.FAILED)
            order_payment_failed(order_id=order.pk)
            raise CardUnavailable() from error
        Payment.objects.filter(pk=payment.pk).update(reference=session.id)
        return PaymentStart(confirmed=False, redirect_url=session.url)

    def cancel(self, *, order: Order) -> None:
        """Drop a pending card payment; refund in full what a cancelled order had paid."""
        from marche.payments.stripe_services import payment_refund_rest

        self.cancel_mannes(order=order)
        Payment.objects.filter(order=order, method=self.code, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.CANCELLED
        )
        paid = Payment.objects.filter(
            order=order, method=self.code, status=PaymentStatus.SUCCEEDED
        ).first()
        if paid is not None and order.status == "cancelled":
            payment_refund_rest(
                payment_id=paid.pk, reason=str(_("Commande annulée")), key=f"cancel-{order.pk}"
            )
