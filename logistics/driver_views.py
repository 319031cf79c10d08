"""Drivers' pages under /chauffeur/: their rounds, one round on the phone, its PDF and GPX.

The route page works offline: ``/chauffeur/sw.js`` (a service worker whose scope is
/chauffeur/) keeps the page and its assets, and ``driver.js`` queues check-offs in the
phone's IndexedDB until the API acknowledges them. Without JavaScript the check-off forms
post to :func:`stop_check_off_form`, which calls the same service.

Who sees what: a driver, the published rounds they drive; coordinators of the territory
and superusers, any round of it (``?route=<id>``), without the households' names. Anyone
else is refused (403), and a round one may not open does not exist for them (404).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from logistics.checkoffs import stop_check_off
from logistics.models import PlanStop
from logistics.route_sheets import (
    RouteSheet,
    route_gpx,
    route_sheet,
    route_sheet_pdf,
    routes_for_user,
)
from marche.accounts.models import Role, User
from marche.core.numbers import parse_id
from marche.orders.selectors import user_is_coordinator

SERVICE_WORKER = "js/driver-sw.js"
CACHED_ASSETS = ("js/driver.js", "css/driver.css")


def _static_bytes(name: str) -> bytes:
    path = finders.find(name)
    if path:
        with open(path, "rb") as handle:
            return handle.read()
    with staticfiles_storage.open(name) as handle:
        return handle.read()


def _may_use_driver_pages(user: User) -> bool:
    return user.role == Role.DRIVER or user_is_coordinator(user=user)


def _sheet(request: HttpRequest, route_id: int) -> RouteSheet:
    if not _may_use_driver_pages(request.user):
        raise PermissionDenied
    sheet = route_sheet(route_id=route_id, viewer=request.user)
    if sheet is None:
        raise Http404
    return sheet


@login_required
@require_GET
def driver_home(request: HttpRequest) -> HttpResponse:
    """Today's and the next days' rounds; ``?route=<id>`` opens one (coordinators)."""
    if not _may_use_driver_pages(request.user):
        raise PermissionDenied
    if "route" in request.GET:
        route_id = parse_id(request.GET["route"])
        sheet = _sheet(request, route_id)
        return HttpResponseRedirect(reverse("driver:route", args=[sheet.route.pk]))
    routes = routes_for_user(user=request.user, today=timezone.localdate())
    return render(
        request,
        "logistics/driver/home.html",
        {"routes": routes, "is_driver": request.user.role == Role.DRIVER},
    )


@login_required
@require_GET
def route_detail(request: HttpRequest, route_id: int) -> HttpResponse:
    """One round on the phone: loading, collections, stops to check off."""
    sheet = _sheet(request, route_id)
    context: dict[str, Any] = {
        "sheet": sheet,
        "keys": {stop.id: uuid.uuid4().hex for stop in sheet.checkable},
    }
    response = render(request, "logistics/driver/route.html", context)
    # The page holds households' names for its driver: never in a shared cache.
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_GET
def route_pdf(request: HttpRequest, route_id: int) -> HttpResponse:
    """The printable A4 route sheet."""
    sheet = _sheet(request, route_id)
    response = HttpResponse(route_sheet_pdf(sheet), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="tournee-{sheet.delivery_date:%Y-%m-%d}-{sheet.route.pk}.pdf"'
    )
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_GET
def route_gpx_view(request: HttpRequest, route_id: int) -> HttpResponse:
    """The round as a GPX file (waypoints and a route) for a navigation app."""
    sheet = _sheet(request, route_id)
    response = HttpResponse(route_gpx(sheet), content_type="application/gpx+xml")
    response["Content-Disposition"] = (
        f'attachment; filename="tournee-{sheet.delivery_date:%Y-%m-%d}-{sheet.route.pk}.gpx"'
    )
    return response


@login_required
@require_POST
def stop_check_off_form(request: HttpRequest, stop_id: int) -> HttpResponse:
    """The check-off form without JavaScript: the same service, then back to the round.

    The form carries a key drawn when the page was rendered, so a double submit is a
    replay. A refusal goes back with its French message (DomainErrorMiddleware).
    """
    route_id = PlanStop.objects.filter(pk=stop_id).values_list("route_id", flat=True).first()
    delivered = {
        name.removeprefix("delivered-"): value
        for name, value in request.POST.items()
        if name.startswith("delivered-") and value.strip()
    }
    canteen = None
    if "received_by" in request.POST:
        # A canteen's stop: delivered quantities and shortfall reasons per line id.
        canteen = {
            "quantities": _prefixed(request, "canteen-qty-"),
            "reasons": _prefixed(request, "canteen-reason-"),
            "received_by": request.POST.get("received_by", ""),
        }
    result = stop_check_off(
        stop_id=stop_id,
        key=request.POST.get("key", ""),
        status=request.POST.get("status", ""),
        note=request.POST.get("note", ""),
        delivered=delivered,
        by=request.user,
        canteen=canteen,
    )
    if not result.replay:
        messages.success(
            request,
            _("Étape « %(name)s » pointée : %(status)s.")
            % {
                "name": result.stop.name or result.stop.place,
                "status": result.stop.get_status_display(),
            },
        )
    target = reverse("driver:route", args=[route_id]) if route_id else reverse("driver:home")
    return HttpResponseRedirect(f"{target}#etape-{stop_id}")


def _prefixed(request: HttpRequest, prefix: str) -> dict[str, str]:
    return {
        name.removeprefix(prefix): value
        for name, value in request.POST.items()
        if name.startswith(prefix)
    }


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served under /chauffeur/ so that its scope covers the pages."""
    content = _static_bytes(SERVICE_WORKER)
    # The cache is named after the worker and the assets it keeps: when one of them changes,
    # the worker's bytes change, the phone installs it and drops the old cache.
    digest = hashlib.sha256(content)
    for asset in CACHED_ASSETS:
        digest.update(_static_bytes(asset))
    content = content.replace(
        b"marche-chauffeur-v1", f"marche-chauffeur-{digest.hexdigest()[:12]}".encode()
    )
    response = HttpResponse(content, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("driver:home")
    return response
