"""The Wagtail admin's "Logistique" menu (the fleet) and its link to the delivery-planning
pages, for coordinators."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSetGroup

from logistics.admin_dashboard import cycle_panel_for
from logistics.admin_viewsets import depot_viewset, driver_shift_viewset, vehicle_viewset
from logistics.planning_selectors import user_may_plan


class PlanningMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return user_may_plan(user=request.user)


@hooks.register("register_admin_menu_item")
def register_planning_menu_item() -> MenuItem:
    return PlanningMenuItem(
        _("Tournées"),
        reverse("planning:index"),
        name="tournees",
        icon_name="site",
        order=910,
    )


class FleetGroup(ViewSetGroup):
    menu_label = _("Logistique")
    menu_icon = "site"
    menu_order = 210
    items = (vehicle_viewset, driver_shift_viewset, depot_viewset)


@hooks.register("register_admin_viewset")
def register_fleet_viewsets() -> ViewSetGroup:
    return FleetGroup()


@hooks.register("construct_homepage_panels")
def add_cycle_panel(request: HttpRequest, panels: list[object]) -> None:
    """This cycle's figures at the top of a coordinator's dashboard."""
    panel = cycle_panel_for(request.user)
    if panel is not None:
        panels.insert(0, panel)
