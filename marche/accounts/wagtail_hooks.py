"""Where coordinators work: the Wagtail admin gets a menu entry to the invitations page."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from marche.accounts.services import user_can_invite


class InvitationsMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return user_can_invite(request.user)


@hooks.register("register_admin_menu_item")
def register_invitations_menu_item() -> MenuItem:
    return InvitationsMenuItem(
        _("Invitations"),
        reverse("accounts:invitations"),
        name="invitations",
        icon_name="mail",
        order=900,
    )
