"""The header's links to the site's sections: the live index pages of the request's site."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from wagtail.models import Page, Site

register = template.Library()

# The header's sections, by the page type that holds them.
SECTIONS = ("producerindexpage", "relaypointindexpage", "cataloguepage")


def _section_urls(request: HttpRequest) -> dict[str, str]:
    """One query a request: each section's url on this site, absent when it has no page."""
    cached: dict[str, str] | None = getattr(request, "_site_section_urls", None)
    if cached is not None:
        return cached
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
    request._site_section_urls = urls  # type: ignore[attr-defined]
    return urls


@register.simple_tag(takes_context=True)
def section_url(context: dict[str, Any], section: str, fallback: str) -> str:
    """The url of the site's ``section`` page, or ``fallback`` when the site has none."""
    request = context.get("request")
    if request is None:
        return fallback
    return _section_urls(request).get(section) or fallback
