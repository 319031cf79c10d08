from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from marche.territories.models import LEGAL_FIELDS, Territory


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
            {
                "fields": (
                    "currency",
                    "local_currency_enabled",
                    "local_currency_name",
                    "local_currency_plural",
                    "local_currency_code",
                    "local_currency_euro_rate",
                    "local_currency_reconversion_allowed",
                    "local_currency_reconversion_fee_percent",
                    "local_currency_expiry_months",
                )
            },
        ),
        (_("Tournées"), {"fields": ("routing_detour_factor", "emission_factors")}),
        (_("Mentions légales du site"), {"fields": LEGAL_FIELDS}),
    )
