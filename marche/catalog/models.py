"""The catalogue: what producers grow and make, with its unit, price, season and labels.

A product is organic ("bio") when it holds a valid ``BIO`` certification on the day asked:
there is no stored flag to drift out of date (see ``marche.catalog.selectors``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
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


class EgalimTier(models.IntegerChoices):
    """The EGalim groups, highest first: a purchase counts once, under its highest label."""

    ORGANIC = 1, _("Bio")
    SIQO = 2, _("Signes officiels de qualité et d'origine (SIQO)")
    OTHER = 3, _("Autres labels EGalim")
    EXTERNALITIES = 4, _("Externalités environnementales / performance")


class EgalimLabel(models.TextChoices):
    """The labels and mentions of the EGalim law, coded as the "ma cantine" platform codes them.

    Declared in precedence order: ``rank`` 0 is the highest label. Every one counts toward the
    50 % EGalim target; only ``BIO`` counts toward the 20 % organic target.
    """

    BIO = "BIO", _("Agriculture biologique")
    LABEL_ROUGE = "LABEL_ROUGE", _("Label Rouge")
    AOCAOP = "AOCAOP", _("AOC / AOP")
    IGP = "IGP", _("IGP")
    STG = "STG", _("STG")
    HVE = "HVE", _("Haute valeur environnementale (HVE)")
    PECHE_DURABLE = "PECHE_DURABLE", _("Écolabel pêche durable")
    RUP = "RUP", _("Région ultrapériphérique (RUP)")
    FERMIER = "FERMIER", _("Fermier")
    COMMERCE_EQUITABLE = "COMMERCE_EQUITABLE", _("Commerce équitable")
    EXTERNALITES = "EXTERNALITES", _("Externalités environnementales")
    PERFORMANCE = "PERFORMANCE", _("Performance environnementale")

    @property
    def rank(self) -> int:
        """Precedence: 0 for the highest label (bio), larger for lower ones."""
        return EGALIM_PRECEDENCE.index(self)

    @property
    def tier(self) -> EgalimTier:
        return EGALIM_TIERS[self]

    @property
    def counts_toward_organic(self) -> bool:
        """Whether a purchase under this label counts toward the 20 % organic target."""
        return self.tier == EgalimTier.ORGANIC

    @property
    def counts_toward_egalim(self) -> bool:
        """Whether a purchase under this label counts toward the 50 % EGalim target."""
        return True


EGALIM_PRECEDENCE: tuple[EgalimLabel, ...] = tuple(EgalimLabel)
EGALIM_TIERS: dict[EgalimLabel, EgalimTier] = {
    EgalimLabel.BIO: EgalimTier.ORGANIC,
    EgalimLabel.LABEL_ROUGE: EgalimTier.SIQO,
    EgalimLabel.AOCAOP: EgalimTier.SIQO,
    EgalimLabel.IGP: EgalimTier.SIQO,
    EgalimLabel.STG: EgalimTier.SIQO,
    EgalimLabel.HVE: EgalimTier.OTHER,
    EgalimLabel.PECHE_DURABLE: EgalimTier.OTHER,
    EgalimLabel.RUP: EgalimTier.OTHER,
    EgalimLabel.FERMIER: EgalimTier.OTHER,
    EgalimLabel.COMMERCE_EQUITABLE: EgalimTier.OTHER,
    EgalimLabel.EXTERNALITES: EgalimTier.EXTERNALITIES,
    EgalimLabel.PERFORMANCE: EgalimTier.EXTERNALITIES,
}


def egalim_best_label(labels: Iterable[str]) -> EgalimLabel | None:
    """The highest of some labels, under which a purchase counts; None when there is none."""
    found = [EgalimLabel(label) for label in labels]
    return min(found, key=lambda label: label.rank, default=None)


class Allergen(models.TextChoices):
    """The 14 allergens that EU regulation 1169/2011 (annex II) requires to be declared."""

    GLUTEN = "gluten", _("Céréales contenant du gluten")
    CRUSTACEANS = "crustaceans", _("Crustacés")
    EGGS = "eggs", _("Œufs")
    FISH = "fish", _("Poissons")
    PEANUTS = "peanuts", _("Arachides")
    SOYBEANS = "soybeans", _("Soja")
    MILK = "milk", _("Lait")
    NUTS = "nuts", _("Fruits à coque")
    CELERY = "celery", _("Céleri")
    MUSTARD = "mustard", _("Moutarde")
    SESAME = "sesame", _("Graines de sésame")
    SULPHITES = "sulphites", _("Anhydride sulfureux et sulfites")
    LUPIN = "lupin", _("Lupin")
    MOLLUSCS = "molluscs", _("Mollusques")


class Origin(models.TextChoices):
    """Where a product comes from, as the "ma cantine" purchase import asks."""

    FRANCE = "FRANCE", _("France")
    EUROPE = "EUROPE", _("Union européenne (hors France)")
    OUTSIDE_EU = "HORS_UE", _("Hors Union européenne")


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


def validate_allergens(value: object) -> None:
    """A list of allergen codes of ``Allergen``, each once."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError(_("Les allergènes sont une liste de codes."), code="invalid")
    unknown = [code for code in value if code not in Allergen.values]
    if unknown:
        raise ValidationError(
            _("Allergène inconnu : %(codes)s. Codes admis : %(allowed)s."),
            code="unknown_allergen",
            params={"codes": ", ".join(unknown), "allowed": ", ".join(Allergen.values)},
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("Un allergène est indiqué deux fois."), code="duplicate")


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
    allergens = models.JSONField(
        _("allergènes"),
        default=list,
        blank=True,
        validators=[validate_allergens],
        help_text=_(
            "Allergènes à déclarer (règlement UE 1169/2011) ; vide : aucun des 14 allergènes."
        ),
    )
    origin = models.CharField(
        _("origine"), max_length=10, choices=Origin.choices, default=Origin.FRANCE
    )
    origin_detail = models.CharField(
        _("précision sur l'origine"),
        max_length=120,
        blank=True,
        help_text=_("Commune ou région de production, par exemple « Loos-en-Gohelle »."),
    )
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
    wholesale_price = models.DecimalField(
        _("prix de gros HT par unité (€)"),
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0001"))],
        help_text=_("Prix hors taxes pour les cantines ; vide : pas de vente aux cantines."),
    )
    wholesale_minimum = models.DecimalField(
        _("minimum par ligne de cantine"),
        max_digits=10,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.001"))],
        help_text=_(
            "La plus petite quantité qu'une cantine peut commander, dans l'unité du produit."
        ),
    )
    is_chilled = models.BooleanField(
        _("produit frais"),
        default=False,
        help_text=_("Produit frais à garder au froid : il voyage dans un véhicule réfrigéré."),
    )
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("produit")
        verbose_name_plural = _("produits")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["producer", "slug"], name="product_slug_per_producer"),
            models.CheckConstraint(
                condition=models.Q(unit_price__gt=0),
                name="product_price_positive",
                violation_error_message=_("Le prix doit être supérieur à zéro."),
            ),
            models.CheckConstraint(
                condition=models.Q(wholesale_price__isnull=True) | models.Q(wholesale_price__gt=0),
                name="product_wholesale_price_positive",
                violation_error_message=_("Le prix de gros doit être supérieur à zéro."),
            ),
            models.CheckConstraint(
                condition=models.Q(wholesale_minimum__gt=0),
                name="product_wholesale_minimum_positive",
                violation_error_message=_(
                    "Le minimum de commande en gros doit être supérieur à zéro."
                ),
            ),
            # A variable-weight product is counted in pieces, priced per kg, and needs the
            # estimated weight of a piece to show a price before weighing. The explicit
            # IS NOT NULL matters: a CHECK whose condition is NULL passes.
            models.CheckConstraint(
                condition=models.Q(is_variable_weight=False)
                | models.Q(
                    unit=Unit.PIECE,
                    estimated_weight_kg__isnull=False,
                    estimated_weight_kg__gt=0,
                ),
                name="variable_weight_needs_estimate",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def valid_labels(self) -> list[EgalimLabel]:
        """The labels valid on the day a list was read for, highest first.

        A list read with ``marche.catalog.selectors.product_labels_prefetch(on=...)`` answers
        for that day without a query; otherwise this reads the certifications valid today.
        """
        certifications = getattr(self, "valid_certifications", None)
        if certifications is None:
            today = timezone.localdate()
            certifications = [c for c in self.certifications.all() if c.is_valid_on(today)]
        labels = {EgalimLabel(certification.label) for certification in certifications}
        return sorted(labels, key=lambda label: label.rank)

    @property
    def is_organic(self) -> bool:
        """Whether a bio certificate is valid (derived, never stored: see ``valid_labels``)."""
        return EgalimLabel.BIO in self.valid_labels

    def allergen_labels(self) -> list[str]:
        """The names of the product's allergens, in the order of the regulation."""
        return [str(label) for code, label in Allergen.choices if code in self.allergens]

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
            models.CheckConstraint(
                condition=models.Q(content__gt=0),
                name="variant_content_pos",
                violation_error_message=_("Le contenu de la variante doit être supérieur à zéro."),
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=50),
                name="variant_discount_range",
                violation_error_message=_("La remise doit être comprise entre 0 et 50 %."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} — {self.name}"


class ProductCertification(TimeStampedModel):
    """A product's EGalim label, backed by a certificate valid from one day to another.

    A label only counts on the days its certificate is valid: an expired organic certificate
    makes the product non-organic from the next day on, with nothing else to update.
    """

    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="certifications",
        verbose_name=_("produit"),
    )
    label = models.CharField(_("label"), max_length=20, choices=EgalimLabel.choices)
    certificate_reference = models.CharField(_("référence du certificat"), max_length=80)
    certifier = models.CharField(_("organisme certificateur"), max_length=120, blank=True)
    valid_from = models.DateField(_("valable du"))
    valid_until = models.DateField(_("valable jusqu'au"))

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["product", "label", "-valid_until"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="certification_valid_dates",
                violation_error_message=_("La fin de validité ne peut pas précéder son début."),
            ),
            models.UniqueConstraint(
                fields=["product", "label", "certificate_reference"],
                name="certification_once_per_product",
            ),
        ]
        indexes = [
            models.Index(fields=["label", "valid_until"], name="certification_label_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_label_display()} — {self.certificate_reference}"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError(
                {"valid_until": _("La fin de validité précède le début de validité.")}
            )

    def is_valid_on(self, on: date) -> bool:
        return self.valid_from <= on <= self.valid_until


class ProductPhoto(models.Model):
    """A photo of a product; the first by ``position`` is the one shown on cards."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="photos", verbose_name=_("produit")
    )
    image = models.ImageField(_("image"), upload_to="produits/%Y/")
    alt_text = models.CharField(
        _("texte alternatif"),
        max_length=200,
        help_text=_("Ce que montre la photo, pour les personnes qui ne la voient pas."),
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["product", "position", "pk"]

    def __str__(self) -> str:
        return self.alt_text
