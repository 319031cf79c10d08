"""Solve a routing problem with OR-Tools.

The pipeline: validate, ask the provider for matrices, set aside the stops no vehicle can
serve (with their reason), size unlimited fleets, then run one or several searches (a
portfolio of processes when ``workers > 1``) under a wall-clock guard, and turn the best
routes into a schedule with costs.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing
import multiprocessing.connection
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from logistics.vrp import sisr
from logistics.vrp.errors import InvalidProblem
from logistics.vrp.model import (
    Problem,
    Route,
    SearchStats,
    Solution,
    SolveOptions,
    SpeedProfile,
    Stop,
    Unserved,
    Vehicle,
    Visit,
)
from logistics.vrp.providers import GreatCircleProvider, Point, TravelProvider
from logistics.vrp.schedule import forward_schedule
from logistics.vrp.validation import validate_options, validate_problem

IntMatrix = npt.NDArray[np.int64]
Progress = Callable[[float, float], None]
"""Called with (best cost so far in euros or distance units, seconds elapsed)."""

# The search stops when this many work units (calls of the OR-Tools limit check, a
# deterministic measure of effort) have passed without improvement (20k n + 2k n^2): small
# problems then end on their own, in a reproducible way, long before the time limit.
STALL_WORK_PER_STOP = 20_000
STALL_WORK_PER_STOP_SQUARED = 2_000

# The time limit of an OR-Tools search becomes a budget of those calls, so that the plan
# depends on the seed and the time limit, not on the machine's speed or load; the clock
# only guards the budget. Rates measured by ``python -m logistics.calibrate`` (two
# searches at once; figures in logistics/README.md): 0.6 to 1.1 million calls a second up
# to 100 stops, falling as (100 / n)^0.4-0.7 above, and much faster, about (100 / n)^1.5
# to 1.7, when the cost counts hours (each move then costs more to evaluate). The assumed
# rate sits below the slowest measured. The searches get WORK_SHARE of the time limit;
# the rest is left to the first solutions, which are not counted in calls.
ORTOOLS_WORK_PER_SECOND = 500_000
ORTOOLS_FLAT_STOPS = 100
ORTOOLS_FALL = 0.6
ORTOOLS_FALL_COSTLY = 1.7
WORK_SHARE = 0.85

# Measured on the benchmark (logistics/README.md): kept off, it did not help there.
MANDATORY_AFTER_FIRST = False

# Internal cost unit: one millionth of the euro, so that per-second and per-metre costs
# stay integers with negligible rounding; everything is divided by the gcd afterwards.
_MICRO = 1_000_000

FIRST_SOLUTIONS = {
    name: value
    for name, value in routing_enums_pb2.FirstSolutionStrategy.Value.items()
    if name not in ("UNSET",)
}
METAHEURISTICS = {
    name: value
    for name, value in routing_enums_pb2.LocalSearchMetaheuristic.Value.items()
    if name not in ("UNSET",)
}

UNSERVED_MESSAGES = {
    "no_compatible_vehicle": "Aucun véhicule n'a l'équipement requis (ex. chaîne du froid).",
    "exceeds_capacity": "La quantité dépasse la capacité de tous les véhicules compatibles.",
    "out_of_range": "Hors d'autonomie pour tous les véhicules compatibles (aller-retour).",
    "time_window_unreachable": "Aucun véhicule ne peut arriver dans la fenêtre horaire "
    "et rentrer avant la fin de son service.",
    "pair_partner_unserved": "L'étape associée (enlèvement ou livraison) ne peut être servie.",
    "pair_unreachable": "Aucun véhicule ne peut faire l'enlèvement puis la livraison dans "
    "leurs fenêtres horaires et rentrer avant la fin de son service.",
    "not_routed": "La flotte ne suffit pas (capacité, horaires ou autonomie) pour cette étape.",
}


@dataclass(slots=True)
class _Data:
    """Everything a search needs, as plain arrays (picklable, no OR-Tools objects)."""

    node_ids: list[str]
    n_depots: int
    dist: list[IntMatrix]
    time: list[IntMatrix]  # travel time plus service time of the "from" node
    service: list[int]
    windows: list[list[tuple[int, int]]]
    dims: list[str]
    transit: list[list[int]]
    from_depot: list[list[int]]
    signed_loads: bool
    base_vehicles: list[Vehicle]
    base_profile: list[int]
    base_km: list[int]
    base_hour: list[int]
    base_fixed: list[int]
    allowed: list[list[int] | None]
    pairs: list[tuple[int, int]]
    penalty: int
    horizon: int
    copies: list[int | None]
    need_time: bool = True


@dataclass(slots=True)
class _Config:
    first_solution: str
    metaheuristic: str
    seed: int
    max_solutions: int | None
    ruin: int = 0  # group searches: stops taken out (nearest to a random one) before it


@dataclass(slots=True)
class _Result:
    cost: int
    routes: list[tuple[int, int, list[int]]]  # (base vehicle, copy, nodes)
    solutions: int = 0
    first_cost: int | None = None
    stopped_by: str = "completed"
    fleet: int = 0
    extra: dict[str, float] = field(default_factory=dict)
    work: int = 0  # calls of the OR-Tools limit check (the searches' measure of effort)


def default_portfolio(n_stops: int, workers: int, seed: int, pairs: bool = False) -> list[_Config]:
    """Search configurations run side by side, one per worker (chosen by measurement).

    OR-Tools' savings heuristic finds no first solution when there are pickup-delivery
    pairs (it grew the fleet to one vehicle a stop and still failed, in 3.7 s at 200
    stops, measured by ``python -m logistics.calibrate``): the second worker then starts
    from local cheapest insertion instead.
    """
    second = "LOCAL_CHEAPEST_INSERTION" if pairs else "SAVINGS"
    configs = [
        _Config("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", seed, None),
        _Config(second, "GUIDED_LOCAL_SEARCH", seed + 1, None),
    ]
    return [configs[i % len(configs)] for i in range(workers)]


def solve(
    problem: Problem,
    provider: TravelProvider | None = None,
    options: SolveOptions | None = None,
    progress: Progress | None = None,
) -> Solution:
    """Plan routes for ``problem``; unserved stops are listed with their reason.

    The time limit holds from the call to the answer, start-up and processes included,
    except the compilation of the ruin-and-recreate kernel (``sisr.warm_up``): done once
    per process, with the clock stopped, and reported in ``stats.warm_up_s``.
    """
    started = time.monotonic()
    options = options or SolveOptions()
    provider = provider or GreatCircleProvider()
    validate_options(options)
    validate_problem(problem, requires_coordinates=provider.requires_coordinates)
    deadline = started + options.time_limit_s
    warm_up_s = 0.0

    data, unserved, scale = _compile(problem, provider, options)
    if len(data.node_ids) == data.n_depots:
        result = _Result(cost=0, routes=[])
    else:
        configs = default_portfolio(
            len(data.node_ids) - data.n_depots, options.workers, 0, pairs=bool(data.pairs)
        )
        if options.first_solution or options.metaheuristic:
            configs = [
                _Config(
                    options.first_solution or c.first_solution,
                    options.metaheuristic or c.metaheuristic,
                    c.seed,
                    None,
                )
                for c in configs
            ]
        configs = [
            _Config(
                c.first_solution,
                c.metaheuristic,
                c.seed + options.seed,
                options.max_solutions,
            )
            for c in configs
        ]

        def report(cost: int) -> None:
            if progress is not None:
                progress(cost / scale, time.monotonic() - started)

        path = search_path(data, options)
        if path == "kernel":
            # the kernel is compiled (or loaded from Numba's cache) with the clock stopped:
            # seconds once per process with a warm cache, up to minutes on a cold and busy
            # machine, which no time limit could absorb; a routing worker has done it
            # before its first task (logistics/warmup.py), and then this costs nothing
            warm_up_s = sisr.warm_up()
            started += warm_up_s
            deadline += warm_up_s
            work = sisr.work_for(options.time_limit_s, len(data.node_ids) - data.n_depots)
            result = run_sisr(data, options.seed, deadline, work, options.workers, report)
        elif path == "rounds":
            result = run_decomposed(
                data, configs, deadline, options.workers, report, options.time_limit_s
            )
        else:
            work = ortools_work_for(WORK_SHARE * options.time_limit_s, data)
            if options.workers == 1:
                result = run_search(data, configs[0], deadline, on_improve=report, work=work)
            else:
                result = _run_portfolio(data, configs, deadline, report, work)
    return _solution(problem, data, result, unserved, started, options, scale, warm_up_s)


def search_path(data: _Data, options: SolveOptions) -> str:
    """The search ``solve`` runs: ``kernel`` (ruin and recreate), ``rounds`` (of group
    searches) or ``search`` (OR-Tools, one process or a portfolio by ``options.workers``).

    A caller asking for a solution limit gets the OR-Tools search.
    """
    if options.max_solutions is None and use_sisr(data):
        return "kernel"
    if options.max_solutions is None and use_rounds(data):
        return "rounds"
    return "search"


def _compile(
    problem: Problem, provider: TravelProvider, options: SolveOptions
) -> tuple[_Data, list[Unserved], float]:
    depots = list(problem.depots)
    stops = list(problem.stops)
    points = [Point(d.id, d.lat, d.lon) for d in depots] + [
        Point(s.id, s.lat, s.lon) for s in stops
    ]
    profiles: list[SpeedProfile] = []
    for vehicle in problem.vehicles:
        if vehicle.profile not in profiles:
            profiles.append(vehicle.profile)
    dist_all: list[IntMatrix] = []
    time_all: list[IntMatrix] = []
    for profile in profiles:
        tm = provider.matrix(points, profile)
        dist_all.append(np.asarray(tm.distance_m, dtype=np.int64))
        time_all.append(np.asarray(tm.duration_s, dtype=np.int64))
    n_depots = len(depots)
    depot_index = {d.id: i for i, d in enumerate(depots)}
    vehicles = list(problem.vehicles)
    v_profile = [profiles.index(v.profile) for v in vehicles]
    dims = list(problem.dimensions())

    def travel_t(p: int, a: int, b: int) -> int:
        return int(time_all[p][a, b])

    def travel_d(p: int, a: int, b: int) -> int:
        return int(dist_all[p][a, b])

    partner: dict[str, str] = {}
    for pair in problem.pairs:
        partner[pair.pickup] = pair.delivery
        partner[pair.delivery] = pair.pickup
    stop_node = {s.id: n_depots + i for i, s in enumerate(stops)}
    stop_of = {s.id: s for s in stops}

    def window_ok(stop: Stop, node: int, vi: int) -> bool:
        v = vehicles[vi]
        p = v_profile[vi]
        s_node, e_node = depot_index[v.start_depot], depot_index[v.end]
        arrive = v.shift.start + travel_t(p, s_node, node)
        spans = [(w.start, w.end) for w in stop.windows] or [(0, v.shift.end)]
        for lo, hi in spans:
            if arrive <= hi:
                begin = max(arrive, lo)
                if begin + stop.service_s + travel_t(p, node, e_node) <= v.shift.end:
                    return True
        return False

    def pair_ok(pickup: Stop, delivery: Stop, vi: int) -> bool:
        # earliest start at each visit of start -> pickup -> delivery -> end: for a fixed
        # order, leaving as early as possible never loses a later window
        v = vehicles[vi]
        p = v_profile[vi]
        here, t = depot_index[v.start_depot], v.shift.start
        for stop in (pickup, delivery):
            node = stop_node[stop.id]
            t += travel_t(p, here, node)
            spans = [(w.start, w.end) for w in stop.windows] or [(0, v.shift.end)]
            starts = [max(t, lo) for lo, hi in spans if t <= hi]
            if not starts:
                return False
            t, here = min(starts) + stop.service_s, node
        return t + travel_t(p, here, depot_index[v.end]) <= v.shift.end

    allowed_by_stop: dict[str, list[int]] = {}
    reason: dict[str, str] = {}
    for stop in stops:
        node = stop_node[stop.id]
        cands = [i for i, v in enumerate(vehicles) if stop.requires <= v.features]
        if not cands:
            reason[stop.id] = "no_compatible_vehicle"
            continue
        cands = [
            i
            for i in cands
            if all(q <= vehicles[i].capacity.get(d, 0) for d, q in stop.demand.items())
        ]
        if not cands:
            reason[stop.id] = "exceeds_capacity"
            continue
        in_range = []
        for i in cands:
            v = vehicles[i]
            if v.max_distance_m is None:
                in_range.append(i)
                continue
            p = v_profile[i]
            s_node, e_node = depot_index[v.start_depot], depot_index[v.end]
            if stop.id in partner:
                other = stop_node[partner[stop.id]]
                a, b = (node, other) if stop.kind == "pickup" else (other, node)
                trip = travel_d(p, s_node, a) + travel_d(p, a, b) + travel_d(p, b, e_node)
            else:
                trip = travel_d(p, s_node, node) + travel_d(p, node, e_node)
            if trip <= v.max_distance_m:
                in_range.append(i)
        if not in_range:
            reason[stop.id] = "out_of_range"
            continue
        cands = [i for i in in_range if window_ok(stop, node, i)]
        if not cands:
            reason[stop.id] = "time_window_unreachable"
            continue
        allowed_by_stop[stop.id] = cands
    for pair in problem.pairs:
        pk, dl = pair.pickup, pair.delivery
        if pk in reason or dl in reason:
            for sid in (pk, dl):
                reason.setdefault(sid, "pair_partner_unserved")
            continue
        common = [i for i in allowed_by_stop[pk] if i in allowed_by_stop[dl]]
        if not common:
            reason[pk] = reason[dl] = "no_compatible_vehicle"
            continue
        common = [i for i in common if pair_ok(stop_of[pk], stop_of[dl], i)]
        if not common:
            reason[pk] = reason[dl] = "pair_unreachable"
            continue
        allowed_by_stop[pk] = allowed_by_stop[dl] = common
    for sid in reason:
        allowed_by_stop.pop(sid, None)

    kept = [s for s in stops if s.id not in reason]
    keep_idx = list(range(n_depots)) + [stop_node[s.id] for s in kept]
    if len(keep_idx) != len(points):
        sel = np.asarray(keep_idx)
        dist_all = [m[np.ix_(sel, sel)] for m in dist_all]
        time_all = [m[np.ix_(sel, sel)] for m in time_all]
    service = [0] * n_depots + [s.service_s for s in kept]
    svc = np.asarray(service, dtype=np.int64)[:, None]
    time_svc = [m + svc for m in time_all]
    signed = any(s.kind == "pickup" for s in kept)
    paired_deliveries = {p.delivery for p in problem.pairs}
    transit: list[list[int]] = []
    from_depot: list[list[int]] = []
    for d in dims:
        row = [0] * n_depots
        depot_row = [0] * n_depots
        for s in kept:
            q = s.demand.get(d, 0)
            unpaired_delivery = s.kind == "delivery" and s.id not in paired_deliveries
            depot_row.append(q if unpaired_delivery else 0)
            row.append(-q if signed and s.kind == "delivery" else q)
        transit.append(row)
        from_depot.append(depot_row)
    # with pickups on board, loads are signed: paired deliveries drop what their pickup
    # loaded and unpaired deliveries what the depot loaded; the start load is then left
    # free so that it equals what the route delivers from the depot (see _build_model)
    windows: list[list[tuple[int, int]]] = [[] for _ in range(n_depots)] + [
        sorted((w.start, w.end) for w in s.windows) for s in kept
    ]
    windows = [_merge(ws) for ws in windows]
    node_ids = [d.id for d in depots] + [s.id for s in kept]
    index_of = {sid: i for i, sid in enumerate(node_ids)}
    allowed: list[list[int] | None] = [None] * n_depots
    for s in kept:
        cands = allowed_by_stop[s.id]
        allowed.append(None if len(cands) == len(vehicles) else cands)
    pairs = [
        (index_of[p.pickup], index_of[p.delivery])
        for p in problem.pairs
        if p.pickup in index_of and p.delivery in index_of
    ]

    km = [round(v.cost_per_km * _MICRO / 1000) for v in vehicles]
    hour = [round(v.cost_per_hour * _MICRO / 3600) for v in vehicles]
    fixed = [round(v.fixed_cost * _MICRO) for v in vehicles]
    if not any(km) and not any(hour):
        # nothing priced: minimise distance
        km = [1] * len(vehicles)
        scale = 1.0
    else:
        scale = float(_MICRO)
    g = 0
    for c in km + hour + fixed:
        g = math.gcd(g, c)
    g = max(g, 1)
    km, hour, fixed = (
        [c // g for c in km],
        [c // g for c in hour],
        [c // g for c in fixed],
    )
    scale /= g
    horizon = max(v.shift.end for v in vehicles)
    max_arc = max((int(m.max()) for m in dist_all), default=0) if kept else 0
    max_time = max((int(m.max()) for m in time_svc), default=0) if kept else 0
    penalty = options.unserved_penalty or (
        10 * (2 * max_arc * max(km) + 2 * max_time * max(hour) + max(fixed)) + 1
    )
    longest = [int(m.max(axis=1).sum()) for m in time_svc] if kept else [0]
    need_time = (
        any(windows)
        or any(hour)
        or any(v.shift.end - v.shift.start < longest[v_profile[i]] for i, v in enumerate(vehicles))
    )
    data = _Data(
        need_time=need_time,
        node_ids=node_ids,
        n_depots=n_depots,
        dist=dist_all,
        time=time_svc,
        service=service,
        windows=windows,
        dims=dims,
        transit=transit,
        from_depot=from_depot,
        signed_loads=signed,
        base_vehicles=vehicles,
        base_profile=v_profile,
        base_km=km,
        base_hour=hour,
        base_fixed=fixed,
        allowed=allowed,
        pairs=pairs,
        penalty=penalty,
        horizon=horizon,
        copies=[v.copies for v in vehicles],
    )
    unserved = [
        Unserved(s.id, reason[s.id], UNSERVED_MESSAGES[reason[s.id]])
        for s in stops
        if s.id in reason
    ]
    return data, unserved, scale


def _merge(ws: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in ws:
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _fleet_lower_bound(data: _Data, base: int) -> int:
    n_stops = len(data.node_ids) - data.n_depots
    vehicle = data.base_vehicles[base]
    lb = 1
    for d, name in enumerate(data.dims):
        cap = vehicle.capacity.get(name, 0)
        total = sum(abs(q) for q in data.transit[d][data.n_depots :])
        if cap > 0:
            lb = max(lb, math.ceil(total / cap))
    return min(lb, n_stops)


@dataclass(slots=True)
class _State:
    best: float = math.inf
    count: int = 0
    last_send: float = 0.0
    pending: bool = False
    work: int = 0
    work_at_best: int = 0
    stopped: str = "completed"
    best_routes: list[tuple[int, int, list[int]]] = field(default_factory=list)


@dataclass(slots=True)
class _Built:
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    slots: list[tuple[int, int]]
    perm: list[int]  # model node -> data node


def _build_model(data: _Data, fleet: list[int], seed: int, optional: bool = True) -> _Built:
    n = len(data.node_ids)
    perm = list(range(n))
    if seed:
        tail = perm[data.n_depots :]
        random.Random(seed).shuffle(tail)  # noqa: S311 (reproducible, not secret)
        perm = perm[: data.n_depots] + tail
    inv = [0] * n
    for model_node, data_node in enumerate(perm):
        inv[data_node] = model_node
    sel = np.asarray(perm)
    identity = not seed

    def mat(m: IntMatrix) -> list[list[int]]:
        out: list[list[int]] = (m if identity else m[np.ix_(sel, sel)]).tolist()
        return out

    def vec(v: Sequence[int]) -> list[int]:
        return [int(v[d]) for d in perm]

    slots = [(b, c) for b, count in enumerate(fleet) for c in range(count)]
    starts = [inv[data_node_of_depot(data, b, True)] for b, _ in slots]
    ends = [inv[data_node_of_depot(data, b, False)] for b, _ in slots]
    manager = pywrapcp.RoutingIndexManager(n, len(slots), starts, ends)
    routing = pywrapcp.RoutingModel(manager)

    dist_cb = [routing.RegisterTransitMatrix(mat(m)) for m in data.dist]
    time_cb = [routing.RegisterTransitMatrix(mat(m)) for m in data.time] if data.need_time else []
    cost_cb: dict[tuple[int, int], int] = {}
    for v, (b, _) in enumerate(slots):
        p, km = data.base_profile[b], data.base_km[b]
        key = (p, km)
        if key not in cost_cb:
            cost_cb[key] = (
                dist_cb[p] if km == 1 else routing.RegisterTransitMatrix(mat(data.dist[p] * km))
            )
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[key], v)
        if data.base_fixed[b]:
            routing.SetFixedCostOfVehicle(data.base_fixed[b], v)

    time_dim = None
    if data.need_time:
        horizon = data.horizon
        routing.AddDimensionWithVehicleTransits(
            [time_cb[data.base_profile[b]] for b, _ in slots],
            horizon,
            horizon,
            False,
            "time",
        )
        time_dim = routing.GetDimensionOrDie("time")
        for v, (b, _) in enumerate(slots):
            shift = data.base_vehicles[b].shift
            time_dim.CumulVar(routing.Start(v)).SetRange(shift.start, shift.end)
            time_dim.CumulVar(routing.End(v)).SetRange(shift.start, shift.end)
            if data.base_hour[b]:
                time_dim.SetSpanCostCoefficientForVehicle(data.base_hour[b], v)
        for node in range(data.n_depots, n):
            ws = data.windows[perm[node]]
            if not ws:
                continue
            var = time_dim.CumulVar(manager.NodeToIndex(node))
            var.SetRange(ws[0][0], ws[-1][1])
            for (_, hi), (lo, _) in itertools.pairwise(ws):
                if lo - hi > 1:
                    var.RemoveInterval(hi + 1, lo - 1)
        if any(data.base_hour[b] for b, _ in slots):
            for v in range(len(slots)):
                routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(v)))
                routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(v)))

    for d, name in enumerate(data.dims):
        cb = routing.RegisterUnaryTransitVector(vec(data.transit[d]))
        caps = [data.base_vehicles[b].capacity.get(name, 0) for b, _ in slots]
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, not data.signed_loads, f"load:{name}")
        if data.signed_loads:
            # the load leaving the depot is exactly what the route delivers from the depot:
            # a second dimension counts it, and ties it to the start of the load dimension
            load = routing.GetDimensionOrDie(f"load:{name}")
            dcb = routing.RegisterUnaryTransitVector(vec(data.from_depot[d]))
            routing.AddDimensionWithVehicleCapacity(dcb, 0, caps, True, f"from_depot:{name}")
            from_depot = routing.GetDimensionOrDie(f"from_depot:{name}")
            for v in range(len(slots)):
                routing.solver().Add(
                    load.CumulVar(routing.Start(v)) == from_depot.CumulVar(routing.End(v))
                )

    ranges = [data.base_vehicles[b].max_distance_m for b, _ in slots]
    if any(r is not None for r in ranges):
        big = int(max(int(m.sum()) for m in data.dist)) + 1
        routing.AddDimensionWithVehicleTransitAndCapacity(
            [dist_cb[data.base_profile[b]] for b, _ in slots],
            0,
            [r if r is not None else big for r in ranges],
            True,
            "distance",
        )

    by_base: dict[int, list[int]] = {}
    for v, (b, _) in enumerate(slots):
        by_base.setdefault(b, []).append(v)
    for node in range(data.n_depots, n):
        index = manager.NodeToIndex(node)
        if optional:
            routing.AddDisjunction([index], data.penalty)
        allowed = data.allowed[perm[node]]
        if allowed is not None:
            # SetAllowedVehiclesForIndex is not usable from Python in 9.15 (Span typemap);
            # restricting the vehicle variable is equivalent, -1 keeps "unperformed" open
            routing.VehicleVar(index).SetValues(
                [-1] + [v for b in allowed for v in by_base.get(b, [])]
            )
    solver = routing.solver()
    for p_node, d_node in data.pairs:
        pi, di = manager.NodeToIndex(inv[p_node]), manager.NodeToIndex(inv[d_node])
        routing.AddPickupAndDelivery(pi, di)
        solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
        if time_dim is not None:
            solver.Add(time_dim.CumulVar(pi) <= time_dim.CumulVar(di))
    return _Built(manager, routing, slots, perm)


def data_node_of_depot(data: _Data, base: int, start: bool) -> int:
    """Node index of a base vehicle's start (or end) depot."""
    vehicle = data.base_vehicles[base]
    depot = vehicle.start_depot if start else vehicle.end
    return data.node_ids.index(depot)


