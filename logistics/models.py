"""The fleet and its depots: what the routing core plans delivery rounds with."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marche.core.models import LocatedModel, TimeStampedModel


class Depot(LocatedModel, TimeStampedModel):
    """A place where rounds start and end: a logistics hub or a farm."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="depots",
        verbose_name=_("territoire"),
    )
    name = models.CharField(_("nom"), max_length=150)
    slug = models.SlugField(_("identifiant"), max_length=80)

    class Meta:
        verbose_name = _("dépôt")
        verbose_name_plural = _("dépôts")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "slug"], name="depot_slug_per_territory")
        ]

    def __str__(self) -> str:
        return self.name


class VehicleKind(models.TextChoices):
    VAN = "van", _("Utilitaire")
    CARGO_TRICYCLE = "cargo_tricycle", _("Triporteur électrique")
    ASSISTED_BIKE = "assisted_bike", _("Vélo à assistance électrique")


class Vehicle(TimeStampedModel):
    """A vehicle of the fleet with its capacities, speed, range and costs."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="vehicles",
        verbose_name=_("territoire"),
    )
    depot = models.ForeignKey(
        Depot,
        on_delete=models.PROTECT,
        related_name="vehicles",
        verbose_name=_("dépôt"),
    )
    name = models.CharField(_("nom"), max_length=100)
    slug = models.SlugField(_("identifiant"), max_length=80)
    kind = models.CharField(_("type"), max_length=20, choices=VehicleKind.choices)
    capacity_kg = models.PositiveIntegerField(
        _("charge utile (kg)"), validators=[MinValueValidator(1)]
    )
    capacity_crates = models.PositiveIntegerField(_("caisses"), validators=[MinValueValidator(1)])
    cold_volume_litres = models.PositiveIntegerField(_("volume réfrigéré (L)"), default=0)
    average_speed_kmh = models.DecimalField(
        _("vitesse moyenne (km/h)"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("1"))],
    )
    max_range_km = models.PositiveIntegerField(_("autonomie (km)"), null=True, blank=True)
    cost_per_km = models.DecimalField(_("coût par km (€)"), max_digits=6, decimal_places=3)
    cost_per_hour = models.DecimalField(_("coût horaire (€)"), max_digits=6, decimal_places=2)
    shift_start = models.TimeField(_("début de service"))
    shift_end = models.TimeField(_("fin de service"))
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("véhicule")
        verbose_name_plural = _("véhicules")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "slug"], name="vehicle_slug_per_territory"
            ),
            models.CheckConstraint(
                condition=models.Q(shift_end__gt=models.F("shift_start")),
                name="vehicle_shift_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name
