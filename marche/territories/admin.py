from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from marche.territories.models import LEGAL_FIELDS, LOCAL_CURRENCY_FIELDS, Territory


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "insee_code", "local_currency_enabled", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "insee_code")
    fieldsets = (
        (None, {"fields": ("name", "slug", "insee_code", "timezone", "is_active")}),
        (
            _("Localisation"),
            {"fields": ("address", "postcode", "city", "latitude", "longitude")},
        ),
        (_("E-mails"), {"fields": ("contact_email", "email_sender")}),
        (
            _("Monnaies"),
            {"fields": ("currency", *LOCAL_CURRENCY_FIELDS)},
        ),
        (_("Tournées"), {"fields": ("routing_detour_factor", "emission_factors")}),
        (_("Mentions légales du site"), {"fields": LEGAL_FIELDS}),
    )
