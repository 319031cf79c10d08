"""Operational endpoints."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from marche.core.health import probe_all


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, cache and broker answer, 503 naming those that do not."""
    probes = probe_all()
    healthy = all(probe.ok for probe in probes)
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            "checks": {probe.name: {"ok": probe.ok, "detail": probe.detail} for probe in probes},
        },
        status=200 if healthy else 503,
    )
