"""The local-currency ("manne") ledger of a territory: double-entry, immutable, idempotent.

An :class:`Account` belongs to the scheme (the issuer), a household, a producer, a merchant or
an association. A :class:`Transaction` is one posting; its :class:`Entry` rows move amounts
between accounts and sum to zero per currency. Entries are never updated or deleted: a
correction is a new posting with the opposite entries that references the original
(``reverses``). ``Account.balance`` is a stored copy of the sum of its entries, moved only by
conditional UPDATEs in the services; ``manage.py reconcile_ledger`` proves the copy is right.

Why the "entries sum to zero" rule is not a CHECK constraint: a CHECK sees one row, and the
rule spans the rows of a posting. The services write every posting's entries together in
one atomic block from a list that sums to zero by construction; on PostgreSQL a deferred
constraint trigger (migration 0002) re-checks each posting at commit, and the reconcile
command re-checks the whole ledger on any database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _

from marche.mannes.errors import ImmutableLedger

AMOUNT = {"max_digits": 12, "decimal_places": 2}


class AccountKind(models.TextChoices):
    ISSUER = "issuer", _("émetteur (compte du dispositif)")
    HOUSEHOLD = "household", _("foyer")
    PRODUCER = "producer", _("producteur")
    MERCHANT = "merchant", _("commerçant")
    ASSOCIATION = "association", _("association")


USER_KINDS = (AccountKind.HOUSEHOLD, AccountKind.MERCHANT, AccountKind.ASSOCIATION)


class Account(models.Model):
    """A manne account of one owner in one territory.

    ``balance`` is the sum of the account's entries; ``held`` the sum of its live holds;
    ``limit`` the lowest ``balance - held`` may reach (0 for members; null for the issuer,
    whose balance is minus the money in circulation).
    """

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="manne_accounts",
        verbose_name=_("territoire"),
    )
    kind = models.CharField(_("type"), max_length=12, choices=AccountKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="manne_accounts",
        verbose_name=_("titulaire"),
    )
    producer = models.ForeignKey(
        "producers.Producer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="manne_accounts",
        verbose_name=_("producteur"),
    )
    currency = models.CharField(_("monnaie"), max_length=8)
    balance = models.DecimalField(_("solde"), **AMOUNT, default=0)
    held = models.DecimalField(_("réservé"), **AMOUNT, default=0)
    limit = models.DecimalField(
        _("plancher"),
        **AMOUNT,
        null=True,
        blank=True,
        default=0,
        help_text=_("Solde disponible minimal ; vide : sans plancher (compte émetteur)."),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("compte en mannes")
        verbose_name_plural = _("comptes en mannes")
        ordering = ["territory", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "user"],
                condition=Q(user__isnull=False),
                name="manne_account_one_per_user",
            ),
            models.UniqueConstraint(
                fields=["territory", "producer"],
                condition=Q(producer__isnull=False),
                name="manne_account_one_per_producer",
            ),
            models.UniqueConstraint(
                fields=["territory"],
                condition=Q(kind=AccountKind.ISSUER),
                name="manne_account_one_issuer",
            ),
            models.CheckConstraint(
                condition=Q(kind=AccountKind.ISSUER, user__isnull=True, producer__isnull=True)
                | Q(kind=AccountKind.PRODUCER, user__isnull=True, producer__isnull=False)
                | Q(kind__in=USER_KINDS, user__isnull=False, producer__isnull=True),
                name="manne_account_owner_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind=AccountKind.ISSUER) | Q(limit__isnull=False),
                name="manne_account_member_has_limit",
            ),
            models.CheckConstraint(condition=Q(held__gte=0), name="manne_account_held_positive"),
            # The last line of defence behind the conditional UPDATEs of the services.
            models.CheckConstraint(
                condition=Q(limit__isnull=True) | Q(balance__gte=Round(F("held") + F("limit"), 2)),
                name="manne_account_above_limit",
            ),
        ]

    def __str__(self) -> str:
        owner = self.producer or self.user or _("émetteur")
        return f"{owner} ({self.get_kind_display()}, {self.currency})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saving an existing account never writes ``balance`` or ``held``.

        Those counters move only through the services' conditional UPDATEs; an admin edit of
        the limit must not write back a balance it read a moment ago.
        """
        if not self._state.adding:
            fields = kwargs.get("update_fields")
            if fields is None:
                fields = [f.name for f in self._meta.concrete_fields if not f.primary_key]
            kwargs["update_fields"] = [f for f in fields if f not in {"balance", "held"}]
        super().save(*args, **kwargs)


class TransferKind(models.TextChoices):
    REWARD = "reward", _("récompense de temps donné")
    ORDER_PAYMENT = "order_payment", _("paiement de commande")
    REFUND = "refund", _("remboursement")
    SERVICE_EXCHANGE = "service_exchange", _("échange de services")
    RECONVERSION = "reconversion", _("reconversion en euros")
    EXPIRY = "expiry", _("expiration des unités")
    REVERSAL = "reversal", _("écriture inverse (correction)")


