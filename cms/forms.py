"""The site's page form in the admin: its choices of the market's objects are the editor's."""

from __future__ import annotations

from wagtail.admin.forms import WagtailAdminPageForm

from marche.core.admin_access import ScopedFormMixin


class SitePageForm(ScopedFormMixin, WagtailAdminPageForm):
    """A page's choice of a territory, producer or relay point offers only those of the
    coordinator's territory (all of them to a superuser or an unbound coordinator), as the
    market's own admin forms do: a territory's pages never show another's data."""
