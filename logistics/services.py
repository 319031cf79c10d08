"""Writes of delivery planning: closing due cycles, computing and storing a cycle's plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from logistics.errors import CycleNotFound, CycleStillOpen, PlanPublished
from logistics.models import (
    CycleClosing,
    DeliveryPlan,
    PlanRoute,
    PlanStatus,
    PlanStop,
    StopKind,
    Vehicle,
)
from logistics.selectors import PlanningProblem, cycle_consolidate, moment, plan_problem_build
from logistics.vrp import model as vrp
from logistics.vrp.solver import solve
from marche.cycles.models import OrderCycle
from marche.orders.models import Order
from marche.orders.selectors import HANDED_OVER

KM = Decimal("0.001")


def cycle_close(*, cycle: OrderCycle, now: datetime) -> bool:
    """Record that the cycle is closed for planning; True only for the call that closed it.

    The unique cycle of ``CycleClosing`` decides between concurrent callers: the loser's
    insert fails on the constraint (after the winner commits) and it changes nothing.
    """
    orders = Order.objects.filter(cycle=cycle, status__in=HANDED_OVER).count()
    try:
        with transaction.atomic():
            CycleClosing.objects.create(cycle=cycle, closed_at=now, orders_count=orders)
    except IntegrityError:
        return False
    return True


def cycle_close_due(*, now: datetime) -> list[int]:
    """Close every cycle whose cutoff has passed and that is not closed yet; ids it closed.

    Idempotent: a second tick finds nothing to close, and of two workers ticking at once
    each cycle is closed by exactly one.
    """
    due = OrderCycle.objects.filter(closes_at__lte=now, logistics_closing__isnull=True).order_by(
        "pk"
    )
    return [cycle.pk for cycle in due if cycle_close(cycle=cycle, now=now)]


def _co2_kg(vehicle: Vehicle, km: Decimal) -> Decimal:
    factor = Decimal(str(settings.LOGISTICS_EMISSION_FACTORS.get(vehicle.kind, "0")))
    return (km * factor).quantize(KM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PlanResult:
    plan: DeliveryPlan
    closed_now: bool


def plan_compute(
    *, cycle_id: int, time_limit: float = 5.0, now: datetime | None = None
) -> PlanResult:
    """Close the cycle if due, consolidate, solve and store its plan, replacing the draft.

    Every refusal (cycle still open, no vehicle, a place without coordinates, a published
    plan) comes before anything is written. The solve runs outside any transaction; the
    plan is then written in one short transaction that locks the cycle's plan row.
    """
    now = now or timezone.now()
    cycle = OrderCycle.objects.select_related("territory").filter(pk=cycle_id).first()
    if cycle is None:
        raise CycleNotFound()
    if cycle.closes_at > now:
        raise CycleStillOpen()
    if DeliveryPlan.objects.filter(cycle=cycle, status=PlanStatus.PUBLISHED).exists():
        raise PlanPublished()
    built = plan_problem_build(consolidation=cycle_consolidate(cycle=cycle))
    solution = solve(
        built.problem, built.provider, vrp.SolveOptions(time_limit_s=time_limit, workers=1)
    )
    with transaction.atomic():
        closed_now = cycle_close(cycle=cycle, now=now)
        plan = _plan_store(cycle=cycle, built=built, solution=solution, now=now)
    return PlanResult(plan=plan, closed_now=closed_now)


def _plan_row(cycle: OrderCycle) -> DeliveryPlan:
    """The cycle's plan row, created if missing, locked until the end of the transaction."""
    plan, _created = DeliveryPlan.objects.select_for_update().get_or_create(cycle=cycle)
    if plan.status == PlanStatus.PUBLISHED:
        raise PlanPublished()
    return plan


def _plan_store(
    *, cycle: OrderCycle, built: PlanningProblem, solution: vrp.Solution, now: datetime
) -> DeliveryPlan:
    plan = _plan_row(cycle)
    plan.routes.all().delete()
    manifests = {d.place: d.as_dict() for d in built.consolidation.destinations}
    demand = {stop.id: stop.demand.get("kg", 0) for stop in built.problem.stops}
    total_km = Decimal("0")
    total_co2 = Decimal("0")
    for position, route in enumerate(solution.routes, start=1):
        vehicle = built.vehicles[route.vehicle_id]
        km = (Decimal(route.distance_m) / 1000).quantize(KM, rounding=ROUND_HALF_UP)
        co2 = _co2_kg(vehicle, km)
        total_km += km
        total_co2 += co2
        row = PlanRoute.objects.create(
            plan=plan,
            vehicle=vehicle,
            position=position,
            km=km,
            duration_min=round((route.end_time - route.start_time) / 60),
            co2_kg=co2,
        )
        PlanStop.objects.bulk_create(_stops(row, route, built, manifests, demand))
    DeliveryPlan.objects.filter(pk=plan.pk).update(
        version=F("version") + 1,
        solved_at=now,
        total_km=total_km,
        total_co2_kg=total_co2,
        unserved=[
            {"place": u.stop_id, "code": u.code, "reason_fr": u.reason} for u in solution.unserved
        ],
        solver_stats=_stats(built, solution),
    )
    plan.refresh_from_db()
    return plan


def _stops(
    row: PlanRoute,
    route: vrp.Route,
    built: PlanningProblem,
    manifests: dict[str, dict[str, Any]],
    demand: dict[str, int],
) -> list[PlanStop]:
    depot = f"depot:{built.vehicles[route.vehicle_id].depot.slug}"
    loaded = sum(demand[visit.stop_id] for visit in route.visits)
    stops = [
        PlanStop(
            route=row,
            position=0,
            place=depot,
            kind=StopKind.DEPOT_START,
            eta=moment(built.origin, route.start_time),
            load_kg_after=loaded,
            # Loaded at the hub in reverse order of the drops: the last drop goes in first.
            manifest={"load_in_order": [visit.stop_id for visit in reversed(route.visits)]},
        )
    ]
    # Every stop is a delivery loaded at the hub: the engine reports the load on board after
    # each drop, falling to zero at the last one.
    for position, visit in enumerate(route.visits, start=1):
        window = built.windows.get(visit.stop_id)
        on_board = visit.load.get("kg", 0)
        stops.append(
            PlanStop(
                route=row,
                position=position,
                place=visit.stop_id,
                kind=StopKind.DELIVERY,
                window_start=None,
                window_end=moment(built.origin, window.end) if window else None,
                eta=moment(built.origin, visit.arrival),
                load_kg_after=on_board,
                manifest=manifests[visit.stop_id],
            )
        )
    stops.append(
        PlanStop(
            route=row,
            position=len(route.visits) + 1,
            place=depot,
            kind=StopKind.DEPOT_END,
            eta=moment(built.origin, route.end_time),
            load_kg_after=0,
        )
    )
    return stops


def _stats(built: PlanningProblem, solution: vrp.Solution) -> dict[str, Any]:
    stats = solution.stats
    return {
        "destinations": [d.place for d in built.consolidation.destinations],
        "seconds": round(stats.seconds, 3),
        "solutions": stats.solutions,
        "stopped_by": stats.stopped_by,
        "cost": round(solution.cost, 3),
        "distance_m": solution.distance_m,
        "fleet_size": stats.fleet_size,
    }
