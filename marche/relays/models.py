"""Relay points (points relais) where households pick up their baskets."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marche.core.models import ContactModel, LocatedModel, TimeStampedModel


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


class RelayPoint(LocatedModel, ContactModel, TimeStampedModel):
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
    slot_minutes = models.PositiveSmallIntegerField(
        _("durée d'un créneau de retrait (minutes)"),
        default=60,
        validators=[MinValueValidator(15)],
    )
    slot_capacity = models.PositiveIntegerField(
        _("paniers par créneau"), default=10, validators=[MinValueValidator(1)]
    )
    has_fridge = models.BooleanField(_("dispose d'un réfrigérateur"), default=False)
    source_ref = models.CharField(_("référence source"), max_length=40, blank=True)
    is_active = models.BooleanField(_("actif"), default=True)
    keepers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="kept_relay_points",
        verbose_name=_("responsables"),
        help_text=_(
            "Les personnes qui tiennent ce point relais (commerçant, bénévole) : elles voient "
            "les commandes à retirer ici et enregistrent leur remise."
        ),
    )

    class Meta:
        verbose_name = _("point relais")
        verbose_name_plural = _("points relais")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "slug"], name="relay_slug_per_territory"),
            models.CheckConstraint(
                condition=models.Q(capacity_per_day__gte=1),
                name="relay_capacity_positive",
                violation_error_message=_("La capacité doit être d'au moins un panier par jour."),
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
                violation_error_message=_("La fermeture doit venir après l'ouverture."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class RelayDay(models.Model):
    """A relay point's room on one delivery day: ``booked`` never exceeds ``capacity``."""

    relay_point = models.ForeignKey(RelayPoint, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    capacity = models.PositiveIntegerField(_("capacité (paniers)"))
    booked = models.PositiveIntegerField(_("paniers réservés"), default=0)

    class Meta:
        verbose_name = _("jour de retrait")
        verbose_name_plural = _("jours de retrait")
        ordering = ["date", "relay_point"]
        constraints = [
            models.UniqueConstraint(fields=["relay_point", "date"], name="one_relay_day"),
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("capacity")),
                name="relay_day_not_overbooked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.relay_point} {self.date:%d/%m/%Y} ({self.booked}/{self.capacity})"


class PickupSlot(models.Model):
    """A pickup time slot at a relay point on a delivery day, with its own capacity."""

    relay_point = models.ForeignKey(
        RelayPoint, on_delete=models.CASCADE, related_name="pickup_slots"
    )
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("début"))
    ends_at = models.TimeField(_("fin"))
    capacity = models.PositiveIntegerField(_("capacité (paniers)"))
    booked = models.PositiveIntegerField(_("paniers réservés"), default=0)

    class Meta:
        verbose_name = _("créneau de retrait")
        verbose_name_plural = _("créneaux de retrait")
        ordering = ["date", "relay_point", "starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["relay_point", "date", "starts_at"], name="one_slot_per_start"
            ),
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("capacity")), name="slot_not_overbooked"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    @property
    def remaining(self) -> int:
        return self.capacity - self.booked