def _params(cfg: _Config, seconds: float, first_only: bool) -> object:
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = FIRST_SOLUTIONS[cfg.first_solution]
    if first_only:
        params.solution_limit = 1
    else:
        params.local_search_metaheuristic = METAHEURISTICS[cfg.metaheuristic]
        if cfg.max_solutions is not None:
            params.solution_limit = cfg.max_solutions
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    return params


def _extract(built: _Built, assignment: object | None) -> list[tuple[int, int, list[int]]]:
    routing, manager = built.routing, built.manager
    routes = []
    for v, (b, c) in enumerate(built.slots):
        index = routing.Start(v)
        nodes: list[int] = []
        while True:
            index = (
                assignment.Value(routing.NextVar(index))  # type: ignore[attr-defined]
                if assignment is not None
                else routing.NextVar(index).Value()
            )
            if routing.IsEnd(index):
                break
            nodes.append(built.perm[manager.IndexToNode(index)])
        if nodes:
            routes.append((b, c, nodes))
    return routes


Routes = list[tuple[int, int, list[int]]]
"""(base vehicle, copy, data nodes) for each used vehicle."""


@dataclass(slots=True)
class _Start:
    """A first solution and the fleet the metaheuristic will search with."""

    fleet: list[int]
    routes: Routes
    cost: int | None


