"""Canteens (restauration collective) buying in bulk, on invoice, under the EGalim law.

A canteen orders per order cycle (``CanteenOrder``), delivered on the cycle's delivery day
within the canteen's window for that weekday. Lines snapshot what the law and the invoice
need at the time of sale: the wholesale price excluding VAT, the VAT rate, the EGalim labels
valid that day, the product family, origin and allergens. A producer confirms or adjusts each
line before the cutoff; the driver or the canteen records what was delivered; invoices are
issued per producer and canteen each month from delivered quantities, numbered without gaps
per issuer (``InvoiceSequence``). Lines sent to the "ma cantine" platform are marked with
their export, so an export is never sent twice.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from marche.core.models import ContactModel, LocatedModel, TimeStampedModel
from marche.core.validators import validate_siret
from marche.relays.models import Weekday

QUANTITY = {"max_digits": 10, "decimal_places": 3}
AMOUNT = {"max_digits": 12, "decimal_places": 2}
UNIT_PRICE = {"max_digits": 10, "decimal_places": 4}


class CanteenKind(models.TextChoices):
    NURSERY_SCHOOL = "nursery_school", _("Cantine d'école maternelle")
    PRIMARY_SCHOOL = "primary_school", _("Cantine d'école élémentaire")
    COLLEGE = "college", _("Cantine de collège")
    SENIORS_RESIDENCE = "seniors_residence", _("Résidence autonomie (foyer-logement)")
    OTHER = "other", _("Autre restaurant collectif")


class SchoolZone(models.TextChoices):
    """The zones of the French school-holiday calendar (the Lille academy is in zone B)."""

    A = "A", _("Zone A")
    B = "B", _("Zone B")
    C = "C", _("Zone C")


class Canteen(LocatedModel, ContactModel, TimeStampedModel):
    """A collective-catering site: who runs it, where and when it is delivered, who pays."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="canteens",
        verbose_name=_("territoire"),
    )
    name = models.CharField(_("nom"), max_length=150)
    slug = models.SlugField(_("identifiant"), max_length=80)
    kind = models.CharField(_("type"), max_length=20, choices=CanteenKind.choices)
    legal_name = models.CharField(
        _("raison sociale"),
        max_length=200,
        blank=True,
        help_text=_("Nom de l'établissement tel qu'il est enregistré (répertoire SIRENE)."),
    )
    siret = models.CharField(
        _("SIRET"),
        max_length=14,
        blank=True,
        validators=[validate_siret],
        help_text=_("14 chiffres ; celui sous lequel la cantine est inscrite sur « ma cantine »."),
    )
    meals_per_day = models.PositiveIntegerField(_("repas par jour"), default=0)
    organic_target_percent = models.DecimalField(
        _("objectif de bio (% des achats)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("20"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    school_zone = models.CharField(
        _("zone de vacances scolaires"),
        max_length=1,
        choices=SchoolZone.choices,
        blank=True,
        help_text=_("Vide : la cantine est livrée pendant les vacances scolaires."),
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="managed_canteens",
        blank=True,
        verbose_name=_("gestionnaires"),
    )
    # The public buyer who receives and pays the invoices (often the town, for a school).
    buyer_name = models.CharField(_("acheteur public"), max_length=200, blank=True)
    buyer_siret = models.CharField(
        _("SIRET de l'acheteur"), max_length=14, blank=True, validators=[validate_siret]
    )
    buyer_address = models.TextField(_("adresse de facturation"), blank=True)
    buyer_service_code = models.CharField(
        _("code service (Chorus Pro)"), max_length=100, blank=True
    )
    buyer_order_reference = models.CharField(
        _("numéro d'engagement ou de bon de commande"), max_length=50, blank=True
    )
    invoice_email = models.EmailField(_("e-mail de facturation"), blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(
        _("délai de paiement (jours)"),
        default=30,
        validators=[MaxValueValidator(60)],
        help_text=_("30 jours pour l'État, les collectivités et leurs établissements."),
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
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def invoiced_to(self) -> str:
        """Who the invoices are addressed to: the public buyer, or the canteen itself."""
        return self.buyer_name or self.legal_name or self.name


class DeliveryWindow(models.Model):
    """When a canteen takes deliveries on one weekday; no row: not delivered that day."""

    canteen = models.ForeignKey(Canteen, on_delete=models.CASCADE, related_name="delivery_windows")
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    starts_at = models.TimeField(_("livraison à partir de"))
    ends_at = models.TimeField(_("livraison jusqu'à"))

    class Meta:
        verbose_name = _("créneau de livraison")
        verbose_name_plural = _("créneaux de livraison")
        ordering = ["canteen", "weekday"]
        constraints = [
            models.UniqueConstraint(
                fields=["canteen", "weekday"], name="canteen_one_window_per_weekday"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="canteen_window_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class CanteenOrderStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Envoyée, à confirmer par les producteurs")
    CONFIRMED = "confirmed", _("Confirmée")
    DELIVERED = "delivered", _("Livrée")
    CANCELLED = "cancelled", _("Annulée")


class CanteenOrder(TimeStampedModel):
    """A canteen's bulk order for one cycle, delivered on the cycle's day within its window."""

    reference = models.CharField(_("référence"), max_length=30, unique=True)
    canteen = models.ForeignKey(
        Canteen, on_delete=models.PROTECT, related_name="orders", verbose_name=_("cantine")
    )
    cycle = models.ForeignKey(
        "cycles.OrderCycle",
        on_delete=models.PROTECT,
        related_name="canteen_orders",
        verbose_name=_("cycle"),
    )
    delivery_date = models.DateField(_("jour de livraison"))
    window_starts_at = models.TimeField(_("livraison à partir de"))
    window_ends_at = models.TimeField(_("livraison jusqu'à"))
    standing_order = models.ForeignKey(
        "StandingOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("commande régulière"),
    )
    status = models.CharField(
        _("statut"),
        max_length=12,
        choices=CanteenOrderStatus.choices,
        default=CanteenOrderStatus.SUBMITTED,
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("passée par"),
    )
    note = models.TextField(_("remarque pour les producteurs"), blank=True)
    delivered_at = models.DateTimeField(_("livrée le"), null=True, blank=True)
    received_by = models.CharField(_("reçue par"), max_length=120, blank=True)
    delivery_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("livraison saisie par"),
    )
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("commande de cantine")
        verbose_name_plural = _("commandes de cantine")
        ordering = ["-delivery_date", "canteen__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["canteen", "cycle"], name="canteen_one_order_per_cycle"
            ),
            models.CheckConstraint(
                condition=Q(window_ends_at__gt=F("window_starts_at")),
                name="canteen_order_window_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["cycle", "status"], name="canteen_order_cycle_idx")]

    def __str__(self) -> str:
        return self.reference


class LineStatus(models.TextChoices):
    PENDING = "pending", _("À confirmer")
    CONFIRMED = "confirmed", _("Confirmée")
    ADJUSTED = "adjusted", _("Ajustée par le producteur")
    REFUSED = "refused", _("Refusée par le producteur")


class CanteenOrderLine(models.Model):
    """A line of a canteen order, with what the law and the invoice need as it was sold.

    ``quantity_ordered`` is what the canteen asked; ``quantity_confirmed`` what the producer
    will deliver (None until answered); ``quantity_delivered`` what arrived (None until
    recorded). The offer's stock counts the confirmed quantity, or the ordered one until then.
    ``labels`` are the EGalim label codes valid on the day of sale, highest first: a label
    that lapses later still counts for this purchase.
    """

    order = models.ForeignKey(CanteenOrder, on_delete=models.CASCADE, related_name="lines")
    offer = models.ForeignKey(
        "cycles.Offer", on_delete=models.PROTECT, related_name="canteen_lines"
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="canteen_lines"
    )
    producer = models.ForeignKey(
        "producers.Producer", on_delete=models.PROTECT, related_name="canteen_lines"
    )
    name = models.CharField(_("désignation"), max_length=250)
    unit = models.CharField(_("unité"), max_length=10)
    quantity_ordered = models.DecimalField(_("quantité commandée"), **QUANTITY)
    quantity_confirmed = models.DecimalField(
        _("quantité confirmée"), **QUANTITY, null=True, blank=True
    )
    quantity_delivered = models.DecimalField(
        _("quantité livrée"), **QUANTITY, null=True, blank=True
    )
    shortfall_reason = models.CharField(_("motif de l'écart"), max_length=200, blank=True)
    status = models.CharField(
        _("statut"), max_length=10, choices=LineStatus.choices, default=LineStatus.PENDING
    )
    producer_note = models.CharField(_("mot du producteur"), max_length=200, blank=True)
    answered_at = models.DateTimeField(_("réponse du producteur le"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    unit_price_ht = models.DecimalField(_("prix unitaire HT (€)"), **UNIT_PRICE)
    vat_rate = models.DecimalField(_("taux de TVA (%)"), max_digits=4, decimal_places=2)
    labels = models.JSONField(_("labels EGalim à la vente"), default=list, blank=True)
    family = models.CharField(_("famille de produits"), max_length=20)
    origin = models.CharField(_("origine"), max_length=10, blank=True)
    allergens = models.JSONField(_("allergènes"), default=list, blank=True)
    is_chilled = models.BooleanField(_("produit frais"), default=False)
    weight_per_unit_kg = models.DecimalField(
        _("poids d'une unité (kg)"),
        max_digits=7,
        decimal_places=3,
        default=Decimal("1"),
        help_text=_("Pour la charge des véhicules : 1 pour un produit vendu au kg."),
    )
    exported = models.ForeignKey(
        "MaCantineExport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("export « ma cantine »"),
    )

    class Meta:
        verbose_name = _("ligne de commande de cantine")
        verbose_name_plural = _("lignes de commande de cantine")
        ordering = ["order", "producer__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["order", "offer"], name="canteen_line_once_per_offer"),
            models.CheckConstraint(
                condition=Q(quantity_ordered__gt=0), name="canteen_line_ordered_positive"
            ),
            models.CheckConstraint(
                condition=Q(quantity_confirmed__isnull=True) | Q(quantity_confirmed__gte=0),
                name="canteen_line_confirmed_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(quantity_delivered__isnull=True) | Q(quantity_delivered__gte=0),
                name="canteen_line_delivered_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(unit_price_ht__gt=0), name="canteen_line_price_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["producer", "status"], name="canteen_line_producer_idx"),
            models.Index(
                fields=["id"],
                name="canteen_line_unexported_idx",
                condition=Q(exported__isnull=True, quantity_delivered__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def quantity_due(self) -> Decimal:
        """What the producer is to deliver: the confirmed quantity, or the ordered one."""
        return self.quantity_ordered if self.quantity_confirmed is None else self.quantity_confirmed

    @property
    def shortfall(self) -> Decimal | None:
        """How much less than due arrived; None until the delivery is recorded."""
        if self.quantity_delivered is None:
            return None
        return max(self.quantity_due - self.quantity_delivered, Decimal("0"))


class DeliveryRecord(models.Model):
    """One recording of what a canteen received: who, when, what; its key is used once.

    The driver's phone may send the same check-off again after a lost network, and a form may
    be posted twice: the unique ``key`` makes the second one change nothing. Corrections are
    new records, so the order keeps the history of what was said to have arrived.
    """

    order = models.ForeignKey(
        CanteenOrder, on_delete=models.CASCADE, related_name="delivery_records"
    )
    key = models.CharField(_("clé d'idempotence"), max_length=200, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("saisie par"),
    )
    recorded_at = models.DateTimeField(_("saisie le"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("livrée le"))
    received_by = models.CharField(_("reçue par"), max_length=120)
    quantities = models.JSONField(
        _("quantités livrées"),
        default=dict,
        help_text=_("Par ligne : quantité livrée et motif de l'écart, tels que saisis."),
    )

    class Meta:
        verbose_name = _("saisie de livraison")
        verbose_name_plural = _("saisies de livraison")
        ordering = ["order", "recorded_at"]

    def __str__(self) -> str:
        return f"{self.order} {self.recorded_at:%Y-%m-%d %H:%M}"


class StandingOrder(TimeStampedModel):
    """A weekly order that repeats, cycle after cycle, until changed or ended.

    Each open cycle gets a ``CanteenOrder`` made from these lines, except in the school
    holidays of the canteen's zone and the weeks its manager skipped (``SkippedWeek``).
    """

    canteen = models.ForeignKey(Canteen, on_delete=models.CASCADE, related_name="standing_orders")
    name = models.CharField(_("nom"), max_length=120, default=_("Commande de la semaine"))
    starts_on = models.DateField(_("à partir du"))
    ends_on = models.DateField(_("jusqu'au"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("commande régulière")
        verbose_name_plural = _("commandes régulières")
        ordering = ["canteen", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="standing_order_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.canteen} — {self.name}"


class StandingOrderLine(models.Model):
    standing_order = models.ForeignKey(
        StandingOrder, on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="standing_order_lines"
    )
    quantity = models.DecimalField(_("quantité par semaine"), **QUANTITY)

    class Meta:
        verbose_name = _("ligne de commande régulière")
        verbose_name_plural = _("lignes de commande régulière")
        ordering = ["standing_order", "product__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["standing_order", "product"], name="standing_line_once_per_product"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="standing_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class SkippedWeek(models.Model):
    """A week a canteen takes no standing delivery (closure, outing…), set by its manager."""

    canteen = models.ForeignKey(Canteen, on_delete=models.CASCADE, related_name="skipped_weeks")
    week_start = models.DateField(_("semaine du (lundi)"))
    reason = models.CharField(_("motif"), max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("semaine sautée")
        verbose_name_plural = _("semaines sautées")
        ordering = ["canteen", "week_start"]
        constraints = [
            models.UniqueConstraint(fields=["canteen", "week_start"], name="skipped_week_once"),
        ]

    def __str__(self) -> str:
        return f"{self.canteen} — {self.week_start:%d/%m/%Y}"


class InvoiceSequence(models.Model):
    """The last invoice number an issuer gave in a year: locked to number without gaps."""

    issuer = models.ForeignKey(
        "producers.Producer", on_delete=models.PROTECT, related_name="invoice_sequences"
    )
    year = models.PositiveSmallIntegerField(_("année"))
    last_number = models.PositiveIntegerField(_("dernier numéro"), default=0)

    class Meta:
        verbose_name = _("numérotation des factures")
        verbose_name_plural = _("numérotations des factures")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "year"], name="invoice_sequence_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.year}: {self.last_number}"


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", _("Émise, à payer")
    PAID = "paid", _("Payée")


class Invoice(TimeStampedModel):
    """A producer's monthly invoice to a canteen, from delivered quantities.

    ``seller`` and ``buyer`` keep the legal details as they were on the day of issue; the
    Factur-X PDF (``pdf``) is made once, at issue, and never changes afterwards.
    """

    issuer = models.ForeignKey(
        "producers.Producer",
        on_delete=models.PROTECT,
        related_name="canteen_invoices",
        verbose_name=_("émetteur"),
    )
    canteen = models.ForeignKey(
        Canteen, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("cantine")
    )
    number = models.CharField(_("numéro"), max_length=30)
    sequence_year = models.PositiveSmallIntegerField(_("année de numérotation"))
    sequence_number = models.PositiveIntegerField(_("rang dans l'année"))
    period_start = models.DateField(_("période du"))
    period_end = models.DateField(_("période au"))
    issued_on = models.DateField(_("émise le"))
    due_on = models.DateField(_("à payer avant le"))
    total_ht = models.DecimalField(_("total HT (€)"), **AMOUNT)
    total_vat = models.DecimalField(_("TVA (€)"), **AMOUNT)
    total_ttc = models.DecimalField(_("total TTC (€)"), **AMOUNT)
    amount_paid = models.DecimalField(_("payé (€)"), **AMOUNT, default=Decimal("0"))
    status = models.CharField(
        _("statut"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED
    )
    paid_on = models.DateField(_("soldée le"), null=True, blank=True)
    seller = models.JSONField(_("vendeur (à l'émission)"), default=dict)
    buyer = models.JSONField(_("acheteur (à l'émission)"), default=dict)
    pdf = models.BinaryField(_("PDF Factur-X"), editable=False, default=bytes)

    class Meta:
        verbose_name = _("facture")
        verbose_name_plural = _("factures")
        ordering = ["-issued_on", "issuer__name", "-sequence_number"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "number"], name="invoice_number_per_issuer"),
            models.UniqueConstraint(
                fields=["issuer", "sequence_year", "sequence_number"],
                name="invoice_rank_per_issuer_year",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="invoice_period"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0), name="invoice_paid_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="invoice_unpaid_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def amount_due(self) -> Decimal:
        return self.total_ttc - self.amount_paid


class InvoiceLine(models.Model):
    """One delivered canteen line on an invoice: a line is invoiced once (one-to-one)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    order_line = models.OneToOneField(
        CanteenOrderLine, on_delete=models.PROTECT, related_name="invoice_line"
    )
    delivery_date = models.DateField(_("livrée le"))
    description = models.CharField(_("désignation"), max_length=250)
    unit = models.CharField(_("unité"), max_length=10)
    quantity = models.DecimalField(_("quantité"), **QUANTITY)
    unit_price_ht = models.DecimalField(_("prix unitaire HT (€)"), **UNIT_PRICE)
    vat_rate = models.DecimalField(_("taux de TVA (%)"), max_digits=4, decimal_places=2)
    total_ht = models.DecimalField(_("total HT (€)"), **AMOUNT)

    class Meta:
        verbose_name = _("ligne de facture")
        verbose_name_plural = _("lignes de facture")
        ordering = ["invoice", "delivery_date", "description"]

    def __str__(self) -> str:
        return self.description


class InvoicePayment(models.Model):
    """A payment received for an invoice (a public buyer may pay in several transfers)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("montant (€)"), **AMOUNT)
    received_on = models.DateField(_("reçu le"))
    reference = models.CharField(_("référence du virement"), max_length=120, blank=True)
    key = models.CharField(_("clé d'idempotence"), max_length=120, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("saisi le"), auto_now_add=True)

    class Meta:
        verbose_name = _("paiement de facture")
        verbose_name_plural = _("paiements de facture")
        ordering = ["invoice", "received_on"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_payment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} {self.amount} €"


class MaCantineExport(models.Model):
    """One export of purchases to the "ma cantine" platform: its lines are never sent again."""

    territory = models.ForeignKey(
        "territories.Territory", on_delete=models.PROTECT, related_name="macantine_exports"
    )
    canteen = models.ForeignKey(
        Canteen,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="macantine_exports",
        help_text=_("Vide : toutes les cantines du territoire."),
    )
    created_at = models.DateTimeField(_("exporté le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    line_count = models.PositiveIntegerField(_("lignes"), default=0)
    content = models.TextField(_("fichier CSV"), blank=True)

    class Meta:
        verbose_name = _("export « ma cantine »")
        verbose_name_plural = _("exports « ma cantine »")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} ({self.line_count})"
