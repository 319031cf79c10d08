"""A territory: a town or group of towns running its own market, relays and local currency.

Nothing in the code is tied to one town: every domain object belongs to a territory, and
the scheme rules of its local currency are data, not constants.
"""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marche.core.models import LocatedModel, TimeStampedModel
from marche.core.numbers import InvalidNumber, NumberKind, parse_decimal

# "Marché local de Loos <bonjour@exemple.fr>", or the address alone.
_SENDER = re.compile(r"^(?:(?P<name>[^<>\"]*?)\s*<(?P<address>[^<>\s]+)>|(?P<bare>[^<>\s]+))$")
# kg CO2e per km of one vehicle kind: a van is about 0.27, an electric bike 0.0005.
EMISSION_FACTOR = NumberKind(
    _("Le facteur d'émission"), 4, Decimal("0"), Decimal("10"), "0,269", ("kg/km",)
)


# The fields of the site's legal mentions, in the order the legal page shows them.
# The local currency's settings, in the order the admin and the demo files give them.
LOCAL_CURRENCY_FIELDS = (
    "local_currency_enabled",
    "local_currency_name",
    "local_currency_plural",
    "local_currency_code",
    "local_currency_euro_rate",
    "local_currency_reconversion_allowed",
    "local_currency_reconversion_fee_percent",
    "local_currency_expiry_months",
)
LEGAL_FIELDS = (
    "legal_publisher",
    "legal_publisher_address",
    "legal_registration",
    "legal_publication_director",
    "legal_host",
    "legal_host_address",
    "legal_notice",
)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Fuseau horaire inconnu : %(value)s"), params={"value": value})


def validate_email_sender(value: str) -> None:
    """A sender as mailers write it: "Name <address>" or the address alone, on one line."""
    match = _SENDER.match(value or "")
    if match is None or any(ord(char) < 32 for char in value):
        raise ValidationError(
            _("Expéditeur invalide : écrivez-le « Nom <adresse@exemple.fr> »."),
            code="invalid_sender",
        )
    EmailValidator(
        message=_("Adresse d'expéditeur invalide : %(value)s"),
        code="invalid_sender",
    )(match["address"] or match["bare"])


def emission_kinds() -> list[str]:
    """The vehicle kinds that have an emission factor: those of the instance's defaults."""
    return list(settings.LOGISTICS_EMISSION_FACTORS)


def emission_factors_parse(value: Any) -> dict[str, Decimal]:
    """A territory's emission factors, read and checked: {vehicle kind: kg CO2e per km}.

    Known kinds only (those of ``LOGISTICS_EMISSION_FACTORS``), each a non-negative number
    (at most 10 kg/km, four decimals), written as text ("0.269") or as a JSON number.
    """
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError(
            _('Indiquez un facteur par type de véhicule, par exemple {"van": "0.269"}.'),
            code="invalid_emission_factors",
        )
    known = emission_kinds()
    factors: dict[str, Decimal] = {}
    for kind, factor in value.items():
        if kind not in known:
            raise ValidationError(
                _("Type de véhicule inconnu : « %(kind)s ». Types connus : %(known)s."),
                code="unknown_vehicle_kind",
                params={"kind": kind, "known": ", ".join(known)},
            )
        try:
            # A JSON number is no money: its shortest text ("0.269") is the value meant.
            factors[kind] = parse_decimal(
                str(factor) if isinstance(factor, float) else factor, EMISSION_FACTOR
            )
        except InvalidNumber as error:
            raise ValidationError(
                _("Véhicule « %(kind)s » : %(message)s"),
                code="invalid_emission_factor",
                params={"kind": kind, "message": error.message},
            ) from error
    return factors


def validate_emission_factors(value: Any) -> None:
    emission_factors_parse(value)


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

    # What e-mails about the territory's orders, cycles, canteens and accounts come from.
    email_sender = models.CharField(
        _("expéditeur des e-mails"),
        max_length=200,
        blank=True,
        validators=[validate_email_sender],
        help_text=_(
            "Nom et adresse, par exemple « Marché local de Loos <bonjour@exemple.fr> ». "
            "Vide : l'expéditeur par défaut de l'instance."
        ),
    )
    emission_factors = models.JSONField(
        _("facteurs d'émission (kg CO2e/km)"),
        default=dict,
        blank=True,
        validators=[validate_emission_factors],
        help_text=_(
            'Par type de véhicule, en kg CO2e par km, par exemple {"van": "0.269", '
            '"cargo_tricycle": "0.001", "assisted_bike": "0.0005"}. Un type absent (ou '
            "tout, si vide) prend la valeur par défaut de l'instance."
        ),
    )

    # The site's legal notice (mentions légales, loi pour la confiance dans l'économie
    # numérique, art. 6): who publishes it, who answers for it, who hosts it.
    legal_publisher = models.CharField(
        _("éditeur du site"),
        max_length=200,
        blank=True,
        help_text=_("Nom et forme juridique, par exemple « Association Marché local »."),
    )
    legal_publisher_address = models.TextField(
        _("adresse de l'éditeur"), blank=True, help_text=_("Siège, et un numéro de téléphone.")
    )
    legal_registration = models.CharField(
        _("immatriculation de l'éditeur"),
        max_length=100,
        blank=True,
        help_text=_("SIREN, RCS ou numéro RNA d'une association."),
    )
    legal_publication_director = models.CharField(
        _("directeur ou directrice de la publication"), max_length=200, blank=True
    )
    legal_host = models.CharField(
        _("hébergeur"), max_length=200, blank=True, help_text=_("Nom ou raison sociale.")
    )
    legal_host_address = models.TextField(
        _("adresse de l'hébergeur"), blank=True, help_text=_("Adresse et téléphone.")
    )
    legal_notice = models.TextField(
        _("autres mentions légales"),
        blank=True,
        help_text=_(
            "Texte libre affiché sous les mentions : données personnelles, crédits… "
            "Une ligne vide sépare deux paragraphes."
        ),
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
