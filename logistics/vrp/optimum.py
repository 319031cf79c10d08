"""Exact optima of tiny problems, as references for the benchmarks.

``cvrp_optimum``: capacity only, by dynamic programming over subsets: the cheapest tour of
each set of customers that fits one vehicle (Held and Karp), then the cheapest split of all
customers into such sets. The work grows as 3^n, so it is kept to ``MAX_CUSTOMERS``.

``rich_optimum``: any problem of the model (windows, fleets, costs, pairs), by trying every
order of every set of stops; kept to ``MAX_RICH_STOPS``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from logistics.vrp.model import Problem, Vehicle
from logistics.vrp.providers import Point, TravelProvider
from logistics.vrp.schedule import forward_schedule

MAX_CUSTOMERS = 12


def cvrp_optimum(distance: Sequence[Sequence[int]], demand: Sequence[int], capacity: int) -> int:
    """Least total distance serving every customer, unlimited vehicles of ``capacity``.

    ``distance`` is indexed by node, the depot being node 0 and customer ``i`` node
    ``i + 1``; ``demand[i]`` is customer ``i``'s demand.
    """
    n = len(demand)
    if n > MAX_CUSTOMERS:
        raise ValueError(f"{n} customers: the exact optimum is kept to {MAX_CUSTOMERS}")
    if any(d > capacity for d in demand):
        raise ValueError("a customer's demand exceeds the capacity")
    if n == 0:
        return 0
    full = 1 << n
    load = [0] * full
    for mask in range(1, full):
        low = (mask & -mask).bit_length() - 1
        load[mask] = load[mask & (mask - 1)] + demand[low]
    inf = float("inf")
    # path[mask][j]: cheapest path from the depot through ``mask``, ending at customer j
    path = [[inf] * n for _ in range(full)]
    for j in range(n):
        path[1 << j][j] = distance[0][j + 1]
    tour = [inf] * full
    for mask in range(1, full):
        if load[mask] > capacity:
            continue
        row = path[mask]
        best = inf
        for j in range(n):
            here = row[j]
            if here == inf:
                continue
            best = min(best, here + distance[j + 1][0])
            for k in range(n):
                bit = 1 << k
                if mask & bit or load[mask | bit] > capacity:
                    continue
                step = here + distance[j + 1][k + 1]
                if step < path[mask | bit][k]:
                    path[mask | bit][k] = step
        tour[mask] = best
    # split: the route holding the lowest customer left, then the best of the rest
    split = [inf] * full
    split[0] = 0
    for mask in range(1, full):
        low = mask & -mask
        rest = mask ^ low
        sub = rest
        best = inf
        while True:
            route = sub | low
            if tour[route] < inf:
                best = min(best, tour[route] + split[mask ^ route])
            if sub == 0:
                break
            sub = (sub - 1) & rest
        split[mask] = best
    return int(split[full - 1])


MAX_RICH_STOPS = 8


@dataclass(frozen=True, slots=True)
class RichOptimum:
    """The least cost and one plan reaching it: (vehicle id, copy, stop ids) per route."""

    cost: float
    routes: list[tuple[str, int, list[str]]]


def rich_optimum(problem: Problem, provider: TravelProvider) -> RichOptimum:
    """Least cost serving every stop of a small rich problem, by exhaustive search.

    Any problem the model holds: time windows (several per stop), limited or mixed fleets,
    fixed, per-km and per-hour costs, pickups paired with deliveries, loads in several
    dimensions, ranges, required features. The cost is the one ``solve`` reports: each
    route timed at its earliest, then its departure pushed back to cut waiting
    (``schedule.forward_schedule``). Every order of every set of stops is tried on every
    vehicle (109,600 orders at 8 stops, hence ``MAX_RICH_STOPS``), then the stops are split
    into routes at the least total cost within each vehicle's number of copies.
    Raises ``ValueError`` when no plan serves every stop.
    """
    n = len(problem.stops)
    if n > MAX_RICH_STOPS:
        raise ValueError(f"{n} stops: the exhaustive optimum is kept to {MAX_RICH_STOPS}")
    if n == 0:
        return RichOptimum(0.0, [])
    priced = any(v.cost_per_km or v.cost_per_hour or v.fixed_cost for v in problem.vehicles)
    tours = [_tours(problem, provider, vehicle, priced) for vehicle in problem.vehicles]
    copies = [v.copies if v.copies is not None else n for v in problem.vehicles]
    full = 1 << n
    # split[mask][used]: the least cost serving ``mask`` with ``used`` vehicles of each
    # kind, and its last route (its set of stops and its kind), to rebuild the plan
    split: list[dict[tuple[int, ...], tuple[float, int, int]]] = [{} for _ in range(full)]
    split[0][(0,) * len(copies)] = (0.0, 0, -1)
    for mask in range(1, full):
        low = mask & -mask
        rest = mask ^ low
        sub = rest
        here = split[mask]
        while True:
            route = sub | low
            for kind, (costs, _orders) in enumerate(tours):
                cost = costs[route]
                if cost == math.inf:
                    continue
                for used, (before, _r, _k) in split[mask ^ route].items():
                    if used[kind] >= copies[kind]:
                        continue
                    now = (*used[:kind], used[kind] + 1, *used[kind + 1 :])
                    if before + cost < here.get(now, (math.inf, 0, 0))[0]:
                        here[now] = (before + cost, route, kind)
            if sub == 0:
                break
            sub = (sub - 1) & rest
    if not split[full - 1]:
        raise ValueError("no plan serves every stop")
    used = min(split[full - 1], key=lambda u: split[full - 1][u][0])
    total = split[full - 1][used][0]
    routes: list[tuple[str, int, list[str]]] = []
    mask = full - 1
    while mask:
        _cost, route, kind = split[mask][used]
        used = (*used[:kind], used[kind] - 1, *used[kind + 1 :])
        vehicle = problem.vehicles[kind]
        stops = [problem.stops[k].id for k in tours[kind][1][route]]
        routes.append((vehicle.id, used[kind], stops))
        mask ^= route
    return RichOptimum(total, routes[::-1])


def _tours(
    problem: Problem, provider: TravelProvider, vehicle: Vehicle, priced: bool
) -> tuple[list[float], list[list[int]]]:
    """The cheapest route of ``vehicle`` through each set of stops (a bit mask): its cost
    (inf when none fits) and its order."""
    stops = problem.stops
    n = len(stops)
    points = [Point(d.id, d.lat, d.lon) for d in problem.depots] + [
        Point(s.id, s.lat, s.lon) for s in stops
    ]
    index = {p.id: i for i, p in enumerate(points)}
    node = [index[s.id] for s in stops]
    position = {s.id: k for k, s in enumerate(stops)}
    pickup_of = {position[p.delivery]: position[p.pickup] for p in problem.pairs}
    delivery_of = {k: j for j, k in pickup_of.items()}
    paired = set(pickup_of) | set(delivery_of)
    matrix = provider.matrix(points, vehicle.profile)
    dist, dur = matrix.distance_m, matrix.duration_s
    start, end = index[vehicle.start_depot], index[vehicle.end]
    shift = (vehicle.shift.start, vehicle.shift.end)
    dims = sorted(set(vehicle.capacity).union(*(s.demand for s in stops)))
    cap = [vehicle.capacity.get(d, 0) for d in dims]
    change = [[(1 if s.kind == "pickup" else -1) * s.demand.get(d, 0) for d in dims] for s in stops]
    windows = [
        [(w.start, w.end) for w in sorted(s.windows, key=lambda w: w.start)] or [shift]
        for s in stops
    ]
    service = [s.service_s for s in stops]
    allowed = [s.requires <= vehicle.features for s in stops]
    best = [math.inf] * (1 << n)
    best_order: list[list[int]] = [[] for _ in range(1 << n)]

    def cost_of(order: list[int]) -> float:
        path = [start, *(node[k] for k in order), end]
        meters = sum(dist[a][b] for a, b in itertools.pairwise(path))
        if vehicle.max_distance_m is not None and meters > vehicle.max_distance_m:
            return math.inf
        if not priced:
            return float(meters)
        travel = [dur[a][b] for a, b in itertools.pairwise(path)]
        sched = forward_schedule(
            travel, [service[k] for k in order], [windows[k] for k in order], shift
        )
        return (
            vehicle.fixed_cost
            + meters / 1000 * vehicle.cost_per_km
            + (sched.end - sched.departure) / 3600 * vehicle.cost_per_hour
        )

    def extend(
        target: int, order: list[int], mask: int, load: list[int], here: int, t: int
    ) -> None:
        # ``t`` is the earliest departure from ``here``: leaving the depot later never
        # brings a stop missed at the earliest back into its window
        if mask == target:
            if t + dur[here][end] <= shift[1]:
                cost = cost_of(order)
                if cost < best[target]:
                    best[target], best_order[target] = cost, list(order)
            return
        for k in range(n):
            bit = 1 << k
            if not target & bit or mask & bit:
                continue
            if k in pickup_of and not mask & (1 << pickup_of[k]):
                continue
            arrive = t + dur[here][node[k]]
            begin = next((max(arrive, lo) for lo, hi in windows[k] if hi >= arrive), None)
            if begin is None:
                continue
            after = [q + c for q, c in zip(load, change[k], strict=True)]
            if any(q > c for q, c in zip(after, cap, strict=True)):
                continue
            order.append(k)
            extend(target, order, mask | bit, after, node[k], begin + service[k])
            order.pop()

    for target in range(1, 1 << n):
        members = [k for k in range(n) if target & (1 << k)]
        if not all(allowed[k] for k in members):
            continue
        if any(k in pickup_of and not target & (1 << pickup_of[k]) for k in members):
            continue  # a delivery without its pickup
        if any(k in delivery_of and not target & (1 << delivery_of[k]) for k in members):
            continue  # a pickup without its delivery
        # unpaired deliveries are loaded at the depot
        load = [0] * len(dims)
        for k in members:
            if stops[k].kind == "delivery" and k not in paired:
                load = [q - c for q, c in zip(load, change[k], strict=True)]
        if any(q > c for q, c in zip(load, cap, strict=True)):
            continue
        extend(target, [], 0, load, start, shift[0])
    return best, best_order
