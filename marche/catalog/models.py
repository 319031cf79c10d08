"""The catalogue: what producers grow and make, with its unit, price and season."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marche.core.models import TimeStampedModel


class ProductFamily(models.TextChoices):
    """The 8 product families of collective catering (EGalim, "ma cantine")."""

    MEAT_POULTRY = "VIANDES_VOLAILLES", _("Viandes et volailles")
    CHARCUTERIE = "CHARCUTERIE", _("Charcuterie")
    SEAFOOD = "PRODUITS_DE_LA_MER", _("Produits de la mer")
    FRUIT_VEGETABLES = "FRUITS_ET_LEGUMES", _("Fruits et légumes")
    DAIRY = "PRODUITS_LAITIERS", _("Produits laitiers")
    BAKERY = "BOULANGERIE", _("Boulangerie")
    DRINKS = "BOISSONS", _("Boissons")
    OTHER = "AUTRES", _("Autres")


class Unit(models.TextChoices):
    KG = "kg", _("kg")
    PIECE = "piece", _("pièce")
    BUNCH = "bunch", _("botte")
    DOZEN = "dozen", _("douzaine")
    LITRE = "litre", _("litre")


def validate_months(value: object) -> None:
    if not isinstance(value, list) or not all(
        isinstance(month, int) and 1 <= month <= 12 for month in value
    ):
        raise ValidationError(_("Les mois de saison sont des nombres de 1 à 12."))


class Category(models.Model):
    name = models.CharField(_("nom"), max_length=80, unique=True)
    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("catégorie")
        verbose_name_plural = _("catégories")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    """A product of one producer. ``unit_price`` is in euros, VAT included, per ``unit``."""

    producer = models.ForeignKey(
        "producers.Producer",
        on_delete=models.CASCADE,
        related_name="products",
        verbose_name=_("producteur"),
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("catégorie")
    )
    name = models.CharField(_("nom"), max_length=150)
    slug = models.SlugField(_("identifiant"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    family = models.CharField(
        _("famille de produits"), max_length=20, choices=ProductFamily.choices
    )
    unit = models.CharField(_("unité"), max_length=10, choices=Unit.choices)
    unit_price = models.DecimalField(
        _("prix TTC par unité (€)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    vat_rate = models.DecimalField(
        _("taux de TVA (%)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("5.50"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("20"))],
    )
    is_organic = models.BooleanField(_("bio"), default=False)
    season_months = models.JSONField(
        _("mois de saison"),
        default=list,
        blank=True,
        validators=[validate_months],
        help_text=_("Mois de disponibilité, de 1 (janvier) à 12 ; vide : toute l'année."),
    )
    is_variable_weight = models.BooleanField(
        _("poids variable"),
        default=False,
        help_text=_(
            "Vendu à la pièce, payé au poids : le prix est au kg et le prix final est fixé "
            "à la pesée, lors de la préparation."
        ),
    )
    estimated_weight_kg = models.DecimalField(
        _("poids estimé d'une pièce (kg)"),
        max_digits=7,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("produit")
        verbose_name_plural = _("produits")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["producer", "slug"], name="product_slug_per_producer"),
            models.CheckConstraint(
                condition=models.Q(unit_price__gt=0), name="product_price_positive"
            ),
            # A variable-weight product is counted in pieces, priced per kg, and needs the
            # estimated weight of a piece to show a price before weighing.
            models.CheckConstraint(
                condition=models.Q(is_variable_weight=False)
                | models.Q(unit=Unit.PIECE, estimated_weight_kg__gt=0),
                name="variable_weight_needs_estimate",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.is_variable_weight and (self.unit != Unit.PIECE or not self.estimated_weight_kg):
            raise ValidationError(
                _(
                    "Un produit à poids variable se compte à la pièce et indique le poids "
                    "estimé d'une pièce."
                )
            )


class ProductVariant(models.Model):
    """A way to sell a product: a 1 kg bag, a 5 kg crate (``content`` units of the product).

    Variants share the stock of their product's offer, counted in the product's unit; the
    price of one item is the offer's unit price times ``content``, less ``discount_percent``.
    """

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="variants", verbose_name=_("produit")
    )
    name = models.CharField(_("nom"), max_length=80)
    content = models.DecimalField(
        _("contenu (en unité du produit)"),
        max_digits=10,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    discount_percent = models.DecimalField(
        _("remise (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("50"))],
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("variante")
        verbose_name_plural = _("variantes")
        ordering = ["product", "position", "content"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="variant_name_per_product"),
            models.CheckConstraint(condition=models.Q(content__gt=0), name="variant_content_pos"),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=50),
                name="variant_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} — {self.name}"
