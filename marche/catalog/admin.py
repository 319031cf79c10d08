from django.contrib import admin

from marche.catalog.models import Category, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "position")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "producer", "category", "unit", "unit_price", "is_organic", "is_active")
    list_filter = ("producer__territory", "category", "family", "is_organic", "is_active")
    search_fields = ("name", "producer__name")
    list_select_related = ("producer", "category")
