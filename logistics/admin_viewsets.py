"""The fleet in the coordinators' Wagtail admin: depots, vehicles, drivers' weekly shifts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from logistics.models import Depot, DriverShift, Vehicle
from marche.accounts.models import Role
from marche.core.admin_access import ScopedAdminModelForm, ScopedModelViewSet


class DepotViewSet(ScopedModelViewSet):
    model = Depot
    icon = "home"
    menu_label = _("Dépôts")
    list_display = ["name", "city"]
    search_fields = ["name", "city", "address"]
    ordering = ["name"]
    form_fields = [
        "territory",
        "name",
        "slug",
        "address",
        "postcode",
        "city",
        "latitude",
        "longitude",
        "contact_name",
        "phone",
    ]


class VehicleForm(ScopedAdminModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("shift_start"), data.get("shift_end")
        if start and end and end <= start:
            self.add_error("shift_end", _("La fin de service doit venir après son début."))
        return data


class VehicleViewSet(ScopedModelViewSet):
    model = Vehicle
    icon = "site"
    menu_label = _("Véhicules")
    form_base = VehicleForm
    list_display = ["name", "kind", "depot", "capacity_kg", "capacity_crates", "is_active"]
    list_filter = ["kind", "depot", "is_active"]
    list_select_related = ("depot",)
    search_fields = ["name"]
    ordering = ["name"]
    form_fields = [
        "territory",
        "depot",
        "name",
        "slug",
        "kind",
        "capacity_kg",
        "capacity_crates",
        "cold_volume_litres",
        "average_speed_kmh",
        "max_range_km",
        "cost_per_km",
        "cost_per_hour",
        "shift_start",
        "shift_end",
        "is_active",
    ]


class DriverShiftForm(ScopedAdminModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "driver" in self.fields:
            self.fields["driver"].queryset = self.fields["driver"].queryset.filter(
                role=Role.DRIVER, is_active=True
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start:
            raise forms.ValidationError(_("La fin du créneau doit venir après son début."))
        return data


class DriverShiftViewSet(ScopedModelViewSet):
    model = DriverShift
    icon = "user"
    menu_label = _("Chauffeurs")
    territory_lookup = "vehicle__territory"
    actions = ("add", "change", "delete", "view")
    form_base = DriverShiftForm
    list_display = ["driver", "vehicle", "weekday", "starts_at", "ends_at"]
    list_filter = ["vehicle", "weekday"]
    list_select_related = ("driver", "vehicle")
    search_fields = ["driver__email", "driver__last_name", "vehicle__name"]
    ordering = ["weekday", "starts_at"]
    form_fields = ["vehicle", "driver", "weekday", "starts_at", "ends_at"]


depot_viewset = DepotViewSet("depots")
vehicle_viewset = VehicleViewSet("vehicles")
driver_shift_viewset = DriverShiftViewSet("driver_shifts")