def first_solution(data: _Data, cfg: _Config, deadline: float) -> _Start:
    """Size unlimited fleets and build a first solution with ``cfg.first_solution``."""
    fleet = [c if c is not None else 0 for c in data.copies]
    unlimited = [b for b, c in enumerate(data.copies) if c is None]
    n_stops = len(data.node_ids) - data.n_depots
    if not unlimited:
        return _Start(fleet, [], None)
    for b in unlimited:
        # generous: unused vehicles cost the first-solution heuristics little, and a
        # second attempt with more vehicles costs a whole first solution
        fleet[b] = min(n_stops, 3 * _fleet_lower_bound(data, b) + 10)
    routes: Routes = []
    first_cost: int | None = None
    while True:
        built = _build_model(data, fleet, cfg.seed)
        left = max(0.05, deadline - time.monotonic())
        # most of the time left: a bigger second fleet is rarely needed, no plan is worse
        assignment = built.routing.SolveWithParameters(_params(cfg, left * 0.9, True))
        if assignment is not None:
            routes = _extract(built, assignment)
            first_cost = int(assignment.ObjectiveValue())
        served = sum(len(r[2]) for r in routes)
        grow = [b for b in unlimited if fleet[b] < n_stops]
        if served == n_stops or not grow or time.monotonic() > deadline:
            break
        for b in grow:
            fleet[b] = min(n_stops, fleet[b] * 2)
    if not routes or first_cost is None:
        return _Start(fleet, [], None)
    return _trimmed(data, routes, first_cost)


