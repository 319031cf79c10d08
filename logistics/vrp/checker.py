"""An independent checker of routing solutions.

It shares no code with the solver: it asks the provider for its own matrices, simulates
loads and times itself and recomputes the cost, so that a solver bug cannot hide behind
the same bug in the verification.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from logistics.vrp.model import Problem, Solution, SpeedProfile, Stop, Vehicle
from logistics.vrp.providers import Point, TravelMatrix, TravelProvider

COST_TOLERANCE = 0.01  # euros or distance units, plus 1e-6 relative


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: a stable ``code`` and a message naming the culprit."""

    code: str
    message: str


@dataclass(slots=True)
class CheckReport:
    """Result of a check: the violations (empty when valid) and the recomputed figures."""

    violations: list[Violation] = field(default_factory=list)
    cost: float = 0.0
    distance_m: int = 0
    vehicles_used: int = 0

    @property
    def ok(self) -> bool:
        """True when no rule is broken."""
        return not self.violations

    def codes(self) -> list[str]:
        """Violation codes, sorted and without repetition."""
        return sorted({v.code for v in self.violations})


@dataclass(slots=True)
class _Timed:
    stop_id: str
    arrival: int | None
    start: int | None
    departure: int | None


@dataclass(slots=True)
class _Plan:
    vehicle_id: str
    copy: int
    visits: list[_Timed]
    start_time: int | None
    end_time: int | None
    reported_distance: int | None = None
    reported_cost: float | None = None


class _Matrices:
    def __init__(self, problem: Problem, provider: TravelProvider) -> None:
        self.points = [Point(d.id, d.lat, d.lon) for d in problem.depots] + [
            Point(s.id, s.lat, s.lon) for s in problem.stops
        ]
        self.index = {p.id: i for i, p in enumerate(self.points)}
        self.provider = provider
        self.cache: dict[SpeedProfile, TravelMatrix] = {}

    def get(self, profile: SpeedProfile) -> TravelMatrix:
        if profile not in self.cache:
            self.cache[profile] = self.provider.matrix(self.points, profile)
        return self.cache[profile]


def check_solution(problem: Problem, solution: Solution, provider: TravelProvider) -> CheckReport:
    """Validate a solution including its reported times, loads' feasibility and cost."""
    plans = [
        _Plan(
            r.vehicle_id,
            r.copy,
            [_Timed(v.stop_id, v.arrival, v.start, v.departure) for v in r.visits],
            r.start_time,
            r.end_time,
            r.distance_m,
            r.cost,
        )
        for r in solution.routes
    ]
    unserved = [u.stop_id for u in solution.unserved]
    report = _check(problem, plans, unserved, provider)
    if abs(report.cost - solution.cost) > COST_TOLERANCE + 1e-6 * abs(report.cost):
        report.violations.append(
            Violation(
                "cost_mismatch",
                f"Coût annoncé {solution.cost:.4f}, recalculé {report.cost:.4f}.",
            )
        )
    return report


def check_routes(
    problem: Problem,
    routes: Sequence[tuple[str, int, Sequence[str]]],
    provider: TravelProvider,
    unserved: Sequence[str] = (),
) -> CheckReport:
    """Validate bare routes (vehicle id, copy, stop ids), timing them at the earliest."""
    plans = [
        _Plan(vid, copy, [_Timed(s, None, None, None) for s in stops], None, None)
        for vid, copy, stops in routes
    ]
    return _check(problem, plans, list(unserved), provider)


