"""A territory: a town or group of towns running its own market, relays and local currency.

Nothing in the code is tied to one town: every domain object belongs to a territory, and
the scheme rules of its local currency are data, not constants.
"""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marche.core.models import LocatedModel, TimeStampedModel


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Fuseau horaire inconnu : %(value)s"), params={"value": value})


class Territory(LocatedModel, TimeStampedModel):
    """A territory; its coordinates are its centre (the town hall for a single town)."""

    name = models.CharField(_("nom"), max_length=120, unique=True)
    slug = models.SlugField(_("identifiant"), max_length=60, unique=True)
    insee_code = models.CharField(_("code INSEE"), max_length=5, blank=True)
    timezone = models.CharField(
        _("fuseau horaire"), max_length=64, default="Europe/Paris", validators=[validate_timezone]
    )
    contact_email = models.EmailField(_("e-mail de contact"), blank=True)
    is_active = models.BooleanField(_("actif"), default=True)

    # Currencies: the euro is always accepted; the local currency is optional and its rules
    # (parity for pricing, reconversion, fee, expiry) belong to the scheme of each territory.
    currency = models.CharField(_("devise"), max_length=3, default="EUR")
    local_currency_enabled = models.BooleanField(_("monnaie locale active"), default=False)
    local_currency_name = models.CharField(_("nom de la monnaie locale"), max_length=40, blank=True)
    local_currency_plural = models.CharField(
        _("nom de la monnaie locale au pluriel"), max_length=40, blank=True
    )
    local_currency_code = models.CharField(_("code de la monnaie locale"), max_length=8, blank=True)
    local_currency_euro_rate = models.DecimalField(
        _("valeur d'une unité en euros (pour les prix)"),
        max_digits=8,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.0001"))],
    )
    local_currency_reconversion_allowed = models.BooleanField(
        _("reconversion en euros permise aux producteurs"), default=False
    )
    local_currency_reconversion_fee_percent = models.DecimalField(
        _("frais de reconversion (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    local_currency_expiry_months = models.PositiveSmallIntegerField(
        _("validité des unités (mois)"), null=True, blank=True
    )

    # Logistics without a road network: great-circle distance times this factor.
    routing_detour_factor = models.DecimalField(
        _("facteur de détour routier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.30"),
        validators=[MinValueValidator(Decimal("1"))],
    )

    class Meta:
        verbose_name = _("territoire")
        verbose_name_plural = _("territoires")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(local_currency_enabled=False)
                | ~models.Q(local_currency_code=""),
                name="territory_local_currency_has_code",
            )
        ]

    def __str__(self) -> str:
        return self.name
