from django.contrib import admin

from logistics.models import Depot, DriverShift, Vehicle


@admin.register(Depot)
class DepotAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "territory")
    prepopulated_fields = {"slug": ("name",)}


class DriverShiftInline(admin.TabularInline):
    model = DriverShift
    extra = 0
    autocomplete_fields = ("driver",)


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
    inlines = (DriverShiftInline,)
