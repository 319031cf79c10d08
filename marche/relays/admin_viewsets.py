"""The relay points and their opening hours, in the coordinators' Wagtail admin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from marche.core.admin_access import ScopedAdminModelForm, ScopedModelViewSet
from marche.relays.models import RelayOpeningHours, RelayPoint


class RelayPointViewSet(ScopedModelViewSet):
    model = RelayPoint
    icon = "home"
    menu_label = _("Points relais")
    list_display = ["name", "kind", "city", "capacity_per_day", "has_fridge", "is_active"]
    list_filter = ["kind", "has_fridge", "is_active"]
    search_fields = ["name", "city", "address", "description"]
    ordering = ["name"]
    form_fields = [
        "territory",
        "name",
        "slug",
        "kind",
        "description",
        "address",
        "postcode",
        "city",
        "latitude",
        "longitude",
        "contact_name",
        "phone",
        "capacity_per_day",
        "slot_minutes",
        "slot_capacity",
        "has_fridge",
        "is_active",
    ]


class OpeningHoursForm(ScopedAdminModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            raise forms.ValidationError(_("La fermeture doit venir après l'ouverture."))
        return data


class RelayOpeningHoursViewSet(ScopedModelViewSet):
    model = RelayOpeningHours
    icon = "time"
    menu_label = _("Horaires des points relais")
    territory_lookup = "relay_point__territory"
    actions = ("add", "change", "delete", "view")
    form_base = OpeningHoursForm
    list_display = ["relay_point", "weekday", "opens_at", "closes_at"]
    list_filter = ["relay_point", "weekday"]
    list_select_related = ("relay_point",)
    search_fields = ["relay_point__name"]
    ordering = ["relay_point__name", "weekday", "opens_at"]
    form_fields = ["relay_point", "weekday", "opens_at", "closes_at"]


relay_point_viewset = RelayPointViewSet("relay_points")
relay_hours_viewset = RelayOpeningHoursViewSet("relay_hours")
