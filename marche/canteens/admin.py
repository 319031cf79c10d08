"""The canteens in the Django admin: accounts, windows, orders, standing orders, invoices.

Invoices are read-only here: they are issued by ``marche.canteens.invoicing`` (numbered
without gaps, with their Factur-X PDF) and paid through its payment service, never edited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from marche.canteens.models import (
    Canteen,
    CanteenOrder,
    CanteenOrderLine,
    DeliveryRecord,
    DeliveryWindow,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    MaCantineExport,
    SkippedWeek,
    StandingOrder,
    StandingOrderLine,
)


class DeliveryWindowInline(admin.TabularInline):
    model = DeliveryWindow
    extra = 0


@admin.register(Canteen)
class CanteenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "city",
        "siret",
        "school_zone",
        "meals_per_day",
        "organic_target_percent",
        "territory",
        "is_active",
    )
    list_filter = ("territory", "kind", "school_zone", "is_active")
    search_fields = ("name", "legal_name", "city", "siret")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("managers",)
    inlines = [DeliveryWindowInline]
    fieldsets = (
        (None, {"fields": ("territory", "name", "slug", "kind", "is_active", "managers")}),
        (
            _("Établissement"),
            {
                "fields": (
                    "legal_name",
                    "siret",
                    "source_ref",
                    "meals_per_day",
                    "organic_target_percent",
                    "school_zone",
                )
            },
        ),
        (
            _("Livraison"),
            {
                "fields": (
                    "address",
                    "postcode",
                    "city",
                    "latitude",
                    "longitude",
                    "contact_name",
                    "phone",
                )
            },
        ),
        (
            _("Facturation"),
            {
                "fields": (
                    "buyer_name",
                    "buyer_siret",
                    "buyer_address",
                    "buyer_service_code",
                    "buyer_order_reference",
                    "invoice_email",
                    "payment_terms_days",
                )
            },
        ),
    )


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CanteenOrderLineInline(ReadOnlyInline):
    model = CanteenOrderLine
    fields = (
        "name",
        "producer",
        "unit",
        "quantity_ordered",
        "quantity_confirmed",
        "quantity_delivered",
        "status",
        "unit_price_ht",
        "vat_rate",
        "labels",
    )


class DeliveryRecordInline(ReadOnlyInline):
    model = DeliveryRecord
    fields = ("recorded_at", "recorded_by", "delivered_at", "received_by", "quantities")


@admin.register(CanteenOrder)
class CanteenOrderAdmin(admin.ModelAdmin):
    """Orders go through the canteen's pages and services (stock, e-mails): read here."""

    list_display = ("reference", "canteen", "delivery_date", "status", "standing_order")
    list_filter = ("status", "canteen__territory", "canteen")
    search_fields = ("reference", "canteen__name")
    date_hierarchy = "delivery_date"
    inlines = [CanteenOrderLineInline, DeliveryRecordInline]
    readonly_fields = [field.name for field in CanteenOrder._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class StandingOrderLineInline(admin.TabularInline):
    model = StandingOrderLine
    extra = 0
    autocomplete_fields = ("product",)


@admin.register(StandingOrder)
class StandingOrderAdmin(admin.ModelAdmin):
    list_display = ("canteen", "name", "starts_on", "ends_on", "is_active")
    list_filter = ("is_active", "canteen__territory")
    inlines = [StandingOrderLineInline]


@admin.register(SkippedWeek)
class SkippedWeekAdmin(admin.ModelAdmin):
    list_display = ("canteen", "week_start", "reason")
    list_filter = ("canteen",)


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = (
        "delivery_date",
        "description",
        "quantity",
        "unit",
        "unit_price_ht",
        "vat_rate",
        "total_ht",
    )


class InvoicePaymentInline(ReadOnlyInline):
    model = InvoicePayment
    fields = ("amount", "received_on", "reference", "recorded_by", "recorded_at")


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "issuer",
        "canteen",
        "issued_on",
        "due_on",
        "total_ttc",
        "amount_paid",
        "status",
    )
    list_filter = ("status", "issuer", "canteen")
    search_fields = ("number", "issuer__name", "canteen__name")
    date_hierarchy = "issued_on"
    inlines = [InvoiceLineInline, InvoicePaymentInline]
    exclude = ("pdf",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Invoice._meta.fields if field.name != "pdf"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MaCantineExport)
class MaCantineExportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "territory", "canteen", "line_count", "created_by")
    exclude = ("content",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in MaCantineExport._meta.fields if field.name != "content"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
