"""The answer of a search turned into a ``Solution``: schedules, loads on board, costs in
euros (or distance), the stops left unserved and the search's figures.
"""

from __future__ import annotations

import itertools
import time

from logistics.vrp.data import UNSERVED_MESSAGES, Data, Result, data_node_of_depot
from logistics.vrp.model import Problem, Route, SearchStats, Solution, SolveOptions, Unserved, Visit
from logistics.vrp.schedule import forward_schedule


def assemble(
    problem: Problem,
    data: Data,
    result: Result,
    unserved: list[Unserved],
    started: float,
    options: SolveOptions,
    scale: float,
    warm_up_s: float = 0.0,
) -> Solution:
    """The ``Solution`` of ``result``: schedules, loads, costs, unserved stops and figures."""
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
    total = sum(r.cost for r in routes) if priced else float(sum(r.distance_m for r in routes))
    stats = SearchStats(
        seconds=time.monotonic() - started,
        solutions=result.solutions,
        first_cost=None if result.first_cost is None else result.first_cost / scale,
        stopped_by=result.stopped_by,
        workers=options.workers,
        fleet_size=result.fleet,
        schedule_share=result.schedule_share,
        warm_up_s=warm_up_s,
    )
    return Solution(
        tuple(routes),
        tuple(sorted(unserved, key=lambda u: u.stop_id)),
        total,
        sum(r.distance_m for r in routes),
        stats,
    )
