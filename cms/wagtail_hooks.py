"""The site's hooks into the admin: its page groups follow the coordinators."""

from __future__ import annotations

from wagtail import hooks

from cms.permissions import site_editors_sync


@hooks.register("marche_coordination_sync")
def coordination_sync_site_editors() -> None:
    site_editors_sync()
