"""The schedule of one route as the checker simulates it: arrivals, loads, distance, cost.

The planning pages re-time a route after a coordinator moves a stop, and stable rounds
time the "usual" rounds they compare with the solver's; both need the figures the checker
computes without its verdict. A route is timed from its vehicle's shift start, waiting at
each stop for its window, then its departure is delayed by as much of that waiting as the
windows allow (the forward time slack), so the driver does not leave early to wait.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from logistics.vrp.model import Problem, Route, SpeedProfile, Stop, TimeWindow, Vehicle, Visit
from logistics.vrp.providers import Point, TravelMatrix, TravelProvider


@dataclass(frozen=True, slots=True)
class RouteTiming:
    """A timed route and the load on board when it leaves the depot."""

    route: Route
    start_load: Mapping[str, int]
    vehicle: Vehicle

    @property
    def duration_s(self) -> int:
        return self.route.end_time - self.route.start_time

    def max_load(self, dimension: str) -> int:
        """The largest load on board in one dimension, at the depot or after any stop."""
        loads = [self.start_load.get(dimension, 0)]
        loads += [visit.load.get(dimension, 0) for visit in self.route.visits]
        return max(loads)


class RouteTimer:
    """Times routes of one problem; the provider's matrices are asked once per profile."""

    def __init__(self, problem: Problem, provider: TravelProvider) -> None:
        self.problem = problem
        self.provider = provider
        points = [Point(d.id, d.lat, d.lon) for d in problem.depots] + [
            Point(s.id, s.lat, s.lon) for s in problem.stops
        ]
        self.points = points
        self.index = {p.id: i for i, p in enumerate(points)}
        self.vehicles = {v.id: v for v in problem.vehicles}
        self.stops = {s.id: s for s in problem.stops}
        self.paired_deliveries = {p.delivery for p in problem.pairs}
        self.priced = any(
            v.cost_per_km or v.cost_per_hour or v.fixed_cost for v in problem.vehicles
        )
        self._matrices: dict[SpeedProfile, TravelMatrix] = {}

    def matrix(self, profile: SpeedProfile) -> TravelMatrix:
        """The travel matrix of a profile over the problem's depots and stops."""
        if profile not in self._matrices:
            self._matrices[profile] = self.provider.matrix(self.points, profile)
        return self._matrices[profile]

    def distance_m(self, vehicle_id: str, a: str, b: str) -> int:
        """Metres from place id ``a`` to ``b`` for this vehicle's profile."""
        tm = self.matrix(self.vehicles[vehicle_id].profile)
        return tm.distance_m[self.index[a]][self.index[b]]

    def time(
        self,
        vehicle_id: str,
        stop_ids: Sequence[str],
        *,
        copy: int = 0,
        start_time: int | None = None,
    ) -> RouteTiming:
        """Time the route; ``start_time`` None starts as late as the windows allow."""
        vehicle = self.vehicles[vehicle_id]
        stops = [self.stops[sid] for sid in stop_ids]
        if start_time is None:
            early = self._simulate(vehicle, stops, vehicle.shift.start)
            start_time = vehicle.shift.start + _slack(early, stops)
        timed = self._simulate(vehicle, stops, start_time)
        return self._finish(vehicle, copy, stops, timed, start_time)

    def _simulate(
        self, vehicle: Vehicle, stops: list[Stop], depart: int
    ) -> list[tuple[int, int, int]]:
        """(arrival, start, departure) per stop, then (back at the depot, 0, 0)."""
        tm = self.matrix(vehicle.profile)
        idx = self.index
        here, t = vehicle.start_depot, depart
        out = []
        for stop in stops:
            arrive = t + tm.duration_s[idx[here]][idx[stop.id]]
            begin = _window_start(stop.windows, arrive)
            out.append((arrive, begin, begin + stop.service_s))
            here, t = stop.id, begin + stop.service_s
        out.append((t + tm.duration_s[idx[here]][idx[vehicle.end]], 0, 0))
        return out

    def _finish(
        self,
        vehicle: Vehicle,
        copy: int,
        stops: list[Stop],
        timed: list[tuple[int, int, int]],
        start: int,
    ) -> RouteTiming:
        dims = set(vehicle.capacity)
        for stop in stops:
            dims.update(stop.demand)
        load = dict.fromkeys(sorted(dims), 0)
        for stop in stops:
            if stop.kind == "delivery" and stop.id not in self.paired_deliveries:
                for d, q in stop.demand.items():
                    load[d] += q
        start_load = dict(load)
        visits = []
        for stop, (arrive, begin, leave) in zip(stops, timed, strict=False):
            sign = 1 if stop.kind == "pickup" else -1
            for d, q in stop.demand.items():
                load[d] += sign * q
            visits.append(Visit(stop.id, arrive, begin, leave, dict(load)))
        path = [vehicle.start_depot, *(s.id for s in stops), vehicle.end]
        tm = self.matrix(vehicle.profile)
        idx = self.index
        distance = sum(tm.distance_m[idx[a]][idx[b]] for a, b in itertools.pairwise(path))
        end = timed[-1][0]
        if self.priced:
            cost = (
                vehicle.fixed_cost
                + distance / 1000 * vehicle.cost_per_km
                + (end - start) / 3600 * vehicle.cost_per_hour
            )
        else:
            cost = float(distance)
        if not stops:
            cost = 0.0
        route = Route(vehicle.id, copy, tuple(visits), start, end, distance, cost)
        return RouteTiming(route=route, start_load=start_load, vehicle=vehicle)


def _window_start(windows: tuple[TimeWindow, ...], arrive: int) -> int:
    """Service starts on arrival, or at the opening of the first window not yet closed."""
    for window in sorted(windows, key=lambda w: w.start):
        if window.end >= arrive:
            return max(arrive, window.start)
    return arrive


def _window_end(windows: tuple[TimeWindow, ...], begin: int) -> int | None:
    for window in windows:
        if window.start <= begin <= window.end:
            return window.end
    return None


def _slack(timed: list[tuple[int, int, int]], stops: list[Stop]) -> int:
    """How long the departure can wait without breaking a window: the waiting it saves."""
    waited = 0
    slack: int | None = None
    for stop, (arrive, begin, _leave) in zip(stops, timed, strict=False):
        waited += begin - arrive
        if stop.windows:
            end = _window_end(stop.windows, begin)
            if end is None:
                return 0  # already late: leave as early as possible
            room = waited + end - begin
            slack = room if slack is None else min(slack, room)
    return max(0, min(waited, slack if slack is not None else waited))