def _trimmed(data: _Data, routes: Routes, cost: int | None) -> _Start:
    """Unlimited fleets cut to the used vehicles plus a margin, copies renumbered."""
    fleet = [c if c is not None else 0 for c in data.copies]
    used = {b: sum(1 for r in routes if r[0] == b) for b in range(len(fleet))}
    for b, c in enumerate(data.copies):
        if c is None:
            fleet[b] = used[b] + max(2, math.ceil(0.1 * used[b]))
    counter: dict[int, int] = {}
    renumbered: Routes = []
    for b, copy, nodes in routes:
        if data.copies[b] is None:
            copy = counter.get(b, 0)
            counter[b] = copy + 1
        renumbered.append((b, copy, nodes))
    return _Start(fleet, renumbered, cost)


def ortools_work_for(seconds: float, data: _Data) -> int:
    """The budget of limit-check calls an OR-Tools search of ``data`` gets for ``seconds``."""
    n_stops = max(1, len(data.node_ids) - data.n_depots)
    fall = ORTOOLS_FALL_COSTLY if any(data.base_hour) else ORTOOLS_FALL
    rate = ORTOOLS_WORK_PER_SECOND * min(1.0, (ORTOOLS_FLAT_STOPS / n_stops) ** fall)
    return max(1, int(seconds * rate))


