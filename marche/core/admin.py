"""The outbox in the Django admin: what waits for the broker, and why (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marche.core.models import OutboxMessage
from marche.core.outbox import outbox_relay


class SentFilter(admin.SimpleListFilter):
    title = _("état")
    parameter_name = "sent"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("no", str(_("en attente"))), ("yes", str(_("publié")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in {"yes", "no"}:
            return queryset.filter(sent_at__isnull=self.value() == "no")
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "task", "key", "sent_at", "attempts", "last_error")
    list_filter = (SentFilter, "task")
    search_fields = ("key",)
    ordering = ("-pk",)
    actions = ["relay_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Publier maintenant les messages en attente"))
    def relay_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        sent = outbox_relay()
        self.message_user(
            request,
            ngettext("%(count)d message publié.", "%(count)d messages publiés.", sent)
            % {"count": sent},
            messages.SUCCESS if sent else messages.WARNING,
        )
