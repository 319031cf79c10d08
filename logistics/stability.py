"""Stable rounds: a new plan keeps each destination on its usual vehicle and in its usual
order unless changing it saves enough, and says what changed for each driver.

Drivers and relay keepers learn their rounds: the same relay served by the same driver at
about the same hour every week. The solver knows nothing of habits, so a new plan is
compared with its "usual" counterpart (the same stops, arranged as in the last published
plan of the territory) and kept only when it saves at least the plan's threshold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from logistics.models import (
    DeliveryPlan,
    Depot,
    DriverShift,
    PlanStatus,
    PlanStop,
    StopKind,
    Vehicle,
)
from logistics.vrp import model as vrp
from logistics.vrp.checker import check_solution
from logistics.vrp.providers import TravelProvider
from logistics.vrp.timing import RouteTimer, RouteTiming
from marche.canteens.models import Canteen
from marche.producers.models import Producer
from marche.relays.models import RelayPoint

# A place key (``relay:<slug>``...) opens every engine stop id; a farm's share adds its
# partner after a separator that no slug holds.
PLACE = re.compile(r"[a-z_]+:[-\w.]+")


def place_of(stop_id: str) -> str:
    """The place key an engine stop id or a stored place stands for."""
    found = PLACE.match(stop_id)
    return found.group(0) if found else stop_id


@dataclass(frozen=True)
class UsualRounds:
    """Per vehicle slug, the places of its usual round in their usual order.

    ``labels`` gives, per vehicle slug of the territory, its name and its driver's on the
    cycle's delivery day, to describe the changes in people's words.
    """

    routes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict, compare=False)


def vehicle_labels(
    *, slugs: Iterable[str], territory_id: int | None = None, weekday: int | None = None
) -> dict[str, tuple[str, str]]:
    """Per vehicle slug, (vehicle name, driver's name that weekday or ""); unknown slugs are
    left out, and so is a slug that names different vehicles when no territory is given."""
    wanted = list(dict.fromkeys(slugs))
    rows = Vehicle.objects.filter(slug__in=wanted)
    if territory_id is not None:
        rows = rows.filter(territory_id=territory_id)
    names: dict[str, set[str]] = {}
    ids: dict[str, int] = {}
    for pk, slug, name in rows.order_by("pk").values_list("pk", "slug", "name"):
        names.setdefault(slug, set()).add(name)
        ids.setdefault(slug, pk)
    labels = {slug: (next(iter(found)), "") for slug, found in names.items() if len(found) == 1}
    if weekday is not None and territory_id is not None:
        shifts = DriverShift.objects.filter(
            vehicle_id__in=[ids[s] for s in labels], weekday=weekday
        ).select_related("vehicle", "driver")
        for shift in shifts:
            driver = shift.driver.get_full_name() or shift.driver.email
            labels[shift.vehicle.slug] = (labels[shift.vehicle.slug][0], driver)
    return labels


def usual_rounds(*, cycle: Any) -> UsualRounds:
    """The rounds of the last published plan of the cycle's territory before this cycle."""
    plan = (
        DeliveryPlan.objects.filter(
            cycle__territory_id=cycle.territory_id,
            status=PlanStatus.PUBLISHED,
            cycle__delivery_date__lt=cycle.delivery_date,
        )
        .exclude(cycle_id=cycle.pk)
        .order_by("-cycle__delivery_date", "-published_at", "-pk")
        .first()
    )
    if plan is None:
        return UsualRounds()
    routes = routes_snapshot(plan=plan)
    labels = vehicle_labels(
        slugs=Vehicle.objects.filter(territory_id=cycle.territory_id).values_list(
            "slug", flat=True
        ),
        territory_id=cycle.territory_id,
        weekday=cycle.delivery_date.weekday(),
    )
    return UsualRounds(routes=routes, labels=labels)


def _merged(places: Iterable[str]) -> tuple[str, ...]:
    """Places in order, a place repeated at consecutive stops kept once."""
    out: list[str] = []
    for place in places:
        if not out or out[-1] != place:
            out.append(place)
    return tuple(out)


def routes_snapshot(*, plan: Any) -> dict[str, tuple[str, ...]]:
    """Per vehicle slug, the ordered places of the plan's routes (before a re-plan)."""
    if plan is None or plan.pk is None:
        return {}
    routes = (
        plan.routes.select_related("vehicle")
        .prefetch_related(
            Prefetch(
                "stops",
                queryset=PlanStop.objects.filter(
                    kind__in=(StopKind.DELIVERY, StopKind.PICKUP)
                ).order_by("position"),
            )
        )
        .order_by("position")
    )
    snapshot: dict[str, tuple[str, ...]] = {}
    for route in routes:
        places = [place_of(stop.place) for stop in route.stops.all()]
        snapshot[route.vehicle.slug] = _merged([*snapshot.get(route.vehicle.slug, ()), *places])
    return snapshot


# --- the usual candidate ---------------------------------------------------------------------


def _fits(timing: RouteTiming, problem_stops: dict[str, vrp.Stop]) -> bool:
    """Whether one timed route keeps capacity, windows, shift, range and equipment."""
    vehicle = timing.vehicle
    route = timing.route
    for dim in set(vehicle.capacity) | set(timing.start_load):
        if timing.max_load(dim) > vehicle.capacity.get(dim, 0):
            return False
    for visit in route.visits:
        stop = problem_stops[visit.stop_id]
        if stop.requires - vehicle.features:
            return False
        if stop.windows and not any(w.start <= visit.start <= w.end for w in stop.windows):
            return False
    if route.start_time < vehicle.shift.start or route.end_time > vehicle.shift.end:
        return False
    return vehicle.max_distance_m is None or route.distance_m <= vehicle.max_distance_m


def _pairs_hold(ids: Sequence[str], sid: str, partner: dict[str, tuple[str, bool]]) -> bool:
    """A pickup must precede its delivery when both ride on the route."""
    other = partner.get(sid)
    if other is None or other[0] not in ids:
        return True
    pickup_first = other[1]  # True when ``sid`` is the pickup
    a, b = ids.index(sid), ids.index(other[0])
    return a < b if pickup_first else b < a


@dataclass
class _Usual:
    solution: vrp.Solution | None
    reason: str = ""


def _usual_candidate(
    problem: vrp.Problem,
    timer: RouteTimer,
    solution: vrp.Solution,
    usual: UsualRounds,
) -> _Usual:
    """The solution's stops on their usual vehicles in their usual order, checked."""
    vehicles = [v.id for v in problem.vehicles]
    stops = {s.id: s for s in problem.stops}
    where: dict[str, tuple[str, int]] = {}
    for vid, places in usual.routes.items():
        if vid not in vehicles:
            continue
        for index, place in enumerate(places):
            where.setdefault(place, (vid, index))
    served = [visit.stop_id for route in solution.routes for visit in route.visits]
    rank = {sid: i for i, sid in enumerate(served)}
    kept: dict[str, list[tuple[int, int, str]]] = {vid: [] for vid in vehicles}
    fresh: list[str] = []
    for sid in served:
        usual_at = where.get(place_of(sid))
        if usual_at is None:
            fresh.append(sid)
        else:
            kept[usual_at[0]].append((usual_at[1], rank[sid], sid))
    routes = {vid: [sid for _i, _r, sid in sorted(items)] for vid, items in kept.items()}
    partner: dict[str, tuple[str, bool]] = {}
    for pair in problem.pairs:
        partner[pair.pickup] = (pair.delivery, True)
        partner[pair.delivery] = (pair.pickup, False)
    # New places go where they cost least, one at a time in the solver's order.
    for sid in fresh:
        best: tuple[float, str, int] | None = None
        for vid in vehicles:
            ids = routes[vid]
            other = partner.get(sid)
            if other is not None and any(other[0] in routes[v] for v in vehicles if v != vid):
                continue
            base = timer.time(vid, ids).route.cost if ids else 0.0
            for at in range(len(ids) + 1):
                trial = [*ids[:at], sid, *ids[at:]]
                if not _pairs_hold(trial, sid, partner):
                    continue
                timing = timer.time(vid, trial)
                if not _fits(timing, stops):
                    continue
                delta = timing.route.cost - base
                if best is None or delta < best[0]:
                    best = (delta, vid, at)
        if best is None:
            return _Usual(
                None,
                _("« %(place)s » ne trouve de place dans aucune tournée habituelle")
                % {"place": place_of(sid)},
            )
        _delta, vid, at = best
        routes[vid].insert(at, sid)
    timed = [timer.time(vid, routes[vid]).route for vid in vehicles if routes[vid]]
    candidate = vrp.Solution(
        routes=tuple(timed),
        unserved=solution.unserved,
        cost=sum(route.cost for route in timed),
        distance_m=sum(route.distance_m for route in timed),
        stats=solution.stats,
    )
    report = check_solution(problem, candidate, timer.provider)
    if not report.ok:
        return _Usual(None, report.violations[0].message)
    return _Usual(candidate)


def _pct(value: Decimal | float, *, strip: bool = False) -> str:
    text = f"{Decimal(str(value)):.1f}"
    if strip and text.endswith(".0"):
        text = text[:-2]
    return text.replace(".", ",")


def _round_places(solution: vrp.Solution) -> dict[str, tuple[str, ...]]:
    return {
        route.vehicle_id: _merged(place_of(visit.stop_id) for visit in route.visits)
        for route in solution.routes
        if route.visits
    }


def _reordered(before: Sequence[str], after: Sequence[str]) -> bool:
    common = set(before) & set(after)
    return [p for p in before if p in common] != [p for p in after if p in common]


def solution_stabilise(
    *,
    problem: vrp.Problem,
    provider: TravelProvider,
    solution: vrp.Solution,
    usual: UsualRounds,
    threshold_pct: Decimal,
) -> tuple[vrp.Solution, list[dict[str, Any]]]:
    """The solution to store and, per vehicle, what moved from the usual rounds and why.

    The usual candidate holds the new solution's served stops: each place on its usual
    vehicle in its usual order, new places inserted where they cost least, places gone
    dropped. The new solution is kept only if the usual candidate breaks a rule or the new
    one costs less than ``usual_cost * (1 - threshold / 100)``; both are costed by the same
    timing, so the comparison does not depend on how the solver timed its routes.
    """
    if not usual.routes or not solution.routes:
        return solution, []
    threshold = Decimal(str(threshold_pct))
    timer = RouteTimer(problem, provider)
    built = _usual_candidate(problem, timer, solution, usual)
    new_cost = sum(
        timer.time(route.vehicle_id, [v.stop_id for v in route.visits]).route.cost
        for route in solution.routes
        if route.visits
    )
    chosen = solution
    if built.solution is None:
        reason = _named_vehicles(built.reason, usual.labels)
        why = _("tournée habituelle impossible : %(reason)s") % {"reason": reason}
    else:
        usual_cost = built.solution.cost
        gain = (
            Decimal(str((usual_cost - new_cost) / usual_cost * 100))
            if usual_cost > 0
            else Decimal(0)
        )
        values = {"gain": _pct(gain), "threshold": _pct(threshold, strip=True)}
        if usual_cost > 0 and new_cost < usual_cost * (1 - float(threshold) / 100):
            why = _("gain de %(gain)s %% ≥ seuil %(threshold)s %%") % values
        else:
            why = _("tournée habituelle gardée : gain de %(gain)s %% < seuil %(threshold)s %%") % (
                values
            )
            chosen = built.solution
    after = _round_places(chosen)
    known = {v.id for v in problem.vehicles}
    before = {vid: places for vid, places in usual.routes.items() if vid in known}
    changes = []
    for vid in [v.id for v in problem.vehicles]:
        if vid not in before and vid not in after:
            continue
        was, now = before.get(vid, ()), after.get(vid, ())
        name, driver = usual.labels.get(vid, (vid, ""))
        changes.append(
            {
                "kind": "stability",
                "vehicle": vid,
                "vehicle_name": name,
                "driver": driver,
                "moved_in": [p for p in now if p not in was],
                "moved_out": [p for p in was if p not in now],
                "reordered": _reordered(was, now),
                "why_fr": why,
            }
        )
    return chosen, changes


def _named_vehicles(text: str, labels: dict[str, tuple[str, str]]) -> str:
    """The checker's sentence with each vehicle slug it holds replaced by the vehicle's name."""
    if not labels:
        return text
    pattern = re.compile(
        r"(?<![-\w])("
        + "|".join(re.escape(slug) for slug in sorted(labels, key=len, reverse=True))
        + r")(?![-\w])"
    )
    return pattern.sub(lambda found: labels[found.group(1)][0], text)


# --- what changed, per driver ----------------------------------------------------------------


def place_names(places: Iterable[str], *, territory_id: int | None = None) -> dict[str, str]:
    """Per place key, the name of the relay, farm, canteen or depot (the key if unknown)."""
    wanted = list(dict.fromkeys(places))
    models: dict[str, Any] = {
        "relay": RelayPoint,
        "farm": Producer,
        "canteen": Canteen,
        "depot": Depot,
    }
    names = {place: place for place in wanted}
    for prefix, model in models.items():
        slugs = [p.split(":", 1)[1] for p in wanted if p.startswith(f"{prefix}:")]
        if not slugs:
            continue
        rows = model.objects.filter(slug__in=slugs)
        if territory_id is not None:
            rows = rows.filter(territory_id=territory_id)
        for slug, name in rows.order_by("pk").values_list("slug", "name"):
            names[f"{prefix}:{slug}"] = name
    return names


def changes_describe(
    *,
    before: dict[str, tuple[str, ...]],
    after: dict[str, tuple[str, ...]],
    drivers: dict[str, str],
    names: dict[str, str] | None = None,
    vehicle_names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Per vehicle (its name and its driver's), the places added, removed and reordered.

    Nothing to describe on a first computation (``before`` empty). ``names`` maps place keys
    to names for the French summary, ``vehicle_names`` vehicle slugs to vehicle names; both
    looked up in the database when not given (a vehicle's slug stays if it is unknown).
    """
    if not before:
        return []
    vehicles = list(dict.fromkeys([*before, *after]))
    if vehicle_names is None:
        vehicle_names = {slug: label[0] for slug, label in vehicle_labels(slugs=vehicles).items()}
    if names is None:
        names = place_names(p for v in vehicles for p in (*before.get(v, ()), *after.get(v, ())))
    out = []
    for vid in vehicles:
        was, now = tuple(before.get(vid, ())), tuple(after.get(vid, ()))
        added = [p for p in now if p not in was]
        removed = [p for p in was if p not in now]
        reordered = _reordered(was, now)
        parts = []
        if added:
            parts.append(_("ajoutés : %(places)s") % {"places": _names(added, names)})
        if removed:
            parts.append(_("retirés : %(places)s") % {"places": _names(removed, names)})
        if reordered:
            parts.append(_("ordre changé"))
        summary = "; ".join(parts) if parts else _("tournée inchangée")
        out.append(
            {
                "kind": "replan",
                "vehicle": vid,
                "vehicle_name": vehicle_names.get(vid, vid),
                "driver": drivers.get(vid, ""),
                "before": list(was),
                "after": list(now),
                "added": added,
                "removed": removed,
                "reordered": reordered,
                "summary_fr": summary[:1].upper() + summary[1:],
            }
        )
    return out


def _names(places: Sequence[str], names: dict[str, str]) -> str:
    return ", ".join(names.get(p, p) for p in places)