def run_search(
    data: _Data,
    cfg: _Config,
    deadline: float,
    on_improve: Callable[[int], None] | None = None,
    on_routes: Callable[[int, Routes], None] | None = None,
    start: _Start | None = None,
    work: int | None = None,
) -> _Result:
    """One search: fleet sizing when a vehicle is unlimited, then the metaheuristic.

    With ``start`` (routes and fleet), the first solution is skipped. The metaheuristic
    ends after ``work`` calls of its limit check (None: no such budget), on the stall rule,
    or at ``deadline``, whichever comes first; only the clock makes the plan depend on
    the machine.
    """
    n_stops = len(data.node_ids) - data.n_depots
    if start is None:
        start = first_solution(data, cfg, deadline)
        if start.cost is not None:
            if on_improve is not None:
                on_improve(start.cost)
            if on_routes is not None:
                on_routes(start.cost, start.routes)
    fleet = start.fleet
    initial: Routes | None = start.routes or None
    first_cost = start.cost
    # once a first solution serves every stop, the search need not consider dropping any:
    # mandatory stops remove the make-(in)active moves from every neighbourhood
    mandatory = initial is not None and sum(len(r[2]) for r in initial) == n_stops
    built = _build_model(data, fleet, cfg.seed, optional=not (mandatory and MANDATORY_AFTER_FIRST))
    routing = built.routing
    state = _State()
    if initial is not None and first_cost is not None:
        # already reported by the fleet-sizing step
        state.best, state.best_routes = first_cost, initial
    finish_at = deadline - 0.02
    stall_work = STALL_WORK_PER_STOP * max(1, n_stops) + STALL_WORK_PER_STOP_SQUARED * n_stops**2

    def at_solution() -> None:
        cost = routing.CostVar().Value()
        state.count += 1
        if cost < state.best:
            state.best = cost
            state.work_at_best = state.work
            if on_improve is not None:
                on_improve(cost)
            if on_routes is not None:
                state.best_routes = _extract(built, None)
                state.pending = True
        if state.pending and on_routes is not None:
            now = time.monotonic()
            if now - state.last_send > 0.2:
                on_routes(int(state.best), state.best_routes)
                state.last_send, state.pending = now, False

    def limit() -> bool:
        # called by OR-Tools many times per move evaluation: a deterministic work counter
        state.work += 1
        if state.work - state.work_at_best > stall_work:
            state.stopped = "stall"
            return True
        if work is not None and state.work >= work:
            state.stopped = "work_limit"
            return True
        if state.work % 256 == 0 and time.monotonic() > finish_at:
            state.stopped = "time_limit"
            return True
        return False

    routing.AddAtSolutionCallback(at_solution)
    routing.AddSearchMonitor(routing.solver().CustomLimit(limit))
    left = deadline - time.monotonic()
    # OR-Tools overshoots its own limit; keep a margin and let the callback stop it
    params = _params(cfg, max(0.05, left - min(0.5, 0.05 * left)), False)
    if initial is not None:
        slot_of = {bc: v for v, bc in enumerate(built.slots)}
        inv = {data_node: model_node for model_node, data_node in enumerate(built.perm)}
        rows: list[list[int]] = [[] for _ in built.slots]
        for b, c, nodes in initial:
            rows[slot_of[(b, c)]] = [built.manager.NodeToIndex(inv[x]) for x in nodes]
        read = routing.ReadAssignmentFromRoutes(rows, True)
        solution = routing.SolveFromAssignmentWithParameters(read, params)
    else:
        solution = routing.SolveWithParameters(params)
    if solution is None:
        # nothing better than the fleet-sizing solution (or nothing at all) within the time
        fallback = state.best_routes or initial or []
        cost = int(state.best) if state.best_routes else (first_cost or 2**62)
        stopped = state.stopped
        if not fallback:
            stopped = "no_solution"
        elif stopped == "completed":  # OR-Tools' own time limit
            stopped = "time_limit"
        return _Result(
            cost=cost if fallback else 2**62,
            routes=fallback,
            solutions=state.count,
            first_cost=first_cost,
            stopped_by=stopped,
            fleet=len(built.slots),
            work=state.work,
        )
    stopped = state.stopped
    if cfg.max_solutions is not None and state.count >= cfg.max_solutions:
        stopped = "solution_limit"
    elif stopped == "completed" and time.monotonic() >= finish_at - 0.5:
        stopped = "time_limit"
    return _Result(
        cost=int(solution.ObjectiveValue()),
        routes=_extract(built, solution),
        solutions=state.count,
        first_cost=first_cost,
        stopped_by=stopped,
        fleet=len(built.slots),
        work=state.work,
    )


# Rounds of group searches (large neighbourhood search), measured on the benchmark (see
# logistics/README.md); use_rounds says which problems get them. Above DECOMPOSE_ABOVE
# stops each round cuts the plan into groups of nearby routes holding about DECOMPOSE_GROUP
# stops, and each group is searched as a problem of its own for SECONDS_PER_STOP x its
# size, the groups in parallel; smaller problems are one group. When there are fewer
# groups than workers, a group is searched several times: the even copies restart the
# metaheuristic from the plan, the odd ones first take out RUIN_SHARE of its stops (the
# ones nearest a random stop) and put them back. Above CLUSTER_FIRST_ABOVE stops the first
# solution itself is built cluster by cluster.
ROUNDS_ABOVE = 50
DECOMPOSE_ABOVE = 250
DECOMPOSE_GROUP = 150
CLUSTER_FIRST_ABOVE = 300
RUIN_SHARE = 0.15
SECONDS_PER_STOP = 0.005
# The rounds spend WORK_SHARE of the time limit; the rest is left to the first solutions
# and to building, sending and collecting the groups. No round is started with less than
# MIN_ROUND_SECONDS of budget (or of clock) left.
MIN_ROUND_SECONDS = 0.3
MIN_GROUP_SECONDS = 0.05
LONG_ROUTE = 20  # stops a route, by the capacity bound


def use_rounds(data: _Data) -> bool:
    """Whether rounds of group searches (``run_decomposed``) suit this problem.

    Measured on the benchmark: they win on large problems, and on small ones whose routes
    are short; on small problems with long routes (say, 50 stops a route when the capacity
    allows it) the guided local search does better when it runs without a break.
    """
    n_stops = len(data.node_ids) - data.n_depots
    if n_stops <= ROUNDS_ABOVE or not can_decompose(data):
        return False
    if n_stops > DECOMPOSE_ABOVE:
        return True
    routes = sum(_fleet_lower_bound(data, b) for b in range(len(data.base_vehicles)))
    return n_stops / max(1, routes) <= LONG_ROUTE


def can_decompose(data: _Data) -> bool:
    """Whether the cost is a sum of independent route costs the groups can be priced by."""
    return (
        all(c is None for c in data.copies)
        and not any(data.base_hour)
        and not data.pairs
        and all(v.max_distance_m is None for v in data.base_vehicles)
    )


def _route_cost(data: _Data, b: int, nodes: list[int]) -> int:
    if not nodes:
        return 0
    dist = data.dist[data.base_profile[b]]
    path = [data_node_of_depot(data, b, True), *nodes, data_node_of_depot(data, b, False)]
    meters = sum(int(dist[a, z]) for a, z in itertools.pairwise(path))
    return meters * data.base_km[b] + data.base_fixed[b]


def _sub_data(data: _Data, stops: list[int]) -> _Data:
    """The same problem restricted to the depots and ``stops`` (data nodes, kept in order)."""
    keep = list(range(data.n_depots)) + stops
    sel = np.asarray(keep)
    return _Data(
        need_time=data.need_time,
        node_ids=[data.node_ids[i] for i in keep],
        n_depots=data.n_depots,
        dist=[m[np.ix_(sel, sel)] for m in data.dist],
        time=[m[np.ix_(sel, sel)] for m in data.time],
        service=[data.service[i] for i in keep],
        windows=[data.windows[i] for i in keep],
        dims=data.dims,
        transit=[[row[i] for i in keep] for row in data.transit],
        from_depot=[[row[i] for i in keep] for row in data.from_depot],
        signed_loads=data.signed_loads,
        base_vehicles=data.base_vehicles,
        base_profile=data.base_profile,
        base_km=data.base_km,
        base_hour=data.base_hour,
        base_fixed=data.base_fixed,
        allowed=[data.allowed[i] for i in keep],
        pairs=[],
        penalty=data.penalty,
        horizon=data.horizon,
        copies=data.copies,
    )


def _groups(data: _Data, routes: Routes, size: int, rng: random.Random) -> list[list[int]]:
    """Routes (by index) gathered around random seed stops, about ``size`` stops a group."""
    route_of = {x: k for k, (_, _, nodes) in enumerate(routes) for x in nodes}
    left = set(range(len(routes)))
    dist = data.dist[0]
    groups: list[list[int]] = []
    while left:
        seed_route = rng.choice(sorted(left))
        seed = rng.choice(routes[seed_route][2])
        order = np.argsort(dist[seed] + dist[:, seed], kind="stable")
        group: list[int] = []
        count = 0
        for x in order.tolist():
            k = route_of.get(x)
            if k is None or k not in left:
                continue
            left.discard(k)
            group.append(k)
            count += len(routes[k][2])
            if count >= size:
                break
        groups.append(group)
    return groups


