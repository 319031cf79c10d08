"""A canteen's EGalim dashboard and its "ma cantine" exports, ``/cantine/<id>/egalim/``.

Who may open them: the canteen's managers, the coordinators of its territory (or of every
territory), superusers; anyone else gets 403. The page is complete without JavaScript: the
two gauges are drawn by the server (SVG) and every figure is in the tables; the vendored
Chart.js only adds the bar chart per product family.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from marche.accounts.models import Role
from marche.canteens.egalim import (
    HUNDRED,
    InvalidYear,
    Target,
    egalim_canteens_for,
    egalim_overview,
    egalim_year,
    egalim_years,
    parse_year,
    percent_shown,
    user_can_see_egalim,
)
from marche.canteens.macantine import (
    CanteenWithoutSiret,
    export_filename,
    macantine_export_create,
    macantine_export_for_canteen,
    macantine_exports_for_canteen,
    macantine_pending_count,
)
from marche.canteens.models import Canteen

CSV_TYPE = "text/csv; charset=utf-8"


def _canteen_or_refusal(request: HttpRequest, canteen_id: int) -> Canteen:
    canteen = Canteen.objects.select_related("territory").filter(pk=canteen_id).first()
    own_territory = getattr(request.user, "territory_id", None)
    if canteen is None or (own_territory and canteen.territory_id != own_territory):
        raise Http404  # another territory's canteen is not told to exist
    if not user_can_see_egalim(user=request.user, canteen=canteen):
        raise PermissionDenied
    return canteen


def _svg_number(value: Decimal) -> str:
    """A percentage for an SVG attribute, as shown (down to the tenth), with a dot always."""
    return f"{percent_shown(min(max(value, Decimal('0')), HUNDRED)):.1f}"


def _mark(target: Decimal) -> str:
    """Where a target's mark goes: kept off the very edges, where half of it would be cut."""
    return _svg_number(min(max(target, Decimal("0.5")), Decimal("99.5")))


def _gauge(target: Target, *, own: Target | None = None) -> dict[str, object]:
    """What a gauge shows: the share, the bar and the target's mark (0–100 wide)."""
    share = target.percent
    return {
        "target": target,
        "own": own,
        "bar": _svg_number(share or Decimal("0")),
        "mark": _mark(target.target),
        "own_mark": _mark(own.target) if own is not None else None,
    }


def dashboard_url(canteen: Canteen, year: int | None = None) -> str:
    url = reverse("canteens:egalim", kwargs={"canteen_id": canteen.pk})
    return f"{url}?annee={year}" if year is not None else url


@login_required
@require_GET
def egalim_index(request: HttpRequest) -> HttpResponse:
    """The canteens whose dashboards the user may open, with their shares for the year.

    For coordinators (those of the territory, or of all); a manager of one canteen goes
    straight to its dashboard.
    """
    year = parse_year(request.GET.get("annee"), default=timezone.localdate().year)
    canteens = egalim_canteens_for(user=request.user)
    if not canteens:
        raise PermissionDenied
    if len(canteens) == 1 and not user_can_see_all(request):
        return redirect(dashboard_url(canteens[0], year))
    return render(
        request,
        "canteens/egalim/index.html",
        {
            "year": year,
            "rows": egalim_overview(canteens=canteens, year=year),
            "previous_url": f"{reverse('canteens:egalim_index')}?annee={year - 1}",
            "next_url": f"{reverse('canteens:egalim_index')}?annee={year + 1}",
        },
    )


def user_can_see_all(request: HttpRequest) -> bool:
    """Coordinators and superusers get the list even when it holds one canteen."""
    user = request.user
    return bool(user.is_superuser or getattr(user, "role", None) == Role.COORDINATOR)


@login_required
@require_GET
def egalim_dashboard(request: HttpRequest, canteen_id: int) -> HttpResponse:
    """The canteen's EGalim shares for a calendar year (``?annee=2026``, this year by default)."""
    canteen = _canteen_or_refusal(request, canteen_id)
    year = parse_year(request.GET.get("annee"), default=timezone.localdate().year)
    report = egalim_year(canteen=canteen, year=year)
    return render(
        request,
        "canteens/egalim/dashboard.html",
        {
            "canteen": canteen,
            "is_manager": canteen.managers.filter(pk=request.user.pk).exists(),
            "year": year,
            "years": egalim_years(canteen=canteen, around=year),
            "previous_url": dashboard_url(canteen, year - 1),
            "next_url": dashboard_url(canteen, year + 1),
            "report": report,
            "gauges": [
                _gauge(report.organic, own=report.organic_own),
                _gauge(report.egalim),
            ],
            "chart_data": report.chart_data(),
            "exports": macantine_exports_for_canteen(canteen=canteen)[:24],
            "pending_count": macantine_pending_count(canteen=canteen),
        },
    )


@login_required
@require_POST
def egalim_export_create(request: HttpRequest, canteen_id: int) -> HttpResponse:
    """Export the canteen's purchases not yet sent to "ma cantine", and download the file."""
    canteen = _canteen_or_refusal(request, canteen_id)
    if not canteen.siret:
        raise CanteenWithoutSiret()
    result = macantine_export_create(canteen=canteen, user=request.user)
    if not result.exports:
        messages.info(
            request,
            _(
                "Aucun nouvel achat à exporter : tous les achats livrés ont déjà été envoyés "
                "dans un export précédent."
            ),
        )
        return HttpResponseRedirect(back_url_for(request, canteen))
    made = result.exports[0]
    return _csv_response(made.content, export_filename(made))


@login_required
@require_GET
def egalim_export_download(request: HttpRequest, canteen_id: int, export_id: int) -> HttpResponse:
    """An earlier export of the canteen, downloaded again (the same file, unchanged)."""
    canteen = _canteen_or_refusal(request, canteen_id)
    file = macantine_export_for_canteen(canteen=canteen, export_id=export_id)
    return _csv_response(file.content, file.filename)


def back_url_for(request: HttpRequest, canteen: Canteen) -> str:
    """The dashboard of the year the export was asked from (its ``annee`` field)."""
    try:
        year = parse_year(request.POST.get("annee"), default=timezone.localdate().year)
    except InvalidYear:
        year = None  # a bad hidden field only loses the year shown
    return dashboard_url(canteen, year)


def _csv_response(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content.encode("utf-8"), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
