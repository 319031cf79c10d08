from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marche.catalog.models import (
    Allergen,
    Category,
    Product,
    ProductCertification,
    ProductPhoto,
    ProductVariant,
)
from marche.catalog.selectors import product_filter_organic, product_labels_valid_on


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "position")
    prepopulated_fields = {"slug": ("name",)}


class ProductVariantInline(admin.TabularInline):
    model = ProductVariant
    extra = 0


class ProductCertificationInline(admin.TabularInline):
    model = ProductCertification
    extra = 0
    fields = ("label", "certificate_reference", "certifier", "valid_from", "valid_until")


class ProductPhotoInline(admin.TabularInline):
    model = ProductPhoto
    extra = 0


class OrganicTodayFilter(admin.SimpleListFilter):
    title = _("bio aujourd'hui")
    parameter_name = "bio"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("oui", _("Oui")), ("non", _("Non"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() not in ("oui", "non"):
            return queryset
        return product_filter_organic(
            queryset=queryset, on=timezone.localdate(), organic=self.value() == "oui"
        )


class ProductAdminForm(forms.ModelForm):
    """Allergens as check boxes, stored in the order of the regulation."""

    allergens = forms.TypedMultipleChoiceField(
        label=_("allergènes"),
        choices=Allergen.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Règlement UE 1169/2011 ; aucune case cochée : aucun des 14 allergènes."),
    )

    def clean_allergens(self) -> list[str]:
        chosen = set(self.cleaned_data.get("allergens") or [])
        return [code for code in Allergen.values if code in chosen]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ("name", "producer", "category", "unit", "unit_price", "labels", "is_active")
    list_filter = (
        "producer__territory",
        "category",
        "family",
        OrganicTodayFilter,
        "is_chilled",
        "is_active",
    )
    search_fields = ("name", "producer__name")
    list_select_related = ("producer", "category")
    inlines = [ProductVariantInline, ProductCertificationInline, ProductPhotoInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).prefetch_related("certifications")

    @admin.display(description=_("labels valides aujourd'hui"))
    def labels(self, product: Product) -> str:
        labels = product_labels_valid_on(product=product, on=timezone.localdate())
        return ", ".join(str(label.label) for label in labels) or "—"
