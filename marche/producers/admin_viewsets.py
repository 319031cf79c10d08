"""The producers, in the coordinators' Wagtail admin."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from marche.core.admin_access import ScopedModelViewSet
from marche.producers.models import Producer


class ProducerViewSet(ScopedModelViewSet):
    model = Producer
    icon = "group"
    menu_label = _("Producteurs")
    add_to_admin_menu = False
    list_display = ["name", "kind", "city", "accepts_local_currency", "is_active"]
    list_filter = ["kind", "is_active", "accepts_local_currency", "collected_on_round"]
    search_fields = ["name", "production", "city", "legal_name"]
    ordering = ["name"]
    form_fields = [
        "territory",
        "name",
        "slug",
        "kind",
        "collective",
        "description",
        "production",
        "website",
        "accepts_local_currency",
        "is_active",
        "address",
        "postcode",
        "city",
        "latitude",
        "longitude",
        "contact_name",
        "phone",
        "collected_on_round",
        "collection_opens",
        "collection_closes",
        "legal_name",
        "siret",
        "vat_number",
        "iban",
        "invoice_mentions",
    ]
    inspect_view_fields_exclude = ["iban"]


producer_viewset = ProducerViewSet("producers")
