from django.contrib import admin

from marche.canteens.models import Canteen


@admin.register(Canteen)
class CanteenAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "city", "meals_per_day", "organic_target_percent", "territory")
    list_filter = ("territory", "kind")
    search_fields = ("name", "city", "siret")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("managers",)
