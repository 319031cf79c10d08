"""Abstract building blocks shared by the domain apps."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marche.core.validators import validate_phone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        abstract = True


class LocatedModel(models.Model):
    """A place with a postal address and WGS84 coordinates (degrees, 6 decimals ~ 0.1 m)."""

    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("commune"), max_length=120, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
    )

    class Meta:
        abstract = True

    @property
    def full_address(self) -> str:
        return ", ".join(
            part for part in (self.address, f"{self.postcode} {self.city}".strip()) if part
        )


class ContactModel(models.Model):
    """A place's contact on site: whom a driver asks for, and the number to call."""

    contact_name = models.CharField(
        _("contact sur place"),
        max_length=120,
        blank=True,
        help_text=_("La personne que le chauffeur demande en arrivant (nom, fonction)."),
    )
    phone = models.CharField(
        _("téléphone"),
        max_length=30,
        blank=True,
        validators=[validate_phone],
        help_text=_("Le numéro que le chauffeur appelle, par exemple 06 12 34 56 78."),
    )

    class Meta:
        abstract = True

    @property
    def contact(self) -> str:
        """« name · phone », what a round's stop copies of its place."""
        return " · ".join(part for part in (self.contact_name, self.phone) if part)


class OutboxMessage(models.Model):
    """A Celery task to publish, written in the transaction of the change that causes it.

    The broker may be down when a household places or cancels an order: the order must be
    taken all the same, and its e-mail sent once the broker is back. So a task is first a row
    here, committed (or rolled back) with the order; after commit it is published at once if
    the broker answers, and otherwise by the ``outbox.relay`` beat task. ``key`` makes the
    same event enqueued twice one message; ``sent_at`` is set only once the broker accepted
    the task (or the in-process mode ran it).
    """

    task = models.CharField(_("tâche"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    key = models.CharField(_("clé"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("publié le"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)

    class Meta:
        verbose_name = _("message à publier")
        verbose_name_plural = _("messages à publier")
        indexes = [
            models.Index(
                fields=["id"],
                name="core_outbox_unsent_idx",
                condition=models.Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.key}"


class SentNotification(models.Model):
    """One row per notification delivered: a replayed task finds it and sends nothing.

    Tasks are delivered at least once (a relay may publish again a message whose
    acknowledgement was lost); this unique key is what keeps a household from receiving the
    same e-mail twice.
    """

    key = models.CharField(_("clé"), max_length=200, unique=True)
    sent_at = models.DateTimeField(_("envoyé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification envoyée")
        verbose_name_plural = _("notifications envoyées")

    def __str__(self) -> str:
        return self.key
