"""The Wagtail admin menu's link to the delivery-planning pages, for coordinators."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

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
