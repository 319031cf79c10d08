"""Reads of territories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, Case, Exists, F, OuterRef, QuerySet, Value, When
from django.http import HttpRequest
from wagtail.models import Site

from marche.territories.models import Territory


def territory_get_default() -> Territory | None:
    """The territory shown when a request names none: the configured one, else the first."""
    territories = Territory.objects.filter(is_active=True)
    if settings.MARCHE_DEFAULT_TERRITORY:
        found = territories.filter(slug=settings.MARCHE_DEFAULT_TERRITORY).first()
        if found is not None:
            return found
    return territories.order_by("pk").first()


# The territories of the sites' root pages, as the app that owns the pages reads them: a
# function from a root page's id to a queryset of at most one territory. The CMS registers
# it when it starts (cms/apps.py), so that marche never imports the CMS.
SiteRootTerritories = Callable[[int], "QuerySet[Territory]"]
_site_root_territories: list[SiteRootTerritories] = []


def territory_site_reader_register(reader: SiteRootTerritories) -> None:
    """Tell marche how a site's root page names its territory (called once, by the CMS)."""
    _site_root_territories[:] = [reader]


def territory_for_request(*, request: HttpRequest) -> Territory | None:
    """The territory of the site a request reached (its hostname), else the default one.

    Each territory is served as its own Wagtail site whose root page names it. Read once
    per request, in two queries (the site, then the territory, or the default one).
    """
    if hasattr(request, "_marche_site_territory"):
        return request._marche_site_territory  # type: ignore[no-any-return]
    territories = Territory.objects.filter(is_active=True)
    order: list[Any] = []
    site = Site.find_for_request(request)
    if site is not None and _site_root_territories:
        own = _site_root_territories[0](site.root_page_id).filter(pk=OuterRef("pk"))
        territories = territories.annotate(site_own=Exists(own))
        order.append(F("site_own").desc())
    # Else the default one, as territory_get_default() picks it, in the same query.
    if settings.MARCHE_DEFAULT_TERRITORY:
        territories = territories.annotate(
            configured=Case(
                When(slug=settings.MARCHE_DEFAULT_TERRITORY, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        order.append(F("configured").desc())
    territory = territories.order_by(*order, "pk").first()
    request._marche_site_territory = territory  # type: ignore[attr-defined]
    return territory
