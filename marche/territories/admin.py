from django.contrib import admin

from marche.territories.models import Territory


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "insee_code", "local_currency_enabled", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "insee_code")
