"""Drivers' and coordinators' API, ``/api/v1/logistique/``: check-offs and rounds' progress.

The driver's route page calls it from the phone with the session cookie and the CSRF token
header (``X-CSRFToken``), like a form post; a program may use a driver's or coordinator's
API token instead (``Authorization: Bearer``). A check-off carries an idempotency key chosen
by the phone: sending it again answers the same state and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Router, Schema
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from logistics.checkoffs import (
    CHECKED_KINDS,
    CheckoffResult,
    PlanNotFound,
    PlanProgressForbidden,
    RouteNotFound,
    route_start,
    stop_check_off,
    user_may_follow_territory,
)
from logistics.models import DeliveryPlan
from logistics.route_sheets import plan_progress, route_sheet
from marche.accounts.api import TokenAuth
from marche.accounts.errors import RoleForbidden
from marche.accounts.models import Role, User
from marche.core.schemas import Id
from marche.errors import DomainError
from marche.orders.selectors import user_can_see_territory


class CsrfFailed(DomainError):
    code = "csrf_failed"
    status = 403
    default_message = gettext_lazy(
        "Jeton CSRF absent ou périmé : rechargez la page (vos pointages en attente sont gardés)."
    )


class DriverSessionAuth(APIKeyCookie):
    """The site's session (a logged-in driver or coordinator), with Django's CSRF check.

    The check runs only for a session that is logged in: a request without one goes on to
    the token scheme (and, without a token, is answered 401).
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise CsrfFailed()
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if key is None or user is None or not user.is_authenticated:
            return None
        return user


class LogisticsTokenAuth(TokenAuth):
    """An API token of a driver or a coordinator."""

    def check(self, user: User) -> None:
        if user.role not in (Role.DRIVER, Role.COORDINATOR) and not user.is_superuser:
            raise RoleForbidden(
                _("Cette partie de l'API est réservée aux chauffeurs et à la coordination.")
            )


router = Router(tags=["tournées"], auth=[DriverSessionAuth(), LogisticsTokenAuth()])


class CanteenDeliveryIn(Schema):
    quantities: dict[str, str] = Field(
        default_factory=dict,
        description="Quantité livrée par identifiant de ligne, virgule décimale acceptée (18,5).",
    )
    reasons: dict[str, str] = Field(
        default_factory=dict, description="Motif de l'écart par identifiant de ligne."
    )
    received_by: str = Field(default="", description="Qui a réceptionné la livraison.")


class CheckoffIn(Schema):
    key: str = Field(description="Clé d'idempotence choisie par le téléphone (8 à 80 caractères).")
    status: str = Field(description="delivered (livrée) ou problem (problème).")
    note: str = ""
    delivered: dict[str, int | str] = Field(
        default_factory=dict, description="Caisses réellement livrées, par référence de commande."
    )
    recorded_at: datetime | None = Field(
        default=None, description="Heure du pointage sur le téléphone (ISO 8601)."
    )
    canteen: CanteenDeliveryIn | None = Field(
        default=None,
        description=(
            "À l'étape d'une cantine pointée livrée : quantités livrées et motifs d'écart par "
            "ligne de sa commande, et qui a réceptionné."
        ),
    )


class StopStateOut(Schema):
    stop_id: int
    route_id: int
    key: str
    replay: bool
    applied: bool
    status: str
    checked_at: datetime | None
    note: str
    delivered: dict[str, int]
    route_started_at: datetime | None
    route_finished_at: datetime | None
    stops_done: int
    stops_total: int


class StopBriefOut(Schema):
    stop_id: int
    status: str
    checked_at: datetime | None
    note: str


class RouteStateOut(Schema):
    route_id: int
    started_at: datetime | None
    finished_at: datetime | None
    stops_done: int
    stops_total: int
    stops: list[StopBriefOut]


class RouteProgressOut(Schema):
    route_id: int
    position: int
    vehicle: str
    driver: str
    delivered: int
    problems: int
    total: int
    started_at: datetime | None
    finished_at: datetime | None
    last_checkoff_at: datetime | None


class PlanProgressOut(Schema):
    plan_id: int
    status: str
    version: int
    routes: list[RouteProgressOut]


def _stop_state(result: CheckoffResult) -> dict[str, Any]:
    stop, route = result.stop, result.route
    return {
        "stop_id": stop.pk,
        "route_id": route.pk,
        "key": result.key,
        "replay": result.replay,
        "applied": result.applied,
        "status": stop.status,
        "checked_at": stop.checked_at,
        "note": stop.note,
        "delivered": stop.delivered if isinstance(stop.delivered, dict) else {},
        "route_started_at": route.started_at,
        "route_finished_at": route.finished_at,
        "stops_done": result.stops_done,
        "stops_total": result.stops_total,
    }


@router.post("/etapes/{stop_id}/pointage", response=StopStateOut)
def stop_check_off_endpoint(request: HttpRequest, stop_id: Id, payload: CheckoffIn) -> Any:
    """Check off a stop (delivered or problem); the same key again is a replay."""
    result = stop_check_off(
        stop_id=stop_id,
        key=payload.key,
        status=payload.status,
        note=payload.note,
        delivered=payload.delivered,
        recorded_at=payload.recorded_at,
        by=request.auth,
        canteen=payload.canteen.dict() if payload.canteen is not None else None,
    )
    return _stop_state(result)


def _route_state(route_id: int, user: User) -> dict[str, Any]:
    sheet = route_sheet(route_id=route_id, viewer=user)
    if sheet is None:
        raise RouteNotFound()
    stops = [stop for stop in sheet.stops if stop.kind in CHECKED_KINDS]
    return {
        "route_id": sheet.route.pk,
        "started_at": sheet.route.started_at,
        "finished_at": sheet.route.finished_at,
        "stops_done": sheet.done,
        "stops_total": sheet.total,
        "stops": [
            {
                "stop_id": stop.id,
                "status": stop.status,
                "checked_at": stop.checked_at,
                "note": stop.note,
            }
            for stop in stops
        ],
    }


@router.get("/tournees/{route_id}", response=RouteStateOut)
def route_state(request: HttpRequest, route_id: Id) -> Any:
    """The state of each stop of a route (its driver, or the territory's coordination)."""
    return _route_state(route_id, request.auth)


@router.post("/tournees/{route_id}/depart", response=RouteStateOut)
def route_start_endpoint(request: HttpRequest, route_id: Id) -> Any:
    """Record that the round left the depot (idempotent: the earliest start is kept)."""
    route_start(route_id=route_id, by=request.auth)
    return _route_state(route_id, request.auth)


@router.get("/plans/{plan_id}/avancement", response=PlanProgressOut)
def plan_progress_endpoint(request: HttpRequest, plan_id: Id) -> Any:
    """Per route of a plan: stops delivered / in all, start, end, last check-off."""
    plan = DeliveryPlan.objects.select_related("cycle").filter(pk=plan_id).first()
    if plan is None or not user_can_see_territory(
        user=request.auth, territory_id=plan.cycle.territory_id
    ):
        raise PlanNotFound()  # another territory's plan is as if it did not exist
    if not user_may_follow_territory(user=request.auth, territory_id=plan.cycle.territory_id):
        raise PlanProgressForbidden()
    return {
        "plan_id": plan.pk,
        "status": plan.status,
        "version": plan.version,
        "routes": plan_progress(plan=plan),
    }
