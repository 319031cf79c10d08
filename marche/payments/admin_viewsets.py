"""Payments and refunds, read-only in the coordinators' Wagtail admin."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marche.core.admin_access import ScopedModelViewSet
from marche.payments.models import Payment, Refund


class PaymentViewSet(ScopedModelViewSet):
    model = Payment
    icon = "doc-full"
    menu_label = _("Paiements")
    territory_lookup = "order__cycle__territory"
    actions = ("view",)
    list_display = ["order", "method", "amount", "currency", "status", "created_at"]
    list_filter = ["status", "method", "currency"]
    list_select_related = ("order",)
    search_fields = ["order__reference", "reference"]
    ordering = ["-created_at"]
    inspect_view_fields_exclude = ["provider_payment_id"]


class RefundViewSet(ScopedModelViewSet):
    model = Refund
    icon = "undo"
    menu_label = _("Remboursements")
    territory_lookup = "payment__order__cycle__territory"
    actions = ("view",)
    list_display = ["payment", "amount", "reason", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ("payment__order",)
    search_fields = ["payment__order__reference", "reason"]
    ordering = ["-created_at"]
    inspect_view_fields_exclude = ["idempotency_key", "stripe_refund_id"]


payment_viewset = PaymentViewSet("payments")
refund_viewset = RefundViewSet("refunds")
