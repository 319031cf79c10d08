"""The head of a site page as search engines and social networks read it."""

from __future__ import annotations

from typing import Any

from django import template

from cms import seo

register = template.Library()


@register.inclusion_tag("cms/includes/seo_head.html", takes_context=True)
def seo_head(context: template.Context) -> dict[str, Any]:
    """Description, canonical address, Open Graph and JSON-LD of the page being rendered.

    A route may give its own ``meta_description``, ``og_image`` and ``structured_data``
    (the catalogue's product pages); otherwise the page draws them from its data.
    """
    page = context["page"]
    request = context["request"]
    flat = context.flatten()
    description = flat.get("meta_description") or page.meta_description(flat)
    data = flat.get("structured_data")
    if data is None:
        data = page.structured_data(request, flat)
    return {
        "title": flat.get("page_title") or page.seo_title or page.title,
        "description": description,
        "canonical_url": flat.get("canonical_url") or request.build_absolute_uri(request.path),
        "og_image": flat.get("og_image")
        or page.sharing_image_url(request)
        or seo.default_image_url(request),
        "og_type": flat.get("og_type", "website"),
        "structured_data": seo.ld_json(data) if data else "",
    }
