"""The header's links to the site's sections: the live index pages of the request's site.

Every page (the shop and the dashboards too) shows them, so they are kept in the shared
cache under the public pages' cache version: a page published, moved or deleted replaces
that version and the links are looked up again. With the page cache off, no caching.
"""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import translation
from wagtail.models import Page, Site

from cms.cache import VERSION_KEY, page_cache_seconds

logger = logging.getLogger(__name__)

register = template.Library()

# The header's sections, by the page type that holds them.
SECTIONS = ("producerindexpage", "relaypointindexpage", "cataloguepage")


def _section_urls(request: HttpRequest) -> dict[str, str]:
    """Each section's url on this site, absent when it has no page: once a request, and
    from the shared cache while no page has changed."""
    cached: dict[str, str] | None = getattr(request, "_site_section_urls", None)
    if cached is not None:
        return cached
    seconds = page_cache_seconds()
    language = translation.get_language() or ""
    key = f"cms:site-nav:{request.scheme}|{request.get_host()}|{language}"
    version = ""
    if seconds > 0:
        try:
            found = cache.get_many([VERSION_KEY, key])
        except Exception:  # the cache down: look the pages up
            logger.warning("Site navigation cache unavailable.", exc_info=True)
            seconds = 0
        else:
            version = found.get(VERSION_KEY, "")
            entry = found.get(key)
            if entry is not None and entry["version"] == version:
                request._site_section_urls = entry["urls"]  # type: ignore[attr-defined]
                return entry["urls"]
    urls = _section_urls_query(request)
    if seconds > 0:
        try:
            cache.set(key, {"version": version, "urls": urls}, seconds)
        except Exception:
            logger.warning("Site navigation cache unavailable.", exc_info=True)
    request._site_section_urls = urls  # type: ignore[attr-defined]
    return urls


def _section_urls_query(request: HttpRequest) -> dict[str, str]:
    urls: dict[str, str] = {}
    site = Site.find_for_request(request)
    if site is not None:
        pages = (
            Page.objects.live()
            .descendant_of(site.root_page, inclusive=True)
            .filter(content_type__app_label="cms", content_type__model__in=SECTIONS)
            .select_related("content_type")
            .order_by("path")
        )
        for page in pages:
            urls.setdefault(page.content_type.model, page.get_url(request=request) or "")
    return urls


@register.simple_tag(takes_context=True)
def section_url(context: dict[str, Any], section: str, fallback: str) -> str:
    """The url of the site's ``section`` page, or ``fallback`` when the site has none."""
    request = context.get("request")
    if request is None:
        return fallback
    return _section_urls(request).get(section) or fallback
