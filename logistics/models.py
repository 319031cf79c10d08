"""The fleet and its depots: what the routing core plans delivery rounds with."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marche.core.models import ContactModel, LocatedModel, TimeStampedModel
from marche.relays.models import Weekday


class Depot(LocatedModel, ContactModel, TimeStampedModel):
    """A place where rounds start and end: a logistics hub or a farm."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="depots",
        verbose_name=_("territoire"),
    )
    name = models.CharField(_("nom"), max_length=150)
    slug = models.SlugField(_("identifiant"), max_length=80)

    class Meta:
        verbose_name = _("dépôt")
        verbose_name_plural = _("dépôts")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "slug"], name="depot_slug_per_territory")
        ]

    def __str__(self) -> str:
        return self.name


class VehicleKind(models.TextChoices):
    VAN = "van", _("Utilitaire")
    CARGO_TRICYCLE = "cargo_tricycle", _("Triporteur électrique")
    ASSISTED_BIKE = "assisted_bike", _("Vélo à assistance électrique")


class Vehicle(TimeStampedModel):
    """A vehicle of the fleet with its capacities, speed, range and costs."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="vehicles",
        verbose_name=_("territoire"),
    )
    depot = models.ForeignKey(
        Depot,
        on_delete=models.PROTECT,
        related_name="vehicles",
        verbose_name=_("dépôt"),
    )
    name = models.CharField(_("nom"), max_length=100)
    slug = models.SlugField(_("identifiant"), max_length=80)
    kind = models.CharField(_("type"), max_length=20, choices=VehicleKind.choices)
    capacity_kg = models.PositiveIntegerField(
        _("charge utile (kg)"), validators=[MinValueValidator(1)]
    )
    capacity_crates = models.PositiveIntegerField(_("caisses"), validators=[MinValueValidator(1)])
    cold_volume_litres = models.PositiveIntegerField(_("volume réfrigéré (L)"), default=0)
    average_speed_kmh = models.DecimalField(
        _("vitesse moyenne (km/h)"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("1"))],
    )
    max_range_km = models.PositiveIntegerField(_("autonomie (km)"), null=True, blank=True)
    cost_per_km = models.DecimalField(_("coût par km (€)"), max_digits=6, decimal_places=3)
    cost_per_hour = models.DecimalField(_("coût horaire (€)"), max_digits=6, decimal_places=2)
    shift_start = models.TimeField(_("début de service"))
    shift_end = models.TimeField(_("fin de service"))
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("véhicule")
        verbose_name_plural = _("véhicules")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "slug"], name="vehicle_slug_per_territory"
            ),
            models.CheckConstraint(
                condition=models.Q(shift_end__gt=models.F("shift_start")),
                name="vehicle_shift_ends_after_start",
                violation_error_message=_("La fin du service doit venir après son début."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DriverShift(TimeStampedModel):
    """A driver at the wheel of a vehicle on a weekday, between two hours.

    A vehicle is planned on a delivery day only within its own service hours and the shift of
    the driver assigned to it that weekday; one driver per vehicle and one vehicle per driver
    on a given weekday.
    """

    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("véhicule")
    )
    driver = models.ForeignKey(
        "accounts.User",
        on_delete=models.CASCADE,
        related_name="driver_shifts",
        verbose_name=_("chauffeur"),
    )
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    starts_at = models.TimeField(_("début"))
    ends_at = models.TimeField(_("fin"))

    class Meta:
        verbose_name = _("créneau de chauffeur")
        verbose_name_plural = _("créneaux de chauffeurs")
        ordering = ["weekday", "starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle", "weekday"], name="one_driver_per_vehicle_and_day"
            ),
            models.UniqueConstraint(
                fields=["driver", "weekday"], name="one_vehicle_per_driver_and_day"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="driver_shift_ends_after_start",
                violation_error_message=_("La fin du service doit venir après son début."),
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6),
                name="driver_shift_weekday_range",
                violation_error_message=_("Le jour doit être entre lundi et dimanche."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.driver} {self.vehicle} {self.get_weekday_display()}"


class CycleClosing(models.Model):
    """The fact that an order cycle was closed for delivery planning: one row per cycle.

    ``marche`` marks no cycle as closed (a cycle is open while ``opens_at <= now <
    closes_at``); logistics records the closing here so the beat task can tell the cycles it
    has already handled. The unique cycle makes closing idempotent even for two workers.
    """

    cycle = models.OneToOneField(
        "cycles.OrderCycle",
        on_delete=models.CASCADE,
        related_name="logistics_closing",
        verbose_name=_("cycle de commande"),
    )
    closed_at = models.DateTimeField(_("clôturé le"))
    orders_count = models.PositiveIntegerField(_("commandes à livrer"), default=0)

    class Meta:
        verbose_name = _("clôture de cycle")
        verbose_name_plural = _("clôtures de cycle")

    def __str__(self) -> str:
        return f"{self.cycle_id} {self.closed_at:%d/%m/%Y %H:%M}"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("brouillon")
    PUBLISHED = "published", _("publié")


class SolveState(models.TextChoices):
    IDLE = "idle", _("pas encore calculé")
    QUEUED = "queued", _("en attente d'un calculateur")
    RUNNING = "running", _("calcul en cours")
    DONE = "done", _("calculé")
    FAILED = "failed", _("échec du calcul")


class DeliveryPlan(models.Model):
    """The delivery rounds of one order cycle: one plan per cycle, recomputed while a draft.

    ``version`` grows at every write so that an editor can check nobody changed the plan
    since they read it (optimistic locking).
    """

    cycle = models.ForeignKey(
        "cycles.OrderCycle",
        on_delete=models.CASCADE,
        related_name="delivery_plans",
        verbose_name=_("cycle de commande"),
    )
    status = models.CharField(
        _("état"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    solved_at = models.DateTimeField(_("calculé le"), null=True, blank=True)
    solver_stats = models.JSONField(_("statistiques du calcul"), default=dict, blank=True)
    total_km = models.DecimalField(
        _("distance totale (km)"), max_digits=9, decimal_places=3, default=Decimal("0")
    )
    total_co2_kg = models.DecimalField(
        _("CO2 total (kg)"), max_digits=9, decimal_places=3, default=Decimal("0")
    )
    unserved = models.JSONField(
        _("étapes non desservies"),
        default=list,
        blank=True,
        help_text=_("Liste de {place, code, reason_fr, decision}."),
    )
    solve_state = models.CharField(
        _("calcul"), max_length=10, choices=SolveState.choices, default=SolveState.IDLE
    )
    progress = models.JSONField(
        _("avancement du calcul"),
        default=dict,
        blank=True,
        help_text=_("started_at, time_limit_s, elapsed_s, best_cost, stops_planned, stops_total."),
    )
    solve_error = models.JSONField(_("erreur du calcul"), default=dict, blank=True)
    published_at = models.DateTimeField(_("publié le"), null=True, blank=True)
    published_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("publié par"),
    )
    stability_threshold_pct = models.DecimalField(
        _("gain minimal pour changer une tournée habituelle (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    baseline_km = models.DecimalField(
        _("distance si chaque ferme livrait elle-même (km)"),
        max_digits=10,
        decimal_places=3,
        default=Decimal("0"),
    )
    changes = models.JSONField(
        _("changements depuis le calcul précédent"),
        default=list,
        blank=True,
        help_text=_("Par chauffeur ou véhicule : ce qui a changé et pourquoi."),
    )

    class Meta:
        verbose_name = _("plan de livraison")
        verbose_name_plural = _("plans de livraison")
        constraints = [models.UniqueConstraint(fields=["cycle"], name="one_plan_per_cycle")]

    def __str__(self) -> str:
        return f"{self.cycle} v{self.version}"


class PlanRoute(models.Model):
    """One vehicle's round in a plan."""

    plan = models.ForeignKey(DeliveryPlan, on_delete=models.CASCADE, related_name="routes")
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.PROTECT, related_name="plan_routes", verbose_name=_("véhicule")
    )
    driver = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plan_routes",
        verbose_name=_("chauffeur"),
    )
    position = models.PositiveSmallIntegerField(_("ordre"))
    km = models.DecimalField(_("distance (km)"), max_digits=8, decimal_places=3)
    duration_min = models.PositiveIntegerField(_("durée (minutes)"))
    co2_kg = models.DecimalField(_("CO2 (kg)"), max_digits=8, decimal_places=3)
    locked = models.BooleanField(
        _("verrouillée"),
        default=False,
        help_text=_("Une tournée verrouillée est gardée telle quelle quand on recalcule."),
    )
    started_at = models.DateTimeField(_("partie le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("tournée")
        verbose_name_plural = _("tournées")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="one_route_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.plan} #{self.position} {self.vehicle}"


class StopKind(models.TextChoices):
    DEPOT_START = "depot_start", _("départ du dépôt")
    DELIVERY = "delivery", _("livraison")
    PICKUP = "pickup", _("enlèvement")
    DEPOT_END = "depot_end", _("retour au dépôt")


class StopStatus(models.TextChoices):
    PLANNED = "planned", _("prévue")
    DELIVERED = "delivered", _("livrée")
    PROBLEM = "problem", _("problème")


class PlanStop(models.Model):
    """A stop of a round, in order, with its ETA and the load on board after it.

    Name, address, contact and coordinates are copied from the place when the plan is
    stored: the route a driver holds does not change if the place is edited afterwards.
    """

    route = models.ForeignKey(PlanRoute, on_delete=models.CASCADE, related_name="stops")
    position = models.PositiveSmallIntegerField(_("ordre"))
    place = models.CharField(
        _("lieu"),
        max_length=120,
        help_text=_("relay:<slug>, canteen:<slug>, depot:<slug> ou farm:<slug>."),
    )
    name = models.CharField(_("nom"), max_length=150, blank=True)
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    kind = models.CharField(_("type"), max_length=12, choices=StopKind.choices)
    window_start = models.DateTimeField(_("début de la fenêtre"), null=True, blank=True)
    window_end = models.DateTimeField(_("fin de la fenêtre"), null=True, blank=True)
    eta = models.DateTimeField(_("heure d'arrivée prévue"))
    load_kg_after = models.PositiveIntegerField(_("charge après l'étape (kg)"))
    manifest = models.JSONField(_("manifeste"), default=dict, blank=True)
    status = models.CharField(
        _("état"), max_length=10, choices=StopStatus.choices, default=StopStatus.PLANNED
    )
    checked_at = models.DateTimeField(_("pointée le"), null=True, blank=True)
    note = models.TextField(_("note du chauffeur"), blank=True)
    delivered = models.JSONField(
        _("quantités livrées"),
        default=dict,
        blank=True,
        help_text=_("Corrections du chauffeur : quantités réellement livrées, par commande."),
    )

    class Meta:
        verbose_name = _("étape")
        verbose_name_plural = _("étapes")
        ordering = ["route", "position"]
        constraints = [
            models.UniqueConstraint(fields=["route", "position"], name="one_stop_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.route} {self.position}. {self.place}"


class StopCheckoff(models.Model):
    """One check-off of a stop sent by a driver's phone, kept once per idempotency key.

    Phones queue check-offs while offline and send them again until acknowledged: a replay
    carries the same key and finds its row, so it changes nothing.
    """

    stop = models.ForeignKey(PlanStop, on_delete=models.CASCADE, related_name="checkoffs")
    key = models.CharField(_("clé d'idempotence"), max_length=80, unique=True)
    status = models.CharField(_("état"), max_length=10, choices=StopStatus.choices)
    note = models.TextField(_("note"), blank=True)
    delivered = models.JSONField(_("quantités livrées"), default=dict, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("pointé par"),
    )
    recorded_at = models.DateTimeField(_("pointé le (téléphone)"))
    received_at = models.DateTimeField(_("reçu le"), auto_now_add=True)

    class Meta:
        verbose_name = _("pointage d'étape")
        verbose_name_plural = _("pointages d'étapes")
        ordering = ["received_at"]

    def __str__(self) -> str:
        return f"{self.stop} {self.status}"
