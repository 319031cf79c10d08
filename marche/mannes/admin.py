"""Admin of the manne ledger: read-only ledger, editable transfer rules and account limits.

Postings and entries are written by the services only; the admin shows them and never
changes or deletes them. Balances and held parts are read-only (the model refuses to save
them anyway).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from marche.mannes.models import (
    Account,
    Entry,
    ManneHold,
    PayoutBatch,
    PayoutLine,
    Transaction,
    TransferRequest,
    TransferRule,
)


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
    list_display = ("pk", "created_at", "kind", "to_account", "amount", "reason", "status")
    list_filter = ("territory", "kind", "status")


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
