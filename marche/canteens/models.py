"""Canteens (restauration collective) buying in bulk, on invoice, under the EGalim law."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marche.core.models import LocatedModel, TimeStampedModel


class CanteenKind(models.TextChoices):
    NURSERY_SCHOOL = "nursery_school", _("Cantine d'école maternelle")
    PRIMARY_SCHOOL = "primary_school", _("Cantine d'école élémentaire")
    COLLEGE = "college", _("Cantine de collège")
    SENIORS_RESIDENCE = "seniors_residence", _("Résidence autonomie (foyer-logement)")
    OTHER = "other", _("Autre restaurant collectif")


class Canteen(LocatedModel, TimeStampedModel):
    """A collective-catering site with its delivery window and organic-purchase target."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="canteens",
        verbose_name=_("territoire"),
    )
    name = models.CharField(_("nom"), max_length=150)
    slug = models.SlugField(_("identifiant"), max_length=80)
    kind = models.CharField(_("type"), max_length=20, choices=CanteenKind.choices)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    meals_per_day = models.PositiveIntegerField(_("repas par jour"), default=0)
    organic_target_percent = models.DecimalField(
        _("objectif de bio (% des achats)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("20"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    delivery_window_start = models.TimeField(_("livraison à partir de"))
    delivery_window_end = models.TimeField(_("livraison jusqu'à"))
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="managed_canteens",
        blank=True,
        verbose_name=_("gestionnaires"),
    )
    source_ref = models.CharField(_("référence source (UAI…)"), max_length=40, blank=True)
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("cantine")
        verbose_name_plural = _("cantines")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "slug"], name="canteen_slug_per_territory"
            ),
            models.CheckConstraint(
                condition=models.Q(delivery_window_end__gt=models.F("delivery_window_start")),
                name="canteen_window_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name
