from django.contrib import admin

from marche.cycles.models import Offer, OrderCycle, StockHold


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0
    readonly_fields = ("quantity_held", "quantity_sold")
    autocomplete_fields = ("product",)


@admin.register(OrderCycle)
class OrderCycleAdmin(admin.ModelAdmin):
    list_display = ("name", "territory", "opens_at", "closes_at", "delivery_date")
    list_filter = ("territory",)
    inlines = [OfferInline]


@admin.register(StockHold)
class StockHoldAdmin(admin.ModelAdmin):
    list_display = ("key", "offer", "quantity", "status", "expires_at")
    list_filter = ("status",)
    readonly_fields = ("offer", "key", "quantity", "status", "expires_at")
