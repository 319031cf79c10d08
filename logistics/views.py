"""Coordinators' delivery-planning pages, under /logistique/.

The list of cycles to plan, and one cycle's plan: compute it, see it on a map and in tables,
move stops, lock routes, decide on unserved stops, publish. Views only parse, check who may
plan, call one selector or service and render. Unreadable input comes back on the plan page
with its French message (``DomainErrorMiddleware``, through the form's ``next`` field); a
refusal of the service (the checker's reason, a version conflict) comes back the same way,
on the latest plan, with the person's choice filled in again next to the row it was about.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from logistics import editing
from logistics.editing_errors import PlanVersionConflict
from logistics.models import DeliveryPlan, SolveState
from logistics.planning_selectors import (
    cycles_for_planning,
    decisions,
    plan_for_cycle,
    plan_page,
    plan_state,
    plan_version_is,
    progress_view,
    user_may_plan,
    user_may_plan_cycle,
)
from logistics.services import plan_queue
from marche.core.middleware import content_security_policy
from marche.core.numbers import NumberKind, parse_decimal, parse_id
from marche.cycles.models import OrderCycle
from marche.errors import DomainError

LOCKED = _("La tournée est verrouillée.")
UNLOCKED = _("La tournée est déverrouillée.")
POSITION = NumberKind(_("La position"), 0, Decimal("1"), Decimal("999"), "2")
# A conflict is shown on the page the refusal redirects to, which is already the latest plan.
CONFLICT_SHOWN = _(
    "Le plan a été modifié par quelqu'un d'autre depuis que vous l'avez ouvert : "
    "voici le plan à jour, refaites votre modification."
)


class UnknownLockChoice(DomainError):
    code = "unknown_lock_choice"
    default_message = _("Choisissez de verrouiller ou de déverrouiller la tournée.")


def _cycle(request: HttpRequest, cycle_id: int) -> OrderCycle:
    """The cycle, if the person may plan it: anonymous visitors were sent to log in already.

    Who may not plan at all is refused (403) before anything is looked up; another
    territory's cycle is not found (404), as if it did not exist, so an id tells nothing.
    """
    if not user_may_plan(user=request.user):
        raise PermissionDenied
    cycle = OrderCycle.objects.select_related("territory").filter(pk=cycle_id).first()
    if cycle is None or not user_may_plan_cycle(user=request.user, cycle=cycle):
        raise Http404
    return cycle


SOLVE_ASKED = "demande"  # ?calcul=demande: the page was reached by asking a computation


def _plan_url(cycle: OrderCycle) -> str:
    return reverse("planning:plan", args=[cycle.pk])


@login_required
@require_GET
def planning_index(request: HttpRequest) -> HttpResponse:
    """The coordinator's cycles that are closed or due, with their orders and plan state."""
    if not user_may_plan(user=request.user):
        raise PermissionDenied
    rows = cycles_for_planning(user=request.user, now=timezone.now())
    return render(request, "logistics/planning/index.html", {"rows": rows})


