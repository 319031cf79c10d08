"""Producers: farms, collectives of farms (such as Bioloos) and micro-farms."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from marche.core.models import ContactModel, LocatedModel, TimeStampedModel
from marche.core.validators import validate_iban, validate_siret


class ProducerKind(models.TextChoices):
    FARM = "farm", _("Ferme")
    COLLECTIVE = "collective", _("Collectif de producteurs")
    MICRO_FARM = "micro_farm", _("Micro-ferme")


class Producer(LocatedModel, ContactModel, TimeStampedModel):
    """A producer selling on a territory's market; a farm may belong to a collective."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="producers",
        verbose_name=_("territoire"),
    )
    name = models.CharField(_("nom"), max_length=150)
    slug = models.SlugField(_("identifiant"), max_length=80)
    kind = models.CharField(_("type"), max_length=20, choices=ProducerKind.choices)
    collective = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member_farms",
        limit_choices_to={"kind": ProducerKind.COLLECTIVE},
        verbose_name=_("collectif"),
    )
    description = models.TextField(_("présentation"), blank=True)
    production = models.CharField(_("productions"), max_length=255, blank=True)
    website = models.URLField(_("site web"), blank=True)
    accepts_local_currency = models.BooleanField(_("accepte la monnaie locale"), default=False)
    is_active = models.BooleanField(_("actif"), default=True)
    collected_on_round = models.BooleanField(
        _("enlevé pendant la tournée"),
        default=False,
        help_text=_(
            "Coché : un véhicule passe prendre les produits à la ferme pendant la tournée ; "
            "sinon la ferme les apporte elle-même au dépôt."
        ),
    )
    collection_opens = models.TimeField(
        _("enlèvement à partir de"),
        null=True,
        blank=True,
        help_text=_("Obligatoire si les produits sont enlevés pendant la tournée."),
    )
    collection_closes = models.TimeField(
        _("enlèvement jusqu'à"),
        null=True,
        blank=True,
        help_text=_("Obligatoire si les produits sont enlevés pendant la tournée."),
    )
    # What a producer's invoices to canteens must show (French invoicing rules).
    legal_name = models.CharField(
        _("raison sociale"),
        max_length=200,
        blank=True,
        help_text=_("Nom de l'exploitation ou de la société, tel qu'il figure sur les factures."),
    )
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, validators=[validate_siret])
    vat_number = models.CharField(_("numéro de TVA intracommunautaire"), max_length=20, blank=True)
    iban = models.CharField(
        _("IBAN"),
        max_length=34,
        blank=True,
        validators=[validate_iban],
        help_text=_("Pour le virement des cantines ; imprimé sur les factures."),
    )
    invoice_mentions = models.TextField(
        _("mentions légales des factures"),
        blank=True,
        help_text=_(
            "Forme juridique, capital, RCS ou mention d'exonération de TVA le cas échéant."
        ),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="ProducerMembership",
        related_name="producers",
        blank=True,
        verbose_name=_("membres"),
    )

    class Meta:
        verbose_name = _("producteur")
        verbose_name_plural = _("producteurs")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "slug"], name="producer_slug_per_territory"
            ),
            # A farm collected on the round has a collection window; the explicit IS NOT NULL
            # matters: a CHECK whose condition is NULL passes.
            models.CheckConstraint(
                condition=models.Q(collected_on_round=False)
                | models.Q(
                    collection_opens__isnull=False,
                    collection_closes__isnull=False,
                    collection_closes__gt=models.F("collection_opens"),
                ),
                name="producer_collection_window",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.collected_on_round and (
            self.collection_opens is None
            or self.collection_closes is None
            or self.collection_closes <= self.collection_opens
        ):
            raise ValidationError(
                _(
                    "Une ferme dont les produits sont enlevés pendant la tournée indique ses "
                    "heures d'enlèvement (la fin après le début)."
                )
            )


class ProducerMembership(TimeStampedModel):
    """A farmer's membership of a producer: what lets them publish its stock."""

    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="producer_memberships"
    )
    is_manager = models.BooleanField(_("gérant"), default=False)

    class Meta:
        verbose_name = _("adhésion à un producteur")
        verbose_name_plural = _("adhésions à un producteur")
        constraints = [
            models.UniqueConstraint(fields=["producer", "user"], name="one_membership_per_producer")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.producer}"
