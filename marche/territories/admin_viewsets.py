"""A coordinator's own territory in the Wagtail admin: what they answer for on it.

The e-mail sender, the routing's detour and emission factors and the site's legal notice
are the coordinators' to keep. The rest (name, address, time zone, the local currency and
its rules) stays with the instance's superusers in the Django admin: turning a currency on
or off, or moving a territory, changes what every account and ledger of it means.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marche.core.admin_access import ScopedModelViewSet
from marche.territories.models import LEGAL_FIELDS, Territory


class TerritoryViewSet(ScopedModelViewSet):
    model = Territory
    icon = "globe"
    menu_label = _("Territoire")
    territory_lookup = ""  # the territory itself
    actions = ("change", "view")
    list_display = ["name", "contact_email", "email_sender", "routing_detour_factor"]
    search_fields = ["name"]
    ordering = ["name"]
    form_fields = [
        "contact_email",
        "email_sender",
        "routing_detour_factor",
        "emission_factors",
        *LEGAL_FIELDS,
    ]


territory_viewset = TerritoryViewSet("territory")
