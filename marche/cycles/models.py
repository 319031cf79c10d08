"""Order cycles, the offers producers publish in them, and the stock holds of buyers.

An offer's stock is three counters: ``quantity_available`` (published; NULL for "on
demand"), ``quantity_held`` (in carts, until the hold expires) and ``quantity_sold``
(confirmed). The database itself refuses held + sold > available, and services only move
the counters with conditional UPDATEs, so no interleaving of buyers can oversell.

The database also refuses absurd amounts: prices, quantities and the maximum per order stay
within the bounds of the number parser's kinds (``marche.core.numbers.KINDS``), so no form,
file or API call that slipped past a check can store a price of a million euros or a
thousand tonnes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from marche.core.models import TimeStampedModel
from marche.core.numbers import KINDS

QUANTITY = {"max_digits": 10, "decimal_places": 3}
# The largest price, stock and amount per order the database accepts: the parser's bounds.
PRICE_MAX = KINDS["price"].maximum
STOCK_MAX = KINDS["stock"].maximum
PER_ORDER_MAX = KINDS["weight"].maximum


def offer_max_per_order_default() -> Decimal:
    """The maximum per order of a new offer, from the ``MARCHE_OFFER_MAX_PER_ORDER`` setting."""
    return Decimal(str(settings.MARCHE_OFFER_MAX_PER_ORDER))


WEEKDAYS = [
    (0, _("lundi")),
    (1, _("mardi")),
    (2, _("mercredi")),
    (3, _("jeudi")),
    (4, _("vendredi")),
    (5, _("samedi")),
    (6, _("dimanche")),
]


class CycleSchedule(TimeStampedModel):
    """A weekly rhythm from which order cycles are generated ahead of time.

    Weekdays count from 0 (Monday); the cycle of a delivery day D opens on the
    ``opens_weekday`` before D and closes on the ``closes_weekday`` before D, local time.
    """

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="cycle_schedules",
        verbose_name=_("territoire"),
    )
    name = models.CharField(_("nom"), max_length=120, default=_("Cycle hebdomadaire"))
    delivery_weekday = models.PositiveSmallIntegerField(
        _("jour de livraison"), choices=WEEKDAYS, validators=[MaxValueValidator(6)]
    )
    opens_weekday = models.PositiveSmallIntegerField(
        _("jour d'ouverture"), choices=WEEKDAYS, validators=[MaxValueValidator(6)]
    )
    opens_time = models.TimeField(_("heure d'ouverture"))
    closes_weekday = models.PositiveSmallIntegerField(
        _("jour de clôture"), choices=WEEKDAYS, validators=[MaxValueValidator(6)]
    )
    closes_time = models.TimeField(_("heure de clôture"))
    minimum_order_amount = models.DecimalField(
        _("montant minimum de commande (€)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    weeks_ahead = models.PositiveSmallIntegerField(
        _("semaines générées à l'avance"), default=2, validators=[MaxValueValidator(12)]
    )
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("calendrier hebdomadaire")
        verbose_name_plural = _("calendriers hebdomadaires")
        ordering = ["territory", "delivery_weekday"]

    def __str__(self) -> str:
        return str(self.name)


class OrderCycle(TimeStampedModel):
    """A period in which households order: it opens, closes at a cutoff, then is delivered."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="order_cycles",
        verbose_name=_("territoire"),
    )
    schedule = models.ForeignKey(
        CycleSchedule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cycles",
        verbose_name=_("calendrier"),
    )
    name = models.CharField(_("nom"), max_length=120)
    opens_at = models.DateTimeField(_("ouverture"))
    closes_at = models.DateTimeField(_("clôture des commandes"))
    delivery_date = models.DateField(_("jour de livraison"))
    minimum_order_amount = models.DecimalField(
        _("montant minimum de commande (€)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        verbose_name = _("cycle de commande")
        verbose_name_plural = _("cycles de commande")
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")),
                name="cycle_closes_after_opening",
                violation_error_message=_("La clôture doit venir après l'ouverture."),
            ),
            models.UniqueConstraint(
                fields=["schedule", "delivery_date"], name="one_cycle_per_schedule_day"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open(self, at: datetime) -> bool:
        return self.opens_at <= at < self.closes_at


class Offer(TimeStampedModel):
    """A product offered in a cycle at a price, with its stock counters."""

    cycle = models.ForeignKey(OrderCycle, on_delete=models.CASCADE, related_name="offers")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="offers")
    unit_price = models.DecimalField(
        _("prix TTC par unité (€)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    quantity_available = models.DecimalField(
        _("quantité disponible"),
        **QUANTITY,
        null=True,
        blank=True,
        help_text=_("Vide : à la demande, sans limite."),
    )
    quantity_held = models.DecimalField(_("quantité réservée"), **QUANTITY, default=Decimal("0"))
    quantity_sold = models.DecimalField(_("quantité vendue"), **QUANTITY, default=Decimal("0"))
    max_per_order = models.DecimalField(
        _("maximum par commande"),
        **QUANTITY,
        default=offer_max_per_order_default,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(PER_ORDER_MAX)],
        help_text=_(
            "Pour une offre à la demande : la plus grande quantité qu'une commande peut prendre."
        ),
    )
    withdrawn_at = models.DateTimeField(
        _("retiré de la vente le"),
        null=True,
        blank=True,
        help_text=_("Retiré de la vente : n'apparaît plus dans la boutique."),
    )

    class Meta:
        verbose_name = _("offre")
        verbose_name_plural = _("offres")
        ordering = ["product__name"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "product"], name="one_offer_per_product"),
            models.CheckConstraint(
                condition=Q(quantity_held__gte=0) & Q(quantity_sold__gte=0),
                name="offer_counters_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(quantity_available__isnull=True)
                | Q(quantity_available__gte=F("quantity_held") + F("quantity_sold")),
                name="offer_never_oversold",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gt=0, unit_price__lte=PRICE_MAX),
                name="offer_price_in_range",
                violation_error_message=_("Le prix de l'offre est hors des limites acceptées."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(quantity_available__isnull=True)
                    | Q(quantity_available__gte=0, quantity_available__lte=STOCK_MAX)
                )
                & Q(quantity_held__lte=STOCK_MAX, quantity_sold__lte=STOCK_MAX),
                name="offer_quantities_in_range",
            ),
            models.CheckConstraint(
                condition=Q(max_per_order__gt=0, max_per_order__lte=PER_ORDER_MAX),
                name="offer_max_per_order_in_range",
                violation_error_message=_(
                    "Le maximum par commande est hors des limites acceptées."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} — {self.cycle}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def quantity_remaining(self) -> Decimal | None:
        if self.quantity_available is None:
            return None
        return self.quantity_available - self.quantity_held - self.quantity_sold


class Basket(TimeStampedModel):
    """A composed basket (panier composé) of a cycle: a fixed price, content set from offers.

    Households eligible for the solidarity price pay ``solidarity_price`` instead. The
    basket has no stock of its own: ordering one holds each component's offer.
    """

    cycle = models.ForeignKey(OrderCycle, on_delete=models.CASCADE, related_name="baskets")
    name = models.CharField(_("nom"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(
        _("prix TTC (€)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    solidarity_price = models.DecimalField(
        _("prix solidaire TTC (€)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    vat_rate = models.DecimalField(
        _("taux de TVA (%)"), max_digits=4, decimal_places=2, default=Decimal("5.50")
    )
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("panier composé")
        verbose_name_plural = _("paniers composés")
        ordering = ["cycle", "price"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "name"], name="basket_name_per_cycle"),
            models.CheckConstraint(
                condition=Q(price__gt=0, price__lte=PRICE_MAX),
                name="basket_price_in_range",
                violation_error_message=_("Le prix du panier est hors des limites acceptées."),
            ),
            models.CheckConstraint(
                condition=Q(solidarity_price__isnull=True)
                | Q(solidarity_price__gt=0, solidarity_price__lt=F("price")),
                name="basket_solidarity_below_price",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BasketItem(models.Model):
    """One component of a composed basket: a quantity of an offer of the same cycle."""

    basket = models.ForeignKey(Basket, on_delete=models.CASCADE, related_name="items")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="basket_items")
    quantity = models.DecimalField(_("quantité"), **QUANTITY)

    class Meta:
        verbose_name = _("contenu du panier")
        verbose_name_plural = _("contenus des paniers")
        ordering = ["basket", "offer__product__name"]
        constraints = [
            models.UniqueConstraint(fields=["basket", "offer"], name="basket_item_once"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=PER_ORDER_MAX),
                name="basket_item_qty_in_range",
                violation_error_message=_("La quantité est hors des limites acceptées."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.offer.product}"


class HoldStatus(models.TextChoices):
    HELD = "held", _("réservé")
    CONFIRMED = "confirmed", _("confirmé")
    RELEASED = "released", _("libéré")
    RETURNED = "returned", _("rendu au stock")


class StockHold(TimeStampedModel):
    """A quantity of an offer set aside for one buyer until ``expires_at``.

    ``key`` is the caller's idempotency key: replaying a hold returns the first one.
    """

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="holds")
    key = models.CharField(_("clé d'idempotence"), max_length=100, unique=True)
    quantity = models.DecimalField(_("quantité"), **QUANTITY)
    status = models.CharField(
        _("état"), max_length=10, choices=HoldStatus.choices, default=HoldStatus.HELD
    )
    expires_at = models.DateTimeField(_("expire le"))

    class Meta:
        verbose_name = _("réservation de stock")
        verbose_name_plural = _("réservations de stock")
        indexes = [models.Index(fields=["status", "expires_at"], name="hold_expiry_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=STOCK_MAX),
                name="hold_quantity_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.offer_id} ({self.status})"
