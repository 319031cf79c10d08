from django.contrib import admin

from logistics.models import Depot, Vehicle


@admin.register(Depot)
class DepotAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "territory")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "capacity_kg",
        "cold_volume_litres",
        "max_range_km",
        "depot",
    )
    list_filter = ("territory", "kind")
    prepopulated_fields = {"slug": ("name",)}