@login_required
@require_GET
def plan_view(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """A cycle's plan: header and totals, computing progress, map, routes, unserved stops."""
    cycle = _cycle(request, cycle_id)
    page = plan_page(cycle=cycle)
    if request.GET.get("calcul") == SOLVE_ASKED and page.plan is not None:
        _solve_message(request, page.plan)
    response = render(
        request,
        "logistics/planning/plan.html",
        {
            "page": page,
            "cycle": cycle,
            "plan": page.plan,
            "still_open": timezone.now() < cycle.closes_at,
            "decisions": list(decisions().items()),
            "retry": _retry(request),
            "progress": progress_view(page.plan.progress if page.plan else {}),
            "tile_url": settings.LOGISTICS_TILE_URL,
            "map_config": {
                "tile_url": settings.LOGISTICS_TILE_URL,
                "attribution": settings.LOGISTICS_TILE_ATTRIBUTION,
            },
            "state_url": reverse("planning:plan_state", args=[cycle.pk]),
            "time_limit_s": round(float(settings.LOGISTICS_PLAN_TIME_LIMIT_S)),
        },
    )
    if settings.LOGISTICS_TILE_URL and settings.SECURE_CSP:
        response._csp_config = _csp_with_tiles(request)  # type: ignore[attr-defined]
    return response


def _solve_message(request: HttpRequest, plan: DeliveryPlan) -> None:
    """What became of the computation asked with "Calculer", said when the page is shown.

    Not when it was asked: a worker may finish before the page loads (in-process, it always
    has), and the page reloads itself at the end, still carrying ``?calcul=demande``.
    """
    if plan.solve_state in (SolveState.QUEUED, SolveState.RUNNING):
        messages.info(request, _("Le calcul des tournées est lancé."))
    elif plan.solve_state == SolveState.DONE:
        messages.success(request, _("Les tournées sont calculées."))
    elif plan.solve_state == SolveState.FAILED:
        messages.error(
            request, _("Le calcul des tournées a échoué : la raison est donnée ci-dessous.")
        )


def _csp_with_tiles(request: HttpRequest) -> dict[str, list[str]]:
    """The site's policy, with the tile server's origin allowed for images."""
    policy = dict(content_security_policy(request))
    parts = urlsplit(settings.LOGISTICS_TILE_URL.replace("{s}", "*"))
    if parts.scheme and parts.netloc:
        policy["img-src"] = [*policy.get("img-src", []), f"{parts.scheme}://{parts.netloc}"]
    return policy


def _retry(request: HttpRequest) -> dict[str, str]:
    """The choice a version conflict sent back, to fill its form in again."""
    values = {
        key: request.GET.get(key, "")
        for key in ("reprendre", "etape", "tournee", "position", "lieu", "decision")
    }
    return {key: value[:120] for key, value in values.items() if value}


@login_required
@require_GET
@never_cache
def plan_state_view(request: HttpRequest, cycle_id: int) -> JsonResponse:
    """The polled state: solve progress, or how far each published round has got."""
    cycle = _cycle(request, cycle_id)
    return JsonResponse(plan_state(cycle=cycle))


def _version(request: HttpRequest) -> int:
    return parse_id(request.POST.get("version"))


def _apply(
    request: HttpRequest,
    cycle: OrderCycle,
    action: Callable[[], Any],
    *,
    success: str,
    retry: dict[str, str] | None = None,
    anchor: str = "",
    query: str = "",
) -> HttpResponse:
    """Run one edit and come back to the plan page, at the edited row.

    A refusal (the checker's reason, a version conflict...) comes back as the red message,
    on the latest plan, with the person's choice filled in again in the form it came from
    (``retry``), that form open and its row in view.
    """
    url = _plan_url(cycle)
    try:
        action()
    except PlanVersionConflict:
        messages.error(request, CONFLICT_SHOWN)
        if not retry:
            return HttpResponseRedirect(url)
        return HttpResponseRedirect(f"{url}?{urlencode(retry)}{anchor}")
    except DomainError as error:
        messages.error(request, error.message)
        if not retry:
            return HttpResponseRedirect(url)
        return HttpResponseRedirect(f"{url}?{urlencode(retry)}{anchor}")
    if success:
        messages.success(request, success)
    return HttpResponseRedirect(f"{url}{'?' + query if query else ''}{anchor}")


@login_required
@require_POST
def plan_compute_view(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """Compute (or recompute) the cycle's draft plan: queued for a worker, or run here."""
    cycle = _cycle(request, cycle_id)
    seen = request.POST.get("version") or None
    version = parse_id(seen) if seen is not None else None

    def compute() -> None:
        # The page a recomputation is asked from shows the plan it replaces: if someone
        # changed it since, say so first rather than replace what they did unseen.
        if not plan_version_is(cycle=cycle, version=version):
            raise PlanVersionConflict()
        plan_queue(cycle_id=cycle.pk, by=request.user)

    # No message now: the plan page says, when shown, whether it is running, done or failed.
    return _apply(
        request, cycle, compute, success="", anchor="#calcul", query=f"calcul={SOLVE_ASKED}"
    )


@login_required
@require_POST
def stop_move_view(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """Move a stop to a route and position; the engine's checker may refuse it."""
    cycle = _cycle(request, cycle_id)
    stop_id = parse_id(request.POST.get("stop"))
    route_id = parse_id(request.POST.get("route"))
    typed = str(request.POST.get("position") or "").strip()[:20]
    version = _version(request)
    plan = plan_for_cycle(cycle=cycle)

    def move() -> None:
        # A mistyped position is refused like the checker's refusals: beside the stop's form,
        # reopened with what was typed.
        position = int(parse_decimal(typed, POSITION))
        editing.plan_stop_move(
            plan_id=plan.pk,
            stop_id=stop_id,
            route_id=route_id,
            position=position,
            version=version,
            by=request.user,
        )

    return _apply(
        request,
        cycle,
        move,
        success=str(_("L'étape a été déplacée.")),
        retry={
            "reprendre": "deplacer",
            "etape": str(stop_id),
            "tournee": str(route_id),
            "position": typed,
        },
        anchor=f"#etape-{stop_id}",
    )


@login_required
@require_POST
def route_lock_view(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """Lock a route (kept as it is when the plan is recomputed) or unlock it."""
    cycle = _cycle(request, cycle_id)
    route_id = parse_id(request.POST.get("route"))
    choice = request.POST.get("locked")
    if choice not in ("1", "0"):
        raise UnknownLockChoice()
    version = _version(request)
    plan = plan_for_cycle(cycle=cycle)
    locked = choice == "1"
    return _apply(
        request,
        cycle,
        lambda: editing.plan_route_lock(
            plan_id=plan.pk, route_id=route_id, locked=locked, version=version, by=request.user
        ),
        success=str(
            _("La tournée est verrouillée.") if locked else _("La tournée est déverrouillée.")
        ),
        anchor=f"#tournee-{route_id}",
    )


@login_required
@require_POST
def unserved_decide_view(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """Record what happens to an unserved stop: another vehicle, another day, hub pickup."""
    cycle = _cycle(request, cycle_id)
    place = (request.POST.get("place") or "").strip()[:120]
    decision = (request.POST.get("decision") or "")[:40]
    version = _version(request)
    plan = plan_for_cycle(cycle=cycle)
    return _apply(
        request,
        cycle,
        lambda: editing.plan_unserved_decide(
            plan_id=plan.pk, place=place, decision=decision, version=version, by=request.user
        ),
        success=str(_("La décision est enregistrée.")),
        retry={"reprendre": "decider", "lieu": place, "decision": decision},
        anchor="#non-desservies",
    )


@login_required
@require_POST
def plan_publish_view(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """Publish the draft: drivers then see their routes on their phones."""
    cycle = _cycle(request, cycle_id)
    version = _version(request)
    plan = plan_for_cycle(cycle=cycle)
    return _apply(
        request,
        cycle,
        lambda: editing.plan_publish(plan_id=plan.pk, version=version, by=request.user),
        success=str(_("Le plan est publié : les chauffeurs voient leurs tournées.")),
    )
