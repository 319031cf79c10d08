"""The problem compiled for the searches: plain arrays, picklable, no OR-Tools objects.

``compile_problem`` validates nothing (``solve`` has done it): it asks the provider for the
matrices, sets aside the stops no vehicle can serve (with their reason), and prices the
vehicles in integer units. ``Result`` is what every search answers, in the same numbering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from logistics.vrp.model import Problem, SolveOptions, SpeedProfile, Stop, Unserved, Vehicle
from logistics.vrp.providers import Point, TravelProvider

IntMatrix = npt.NDArray[np.int64]

# Internal cost unit: one millionth of the euro, so that per-second and per-metre costs
# stay integers with negligible rounding; everything is divided by the gcd afterwards.
_MICRO = 1_000_000

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
class Data:
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


Routes = list[tuple[int, int, list[int]]]
"""(base vehicle, copy, data nodes) for each used vehicle."""


@dataclass(slots=True)
class Result:
    """What a search answers: its best routes, their cost (internal units) and its figures."""

    cost: int
    routes: Routes  # (base vehicle, copy, nodes)
    solutions: int = 0
    first_cost: int | None = None
    stopped_by: str = "completed"
    fleet: int = 0
    work: int = 0  # calls of the OR-Tools limit check (the searches' measure of effort)
    schedule_share: float | None = None  # the ruin and recreate's (SearchStats)


def compile_problem(
    problem: Problem, provider: TravelProvider, options: SolveOptions
) -> tuple[Data, list[Unserved], float]:
    """The problem as arrays, the stops no vehicle can serve (with their reason), and the
    internal cost units per euro (or per distance unit when nothing is priced)."""
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
    # free so that it equals what the route delivers from the depot (see ortools_model.build_model)
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
    data = Data(
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


def fleet_lower_bound(data: Data, base: int) -> int:
    """Vehicles of base ``base`` the loads need at least (by capacity), at most one a stop."""
    n_stops = len(data.node_ids) - data.n_depots
    vehicle = data.base_vehicles[base]
    lb = 1
    for d, name in enumerate(data.dims):
        cap = vehicle.capacity.get(name, 0)
        total = sum(abs(q) for q in data.transit[d][data.n_depots :])
        if cap > 0:
            lb = max(lb, math.ceil(total / cap))
    return min(lb, n_stops)


def data_node_of_depot(data: Data, base: int, start: bool) -> int:
    """Node index of a base vehicle's start (or end) depot."""
    vehicle = data.base_vehicles[base]
    depot = vehicle.start_depot if start else vehicle.end
    return data.node_ids.index(depot)


def can_decompose(data: Data) -> bool:
    """Whether the cost is a sum of independent route costs the groups can be priced by."""
    return (
        all(c is None for c in data.copies)
        and not any(data.base_hour)
        and not data.pairs
        and all(v.max_distance_m is None for v in data.base_vehicles)
    )