def _check(
    problem: Problem, plans: list[_Plan], unserved: list[str], provider: TravelProvider
) -> CheckReport:
    report = CheckReport()
    bad = report.violations
    vehicles = {v.id: v for v in problem.vehicles}
    stops = {s.id: s for s in problem.stops}
    depots = {d.id for d in problem.depots}
    pickup_of = {p.delivery: p.pickup for p in problem.pairs}
    delivery_of = {p.pickup: p.delivery for p in problem.pairs}
    matrices = _Matrices(problem, provider)
    priced = any(v.cost_per_km or v.cost_per_hour or v.fixed_cost for v in problem.vehicles)

    seen: dict[str, tuple[int, int]] = {}
    used: set[tuple[str, int]] = set()
    for r_index, plan in enumerate(plans):
        vehicle = vehicles.get(plan.vehicle_id)
        if vehicle is None:
            bad.append(Violation("unknown_vehicle", f"Véhicule inconnu « {plan.vehicle_id} »."))
            continue
        key = (plan.vehicle_id, plan.copy)
        label = f"{plan.vehicle_id}#{plan.copy}"
        if key in used:
            bad.append(Violation("vehicle_reused", f"Le véhicule {label} a deux tournées."))
        used.add(key)
        if plan.copy < 0 or (vehicle.copies is not None and plan.copy >= vehicle.copies):
            bad.append(Violation("unknown_vehicle", f"Exemplaire {label} inexistant."))
        if not plan.visits:
            continue
        report.vehicles_used += 1
        for position, visit in enumerate(plan.visits):
            if visit.stop_id not in stops:
                bad.append(Violation("unknown_stop", f"Étape inconnue « {visit.stop_id} »."))
                continue
            if visit.stop_id in seen:
                bad.append(
                    Violation(
                        "stop_served_twice",
                        f"L'étape « {visit.stop_id} » est servie 2 fois.",
                    )
                )
            seen[visit.stop_id] = (r_index, position)
        known = [v for v in plan.visits if v.stop_id in stops]
        distance, duration = _route(problem, vehicle, label, plan, known, stops, matrices, bad)
        report.distance_m += distance
        if plan.reported_distance is not None and plan.reported_distance != distance:
            bad.append(
                Violation(
                    "distance_mismatch",
                    f"{label} : distance annoncée {plan.reported_distance}, recalculée {distance}.",
                )
            )
        if vehicle.max_distance_m is not None and distance > vehicle.max_distance_m:
            bad.append(
                Violation(
                    "range_exceeded",
                    f"{label} : {distance} m dépasse l'autonomie de {vehicle.max_distance_m} m.",
                )
            )
        if priced:
            cost = (
                vehicle.fixed_cost
                + distance / 1000 * vehicle.cost_per_km
                + duration / 3600 * vehicle.cost_per_hour
            )
        else:
            cost = float(distance)
        report.cost += cost
        if plan.reported_cost is not None and abs(plan.reported_cost - cost) > COST_TOLERANCE:
            bad.append(
                Violation(
                    "cost_mismatch",
                    f"{label} : coût annoncé {plan.reported_cost:.4f}, recalculé {cost:.4f}.",
                )
            )
        for visit in known:
            stop = stops[visit.stop_id]
            missing = stop.requires - vehicle.features
            if missing:
                bad.append(
                    Violation(
                        "incompatible_vehicle",
                        f"{label} n'a pas {sorted(missing)} requis par « {stop.id} ».",
                    )
                )
    for sid in unserved:
        if sid in seen:
            bad.append(Violation("served_and_unserved", f"« {sid} » servie et non servie."))
        if sid not in stops:
            bad.append(Violation("unknown_stop", f"Étape non servie inconnue « {sid} »."))
    listed = set(unserved)
    for sid in stops:
        if sid not in seen and sid not in listed:
            bad.append(Violation("stop_missing", f"L'étape « {sid} » n'est ni servie ni listée."))
    for delivery, pickup in pickup_of.items():
        a, b = seen.get(pickup), seen.get(delivery)
        if (a is None) != (b is None):
            bad.append(
                Violation(
                    "pair_split",
                    f"Paire {pickup}->{delivery} : une seule étape servie.",
                )
            )
        elif a is not None and b is not None:
            if a[0] != b[0]:
                bad.append(
                    Violation(
                        "pair_split",
                        f"Paire {pickup}->{delivery} : deux véhicules différents.",
                    )
                )
            elif a[1] > b[1]:
                bad.append(
                    Violation(
                        "pair_order",
                        f"Paire {pickup}->{delivery} : livraison avant l'enlèvement.",
                    )
                )
    del delivery_of, depots
    return report


