"""Writes of delivery planning: closing due cycles, queueing, computing and storing a plan."""

from __future__ import annotations

import dataclasses
import time as clock
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from logistics.errors import (
    CycleNotFound,
    CycleStillOpen,
    DeliveryDatePast,
    InvalidTimeLimit,
    PlanningNotAllowed,
    PlanPublished,
    PlanSharesMismatch,
    RoutingFailed,
    SolveCrashed,
)
from logistics.models import (
    CycleClosing,
    DeliveryPlan,
    PlanRoute,
    PlanStatus,
    PlanStop,
    SolveState,
    StopKind,
)
from logistics.selectors import (
    SHARE,
    PlanningProblem,
    baseline_km,
    cycle_consolidate,
    load_on_board,
    moment,
    plan_problem_build,
    stop_place,
)
from logistics.stability import (
    changes_describe,
    routes_snapshot,
    solution_stabilise,
    usual_rounds,
)
from logistics.visits import solution_merge_visits
from logistics.vrp import model as vrp
from logistics.vrp.errors import VrpError
from logistics.vrp.solver import solve
from logistics.vrp.timing import RouteTimer
from marche.accounts.models import User
from marche.canteens.services import orders_confirm_at_cutoff
from marche.core.outbox import enqueue
from marche.cycles.models import OrderCycle
from marche.errors import DomainError
from marche.orders.models import Order
from marche.orders.selectors import HANDED_OVER, user_can_see_territory, user_is_coordinator

KM = Decimal("0.001")
PLAN_TASK = "logistics.plan_compute"
# ``expected_version`` of the plan computed after a cycle closes: only if it has no plan yet.
AUTO = 0
MAX_TIME_LIMIT_S = 600.0
PROGRESS_EVERY_S = 1.0


def cycle_close(*, cycle: OrderCycle, now: datetime, plan: bool = True) -> bool:
    """Record that the cycle is closed for planning; True only for the call that closed it.

    The unique cycle of ``CycleClosing`` decides between concurrent callers: the loser's
    insert fails on the constraint (after the winner commits) and it changes nothing. The
    closing enqueues the computation of the cycle's plan (outbox key ``plan-auto-<id>``),
    unless ``plan`` is False (the closing is part of a computation already). The canteen
    orders still waiting for producers' answers are then confirmed as ordered (the beat task
    of the canteens does it too, whichever comes first).
    """
    orders = Order.objects.filter(cycle=cycle, status__in=HANDED_OVER).count()
    try:
        with transaction.atomic():
            CycleClosing.objects.create(cycle=cycle, closed_at=now, orders_count=orders)
            if plan:
                enqueue(PLAN_TASK, cycle.pk, None, AUTO, key=f"plan-auto-{cycle.pk}")
    except IntegrityError:
        return False
    orders_confirm_at_cutoff(cycle=cycle, now=now)
    return True


def cycle_close_due(*, now: datetime) -> list[int]:
    """Close every cycle whose cutoff has passed and that is not closed yet; ids it closed.

    Idempotent: a second tick finds nothing to close, and of two workers ticking at once
    each cycle is closed by exactly one. Each closing enqueues the plan of its cycle.
    """
    due = OrderCycle.objects.filter(closes_at__lte=now, logistics_closing__isnull=True).order_by(
        "pk"
    )
    return [cycle.pk for cycle in due if cycle_close(cycle=cycle, now=now)]


def _time_limit(value: float | None) -> float:
    if value is None:
        return float(settings.LOGISTICS_PLAN_TIME_LIMIT_S)
    try:
        seconds = float(value)
    except (TypeError, ValueError) as error:
        raise InvalidTimeLimit() from error
    if not 0.1 <= seconds <= MAX_TIME_LIMIT_S:  # also refuses NaN
        raise InvalidTimeLimit()
    return seconds


def _cycle(cycle_id: int, now: datetime) -> OrderCycle:
    cycle = OrderCycle.objects.select_related("territory").filter(pk=cycle_id).first()
    if cycle is None:
        raise CycleNotFound()
    if cycle.closes_at > now:
        raise CycleStillOpen()
    if cycle.delivery_date < _territory_today(cycle, now):
        raise DeliveryDatePast()
    return cycle


