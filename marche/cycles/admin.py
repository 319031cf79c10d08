from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from marche.cycles.models import (
    Basket,
    BasketItem,
    CycleSchedule,
    Offer,
    OrderCycle,
    StockHold,
)


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0
    readonly_fields = ("quantity_held", "quantity_sold")
    autocomplete_fields = ("product",)


class BasketInline(admin.TabularInline):
    model = Basket
    extra = 0
    fields = ("name", "price", "solidarity_price", "is_active")
    show_change_link = True


@admin.register(CycleSchedule)
class CycleScheduleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "territory",
        "delivery_weekday",
        "opens_weekday",
        "opens_time",
        "closes_weekday",
        "closes_time",
        "is_active",
    )
    list_filter = ("territory", "is_active")


@admin.register(OrderCycle)
class OrderCycleAdmin(admin.ModelAdmin):
    list_display = ("name", "territory", "opens_at", "closes_at", "delivery_date")
    list_filter = ("territory",)
    inlines = [OfferInline, BasketInline]


class BasketItemInline(admin.TabularInline):
    """A basket's content, chosen among the offers of the basket's own cycle."""

    model = BasketItem
    extra = 0
    fields = ("offer", "quantity")

    def get_formset(
        self, request: HttpRequest, obj: Basket | None = None, **kwargs: Any
    ) -> type[BaseInlineFormSet]:
        formset = super().get_formset(request, obj, **kwargs)
        offers = formset.form.base_fields["offer"]
        # A new basket has no cycle yet: its content is chosen once it is saved.
        offers.queryset = (  # type: ignore[attr-defined]
            Offer.objects.filter(cycle_id=obj.cycle_id).select_related("product")
            if obj is not None
            else Offer.objects.none()
        )
        return formset

    def get_max_num(self, request: HttpRequest, obj: Basket | None = None, **kwargs: Any) -> int:
        return 0 if obj is None else 1000


@admin.register(Basket)
class BasketAdmin(admin.ModelAdmin):
    list_display = ("name", "cycle", "price", "solidarity_price", "is_active")
    list_filter = ("cycle__territory", "is_active")
    search_fields = ("name", "cycle__name")
    list_select_related = ("cycle",)
    inlines = [BasketItemInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Basket | None = None) -> Any:
        # Its content is made of its cycle's offers: the cycle is fixed once saved.
        return ("cycle",) if obj is not None else ()

    def get_fieldsets(self, request: HttpRequest, obj: Basket | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            name, options = fieldsets[0]
            options = {
                **options,
                "description": _(
                    "Enregistrez le panier pour choisir son contenu parmi les offres."
                ),
            }
            return [(name, options), *fieldsets[1:]]
        return fieldsets


@admin.register(StockHold)
class StockHoldAdmin(admin.ModelAdmin):
    list_display = ("key", "offer", "quantity", "status", "expires_at")
    list_filter = ("status",)
    readonly_fields = ("offer", "key", "quantity", "status", "expires_at")
