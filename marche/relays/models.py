"""Relay points (points relais) where households pick up their baskets."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marche.core.models import LocatedModel, TimeStampedModel


class RelayKind(models.TextChoices):
    POST_OFFICE = "post_office", _("Bureau de poste")
    PARTNER_SHOP = "partner_shop", _("Commerce partenaire")
    COMMUNITY = "community", _("Lieu associatif ou municipal")
    FARM = "farm", _("À la ferme")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("lundi")
    TUESDAY = 1, _("mardi")
    WEDNESDAY = 2, _("mercredi")
    THURSDAY = 3, _("jeudi")
    FRIDAY = 4, _("vendredi")
    SATURDAY = 5, _("samedi")
    SUNDAY = 6, _("dimanche")


class RelayPoint(LocatedModel, TimeStampedModel):
    """A pickup point with opening hours and room for a limited number of baskets a day."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="relay_points",
        verbose_name=_("territoire"),
    )
    name = models.CharField(_("nom"), max_length=150)
    slug = models.SlugField(_("identifiant"), max_length=80)
    kind = models.CharField(_("type"), max_length=20, choices=RelayKind.choices)
    description = models.TextField(_("informations pratiques"), blank=True)
    capacity_per_day = models.PositiveIntegerField(
        _("paniers par jour de livraison"), default=30, validators=[MinValueValidator(1)]
    )
    has_fridge = models.BooleanField(_("dispose d'un réfrigérateur"), default=False)
    source_ref = models.CharField(_("référence source"), max_length=40, blank=True)
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("point relais")
        verbose_name_plural = _("points relais")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "slug"], name="relay_slug_per_territory"),
            models.CheckConstraint(
                condition=models.Q(capacity_per_day__gte=1), name="relay_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RelayOpeningHours(models.Model):
    """One opening period of a relay point on a weekday (several per day are allowed)."""

    relay_point = models.ForeignKey(
        RelayPoint, on_delete=models.CASCADE, related_name="opening_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    opens_at = models.TimeField(_("ouverture"))
    closes_at = models.TimeField(_("fermeture"))

    class Meta:
        verbose_name = _("horaire d'ouverture")
        verbose_name_plural = _("horaires d'ouverture")
        ordering = ["weekday", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="relay_hours_close_after_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"
