"""The products, in the coordinators' Wagtail admin."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marche.catalog.models import Product
from marche.core.admin_access import ScopedModelViewSet


class ProductViewSet(ScopedModelViewSet):
    model = Product
    icon = "tag"
    menu_label = _("Produits")
    territory_lookup = "producer__territory"
    list_display = ["name", "producer", "category", "unit", "unit_price", "is_active"]
    list_filter = ["producer", "category", "family", "is_active", "is_chilled"]
    list_select_related = ("producer", "category")
    search_fields = ["name", "description", "origin_detail"]
    ordering = ["name"]
    form_fields = [
        "producer",
        "category",
        "name",
        "slug",
        "description",
        "family",
        "unit",
        "unit_price",
        "vat_rate",
        "origin",
        "origin_detail",
        "is_variable_weight",
        "estimated_weight_kg",
        "wholesale_price",
        "wholesale_minimum",
        "is_chilled",
        "is_active",
    ]


product_viewset = ProductViewSet("products")
