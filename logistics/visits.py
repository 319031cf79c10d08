"""One visit per place on a round: the engine's stops of one place brought together.

A destination is several engine stops at the same place: its hub share (loaded at the
depot) and one drop per farm collected on the round (``relay:b#farm:a``), each paired with
its pickup at the farm; a farm is one pickup per destination it supplies. The engine sees
them as separate stops joined by arcs of zero length, and a drop costs no service time of
its own, so nothing in its objective tells a route that calls twice at the same place
(depot -> Malo -> farm -> Malo) from one that calls once (depot -> farm -> Malo): on a
short search it keeps whichever it found first. A driver stops once where one stop can
carry everything, so each route is reordered here, after the search: the visits of a place
called at more than once go together, at its first call (pickups: they only come earlier)
or at its last (drops: after the pickups that feed them), whichever keeps every window,
capacity, range and pickup-before-drop rule and costs less. Where neither does, the route
is kept as the engine planned it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from logistics.vrp import model as vrp
from logistics.vrp.providers import TravelProvider
from logistics.vrp.timing import RouteTimer, RouteTiming

# Reordering passes per route at most: each pass brings one place's calls together.
MAX_PASSES = 50


def solution_merge_visits(
    *,
    problem: vrp.Problem,
    provider: TravelProvider,
    solution: vrp.Solution,
    place_of: Callable[[str], str],
) -> vrp.Solution:
    """The solution whose routes call once at each place wherever the route allows it.

    ``place_of`` maps an engine stop id to its place. Only the order within a route
    changes: each stop stays on its route, so the shares each route carries are the same.
    A route changed is timed again (``RouteTimer``) and the solution's cost and distance
    summed again.
    """
    timer: RouteTimer | None = None
    routes: list[vrp.Route] = []
    changed = False
    for route in solution.routes:
        ids = [visit.stop_id for visit in route.visits]
        if len(_calls(ids, place_of)) == len({place_of(i) for i in ids}):
            routes.append(route)
            continue
        timer = timer or RouteTimer(problem, provider)
        merged = _route_merged(timer, route, ids, place_of)
        if merged is None:
            routes.append(route)
            continue
        routes.append(merged.route)
        changed = True
    if not changed:
        return solution
    return dataclasses.replace(
        solution,
        routes=tuple(routes),
        cost=sum(route.cost for route in routes),
        distance_m=sum(route.distance_m for route in routes),
    )


def _calls(ids: Sequence[str], place_of: Callable[[str], str]) -> list[tuple[str, list[str]]]:
    """The route's calls: runs of consecutive stops at one place, in order."""
    calls: list[tuple[str, list[str]]] = []
    for stop_id in ids:
        place = place_of(stop_id)
        if calls and calls[-1][0] == place:
            calls[-1][1].append(stop_id)
        else:
            calls.append((place, [stop_id]))
    return calls


def _route_merged(
    timer: RouteTimer, route: vrp.Route, ids: list[str], place_of: Callable[[str], str]
) -> RouteTiming | None:
    """The route with the calls of each place brought together where feasible; None when
    no place could be."""
    best: RouteTiming | None = None
    tried: set[str] = set()
    for _pass in range(MAX_PASSES):
        calls = _calls(ids, place_of)
        seen: dict[str, int] = {}
        for place, _stops in calls:
            seen[place] = seen.get(place, 0) + 1
        repeated = [place for place, count in seen.items() if count > 1 and place not in tried]
        if not repeated:
            break
        place = repeated[0]
        candidates = []
        for at_last in (False, True):
            order = _gathered(calls, place, at_last=at_last)
            timing = timer.time(route.vehicle_id, order, copy=route.copy)
            if _feasible(timer, order, timing):
                candidates.append((timing.route.cost, order, timing))
        if not candidates:
            tried.add(place)  # this round cannot call there once: the next place is tried
            continue
        _cost, ids, best = min(candidates, key=lambda candidate: candidate[0])
    return best


def _gathered(calls: list[tuple[str, list[str]]], place: str, *, at_last: bool) -> list[str]:
    """The route's stops with every stop at ``place`` moved to its first or last call."""
    together = [stop_id for where, stops in calls if where == place for stop_id in stops]
    positions = [index for index, (where, _stops) in enumerate(calls) if where == place]
    keep = positions[-1] if at_last else positions[0]
    order: list[str] = []
    for index, (where, stops) in enumerate(calls):
        if where != place:
            order += stops
        elif index == keep:
            order += together
    return order


def _feasible(timer: RouteTimer, order: list[str], timing: RouteTiming) -> bool:
    """Whether the timed route keeps its windows, shift, capacities, range and pairs."""
    vehicle = timing.vehicle
    route = timing.route
    if route.start_time < vehicle.shift.start or route.end_time > vehicle.shift.end:
        return False
    for visit in route.visits:
        windows = timer.stops[visit.stop_id].windows
        if windows and not any(w.start <= visit.start <= w.end for w in windows):
            return False
    dimensions = set(timing.start_load) | {d for v in route.visits for d in v.load}
    for dimension in dimensions:
        loads = [timing.start_load.get(dimension, 0)]
        loads += [visit.load.get(dimension, 0) for visit in route.visits]
        if min(loads) < 0 or max(loads) > vehicle.capacity.get(dimension, 0):
            return False
    if vehicle.max_distance_m is not None and route.distance_m > vehicle.max_distance_m:
        return False
    position = {stop_id: index for index, stop_id in enumerate(order)}
    for pair in timer.problem.pairs:
        if pair.pickup in position or pair.delivery in position:
            if pair.pickup not in position or pair.delivery not in position:
                return False
            if position[pair.pickup] > position[pair.delivery]:
                return False
    return True
