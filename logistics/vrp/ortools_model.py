"""The OR-Tools model of a compiled problem: its vehicles, dimensions and search parameters.

``build_model`` turns a ``Data`` and a fleet (copies of each base vehicle) into a routing
model, its nodes shuffled by the seed; ``extract_routes`` reads routes back in data nodes.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from logistics.vrp.data import Data, IntMatrix, data_node_of_depot

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


@dataclass(slots=True)
class Config:
    """One OR-Tools search's configuration: strategies by OR-Tools' names, seed, limits."""

    first_solution: str
    metaheuristic: str
    seed: int
    max_solutions: int | None
    ruin: int = 0  # group searches: stops taken out (nearest to a random one) before it


@dataclass(slots=True)
class Built:
    """A routing model and how its vehicles and nodes map to the data's."""

    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    slots: list[tuple[int, int]]
    perm: list[int]  # model node -> data node


def build_model(data: Data, fleet: list[int], seed: int) -> Built:
    """The OR-Tools model of ``data`` with ``fleet[b]`` copies of each base vehicle.

    A non-zero ``seed`` shuffles the stops' order in the model (the searches then differ);
    every stop may go unserved, at ``data.penalty``.
    """
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
    return Built(manager, routing, slots, perm)


def search_parameters(cfg: Config, seconds: float, first_only: bool) -> object:
    """OR-Tools' search parameters for ``cfg``: a first solution only, or the metaheuristic."""
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


def extract_routes(built: Built, assignment: object | None) -> list[tuple[int, int, list[int]]]:
    """The used vehicles' routes in data nodes, from ``assignment`` (None: the search's
    current solution, inside a solution callback)."""
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
