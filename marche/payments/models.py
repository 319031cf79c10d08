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

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.UniqueConstraint(
                fields=["order", "method", "currency"],
                condition=Q(status__in=["pending", "succeeded"]),
                name="one_live_payment_per_method",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.amount} {self.currency} ({self.status})"