def _route(
    problem: Problem,
    vehicle: Vehicle,
    label: str,
    plan: _Plan,
    visits: list[_Timed],
    stops: dict[str, Stop],
    matrices: _Matrices,
    bad: list[Violation],
) -> tuple[int, int]:
    """Check one route's loads and times; return its distance and duration."""
    tm = matrices.get(vehicle.profile)
    idx = matrices.index
    path = [vehicle.start_depot, *(v.stop_id for v in visits), vehicle.end]
    distance = sum(tm.distance_m[idx[a]][idx[b]] for a, b in itertools.pairwise(path))

    paired_deliveries = {p.delivery for p in problem.pairs}
    dims = set(vehicle.capacity)
    for v in visits:
        dims.update(stops[v.stop_id].demand)
    load = dict.fromkeys(dims, 0)
    for v in visits:
        stop = stops[v.stop_id]
        if stop.kind == "delivery" and stop.id not in paired_deliveries:
            for d, q in stop.demand.items():
                load[d] += q
    _check_load(load, vehicle, label, "au départ", bad)
    for v in visits:
        stop = stops[v.stop_id]
        sign = 1 if stop.kind == "pickup" else -1
        for d, q in stop.demand.items():
            load[d] += sign * q
        _check_load(load, vehicle, label, f"après « {stop.id} »", bad)

    earliest = plan.start_time is None
    depart = vehicle.shift.start if earliest else plan.start_time
    assert depart is not None
    if depart < vehicle.shift.start:
        bad.append(Violation("shift_violated", f"{label} part avant le début de son service."))
    here, t = vehicle.start_depot, depart
    for v in visits:
        stop = stops[v.stop_id]
        arrive = t + tm.duration_s[idx[here]][idx[stop.id]]
        if earliest:
            begin = arrive
            for w in sorted(stop.windows, key=lambda w: w.start):
                if w.end >= arrive:
                    begin = max(arrive, w.start)
                    break
            v.arrival, v.start, v.departure = arrive, begin, begin + stop.service_s
        assert v.arrival is not None and v.start is not None and v.departure is not None
        if v.arrival < arrive:
            bad.append(Violation("travel_too_fast", f"{label} arrive à « {stop.id} » trop tôt."))
        if v.start < v.arrival:
            bad.append(Violation("service_before_arrival", f"« {stop.id} » servie avant arrivée."))
        if v.departure < v.start + stop.service_s:
            bad.append(Violation("service_too_short", f"« {stop.id} » : service écourté."))
        if stop.windows and not any(w.start <= v.start <= w.end for w in stop.windows):
            bad.append(
                Violation(
                    "time_window_violated",
                    f"{label} sert « {stop.id} » à {v.start}, hors de ses fenêtres horaires.",
                )
            )
        here, t = stop.id, v.departure
    back = t + tm.duration_s[idx[here]][idx[vehicle.end]]
    end = back if plan.end_time is None else plan.end_time
    if end < back:
        bad.append(Violation("travel_too_fast", f"{label} rentre au dépôt trop tôt."))
    if end > vehicle.shift.end:
        bad.append(
            Violation(
                "shift_violated",
                f"{label} rentre à {end}, après la fin de son service.",
            )
        )
    return distance, end - depart


def _check_load(
    load: dict[str, int], vehicle: Vehicle, label: str, where: str, bad: list[Violation]
) -> None:
    for d, q in sorted(load.items()):
        cap = vehicle.capacity.get(d, 0)
        if q > cap:
            bad.append(
                Violation(
                    "capacity_exceeded",
                    f"{label} {where} : {q} {d} pour {cap} possibles.",
                )
            )
