"""Operational endpoints and the site's own error pages."""

from __future__ import annotations

import logging

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from marche.core.health import probe_all
from marche.core.outbox import outbox_unsent_count

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 ``{"status": "ok"}`` when the database, cache and broker answer, else 503 "down".

    Which service failed, and how, is for staff only (``?details=1`` when logged in as
    staff): the public answer says nothing an attacker could use.
    """
    probes = probe_all()
    healthy = all(probe.ok for probe in probes)
    body: dict[str, object] = {"status": "ok" if healthy else "down"}
    user = getattr(request, "user", None)
    if request.GET.get("details") and user is not None and user.is_active and user.is_staff:
        body["checks"] = {probe.name: {"ok": probe.ok, "detail": probe.detail} for probe in probes}
        body["outbox_unsent"] = _unsent_or_none()
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_GET
def healthz_live(request: HttpRequest) -> JsonResponse:
    """200 ``{"status": "ok"}`` as long as the process answers: for load balancers' liveness
    checks, and the baseline of ``bench_web``.

    Nothing here touches the database, the cache, the session or the broker: a service
    being down is for ``/healthz`` (readiness) to say, not a reason to restart this process.
    """
    return JsonResponse({"status": "ok"})


def _unsent_or_none() -> int | None:
    try:
        return outbox_unsent_count()
    except Exception:  # the database is down: the database probe already says so
        return None


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 page, in the page's language."""
    return render(request, "404.html", {"request_path": request.path}, status=404)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 403 page, in the page's language."""
    return render(request, "403.html", status=403)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """The site's 500 page, rendered without context processors: nothing here may need the
    database, the cache or the session, which may be what failed."""
    try:
        return HttpResponseServerError(loader.get_template("500.html").render())
    except Exception:  # the template itself failed: plain text, still in French
        logger.exception("the 500 page could not be rendered")
        return HttpResponseServerError(
            gettext("Erreur du serveur : réessayez dans un instant."), content_type="text/plain"
        )


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: send them to the site's icon.

    The address is resolved per request, not at import, so a production start-up never
    depends on the collected static files' manifest.
    """
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
