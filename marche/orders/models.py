"""Carts and orders of households.

A cart is a list of wishes: it holds no stock. Placing an order copies names, prices and
VAT rates onto its lines (a past order never changes when the catalogue does), holds the
stock of every line and books a pickup slot, all in one transaction; payment then confirms
it. A composed basket is one priced line whose components are child lines at zero price,
so that pick lists see every product and stock is held per offer.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marche.core.models import TimeStampedModel
from marche.core.numbers import KINDS
from marche.money import round_money

QUANTITY = {"max_digits": 10, "decimal_places": 3}
AMOUNT = {"max_digits": 10, "decimal_places": 2}
# The database refuses what no household could mean, with the number parser's bounds: at
# most 10,000 of anything in one line (kg, pieces, baskets), a line's quantity in the
# product's unit (items of a variant times their content) within a farmer's largest stock.
COUNT_MAX = KINDS["weight"].maximum
LINE_QUANTITY_MAX = KINDS["stock"].maximum


class Cart(TimeStampedModel):
    """A household's cart for one cycle."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="carts"
    )
    cycle = models.ForeignKey("cycles.OrderCycle", on_delete=models.CASCADE, related_name="carts")

    class Meta:
        verbose_name = _("panier d'achat")
        verbose_name_plural = _("paniers d'achat")
        constraints = [
            models.UniqueConstraint(fields=["customer", "cycle"], name="one_cart_per_cycle")
        ]

    def __str__(self) -> str:
        return f"{self.customer} — {self.cycle}"


class CartItem(models.Model):
    """An offer (optionally in a variant) or a composed basket, with how many of it."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    offer = models.ForeignKey(
        "cycles.Offer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    basket = models.ForeignKey(
        "cycles.Basket", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    count = models.DecimalField(_("nombre"), **QUANTITY)

    class Meta:
        verbose_name = _("article du panier")
        verbose_name_plural = _("articles du panier")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(offer__isnull=False, basket__isnull=True)
                | Q(offer__isnull=True, basket__isnull=False, variant__isnull=True),
                name="cart_item_offer_or_basket",
            ),
            models.CheckConstraint(
                condition=Q(count__gt=0, count__lte=COUNT_MAX), name="cart_item_count_in_range"
            ),
            models.UniqueConstraint(
                fields=["cart", "offer"],
                condition=Q(offer__isnull=False, variant__isnull=True),
                name="cart_offer_once",
            ),
            models.UniqueConstraint(
                fields=["cart", "offer", "variant"],
                condition=Q(variant__isnull=False),
                name="cart_variant_once",
            ),
            models.UniqueConstraint(
                fields=["cart", "basket"],
                condition=Q(basket__isnull=False),
                name="cart_basket_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.basket_id or self.offer_id}"


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("en attente de paiement")
    CONFIRMED = "confirmed", _("confirmée")
    PACKED = "packed", _("préparée")
    COLLECTED = "collected", _("retirée")
    CANCELLED = "cancelled", _("annulée")
    EXPIRED = "expired", _("expirée")


class Order(TimeStampedModel):
    """A household's order for one cycle, picked up at a relay point in a slot."""

    reference = models.CharField(_("référence"), max_length=20, unique=True)
    cycle = models.ForeignKey(
        "cycles.OrderCycle",
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("cycle de commande"),
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("client"),
    )
    relay_point = models.ForeignKey(
        "relays.RelayPoint",
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("point relais"),
    )
    pickup_slot = models.ForeignKey(
        "relays.PickupSlot",
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("créneau de retrait"),
    )
    status = models.CharField(
        _("état"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    payment_method = models.CharField(_("moyen de paiement"), max_length=30)
    idempotency_key = models.CharField(_("clé d'idempotence"), max_length=120, unique=True)
    total = models.DecimalField(
        _("total TTC (€)"),
        **AMOUNT,
        help_text=_("Estimé tant que les produits à poids variable ne sont pas pesés."),
    )
    is_final = models.BooleanField(_("total définitif"), default=False)
    expires_at = models.DateTimeField(_("à payer avant"))
    confirmed_at = models.DateTimeField(_("confirmée le"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True)
    slot_released = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("commande")
        verbose_name_plural = _("commandes")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="order_expiry_idx"),
            models.Index(fields=["cycle", "status"], name="order_cycle_status_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="order_total_pos")]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_active(self) -> bool:
        return self.status in {
            OrderStatus.PENDING,
            OrderStatus.CONFIRMED,
            OrderStatus.PACKED,
            OrderStatus.COLLECTED,
        }


class LineKind(models.TextChoices):
    ITEM = "item", _("à la carte")
    BASKET = "basket", _("panier composé")
    COMPONENT = "component", _("contenu de panier")


class OrderLine(models.Model):
    """A line of an order, with what was sold copied from the catalogue at ordering time.

    ``quantity`` is in the product's unit and is what the stock hold took; ``count`` is how
    many the household asked for (items of a variant, pieces, baskets). For a
    variable-weight product, ``price_per_kg`` and ``estimated_weight_kg`` give the estimate
    and ``weight_kg`` the weighed weight; ``total`` is then recomputed.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="components"
    )
    kind = models.CharField(_("type"), max_length=10, choices=LineKind.choices)
    offer = models.ForeignKey(
        "cycles.Offer", on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    basket = models.ForeignKey(
        "cycles.Basket", on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    variant = models.ForeignKey(
        "catalog.ProductVariant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
    )
    producer = models.ForeignKey(
        "producers.Producer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_lines",
    )
    name = models.CharField(_("désignation"), max_length=250)
    unit = models.CharField(_("unité"), max_length=10, blank=True)
    count = models.DecimalField(_("nombre"), **QUANTITY)
    quantity = models.DecimalField(_("quantité (unité du produit)"), **QUANTITY)
    unit_price = models.DecimalField(_("prix unitaire TTC (€)"), **AMOUNT)
    vat_rate = models.DecimalField(_("taux de TVA (%)"), max_digits=4, decimal_places=2)
    labels = models.JSONField(
        _("labels valides à la livraison"),
        default=list,
        blank=True,
        help_text=_("Codes EGalim copiés à la commande, du plus haut au plus bas."),
    )
    origin = models.CharField(_("origine"), max_length=10, blank=True)
    is_solidarity_price = models.BooleanField(_("tarif solidaire"), default=False)
    price_per_kg = models.DecimalField(_("prix au kg TTC (€)"), **AMOUNT, null=True, blank=True)
    estimated_weight_kg = models.DecimalField(
        _("poids estimé (kg)"), **QUANTITY, null=True, blank=True
    )
    weight_kg = models.DecimalField(_("poids pesé (kg)"), **QUANTITY, null=True, blank=True)
    is_missing = models.BooleanField(
        _("manquant"),
        default=False,
        help_text=_("Absent à la préparation : retiré de la commande et remboursé."),
    )
    total = models.DecimalField(_("total TTC (€)"), **AMOUNT)
    hold = models.OneToOneField(
        "cycles.StockHold",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_line",
    )

    class Meta:
        verbose_name = _("ligne de commande")
        verbose_name_plural = _("lignes de commande")
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(count__gt=0, count__lte=COUNT_MAX), name="line_count_in_range"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=LINE_QUANTITY_MAX),
                name="line_quantity_in_range",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="line_total_not_negative"),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gte=0),
                name="line_weight_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.name}"

    @property
    def is_variable_weight(self) -> bool:
        return self.price_per_kg is not None

    @property
    def vat_amount(self) -> Decimal:
        return round_money(self.total * self.vat_rate / (Decimal("100") + self.vat_rate))
