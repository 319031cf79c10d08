from django.contrib import admin

from marche.relays.models import RelayOpeningHours, RelayPoint


class OpeningHoursInline(admin.TabularInline):
    model = RelayOpeningHours
    extra = 0


@admin.register(RelayPoint)
class RelayPointAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "city", "capacity_per_day", "territory", "is_active")
    list_filter = ("territory", "kind", "is_active")
    search_fields = ("name", "city", "address")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("keepers",)
    inlines = [OpeningHoursInline]