def _territory_today(cycle: OrderCycle, now: datetime) -> Any:
    return now.astimezone(ZoneInfo(cycle.territory.timezone)).date()


def _earliest_start(cycle: OrderCycle, now: datetime) -> int | None:
    """Seconds after the delivery day's midnight before which no vehicle may leave: on the
    delivery day itself, now plus ``LOGISTICS_DEPARTURE_LEAD_MIN`` (a round planned at 11:06
    cannot have left at 06:30); None on a later day."""
    zone = ZoneInfo(cycle.territory.timezone)
    local = now.astimezone(zone)
    if local.date() != cycle.delivery_date:
        return None
    lead = timedelta(minutes=int(settings.LOGISTICS_DEPARTURE_LEAD_MIN))
    midnight = datetime.combine(cycle.delivery_date, datetime.min.time(), tzinfo=zone)
    return int((local + lead - midnight).total_seconds())


def _plan_get_or_create(cycle: OrderCycle, *, lock: bool = False) -> DeliveryPlan:
    plans = DeliveryPlan.objects.select_for_update() if lock else DeliveryPlan.objects
    plan, _created = plans.get_or_create(
        cycle=cycle,
        defaults={
            "stability_threshold_pct": Decimal(str(settings.LOGISTICS_STABILITY_THRESHOLD_PCT))
        },
    )
    return plan


def plan_queue(
    *, cycle_id: int, by: User | None, time_limit: float | None = None, now: datetime | None = None
) -> DeliveryPlan:
    """Ask for the cycle's draft plan to be (re)computed by a routing worker.

    Refused, with nothing changed, when the cycle does not exist, is still open, its plan is
    published, or ``by`` does not coordinate its territory. Otherwise the plan row is created
    if needed, its version grows, it is marked ``queued`` and the task is enqueued after
    commit under a key of that version; without Redis the task then runs in-process. The
    refusals of the computation itself (no vehicle, a vehicle without driver...) end as
    ``solve_state = failed`` with ``solve_error``.
    """
    now = now or timezone.now()
    seconds = None if time_limit is None else _time_limit(time_limit)
    with transaction.atomic():
        cycle = _cycle(cycle_id, now)
        if by is not None and not (
            user_is_coordinator(user=by)
            and user_can_see_territory(user=by, territory_id=cycle.territory_id)
        ):
            raise PlanningNotAllowed()
        plan = _plan_get_or_create(cycle, lock=True)
        if plan.status == PlanStatus.PUBLISHED:
            raise PlanPublished()
        DeliveryPlan.objects.filter(pk=plan.pk).update(
            version=F("version") + 1, solve_state=SolveState.QUEUED, progress={}, solve_error={}
        )
        plan.refresh_from_db()
        enqueue(PLAN_TASK, cycle.pk, seconds, plan.version, key=f"plan-{plan.pk}-v{plan.version}")
    return plan


@dataclass(frozen=True)
class PlanResult:
    plan: DeliveryPlan
    closed_now: bool
    skipped: bool = False


class _Progress:
    """The solver's progress callback: writes ``plan.progress`` at most once a second.

    A plain ``update()`` outside any transaction, so other connections (the planning page)
    see it while the solve runs.
    """

    def __init__(
        self, *, plan_id: int, version: int | None, time_limit: float, stops_total: int
    ) -> None:
        self.plan_id = plan_id
        self.version = version
        self.started_at = timezone.now()
        self.time_limit = time_limit
        self.stops_total = stops_total
        self.best_cost: float | None = None
        self.elapsed = 0.0
        self.last_write = float("-inf")
        self.writes = 0

    def payload(self, *, stops_planned: int = 0) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "time_limit_s": self.time_limit,
            "elapsed_s": round(self.elapsed, 3),
            "best_cost": None if self.best_cost is None else round(self.best_cost, 3),
            "stops_planned": stops_planned,
            "stops_total": self.stops_total,
        }

    def write(self, **fields: Any) -> None:
        rows = DeliveryPlan.objects.filter(pk=self.plan_id)
        if self.version is not None:
            rows = rows.filter(version=self.version)
        rows.update(progress=self.payload(), **fields)
        self.writes += 1

    def __call__(self, cost: float, elapsed: float) -> None:
        self.best_cost = cost if self.best_cost is None else min(self.best_cost, cost)
        self.elapsed = elapsed
        now = clock.monotonic()
        if now - self.last_write >= PROGRESS_EVERY_S:
            self.last_write = now
            self.write()