@dataclass(slots=True)
class _GroupAnswer:
    old: int  # the group's cost before its search
    new: int  # its cost after (``old`` when the search found nothing better)
    routes: Routes
    seconds: float  # the search's work in nominal seconds (its budget's rate)
    on_clock: bool  # the deadline, not the work budget or the stall rule, ended it


def _improve_group(
    data: _Data, routes: Routes, cfg: _Config, deadline: float, seconds: float
) -> _GroupAnswer:
    """Search one group of routes as a problem of its own, for ``seconds`` of work."""
    stops = [x for _, _, nodes in routes for x in nodes]
    sub = _sub_data(data, stops)
    local = {x: data.n_depots + i for i, x in enumerate(stops)}
    back = {v: k for k, v in local.items()}
    start_routes = [(b, c, [local[x] for x in nodes]) for b, c, nodes in routes]
    old = sum(_route_cost(data, b, nodes) for b, _, nodes in routes)
    start = _trimmed(sub, start_routes, old)
    if cfg.ruin:
        # ruin: the stops nearest a random one leave their routes; the search starts with
        # them unserved and must put them back (their penalty outweighs any route)
        seed = random.Random(cfg.seed).choice(list(local.values()))  # noqa: S311
        dist = sub.dist[0]
        order = np.argsort(dist[seed] + dist[:, seed], kind="stable").tolist()
        out = set([x for x in order if x >= sub.n_depots][: cfg.ruin])
        start = _Start(
            start.fleet, [(b, c, [x for x in n if x not in out]) for b, c, n in start.routes], None
        )
    work = ortools_work_for(seconds, sub)
    result = run_search(sub, cfg, deadline, start=start, work=work)
    # a search that ends at once (nothing to move) still costs the round its overhead: the
    # floor keeps the rounds from looping until the clock
    spent = max(MIN_GROUP_SECONDS, seconds * result.work / work)
    on_clock = result.stopped_by == "time_limit"
    new_routes = [(b, c, [back[x] for x in nodes]) for b, c, nodes in result.routes]
    served = sum(len(r[2]) for r in new_routes)
    new = sum(_route_cost(data, b, nodes) for b, _, nodes in new_routes)
    if served != len(stops) or new >= old:
        return _GroupAnswer(old, old, routes, spent, on_clock)
    return _GroupAnswer(old, new, new_routes, spent, on_clock)


_POOL_DATA: list[_Data] = []


def _pool_task(args: tuple[Routes, _Config, float, float]) -> _GroupAnswer:
    routes, cfg, share, deadline = args
    return _improve_group(_POOL_DATA[0], routes, cfg, deadline, share)


def _pool_first(args: tuple[_Config, float]) -> _Start:
    cfg, deadline = args
    return first_solution(_POOL_DATA[0], cfg, deadline)


def _first_solutions(pool: Any, args: list[tuple[_Config, float]], deadline: float) -> list[_Start]:
    """First solutions built side by side, in the order of ``args``; those ``deadline`` cuts
    are missing from the answer."""
    results = pool.imap(_pool_first, args)
    starts: list[_Start] = []
    while len(starts) < len(args):
        try:
            starts.append(results.next(timeout=max(0.0, deadline - time.monotonic())))
        except multiprocessing.TimeoutError:
            break
    return starts


def _clusters(data: _Data, size: int, rng: random.Random) -> list[list[int]]:
    """Stops split around far-apart centres (farthest-point seeds), each to its nearest."""
    stops = np.arange(data.n_depots, len(data.node_ids))
    dist = data.dist[0]
    k = math.ceil(len(stops) / size)
    centres = [int(rng.choice(stops.tolist()))]
    near = dist[centres[0], stops] + dist[stops, centres[0]]
    while len(centres) < k:
        c = int(stops[int(np.argmax(near))])
        centres.append(c)
        near = np.minimum(near, dist[c, stops] + dist[stops, c])
    sel = np.asarray(centres)
    owner = np.argmin(dist[np.ix_(sel, stops)] + dist[np.ix_(stops, sel)].T, axis=0)
    return [stops[owner == i].tolist() for i in range(k) if bool((owner == i).any())]


def _pool_cluster(args: tuple[list[int], _Config, float]) -> tuple[int | None, Routes]:
    stops, cfg, deadline = args
    data = _POOL_DATA[0]
    start = first_solution(_sub_data(data, stops), cfg, deadline)
    back = {data.n_depots + i: x for i, x in enumerate(stops)}
    return start.cost, [(b, c, [back[x] for x in nodes]) for b, c, nodes in start.routes]


def _cluster_first(
    data: _Data, configs: list[_Config], deadline: float, pool: Any, rng: random.Random
) -> _Start | None:
    """A first solution built cluster by cluster (cluster first, route second).

    On large problems a first solution of the whole costs seconds (quadratic in the
    stops); clusters of about DECOMPOSE_GROUP stops cost a fraction of that, and the
    rounds then repair the cluster borders. Each cluster keeps the cheaper of the first
    solutions of ``configs``; None when a cluster could not be served in full.
    """
    clusters = _clusters(data, DECOMPOSE_GROUP, rng)
    strategies = configs[:2]
    args = [(cl, cfg, deadline) for cl in clusters for cfg in strategies]
    if pool is not None:
        try:
            answers = pool.map_async(_pool_cluster, args).get(
                timeout=max(0.0, deadline - time.monotonic())
            )
        except multiprocessing.TimeoutError:
            return None
    else:
        answers = [_pool_cluster(a) for a in args]
    routes: Routes = []
    for k, cluster in enumerate(clusters):
        full = [
            (cost, rs)
            for cost, rs in answers[k * len(strategies) : (k + 1) * len(strategies)]
            if cost is not None and sum(len(r[2]) for r in rs) == len(cluster)
        ]
        if not full:
            return None
        routes.extend(min(full, key=lambda a: cast(int, a[0]))[1])
    return _trimmed(data, routes, sum(_route_cost(data, b, n) for b, _, n in routes))


def _makespan(seconds: list[float], workers: int) -> float:
    """When ``workers`` processes, each taking the next task when free, finish the tasks."""
    loads = [0.0] * max(1, workers)
    for t in seconds:
        i = loads.index(min(loads))
        loads[i] += t
    return max(loads)


