"""The public site's files for crawlers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

# Account, ordering and staff pages are for people, not for search engines.
DISALLOWED = [
    "/admin/",
    "/django-admin/",
    "/compte/",
    "/commander/",
    "/preparation/",
    "/producteur/",
    "/logistique/",
    "/chauffeur/",
    "/relais/",
    "/cantine/",
    "/paiements/",
    "/api/",
]


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED)]
    lines.append(f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