def _plan_failed(plan: DeliveryPlan | None, error: DomainError, version: int | None) -> None:
    """Mark the plan's computation failed with the error; its routes stay as they were."""
    if plan is None:
        return
    rows = DeliveryPlan.objects.filter(pk=plan.pk, status=PlanStatus.DRAFT)
    if version is not None:
        rows = rows.filter(version=version)
    rows.update(
        solve_state=SolveState.FAILED, solve_error={"code": error.code, "message": error.message}
    )


def _skip(plan: DeliveryPlan | None, expected_version: int | None) -> bool:
    """Whether a (replayed or superseded) task has nothing to do."""
    if expected_version is None:
        return False
    if expected_version == AUTO:
        # Planned already, by hand or by an earlier run; except a first run that was cut
        # off (its worker lost mid-solve: the broker hands the task over again only after
        # its visibility timeout, longer than any solve, so that run is over).
        return plan is not None and not (
            plan.solved_at is None and plan.solve_state == SolveState.RUNNING
        )
    return plan is None or plan.version != expected_version


def _routing_failed(error: VrpError) -> RoutingFailed:
    return RoutingFailed(
        _("Le calcul des tournées a échoué : %(reason)s") % {"reason": error.message},
        code=error.code,
    )


def plan_compute(
    *,
    cycle_id: int,
    time_limit: float | None = None,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> PlanResult:
    """Close the cycle if due, consolidate, solve and store its plan, replacing the draft.

    Refusals (cycle still open, no vehicle, a vehicle without driver, a place without
    coordinates, a window no vehicle reaches, a published plan) change nothing but the
    existing draft's ``solve_state`` (``failed``, with ``solve_error``); so does a delivery
    date already past. Locked routes are kept as they are, and their vehicles and the shares
    of goods they carry left out (not the other shares of their places). On the delivery day
    no vehicle leaves before now plus ``LOGISTICS_DEPARTURE_LEAD_MIN``. A destination is served
    whole or listed as unserved, and every share is checked to be on exactly one route or
    unserved before the plan is stored. The solve runs outside any
    transaction and writes its progress at most once a second; the plan is then written in
    one short transaction that locks the plan row.

    ``expected_version`` is the task's: ``None`` always computes, ``AUTO`` (0) only a cycle
    without a plan, ``n`` only while the plan is at version ``n`` (a replayed or superseded
    request does nothing).
    """
    now = now or timezone.now()
    seconds = _time_limit(time_limit)
    try:
        cycle = _cycle(cycle_id, now)
    except DeliveryDatePast as error:  # queued the day before, computed after midnight
        _plan_failed(
            DeliveryPlan.objects.filter(cycle_id=cycle_id).first(), error, expected_version or None
        )
        raise
    existing = DeliveryPlan.objects.filter(cycle=cycle).first()
    if existing is not None and existing.status == PlanStatus.PUBLISHED:
        raise PlanPublished()
    if _skip(existing, expected_version):
        if existing is None:  # a request whose plan row is gone: nothing to report
            raise CycleNotFound()
        return PlanResult(plan=existing, closed_now=False, skipped=True)
    version = expected_version or None
    try:
        locked = list(
            PlanRoute.objects.filter(plan=existing, locked=True)
            .select_related("vehicle")
            .prefetch_related("stops")
            if existing is not None
            else []
        )
        consolidation = cycle_consolidate(cycle=cycle)
        locked_shares = _locked_shares(locked)
        expected = _consolidation_shares(consolidation)
        built = plan_problem_build(
            consolidation=consolidation,
            exclude_vehicles=frozenset(route.vehicle.slug for route in locked),
            exclude_places=_places_fully_served(expected, locked_shares),
            exclude_stops=frozenset(locked_shares),
            earliest_start=_earliest_start(cycle, now),
        )
        baseline, baseline_skipped = baseline_km(
            consolidation=consolidation, provider=built.provider
        )
    except DomainError as error:
        _plan_failed(existing, error, version)
        raise
    except VrpError as error:
        failure = _routing_failed(error)
        _plan_failed(existing, failure, version)
        raise failure from error
    plan = existing or _plan_get_or_create(cycle)
    progress = _Progress(
        plan_id=plan.pk,
        version=version,
        time_limit=seconds,
        stops_total=len(built.problem.stops),
    )
    progress.write(solve_state=SolveState.RUNNING, solve_error={})
    try:
        solution = _solve(built, seconds, progress)
        progress.elapsed = solution.stats.seconds
        if progress.best_cost is None and solution.routes:
            progress.best_cost = solution.cost
        solution, stable_changes = solution_stabilise(
            problem=built.problem,
            provider=built.provider,
            solution=solution,
            usual=usual_rounds(cycle=cycle),
            threshold_pct=plan.stability_threshold_pct,
        )
        solution = _serve_whole(built, solution)
        solution = solution_merge_visits(
            problem=built.problem,
            provider=built.provider,
            solution=solution,
            place_of=stop_place,
        )
        _check_shares(expected, locked_shares, solution)
        with transaction.atomic():
            closed_now = cycle_close(cycle=cycle, now=now, plan=False)
            stored = _plan_store(
                cycle=cycle,
                built=built,
                solution=solution,
                now=now,
                progress=progress,
                version=version,
                baseline=baseline,
                extra_stats={"baseline_farms_skipped": baseline_skipped},
                stable_changes=stable_changes,
            )
    except DomainError as error:
        _plan_failed(plan, error, version)
        raise
    except VrpError as error:
        failure = _routing_failed(error)
        _plan_failed(plan, failure, version)
        raise failure from error
    except Exception:
        _plan_failed(plan, SolveCrashed(), version)
        raise
    if stored is None:  # superseded by a newer request while solving
        plan.refresh_from_db()
        return PlanResult(plan=plan, closed_now=closed_now, skipped=True)
    return PlanResult(plan=stored, closed_now=closed_now)


def _solve(
    built: PlanningProblem, seconds: float, progress: Callable[[float, float], None]
) -> vrp.Solution:
    problem = built.problem
    if not problem.vehicles:
        # Every vehicle drives a locked route: what is left waits for a decision.
        return vrp.Solution(
            routes=(),
            unserved=tuple(
                vrp.Unserved(stop.id, "not_routed", _(UNSERVED_REASONS["not_routed"]))
                for stop in problem.stops
            ),
            cost=0.0,
            distance_m=0,
            stats=vrp.SearchStats(0.0, 0, None, "completed", 0, 0),
        )
    return solve(
        problem,
        built.provider,
        vrp.SolveOptions(time_limit_s=seconds, workers=1),
        progress=progress,
    )


# --- shares: what each route carries ---------------------------------------------------------
#
# A share is one engine stop of the consolidation: a destination's hub share (its place key,
# loaded at the depot) and, per farm collected on the round and destination it supplies, the
# pickup at the farm ("farm:a#relay:b") and its drop ("relay:b#farm:a"), which ride together.


def _share_ids(farm: str, destination: str) -> tuple[str, str]:
    return f"{farm}{SHARE}{destination}", f"{destination}{SHARE}{farm}"


def _consolidation_shares(consolidation: Any) -> set[str]:
    """Every engine stop id the consolidation asks to serve."""
    shares = {destination.place for destination in consolidation.destinations}
    for farm in consolidation.farms:
        if farm.collected:
            for destination in farm.kg_by_destination:
                shares.update(_share_ids(farm.place, destination))
    return shares


def _locked_shares(locked: Iterable[PlanRoute]) -> Counter[str]:
    """The engine stops the locked routes carry, read back from their stored stops.

    A delivery stop carries its destination's hub share when it drops orders, and the farm
    shares of ``from_farms``; a pickup stop the shares of ``collect``. A pickup and its drop
    count as one share each time either is seen (they ride on the same vehicle).
    """
    carried: Counter[str] = Counter()
    for route in locked:
        pairs: set[tuple[str, str]] = set()
        for stop in route.stops.all():
            manifest = stop.manifest if isinstance(stop.manifest, dict) else {}
            if stop.kind == StopKind.DELIVERY:
                if manifest.get("orders") or manifest.get("canteen_order"):
                    carried[stop.place] += 1
                for item in manifest.get("from_farms") or []:
                    if isinstance(item, dict) and item.get("farm"):
                        pairs.add((str(item["farm"]), stop.place))
            elif stop.kind == StopKind.PICKUP:
                for item in manifest.get("collect") or []:
                    if isinstance(item, dict) and item.get("destination"):
                        pairs.add((stop.place, str(item["destination"])))
        for farm, destination in pairs:
            carried.update(_share_ids(farm, destination))
    return carried


def _places_fully_served(expected: set[str], locked: Counter[str]) -> frozenset[str]:
    """Places all of whose shares ride on locked routes: the problem leaves them out whole."""
    by_place: dict[str, set[str]] = {}
    for share in expected:
        for place in {stop_place(share), *share.split(SHARE)[1:]}:
            by_place.setdefault(place, set()).add(share)
    return frozenset(
        place for place, shares in by_place.items() if all(s in locked for s in shares)
    )


def _destination(built: PlanningProblem, stop_id: str) -> str:
    share = built.shares.get(stop_id)
    return share[1] if share else stop_place(stop_id)


def _serve_whole(built: PlanningProblem, solution: vrp.Solution) -> vrp.Solution:
    """The solution where each destination is served whole or not at all.

    When a share of a destination is unserved (its hub share, or a farm's share of it), its
    other shares leave the routes too (a pickup with its drop), or the van would still call
    there and the households' orders would be split. The routes that lose stops are timed
    again (``RouteTimer``); a route left empty goes.
    """
    partial = {_destination(built, item.stop_id) for item in solution.unserved}
    if not partial:
        return solution
    timer: RouteTimer | None = None
    routes: list[vrp.Route] = []
    unserved = list(solution.unserved)
    for route in solution.routes:
        keep = [v.stop_id for v in route.visits if _destination(built, v.stop_id) not in partial]
        if len(keep) == len(route.visits):
            routes.append(route)
            continue
        unserved += [
            vrp.Unserved(v.stop_id, WITHHELD, _(UNSERVED_REASONS[WITHHELD]))
            for v in route.visits
            if _destination(built, v.stop_id) in partial
        ]
        if keep:
            timer = timer or RouteTimer(built.problem, built.provider)
            routes.append(timer.time(route.vehicle_id, keep, copy=route.copy).route)
    return dataclasses.replace(
        solution,
        routes=tuple(routes),
        unserved=tuple(unserved),
        cost=sum(route.cost for route in routes),
        distance_m=sum(route.distance_m for route in routes),
    )


def _check_shares(expected: set[str], locked: Counter[str], solution: vrp.Solution) -> None:
    """Refuse a plan in which a share of the goods is lost or carried twice.

    Every share of the consolidation must be on exactly one route, locked or new, or listed
    as unserved; a stop of no share is refused as well. Checked before anything is stored.
    """
    computed: Counter[str] = Counter()
    for route in solution.routes:
        computed.update(visit.stop_id for visit in route.visits)
    computed.update(item.stop_id for item in solution.unserved)
    seen = computed + locked
    lost = sorted(share for share in expected if not seen[share])
    twice = sorted(share for share, count in seen.items() if count > 1 and share in expected)
    # A locked route may still carry a share whose order was cancelled since: not ours.
    strange = sorted(set(computed) - expected)
    if lost or twice or strange:
        raise PlanSharesMismatch(
            _(
                "Le plan calculé n'est pas enregistré : parts absentes %(lost)s, en double "
                "%(twice)s, inconnues %(strange)s."
            )
            % {
                "lost": ", ".join(lost) or "-",
                "twice": ", ".join(twice) or "-",
                "strange": ", ".join(strange) or "-",
            }
        )


# A share left out because another share of its destination is unserved.
WITHHELD = "destination_incomplete"

# The engine's codes for a stop it could not serve (logistics/vrp/data.py), in French.
UNSERVED_REASONS = {
    "no_compatible_vehicle": gettext_noop(
        "Aucun véhicule n'a l'équipement nécessaire (caisson réfrigéré pour les produits frais)."
    ),
    "exceeds_capacity": gettext_noop(
        "La livraison dépasse la capacité de chacun des véhicules qui pourraient la transporter."
    ),
    "out_of_range": gettext_noop(
        "L'aller-retour dépasse l'autonomie de chacun des véhicules compatibles."
    ),
    "time_window_unreachable": gettext_noop(
        "Aucun véhicule ne peut arriver dans la fenêtre horaire et rentrer au dépôt avant la "
        "fin de son service."
    ),
    "pair_partner_unserved": gettext_noop(
        "L'enlèvement à la ferme ou la livraison qui lui est liée ne peut pas être assuré."
    ),
    "pair_unreachable": gettext_noop(
        "Aucun véhicule ne peut passer à la ferme puis livrer dans les fenêtres horaires et "
        "rentrer avant la fin de son service."
    ),
    "not_routed": gettext_noop(
        "La flotte n'a plus assez de place, de temps ou d'autonomie pour cette étape."
    ),
    WITHHELD: gettext_noop(
        "Une autre part de la livraison de ce lieu ne peut pas être assurée : un lieu est "
        "livré en une fois ou pas du tout."
    ),
}


def _reason_fr(code: str) -> str:
    reason = UNSERVED_REASONS.get(code)
    return _(reason) if reason else _("Étape non desservie (%(code)s).") % {"code": code}


def _unserved(built: PlanningProblem, solution: vrp.Solution) -> list[dict[str, Any]]:
    """One entry per destination left out, with the most telling of its shares' codes.

    A destination is served whole or not at all (``_serve_whole``): its entry lists its
    shares left out (``shares``: the hub's, ``hub``, and each farm's), and its reason is
    that of the share that could not be served, naming the farm when it is a farm's.
    """
    derived = {"pair_partner_unserved", WITHHELD}
    by_place: dict[str, dict[str, Any]] = {}
    causes: dict[str, str] = {}
    for item in solution.unserved:
        share = built.shares.get(item.stop_id)
        place = share[1] if share else stop_place(item.stop_id)
        entry = by_place.setdefault(
            place,
            {"place": place, "code": item.code, "reason_fr": "", "decision": None, "shares": []},
        )
        source = share[0] if share else "hub"
        if source not in entry["shares"]:
            entry["shares"].append(source)
        if place not in causes or (entry["code"] in derived and item.code not in derived):
            entry["code"] = item.code
            causes[place] = source
    for place, entry in by_place.items():
        reason = _reason_fr(entry["code"])
        farm = built.places.get(causes[place])
        if causes[place] != "hub" and farm is not None:
            reason = _("Produits de « %(farm)s » : %(reason)s") % {
                "farm": farm.name,
                "reason": reason,
            }
        entry["reason_fr"] = reason
    return list(by_place.values())


def _plan_store(
    *,
    cycle: OrderCycle,
    built: PlanningProblem,
    solution: vrp.Solution,
    now: datetime,
    progress: _Progress,
    version: int | None,
    baseline: Decimal,
    extra_stats: dict[str, Any],
    stable_changes: list[dict[str, Any]],
) -> DeliveryPlan | None:
    """Replace the draft's unlocked routes by the solution's; None if the plan moved on."""
    plan = _plan_get_or_create(cycle, lock=True)
    if plan.status == PlanStatus.PUBLISHED:
        raise PlanPublished()
    if version is not None and plan.version != version:
        return None
    before = routes_snapshot(plan=plan)
    plan.routes.filter(locked=False).delete()
    kept = list(plan.routes.all())
    first = (plan.routes.aggregate(last=Max("position"))["last"] or 0) + 1
    total_km = sum((route.km for route in kept), Decimal("0"))
    total_co2 = sum((route.co2_kg for route in kept), Decimal("0"))
    stops_planned = 0
    for position, route in enumerate(solution.routes, start=first):
        vehicle = built.vehicles[route.vehicle_id]
        km = (Decimal(route.distance_m) / 1000).quantize(KM, rounding=ROUND_HALF_UP)
        co2 = built.co2_kg(kind=vehicle.kind, km=km)
        total_km += km
        total_co2 += co2
        driver = built.drivers.get(route.vehicle_id)
        row = PlanRoute.objects.create(
            plan=plan,
            vehicle=vehicle,
            driver=driver,
            position=position,
            km=km,
            duration_min=round((route.end_time - route.start_time) / 60),
            co2_kg=co2,
        )
        PlanStop.objects.bulk_create(_stops(row, route, built))
        stops_planned += len(route.visits)
    after = routes_snapshot(plan=plan)
    drivers = {
        route.vehicle.slug: (route.driver.get_full_name() or route.driver.email)
        for route in plan.routes.select_related("vehicle", "driver")
        if route.driver is not None
    }
    changes = list(stable_changes) + changes_describe(before=before, after=after, drivers=drivers)
    DeliveryPlan.objects.filter(pk=plan.pk).update(
        version=F("version") + 1,
        solved_at=now,
        total_km=total_km,
        total_co2_kg=total_co2,
        baseline_km=baseline,
        unserved=_unserved(built, solution),
        changes=changes,
        solver_stats={**_stats(built, solution), **extra_stats},
        solve_state=SolveState.DONE,
        solve_error={},
        progress=progress.payload(stops_planned=stops_planned),
    )
    plan.refresh_from_db()
    return plan


def _kg(value: Decimal) -> float:
    return float(value)


def _stops(row: PlanRoute, route: vrp.Route, built: PlanningProblem) -> list[PlanStop]:
    """The route's stored stops: consecutive visits of one place make one stop."""
    depot = f"depot:{built.vehicles[route.vehicle_id].depot.slug}"
    destinations = {d.place: d for d in built.consolidation.destinations}
    farms = {f.place: f for f in built.consolidation.farms}
    hub_drops = [v.stop_id for v in route.visits if v.stop_id in destinations]
    groups: list[list[vrp.Visit]] = []
    for visit in route.visits:
        if groups and stop_place(groups[-1][-1].stop_id) == stop_place(visit.stop_id):
            groups[-1].append(visit)
        else:
            groups.append([visit])
    start_kg, loads = load_on_board(
        calls=[[visit.stop_id for visit in group] for group in groups],
        kg=_share_kg(built),
        pickups={stop.id for stop in built.problem.stops if stop.kind == "pickup"},
        paired={pair.delivery for pair in built.problem.pairs},
    )
    stops = [
        _stop(
            row,
            0,
            depot,
            built,
            kind=StopKind.DEPOT_START,
            eta=moment(built.origin, route.start_time),
            load_kg_after=start_kg,
            # Loaded at the hub in reverse order of the drops: the last drop goes in first.
            manifest={
                "load_in_order": [
                    {
                        "place": place,
                        "name": destinations[place].name,
                        "crates": destinations[place].crates,
                        "kg": _kg(destinations[place].hub_kg),
                        "cold_items": destinations[place].hub_cold_items,
                    }
                    for place in reversed(hub_drops)
                ]
            },
        )
    ]
    for position, (group, load) in enumerate(zip(groups, loads, strict=True), start=1):
        place = stop_place(group[0].stop_id)
        ids = [visit.stop_id for visit in group]
        window = next((built.windows[i] for i in ids if i in built.windows), None)
        if place.startswith("farm:"):
            farm = farms[place]
            collect: list[dict[str, Any]] = [
                {
                    "destination": destination,
                    "name": built.places[destination].name,
                    "kg": _kg(farm.kg_by_destination[destination]),
                    "cold_items": farm.cold_by_destination.get(destination, 0),
                }
                for destination in (built.shares[i][1] for i in ids)
            ]
            kind = StopKind.PICKUP
            manifest: dict[str, Any] = {
                "place": place,
                "name": farm.name,
                "collect": collect,
                "kg": round(sum(item["kg"] for item in collect), 3),
            }
        else:
            kind = StopKind.DELIVERY
            destination = destinations[place]
            if place in ids:
                # What this stop unloads of the hub's load; farms' shares are ``from_farms``
                # (another vehicle may carry them).
                manifest = {
                    **destination.as_dict(),
                    "kg": _kg(destination.hub_kg),
                    "cold_items": destination.hub_cold_items,
                }
            else:  # only farms' goods for this destination on this vehicle
                manifest = {
                    "place": place,
                    "name": destination.name,
                    "orders": [],
                    "order_count": 0,
                    "baskets": 0,
                    "lines": 0,
                    "crates": 0,
                    "kg": 0.0,
                    "cold_items": 0,
                }
            from_farms = [built.shares[i][0] for i in ids if i in built.shares]
            if from_farms:
                manifest["from_farms"] = [
                    {
                        "farm": farm_place,
                        "name": farms[farm_place].name,
                        "kg": _kg(farms[farm_place].kg_by_destination[place]),
                        "cold_items": farms[farm_place].cold_by_destination.get(place, 0),
                    }
                    for farm_place in from_farms
                ]
        stops.append(
            _stop(
                row,
                position,
                place,
                built,
                kind=kind,
                # A relay's window only ends (its pickup opening); a farm's collection and a
                # canteen's reception window also start.
                window_start=moment(built.origin, window.start)
                if window and (kind == StopKind.PICKUP or window.start > 0)
                else None,
                window_end=moment(built.origin, window.end) if window else None,
                eta=moment(built.origin, group[0].arrival),
                load_kg_after=load,
                manifest=manifest,
            )
        )
    stops.append(
        _stop(
            row,
            len(groups) + 1,
            depot,
            built,
            kind=StopKind.DEPOT_END,
            eta=moment(built.origin, route.end_time),
            load_kg_after=0,
        )
    )
    return stops


def _share_kg(built: PlanningProblem) -> dict[str, Decimal]:
    """Per engine stop id, the goods' own kg: a destination's hub share, a farm's share."""
    kg = {d.place: d.hub_kg for d in built.consolidation.destinations}
    farms = {f.place: f for f in built.consolidation.farms}
    for stop_id, (farm, destination) in built.shares.items():
        kg[stop_id] = farms[farm].kg_by_destination[destination]
    return kg


def _stop(
    row: PlanRoute, position: int, place: str, built: PlanningProblem, **fields: Any
) -> PlanStop:
    snapshot = built.places[place]
    return PlanStop(
        route=row,
        position=position,
        place=place,
        name=snapshot.name,
        address=snapshot.address,
        contact=snapshot.contact,
        latitude=snapshot.latitude,
        longitude=snapshot.longitude,
        **fields,
    )


def _stats(built: PlanningProblem, solution: vrp.Solution) -> dict[str, Any]:
    stats = solution.stats
    return {
        "destinations": [d.summary() for d in built.consolidation.destinations],
        "orders": built.consolidation.order_count,
        "canteen_orders": built.consolidation.canteen_order_count,
        "seconds": round(stats.seconds, 3),
        "solutions": stats.solutions,
        "stopped_by": stats.stopped_by,
        "cost": round(solution.cost, 3),
        "distance_m": solution.distance_m,
        "fleet_size": stats.fleet_size,
        "provider": type(built.provider).__name__,
    }