def run_decomposed(
    data: _Data,
    configs: list[_Config],
    deadline: float,
    workers: int,
    report: Callable[[int], None],
    seconds: float,
) -> _Result:
    """First solutions in parallel, then rounds of group searches on ``workers`` processes.

    Each round cuts the current plan into groups of nearby routes (new random seeds each
    round) and runs the metaheuristic on every group, from its current routes, with an
    equal share of the budget left. A group's routes are replaced only by cheaper ones
    that serve the same stops, so the plan never gets worse.

    The budget is ``WORK_SHARE`` of ``seconds``, spent in nominal seconds: each group
    search gets a work budget (``ortools_work_for``) and a round costs what its searches'
    work would take on the workers. The number of rounds and every search therefore depend
    on the problem and the seed only. ``deadline`` is the guard: when it comes, groups
    still searching are abandoned (their routes stay as they were) and ``stopped_by``
    says ``time_limit``.
    """
    rng = random.Random(configs[0].seed)  # noqa: S311 (reproducible, not secret)
    _POOL_DATA[:] = [data]
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(workers) if workers > 1 else None
    rounds = 0
    on_clock = False
    try:
        # as in the portfolio's guard, a first plan may take up to twice the budget: a late
        # plan is better than none
        late = deadline + max(1.0, deadline - time.monotonic())
        first_args = [(c, late) for c in configs[: max(1, workers)]]
        clustered = None
        if len(data.node_ids) - data.n_depots > CLUSTER_FIRST_ABOVE:
            clustered = _cluster_first(data, configs, late, pool, rng)
            # None also when the clock cut the clusters' first solutions
            on_clock = clustered is None and time.monotonic() >= late
        if clustered is not None:
            starts = [clustered]
        elif pool is not None:
            starts = _first_solutions(pool, first_args, late)
            if len(starts) < len(first_args):
                # a first solution still running would hold a worker: start afresh
                on_clock = True
                pool.terminate()
                pool.join()
                pool = ctx.Pool(workers)
        else:
            starts = [_pool_first(a) for a in first_args]
        found = [s for s in starts if s.cost is not None and s.routes]
        if not found:
            raise InvalidProblem(
                "Aucune solution trouvée dans le temps imparti.", code="no_solution"
            )
        routes = min(found, key=lambda s: cast(int, s.cost)).routes
        first_cost = sum(_route_cost(data, b, nodes) for b, _, nodes in routes)
        cost = reported = first_cost
        report(cost)
        n_stops = len(data.node_ids) - data.n_depots
        group_size = DECOMPOSE_GROUP if n_stops > DECOMPOSE_ABOVE else n_stops
        left = WORK_SHARE * seconds
        while left > MIN_ROUND_SECONDS:
            if deadline - time.monotonic() < MIN_ROUND_SECONDS:
                on_clock = True
                break
            rounds += 1
            groups = _groups(data, routes, group_size, rng)
            # every group of a round gets the same share, in proportion to the largest group
            waves = math.ceil(len(groups) / max(1, workers))
            biggest = max(sum(len(routes[i][2]) for i in g) for g in groups)
            share = min(max(MIN_ROUND_SECONDS, SECONDS_PER_STOP * biggest), left / waves)
            # fewer groups than workers (small problems): each group is searched by several
            # workers with different seeds, and the best of their answers is kept
            copies = max(1, workers // len(groups))
            group_stops = [[x for i in g for x in routes[i][2]] for g in groups]
            tasks = [
                (
                    [routes[i] for i in group],
                    _Config(
                        configs[0].first_solution,
                        configs[0].metaheuristic,
                        configs[0].seed + 1000 * rounds + copies * k + j,
                        None,
                        ruin=round(RUIN_SHARE * len(group_stops[k])) if j % 2 else 0,
                    ),
                    share,
                    deadline,
                )
                for k, group in enumerate(groups)
                for j in range(copies)
            ]
            results: list[_GroupAnswer | None] = []
            if pool is not None:
                handles = [pool.apply_async(_pool_task, (t,)) for t in tasks]
                for h in handles:
                    try:
                        results.append(h.get(timeout=max(0.0, deadline + 0.05 - time.monotonic())))
                    except multiprocessing.TimeoutError:
                        results.append(None)
            else:
                results = [_pool_task(t) for t in tasks]
            new_routes: Routes = []
            for k in range(len(groups)):
                answers = [r for r in results[k * copies : (k + 1) * copies] if r is not None]
                if not answers:
                    new_routes.extend(tasks[k * copies][0])
                    continue
                best = min(answers, key=lambda r: r.new)
                cost += best.new - best.old
                new_routes.extend(best.routes)
            routes = new_routes
            if cost < reported:
                reported = cost
                report(cost)
            if any(r is None or r.on_clock for r in results):
                on_clock = True
                break
            left -= _makespan([cast(_GroupAnswer, r).seconds for r in results], workers)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _POOL_DATA.clear()
    final = _trimmed(data, routes, cost)
    return _Result(
        cost=cost,
        routes=final.routes,
        solutions=rounds,
        first_cost=first_cost,
        stopped_by="time_limit" if on_clock else "work_limit",
        fleet=sum(final.fleet),
    )


# Ruin and recreate (sisr.py) for the problems it models, above this many stops; smaller
# ones keep the OR-Tools search, which ends on its own (stall rule) and is reproducible.
SISR_ABOVE = 50


def use_sisr(data: _Data) -> bool:
    """Whether the ruin-and-recreate search models this problem exactly.

    One kind of vehicle, unlimited, priced by distance and per route; capacities without
    pickups; at most one time window per stop; one travel matrix.
    """
    n_stops = len(data.node_ids) - data.n_depots
    return (
        n_stops > SISR_ABOVE
        and can_decompose(data)
        and len(data.base_vehicles) == 1
        and len(data.dist) == 1
        and not data.signed_loads
        and all(len(w) <= 1 for w in data.windows[data.n_depots :])
    )


def sisr_instance(data: _Data) -> sisr.Instance:
    """The kernel's view of a problem ``use_sisr`` accepts (data node numbering)."""
    vehicle = data.base_vehicles[0]
    n = len(data.node_ids)
    far = 2**40  # no window: a bound no route reaches
    ready = np.zeros(n, dtype=np.int64)
    due = np.full(n, far, dtype=np.int64)
    if data.need_time:
        for x in range(data.n_depots, n):
            if data.windows[x]:
                ready[x], due[x] = data.windows[x][0]
        travel = data.time[0]
        shift = (vehicle.shift.start, vehicle.shift.end)
    else:
        travel = np.zeros_like(data.time[0])
        shift = (0, far)
    return sisr.Instance(
        dist=np.ascontiguousarray(data.dist[0] * data.base_km[0], dtype=np.int64),
        time=np.ascontiguousarray(travel, dtype=np.int64),
        ready=ready,
        due=due,
        demand=np.asarray(
            [[data.transit[d][x] for d in range(len(data.dims))] for x in range(n)],
            dtype=np.int64,
        ).reshape(n, len(data.dims)),
        capacity=np.asarray([vehicle.capacity.get(d, 0) for d in data.dims], dtype=np.int64),
        start=data_node_of_depot(data, 0, True),
        end=data_node_of_depot(data, 0, False),
        shift_start=shift[0],
        shift_end=shift[1],
        fixed=data.base_fixed[0],
        customers=np.arange(data.n_depots, n, dtype=np.int64),
    )


# run_sisr awaits the other processes' plans this share of the time limit past the deadline
# (at least WORKER_GRACE_MIN seconds): the searches stop at the deadline, and a solve must
# not last more than 5 % over its limit.
WORKER_GRACE = 0.02
WORKER_GRACE_MIN = 0.05


def _sisr_worker(
    inst: sisr.Instance,
    seed: int,
    deadline: float,
    work: int,
    conn: multiprocessing.connection.Connection,
) -> None:
    conn.send(sisr.search(inst, seed, deadline, work))
    conn.close()


def kernel_view(problem: Problem, provider: TravelProvider) -> sisr.Instance | None:
    """The ruin-and-recreate kernel's view of ``problem``, or None when it is not for it."""
    data, unserved, _ = _compile(problem, provider, SolveOptions())
    return sisr_instance(data) if not unserved and use_sisr(data) else None


def run_sisr(
    data: _Data,
    seed: int,
    deadline: float,
    work: int,
    workers: int,
    report: Callable[[int], None],
) -> _Result:
    """Ruin and recreate on ``workers`` processes with their own seeds; the best plan wins.

    Each process does ``work`` units (``sisr.work_for`` of the time limit), so the plan
    depends on the seed and the time limit, not on the clock, unless ``deadline`` comes
    first (``stopped_by`` then says ``time_limit``).

    Process 0 runs the very search of ``workers=1``, so that with the work budget spent
    more workers never give a worse plan than one. The others' plans are awaited a short
    grace past the deadline (``WORKER_GRACE``); one that has not answered by then is left
    out, and cannot displace a plan in hand.

    The kernel is compiled (or loaded from Numba's cache) before the processes fork, so
    that they inherit it (``solve`` has done it already, with its clock stopped).
    """
    sisr.warm_up()
    grace = max(WORKER_GRACE_MIN, WORKER_GRACE * (deadline - time.monotonic()))
    inst = sisr_instance(data)
    ctx = multiprocessing.get_context("fork")
    procs = []
    conns = []
    for w in range(1, max(1, workers)):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_sisr_worker,
            args=(inst, seed * 7919 + w, deadline, work, child),
            daemon=True,
        )
        proc.start()
        child.close()
        procs.append(proc)
        conns.append(parent)
    outcomes = [sisr.search(inst, seed * 7919, deadline, work, on_improve=report)]
    for conn in conns:
        if conn.poll(max(0.0, deadline + grace - time.monotonic())):
            # a worker that died without a word leaves the others' plans standing
            with contextlib.suppress(EOFError):
                outcomes.append(conn.recv())
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
        proc.join(1.0)
    best = min(outcomes, key=lambda o: o.cost)
    if best.cost < outcomes[0].cost:
        report(best.cost)
    return _Result(
        cost=best.cost,
        routes=[(0, c, nodes) for c, nodes in enumerate(best.routes)],
        solutions=sum(o.iterations for o in outcomes),
        first_cost=min(o.first_cost for o in outcomes),
        stopped_by="time_limit" if any(o.on_clock for o in outcomes) else "work_limit",
        fleet=len(best.routes),
    )


