"""People: one user model, logging in by e-mail, with the role the product serves them in."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from marche.core.models import TimeStampedModel


class Role(models.TextChoices):
    HOUSEHOLD = "household", _("Foyer")
    FARMER = "farmer", _("Producteur")
    CANTEEN_MANAGER = "canteen_manager", _("Gestionnaire de cantine")
    DRIVER = "driver", _("Livreur")
    COORDINATOR = "coordinator", _("Coordinateur")
    RELAY_KEEPER = "relay_keeper", _("Responsable de point relais")


class UserManager(DjangoUserManager):  # type: ignore[type-arg]
    """Users are identified by their e-mail address, stored lower-cased."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.COORDINATOR)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person using the product; ``role`` decides which dashboard and rights they get.

    Links to what a role acts on live with that thing: a farmer is a member of a producer
    (``producers.ProducerMembership``), a canteen manager is named on the canteen.
    """

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("adresse e-mail"), unique=True)
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices, default=Role.HOUSEHOLD)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    solidarity_until = models.DateField(
        _("tarif solidaire jusqu'au"),
        null=True,
        blank=True,
        help_text=_("Fixé par la coordination après vérification ; vide : tarif normal."),
    )
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territoire"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    email_verified_at = models.DateTimeField(
        _("adresse e-mail confirmée le"),
        null=True,
        blank=True,
        help_text=_("Vide : le lien envoyé à l'inscription n'a pas encore été suivi."),
    )
    terms_accepted_at = models.DateTimeField(
        _("conditions d'utilisation acceptées le"), null=True, blank=True
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        ordering = ["email"]

    def is_solidarity_eligible(self, on: date) -> bool:
        """Whether the solidarity price applies to this household on ``on``."""
        return self.solidarity_until is not None and self.solidarity_until >= on

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class ApiToken(TimeStampedModel):
    """A bearer token for the API. Only a SHA-256 hash and a short prefix are stored.

    The raw token is shown once, when it is created; it cannot be recovered afterwards.
    """

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="marche_api_tokens",
        verbose_name=_("titulaire"),
    )
    name = models.CharField(_("nom"), max_length=80, blank=True)
    prefix = models.CharField(_("début du jeton"), max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


INVITED_ROLES = (Role.FARMER, Role.CANTEEN_MANAGER, Role.DRIVER, Role.RELAY_KEEPER)


class Invitation(TimeStampedModel):
    """A coordinator's invitation to a farmer, a canteen manager, a driver or a relay keeper,
    with what the role acts on: the producer, the canteen, the relay point.

    The link sent by e-mail carries a random token; only its SHA-256 hash is stored, so a
    copy of the database gives no usable link. A link works once (``accepted_at``) and
    until ``expires_at``; revoking it sets ``revoked_at``.
    """

    email = models.EmailField(_("adresse e-mail"))
    role = models.CharField(
        _("rôle"),
        max_length=20,
        choices=[(role.value, role.label) for role in INVITED_ROLES],
    )
    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="invitations",
        verbose_name=_("territoire"),
    )
    producer = models.ForeignKey(
        "producers.Producer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("producteur"),
    )
    canteen = models.ForeignKey(
        "canteens.Canteen",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("cantine"),
    )
    relay_point = models.ForeignKey(
        "relays.RelayPoint",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("point relais"),
    )
    invited_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("invité par")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expire le"))
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)
    accepted_user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitation",
        verbose_name=_("compte créé"),
    )
    revoked_at = models.DateTimeField(_("annulée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-pk"]
        # A relay keeper's invitation names its relay point (the services require it); those
        # sent before the relay point was asked have none, so the database allows it empty.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    role=Role.FARMER,
                    producer__isnull=False,
                    canteen__isnull=True,
                    relay_point__isnull=True,
                )
                | models.Q(
                    role=Role.CANTEEN_MANAGER,
                    canteen__isnull=False,
                    producer__isnull=True,
                    relay_point__isnull=True,
                )
                | models.Q(
                    role=Role.DRIVER,
                    producer__isnull=True,
                    canteen__isnull=True,
                    relay_point__isnull=True,
                )
                | models.Q(role=Role.RELAY_KEEPER, producer__isnull=True, canteen__isnull=True),
                name="invitation_target_matches_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    def status_at(self, now: datetime) -> str:
        """accepted, revoked, expired or pending, in that order of precedence."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "pending"
