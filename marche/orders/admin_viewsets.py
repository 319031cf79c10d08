"""Orders, read-only in the coordinators' Wagtail admin: a listing to find one, and its page.

A coordinator does not edit an order's money there; refunds and cancellations go through the
orders' and payments' own services and pages.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marche.core.admin_access import ScopedModelViewSet
from marche.orders.models import Order


class OrderViewSet(ScopedModelViewSet):
    model = Order
    icon = "list-ul"
    menu_label = _("Commandes")
    territory_lookup = "cycle__territory"
    actions = ("view",)
    list_display = ["reference", "customer", "cycle", "relay_point", "status", "total"]
    list_filter = ["status", "cycle", "relay_point", "payment_method"]
    list_select_related = ("customer", "cycle", "relay_point")
    search_fields = ["reference", "customer__email", "customer__last_name"]
    ordering = ["-created_at"]
    inspect_view_fields = [
        "reference",
        "customer",
        "cycle",
        "relay_point",
        "pickup_slot",
        "status",
        "payment_method",
        "total",
        "is_final",
        "expires_at",
        "confirmed_at",
        "cancelled_at",
        "created_at",
    ]


order_viewset = OrderViewSet("orders")