def _worker(
    data: _Data,
    cfg: _Config,
    deadline: float,
    work: int | None,
    conn: multiprocessing.connection.Connection,
) -> None:
    def send_routes(cost: int, routes: list[tuple[int, int, list[int]]]) -> None:
        conn.send(("routes", cost, routes))

    def send_cost(cost: int) -> None:
        conn.send(("cost", cost))

    result = run_search(data, cfg, deadline, on_improve=send_cost, on_routes=send_routes, work=work)
    conn.send(("done", result))
    conn.close()


def _run_portfolio(
    data: _Data,
    configs: list[_Config],
    deadline: float,
    report: Callable[[int], None],
    work: int | None = None,
) -> _Result:
    """One search a process, each with its configuration and ``work`` budget; the best wins.

    The plan is reproducible when every search ends on its own (budget, stall rule or
    solution limit); when the deadline cuts one, ``stopped_by`` says ``time_limit``.
    """
    # fork shares the matrices without pickling them; the searches hold no threads here
    ctx = multiprocessing.get_context("fork")
    procs = []
    conns = []
    for cfg in configs:
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(data, cfg, deadline, work, child), daemon=True)
        proc.start()
        child.close()
        procs.append(proc)
        conns.append(parent)
    best_partial: list[_Result | None] = [None] * len(configs)
    done: list[_Result | None] = [None] * len(configs)
    best_cost = math.inf
    open_conns = {id(c): i for i, c in enumerate(conns)}
    # the guard: at the deadline, searches still running are stopped and their last
    # reported routes used; only when none has reported anything yet do we wait longer
    # (up to twice the budget) rather than return no plan at all
    budget = deadline - time.monotonic()
    while open_conns:
        have = any(r is not None for r in done + best_partial)
        until = deadline + 0.05 if have else deadline + max(budget, 1.0)
        if time.monotonic() >= until:
            break
        ready = multiprocessing.connection.wait(
            [conns[i] for i in open_conns.values()], timeout=max(0.0, until - time.monotonic())
        )
        for conn in ready:
            i = open_conns[id(conn)]
            try:
                msg: Any = cast(multiprocessing.connection.Connection, conn).recv()
            except EOFError:
                del open_conns[id(conn)]
                continue
            if msg[0] == "cost" and msg[1] < best_cost:
                best_cost = msg[1]
                report(msg[1])
            elif msg[0] == "routes":
                best_partial[i] = _Result(cost=msg[1], routes=msg[2], stopped_by="guard")
            elif msg[0] == "done":
                done[i] = msg[1]
                del open_conns[id(conn)]
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(1.0)
    found = [c for c in done + best_partial if c is not None and c.cost < 2**62]
    if not found:
        raise InvalidProblem("Aucune solution trouvée dans le temps imparti.", code="no_solution")
    best = min(found, key=lambda r: r.cost)
    if any(d is None or d.stopped_by == "time_limit" for d in done):
        best.stopped_by = "time_limit"
    best.solutions = sum(c.solutions for c in found)
    firsts = [c.first_cost for c in found if c.first_cost is not None]
    best.first_cost = min(firsts) if firsts else None
    return best


def _solution(
    problem: Problem,
    data: _Data,
    result: _Result,
    unserved: list[Unserved],
    started: float,
    options: SolveOptions,
    scale: float,
    warm_up_s: float = 0.0,
) -> Solution:
    routes: list[Route] = []
    served: set[str] = set()
    stops = {s.id: s for s in problem.stops}
    paired = {p.delivery for p in problem.pairs}
    priced = any(v.cost_per_km or v.cost_per_hour or v.fixed_cost for v in problem.vehicles)
    for b, c, nodes in sorted(result.routes, key=lambda r: (r[0], r[1])):
        vehicle = data.base_vehicles[b]
        p = data.base_profile[b]
        start = data_node_of_depot(data, b, True)
        end = data_node_of_depot(data, b, False)
        path = [start, *nodes, end]
        dist = data.dist[p]
        travel = [int(data.time[p][a, z]) - data.service[a] for a, z in itertools.pairwise(path)]
        sched = forward_schedule(
            travel,
            [data.service[x] for x in nodes],
            [data.windows[x] for x in nodes],
            (vehicle.shift.start, vehicle.shift.end),
        )
        # The load on board: what the route delivers from the depot leaves with it, each
        # delivery drops its demand, each pickup adds its own (with or without pickups).
        load = {d: 0 for d in data.dims}
        for x in nodes:
            s = stops[data.node_ids[x]]
            if s.kind == "delivery" and s.id not in paired:
                for d in data.dims:
                    load[d] += s.demand.get(d, 0)
        visits = []
        for k, x in enumerate(nodes):
            s = stops[data.node_ids[x]]
            for d in data.dims:
                q = s.demand.get(d, 0)
                load[d] += q if s.kind == "pickup" else -q
            arrival, begin = sched.arrivals[k], sched.starts[k]
            visits.append(
                Visit(
                    s.id,
                    arrival,
                    begin,
                    begin + s.service_s,
                    {d: load[d] for d in data.dims},
                )
            )
            served.add(s.id)
        meters = sum(int(dist[a, z]) for a, z in itertools.pairwise(path))
        cost = (
            vehicle.fixed_cost
            + meters / 1000 * vehicle.cost_per_km
            + (sched.end - sched.departure) / 3600 * vehicle.cost_per_hour
            if priced
            else float(meters)
        )
        routes.append(Route(vehicle.id, c, tuple(visits), sched.departure, sched.end, meters, cost))
    unserved = list(unserved)
    for sid in data.node_ids[data.n_depots :]:
        if sid not in served:
            unserved.append(Unserved(sid, "not_routed", UNSERVED_MESSAGES["not_routed"]))
    priced = any(v.cost_per_km or v.cost_per_hour or v.fixed_cost for v in problem.vehicles)
    total = sum(r.cost for r in routes) if priced else float(sum(r.distance_m for r in routes))
    stats = SearchStats(
        seconds=time.monotonic() - started,
        solutions=result.solutions,
        first_cost=None if result.first_cost is None else result.first_cost / scale,
        stopped_by=result.stopped_by,
        workers=options.workers,
        fleet_size=result.fleet,
        warm_up_s=warm_up_s,
    )
    return Solution(
        tuple(routes),
        tuple(sorted(unserved, key=lambda u: u.stop_id)),
        total,
        sum(r.distance_m for r in routes),
        stats,
    )
