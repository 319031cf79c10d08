"""Reads of territories."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Exists, F, OuterRef, QuerySet, Value, When
from django.http import HttpRequest
from wagtail.models import Site

from marche.territories.models import Territory, emission_factors_parse

logger = logging.getLogger(__name__)


def territory_get_default() -> Territory | None:
    """The territory shown when a request names none: the configured one, else the first."""
    territories = Territory.objects.filter(is_active=True)
    if settings.MARCHE_DEFAULT_TERRITORY:
        found = territories.filter(slug=settings.MARCHE_DEFAULT_TERRITORY).first()
        if found is not None:
            return found
    return territories.order_by("pk").first()


def territory_from_email(*, territory: Territory | None) -> str:
    """The sender of every e-mail about the territory: its own, else the instance's default.

    The one place that decides it: order, cycle, canteen and account e-mails all ask here.
    """
    sender = territory.email_sender.strip() if territory is not None else ""
    return sender or settings.DEFAULT_FROM_EMAIL


def territory_emission_factors(*, territory: Territory | None) -> dict[str, Decimal]:
    """kg CO2e per km by vehicle kind: the territory's own factors over the instance's defaults.

    A stored value that no longer reads (edited by hand in the database) falls back to the
    defaults rather than stopping a plan.
    """
    factors = {
        kind: Decimal(str(value)) for kind, value in settings.LOGISTICS_EMISSION_FACTORS.items()
    }
    if territory is not None:
        try:
            factors.update(emission_factors_parse(territory.emission_factors))
        except ValidationError:
            logger.warning("territory %s: unreadable emission factors, defaults used", territory.pk)
    return factors


# The territories of the sites' root pages, as the app that owns the pages reads them: a
# function from a root page's id to a queryset of at most one territory. The CMS registers
# it when it starts (cms/apps.py), so that marche never imports the CMS.
SiteRootTerritories = Callable[[int], "QuerySet[Territory]"]
_site_root_territories: list[SiteRootTerritories] = []


def territory_site_reader_register(reader: SiteRootTerritories) -> None:
    """Tell marche how a site's root page names its territory (called once, by the CMS)."""
    _site_root_territories[:] = [reader]


# Hostnames that name no site of their own: the generic one Wagtail and older databases give.
GENERIC_HOSTNAMES = {"localhost", "127.0.0.1", "[::1]", "*"}


def _territory_site(territory: Territory) -> Site | None:
    """The Wagtail site whose root page names the territory (one query per site)."""
    if not _site_root_territories:
        return None
    reader = _site_root_territories[0]
    for site in Site.objects.order_by("-is_default_site", "pk"):
        if reader(site.root_page_id).filter(pk=territory.pk).exists():
            return site
    return None


def _own_hostname(site: Site | None) -> str:
    """The site's hostname when it names a site of its own, else ''."""
    hostname = site.hostname.strip().lower() if site is not None else ""
    return "" if hostname in GENERIC_HOSTNAMES else hostname


def territory_site_url(*, territory: Territory | None) -> str:
    """The address of the territory's own site, without a trailing slash, for the links that
    leave a page (e-mails, QR codes, the way back from card payment).

    Each territory is served as its own Wagtail site (the one whose root page names it): its
    links go to that site's hostname, with the scheme and port of ``MARCHE_SITE_URL`` (every
    hostname is served the same way: https behind the proxy, or runserver's port). The
    default site, a territory without a site, or one whose site answers a generic hostname
    (``localhost``) is reached at ``MARCHE_SITE_URL`` itself: the instance's address serves
    the default site, and its people were signed in there.
    """
    base = str(settings.MARCHE_SITE_URL).rstrip("/")
    site = _territory_site(territory) if territory is not None else None
    hostname = _own_hostname(site)
    parts = urlsplit(base)
    if site is None or site.is_default_site or not hostname or hostname == parts.hostname:
        return base
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme or 'https'}://{hostname}{port}"


def territory_site_elsewhere(*, request: HttpRequest, user: Any) -> str | None:
    """The address of ``user``'s own territory's site when the request reached the site of
    another territory, else None.

    None as well for a person bound to no territory (a superuser, a federation's staff), and
    for a territory with no site of a hostname of its own: there, every territory's people
    use the instance's one address (``MARCHE_SITE_URL``). The address is the own site's
    hostname reached the way this request came (scheme and port: every hostname of the
    instance is served alike).
    """
    own_id = getattr(user, "territory_id", None)
    if not own_id or getattr(user, "is_superuser", False):
        return None
    here = territory_for_request(request=request)
    if here is None or here.pk == own_id:
        return None
    own = Territory.objects.filter(pk=own_id).first()
    hostname = _own_hostname(_territory_site(own)) if own is not None else ""
    if not hostname:
        return None
    _host, colon, port = request.get_host().rpartition(":")
    address = f"{request.scheme}://{hostname}" + (f":{port}" if colon and port.isdigit() else "")
    return None if address == request.build_absolute_uri("/").rstrip("/") else address


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