class TransferRule(models.Model):
    """A territory's rule for one kind of transfer; without a row, the defaults in rules.py."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.CASCADE,
        related_name="manne_rules",
        verbose_name=_("territoire"),
    )
    kind = models.CharField(_("type de virement"), max_length=20, choices=TransferKind.choices)
    sender_kinds = models.JSONField(_("comptes émetteurs permis"), default=list)
    recipient_kinds = models.JSONField(_("comptes destinataires permis"), default=list)
    minimum = models.DecimalField(_("montant minimal"), **AMOUNT, default=0)
    daily_maximum = models.DecimalField(
        _("plafond journalier par membre"), **AMOUNT, null=True, blank=True
    )
    fee_percent = models.DecimalField(
        _("frais (%) prélevés pour le dispositif"), max_digits=5, decimal_places=2, default=0
    )
    requires_approval = models.BooleanField(_("validation par la coordination"), default=False)
    is_enabled = models.BooleanField(_("permis"), default=True)

    class Meta:
        verbose_name = _("règle de virement")
        verbose_name_plural = _("règles de virement")
        constraints = [
            models.UniqueConstraint(fields=["territory", "kind"], name="manne_rule_per_kind"),
            models.CheckConstraint(
                condition=Q(fee_percent__gte=0, fee_percent__lt=100), name="manne_rule_fee_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.territory} — {self.get_kind_display()}"


class LedgerQuerySet(models.QuerySet):
    """Ledger rows are written once: bulk updates and deletes are refused."""

    def update(self, **kwargs: Any) -> int:
        raise ImmutableLedger()

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableLedger()


class TransactionQuerySet(LedgerQuerySet):
    def mark_reversed(self) -> int:
        """The one change a posting ever gets: posted → reversed, when its correction is written."""
        return models.QuerySet.update(
            self.filter(status=TransactionStatus.POSTED), status=TransactionStatus.REVERSED
        )


class TransactionStatus(models.TextChoices):
    POSTED = "posted", _("passée")
    REVERSED = "reversed", _("annulée par une écriture inverse")


class Transaction(models.Model):
    """One posting of the ledger: its entries sum to zero per currency.

    ``key`` is the idempotency key of the command that wrote it and ``fingerprint`` a digest
    of that command, so a replay returns this posting and a different command with the same
    key is refused.
    """

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="manne_transactions",
        verbose_name=_("territoire"),
    )
    kind = models.CharField(_("type"), max_length=20, choices=TransferKind.choices)
    key = models.CharField(_("clé d'idempotence"), max_length=150, unique=True)
    fingerprint = models.CharField(max_length=64, editable=False, verbose_name=_("empreinte"))
    memo = models.CharField(_("libellé"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("saisie par"),
    )
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("corrige"),
    )
    status = models.CharField(
        _("état"), max_length=10, choices=TransactionStatus.choices, default="posted"
    )
    created_at = models.DateTimeField(_("passée le"), auto_now_add=True, db_index=True)

    objects: ClassVar[TransactionQuerySet] = TransactionQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("opération en mannes")
        verbose_name_plural = _("opérations en mannes")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableLedger()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableLedger()


class Entry(models.Model):
    """One leg of a posting: a signed amount on one account (credit > 0, debit < 0)."""

    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="entries", verbose_name=_("écriture")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", verbose_name=_("compte")
    )
    amount = models.DecimalField(_("montant"), **AMOUNT)
    currency = models.CharField(_("monnaie"), max_length=8)

    objects: ClassVar[LedgerQuerySet] = LedgerQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("écriture")
        verbose_name_plural = _("écritures")
        ordering = ["transaction", "pk"]
        indexes = [models.Index(fields=["account", "transaction"], name="manne_entry_account_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="manne_entry_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+} {self.currency} → {self.account_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableLedger()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableLedger()


class RewardActivity(models.Model):
    """A kind of time given that a territory rewards, and the mannes one hour of it earns.

    "Donnez-nous vos jardins, gagnez de la manne": a lent garden, volunteering at the
    market... Each territory lists its own; a household declares hours of one of them.
    """

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.CASCADE,
        related_name="reward_activities",
        verbose_name=_("territoire"),
    )
    name = models.CharField(_("activité"), max_length=80)
    description = models.CharField(_("précisions"), max_length=255, blank=True)
    mannes_per_hour = models.DecimalField(
        _("mannes par heure"), max_digits=8, decimal_places=2, default=Decimal("1.00")
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    is_active = models.BooleanField(_("proposée"), default=True)

    class Meta:
        verbose_name = _("activité récompensée")
        verbose_name_plural = _("activités récompensées")
        ordering = ["territory", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "name"], name="reward_activity_name"),
            models.CheckConstraint(
                condition=Q(mannes_per_hour__gt=0), name="reward_activity_rate_pos"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("à valider")
    APPROVED = "approved", _("validée")
    REJECTED = "rejected", _("refusée")


class TransferRequest(models.Model):
    """A transfer waiting for a coordinator: a reward for time given, or any approved kind."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="manne_requests",
        verbose_name=_("territoire"),
    )
    kind = models.CharField(_("type"), max_length=20, choices=TransferKind.choices)
    from_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("compte débité")
    )
    to_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("compte crédité")
    )
    amount = models.DecimalField(_("montant"), **AMOUNT)
    hours = models.DecimalField(_("heures données"), max_digits=6, decimal_places=2, null=True)
    activity = models.ForeignKey(
        RewardActivity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("activité"),
    )
    given_on = models.DateField(_("temps donné le"), null=True, blank=True)
    reason = models.CharField(_("motif"), max_length=255)
    key = models.CharField(_("clé d'idempotence"), max_length=150, unique=True)
    fingerprint = models.CharField(max_length=64, editable=False, verbose_name=_("empreinte"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("demandée par"),
    )
    status = models.CharField(
        _("état"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("traitée par"),
    )
    decided_at = models.DateTimeField(_("traitée le"), null=True, blank=True)
    decision_note = models.CharField(_("note de la coordination"), max_length=255, blank=True)
    transaction = models.OneToOneField(
        Transaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="request",
        verbose_name=_("écriture"),
    )
    created_at = models.DateTimeField(_("demandée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("demande de mannes")
        verbose_name_plural = _("demandes de mannes")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="manne_request_amount_pos"),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.APPROVED) | Q(transaction__isnull=False),
                name="manne_request_approved_has_posting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.get_status_display()})"


class HoldStatus(models.TextChoices):
    HELD = "held", _("réservé")
    CAPTURED = "captured", _("encaissé")
    RELEASED = "released", _("libéré")


class ManneHold(models.Model):
    """Mannes set aside on an account (the manne part of an order) until captured or released."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="holds", verbose_name=_("compte")
    )
    amount = models.DecimalField(_("montant"), **AMOUNT)
    key = models.CharField(_("clé d'idempotence"), max_length=150, unique=True)
    fingerprint = models.CharField(max_length=64, editable=False, verbose_name=_("empreinte"))
    status = models.CharField(
        _("état"), max_length=10, choices=HoldStatus.choices, default=HoldStatus.HELD
    )
    expires_at = models.DateTimeField(_("expire le"))
    transaction = models.OneToOneField(
        Transaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hold",
        verbose_name=_("écriture"),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("réservation de mannes")
        verbose_name_plural = _("réservations de mannes")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "expires_at"], name="manne_hold_expiry_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="manne_hold_amount_pos"),
            models.CheckConstraint(
                condition=~Q(status=HoldStatus.CAPTURED) | Q(transaction__isnull=False),
                name="manne_hold_captured_has_posting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} ({self.get_status_display()})"


class PayoutStatus(models.TextChoices):
    TO_PAY = "to_pay", _("à payer")
    PAID = "paid", _("payé")


class PayoutBatch(models.Model):
    """A reconversion run: mannes back to the issuer, euros owed to each producer."""

    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        related_name="manne_payouts",
        verbose_name=_("territoire"),
    )
    key = models.CharField(_("clé d'idempotence"), max_length=150, unique=True)
    fingerprint = models.CharField(max_length=64, editable=False, verbose_name=_("empreinte"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("créée par"),
    )
    euro_rate = models.DecimalField(_("valeur d'une unité (€)"), max_digits=8, decimal_places=4)
    fee_percent = models.DecimalField(_("frais (%)"), max_digits=5, decimal_places=2)
    status = models.CharField(
        _("état"), max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.TO_PAY
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("lot de reconversion")
        verbose_name_plural = _("lots de reconversion")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.territory} — {self.created_at:%Y-%m-%d}"


class PayoutLine(models.Model):
    """What one producer gave back in mannes and is owed in euros (after the fee)."""

    batch = models.ForeignKey(
        PayoutBatch, on_delete=models.PROTECT, related_name="lines", verbose_name=_("reconversion")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("compte")
    )
    producer = models.ForeignKey(
        "producers.Producer",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("producteur"),
    )
    mannes = models.DecimalField(_("mannes reconverties"), **AMOUNT)
    euros_gross = models.DecimalField(_("contre-valeur (€)"), **AMOUNT)
    euros_fee = models.DecimalField(_("frais (€)"), **AMOUNT)
    euros_net = models.DecimalField(_("à payer (€)"), **AMOUNT)
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="+", verbose_name=_("écriture")
    )

    class Meta:
        verbose_name = _("ligne de reconversion")
        verbose_name_plural = _("lignes de reconversion")
        ordering = ["batch", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(mannes__gt=0), name="manne_payout_mannes_pos"),
            models.CheckConstraint(
                condition=Q(euros_net=Round(F("euros_gross") - F("euros_fee"), 2)),
                name="manne_payout_net_is_gross_minus_fee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.producer} : {self.euros_net} €"
