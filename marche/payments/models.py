"""Payments of orders, whatever the means: one row per payment attempt and currency.

The order code never knows how a payment is made: it asks the payment method registry
(``marche.payments.methods``) to start one, and the method reports back by confirming or
failing the order through the orders services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marche.core.models import TimeStampedModel


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("en attente")
    SUCCEEDED = "succeeded", _("payé")
    FAILED = "failed", _("échoué")
    CANCELLED = "cancelled", _("annulé")
    REFUNDED = "refunded", _("remboursé")


class PickupMeans(models.TextChoices):
    CASH = "cash", _("espèces")
    CHEQUE = "cheque", _("chèque")


class Payment(TimeStampedModel):
    """One payment of (part of) an order, in one currency."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("moyen de paiement"), max_length=30)
    currency = models.CharField(_("devise"), max_length=8, default="EUR")
    amount = models.DecimalField(_("montant"), max_digits=10, decimal_places=2)
    status = models.CharField(
        _("état"), max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    means = models.CharField(
        _("encaissé en"), max_length=10, choices=PickupMeans.choices, blank=True
    )
    reference = models.CharField(_("référence"), max_length=120, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enregistré par"),
    )
    recorded_at = models.DateTimeField(_("enregistré le"), null=True, blank=True)
    provider_payment_id = models.CharField(
        _("paiement chez le prestataire"), max_length=255, blank=True
    )
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    producer = models.ForeignKey(
        "producers.Producer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("producteur payé"),
        help_text=_("Pour une part en monnaie locale : le producteur qui la reçoit."),
    )

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.UniqueConstraint(
                fields=["order", "method", "currency"],
                condition=Q(status__in=["pending", "succeeded"], producer__isnull=True),
                name="one_live_payment_per_method",
            ),
            models.UniqueConstraint(
                fields=["order", "method", "currency", "producer"],
                condition=Q(status__in=["pending", "succeeded"], producer__isnull=False),
                name="one_live_payment_per_producer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.amount} {self.currency} ({self.status})"


class StripeEvent(TimeStampedModel):
    """A webhook event received from Stripe, stored once: a replay is recognised by its id."""

    event_id = models.CharField(_("identifiant Stripe"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField(_("contenu"))
    outcome = models.CharField(_("résultat"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("événement Stripe")
        verbose_name_plural = _("événements Stripe")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("en cours")
    SUCCEEDED = "succeeded", _("effectué")
    FAILED = "failed", _("échoué")


class Refund(TimeStampedModel):
    """A refund of (part of) a card payment, made here or in the Stripe dashboard."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(_("montant (€)"), max_digits=10, decimal_places=2)
    reason = models.CharField(_("motif"), max_length=200, blank=True)
    idempotency_key = models.CharField(_("clé d'idempotence"), max_length=120, unique=True)
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(
        _("état"), max_length=12, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )

    class Meta:
        verbose_name = _("remboursement")
        verbose_name_plural = _("remboursements")
        ordering = ["payment", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive")]

    def __str__(self) -> str:
        return f"{self.amount} € ({self.status})"


class ConnectedAccount(TimeStampedModel):
    """A producer's Stripe Connect account, to which its share of card payments is sent."""

    producer = models.OneToOneField(
        "producers.Producer", on_delete=models.PROTECT, related_name="stripe_account"
    )
    stripe_account_id = models.CharField(max_length=255, unique=True)
    details_submitted = models.BooleanField(_("dossier complet"), default=False)
    payouts_enabled = models.BooleanField(_("virements actifs"), default=False)

    class Meta:
        verbose_name = _("compte Stripe Connect")
        verbose_name_plural = _("comptes Stripe Connect")

    def __str__(self) -> str:
        return f"{self.producer} ({self.stripe_account_id})"


class Transfer(TimeStampedModel):
    """One transfer to one producer for one order, after delivery (separate charges)."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="transfers")
    producer = models.ForeignKey(
        "producers.Producer", on_delete=models.PROTECT, related_name="transfers"
    )
    amount = models.DecimalField(_("montant (€)"), max_digits=10, decimal_places=2)
    idempotency_key = models.CharField(max_length=120, unique=True)
    stripe_transfer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("virement producteur")
        verbose_name_plural = _("virements producteurs")
        ordering = ["order", "producer"]
        constraints = [
            models.UniqueConstraint(fields=["order", "producer"], name="one_transfer_per_producer"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.producer} {self.amount} € ({self.order})"
