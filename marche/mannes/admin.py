"""Admin of the manne ledger: read-only ledger, editable transfer rules and account limits.

Postings and entries are written by the services only; the admin shows them and never
changes or deletes them. Balances and held parts are read-only (the model refuses to save
them anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marche.errors import DomainError
from marche.mannes.models import (
    Account,
    Entry,
    ManneHold,
    PayoutBatch,
    PayoutLine,
    RequestStatus,
    RewardActivity,
    Transaction,
    TransferRequest,
    TransferRule,
)
from marche.mannes.services import manne_reward_reject, manne_reward_validate


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("__str__", "territory", "kind", "balance", "held", "limit")
    list_filter = ("territory", "kind")
    search_fields = ("user__email", "producer__name")
    readonly_fields = ("territory", "kind", "user", "producer", "currency", "balance", "held")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = ("account", "amount", "currency")
    readonly_fields = fields


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("pk", "created_at", "territory", "kind", "status", "memo", "created_by")
    list_filter = ("territory", "kind", "status")
    search_fields = ("key", "memo")
    inlines = [EntryInline]


@admin.register(TransferRequest)
class TransferRequestAdmin(ReadOnlyAdmin):
    """Requests are decided here by the coordination, through the ledger's services."""

    list_display = (
        "pk",
        "created_at",
        "kind",
        "to_account",
        "activity",
        "given_on",
        "hours",
        "amount",
        "reason",
        "status",
    )
    list_filter = ("territory", "kind", "status")
    list_select_related = ("to_account__user", "to_account__producer", "activity")
    actions = ("validate", "reject")

    @admin.action(description=_("Valider les demandes choisies (les mannes sont versées)"))
    def validate(self, request: HttpRequest, queryset: QuerySet[TransferRequest]) -> None:
        done = self._each_pending(
            request,
            queryset,
            lambda pk: manne_reward_validate(
                request_id=pk, coordinator=request.user, key=f"request:{pk}:validate"
            ),
        )
        self.message_user(
            request,
            ngettext("%(count)s demande validée.", "%(count)s demandes validées.", done)
            % {"count": done},
        )

    def _each_pending(
        self,
        request: HttpRequest,
        queryset: QuerySet[TransferRequest],
        act: Callable[[int], object],
    ) -> int:
        """Apply one service to each pending request, in pk order; returns how many it took.

        A refusal is shown for its request and the others go on.
        """
        done = 0
        for pending in queryset.filter(status=RequestStatus.PENDING).order_by("pk"):
            try:
                act(pending.pk)
            except DomainError as error:
                self.message_user(request, f"#{pending.pk} : {error.message}", messages.ERROR)
            else:
                done += 1
        return done

    @admin.action(description=_("Refuser les demandes choisies"))
    def reject(self, request: HttpRequest, queryset: QuerySet[TransferRequest]) -> None:
        done = self._each_pending(
            request,
            queryset,
            lambda pk: manne_reward_reject(request_id=pk, coordinator=request.user),
        )
        self.message_user(
            request,
            ngettext("%(count)s demande refusée.", "%(count)s demandes refusées.", done)
            % {"count": done},
        )


@admin.register(ManneHold)
class ManneHoldAdmin(ReadOnlyAdmin):
    list_display = ("pk", "account", "amount", "status", "expires_at")
    list_filter = ("status",)


class PayoutLineInline(ReadOnlyInline):
    model = PayoutLine
    fields = ("producer", "mannes", "euros_gross", "euros_fee", "euros_net")
    readonly_fields = fields


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    list_display = ("pk", "created_at", "territory", "euro_rate", "fee_percent", "status")
    list_filter = ("territory", "status")
    inlines = [PayoutLineInline]


@admin.register(TransferRule)
class TransferRuleAdmin(admin.ModelAdmin):
    list_display = (
        "territory",
        "kind",
        "minimum",
        "daily_maximum",
        "fee_percent",
        "requires_approval",
        "is_enabled",
    )
    list_filter = ("territory", "kind")


@admin.register(RewardActivity)
class RewardActivityAdmin(admin.ModelAdmin):
    """The kinds of time given a territory rewards, and the mannes an hour earns."""

    list_display = ("name", "territory", "mannes_per_hour", "position", "is_active")
    list_filter = ("territory", "is_active")
    list_editable = ("mannes_per_hour", "position", "is_active")
    search_fields = ("name",)
