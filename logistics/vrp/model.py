"""Dataclasses describing a routing problem and its solution.

Units are integers throughout: metres, seconds counted from the planning day's origin
(e.g. midnight), and demands in whatever unit each capacity dimension uses (kg, crates,
litres of cold box). Money is a float in euros, only in costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Literal

StopKind = Literal["delivery", "pickup"]


def _frozen_map(values: Mapping[str, int] | None) -> Mapping[str, int]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A closed interval [start, end] of seconds from the day's origin."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class SpeedProfile:
    """How a vehicle moves: the router profile name and the speed used by the offline provider."""

    name: str = "car"
    speed_kmh: float = 30.0


VAN = SpeedProfile("car", 30.0)
CARGO_BIKE = SpeedProfile("bike", 15.0)


@dataclass(frozen=True, slots=True)
class Depot:
    """A place where vehicles start or end: a hub such as the Base 11/19, or a farm."""

    id: str
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle (or, with ``copies``, a fleet of identical vehicles).

    ``capacity`` maps each dimension name to a maximum load; a dimension a vehicle does not
    list has capacity 0 for it. ``copies=None`` means "as many as needed": the solver sizes
    the fleet itself (used by the benchmark's unlimited fleet).
    """

    id: str
    start_depot: str
    capacity: Mapping[str, int]
    shift: TimeWindow = TimeWindow(0, 24 * 3600)
    end_depot: str | None = None
    profile: SpeedProfile = VAN
    cost_per_km: float = 0.0
    cost_per_hour: float = 0.0
    fixed_cost: float = 0.0
    max_distance_m: int | None = None
    features: frozenset[str] = frozenset()
    copies: int | None = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "capacity", _frozen_map(self.capacity))

    def __reduce__(self) -> tuple[type[Vehicle], tuple[object, ...]]:
        # a read-only mapping does not pickle: the capacity travels as a dict, frozen again
        # on arrival; the rounds send their groups' vehicles to other processes
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["capacity"] = dict(self.capacity)
        return (Vehicle, tuple(values.values()))

    @property
    def end(self) -> str:
        """Depot where the vehicle ends its shift."""
        return self.end_depot if self.end_depot is not None else self.start_depot


@dataclass(frozen=True, slots=True)
class Stop:
    """A delivery or a pickup at one place.

    A delivery without a paired pickup is loaded at the depot; a pickup without a paired
    delivery is brought back to the vehicle's end depot. ``windows`` empty means any time
    within the vehicle's shift. ``requires`` lists features the vehicle must have.
    """

    id: str
    lat: float | None = None
    lon: float | None = None
    demand: Mapping[str, int] = field(default_factory=dict)
    windows: tuple[TimeWindow, ...] = ()
    service_s: int = 0
    kind: StopKind = "delivery"
    requires: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "demand", _frozen_map(self.demand))
        object.__setattr__(self, "windows", tuple(self.windows))


@dataclass(frozen=True, slots=True)
class PickupDelivery:
    """Goods picked up at ``pickup`` and dropped at ``delivery``: same vehicle, pickup first."""

    pickup: str
    delivery: str


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything the solver needs except distances, which come from a provider."""

    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...]
    stops: tuple[Stop, ...]
    pairs: tuple[PickupDelivery, ...] = ()

    def dimensions(self) -> tuple[str, ...]:
        """Capacity dimensions used by any vehicle or stop, in a stable order."""
        names: set[str] = set()
        for vehicle in self.vehicles:
            names.update(vehicle.capacity)
        for stop in self.stops:
            names.update(stop.demand)
        return tuple(sorted(names))


@dataclass(frozen=True, slots=True)
class SolveOptions:
    """Search budget and knobs.

    The time limit becomes a budget of work the searches count, so the result is
    reproducible for a given problem, seed and options whenever the search ends on that
    budget, its stall rule or ``max_solutions`` rather than on the clock
    (``SearchStats.stopped_by`` says which); see logistics/README.md.

    ``time_limit_s`` counts from the call, except the compilation of the ruin-and-recreate
    kernel, done once per process before the clock starts (``SearchStats.warm_up_s``).
    """

    time_limit_s: float = 10.0
    seed: int = 0
    workers: int = 1
    max_solutions: int | None = None
    first_solution: str | None = None
    metaheuristic: str | None = None
    unserved_penalty: int | None = None


@dataclass(frozen=True, slots=True)
class Visit:
    """One stop on a route with its schedule (seconds) and the load on board after it."""

    stop_id: str
    arrival: int
    start: int
    departure: int
    load: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Route:
    """The ordered visits of one vehicle, from its start depot to its end depot.

    ``copy`` tells apart the identical vehicles of a ``Vehicle`` with several copies.
    """

    vehicle_id: str
    copy: int
    visits: tuple[Visit, ...]
    start_time: int
    end_time: int
    distance_m: int
    cost: float


@dataclass(frozen=True, slots=True)
class Unserved:
    """A stop left out of every route, with a stable ``code`` and a message for people."""

    stop_id: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class SearchStats:
    """What the search did: wall time, solutions seen, why it stopped."""

    seconds: float
    solutions: int
    first_cost: float | None
    stopped_by: str
    """``work_limit``, ``stall``, ``solution_limit`` or ``completed`` (reproducible), or
    ``time_limit`` (the clock ended the search first)."""
    workers: int
    fleet_size: int
    schedule_share: float | None = None
    """For the ruin-and-recreate search, the share of its work budget its cooling schedule
    spread over in the end (the least over the workers' searches): below 1 when the
    measured pace shortened it to end at the deadline (a slow or busy machine); 1 when it
    was never shortened or grew back to the budget. ``stopped_by`` says whether the clock
    ended or shaped a search. ``None`` for the other searches."""
    warm_up_s: float = 0.0
    """Seconds spent compiling the search kernel (or loading it from Numba's cache) before
    the clock started: 0 once the process holds it (``sisr.warm_up``). Not in ``seconds``,
    not counted in the time limit."""


@dataclass(frozen=True, slots=True)
class Solution:
    """Routes of the vehicles that are used, the unserved stops and the total cost."""

    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    cost: float
    distance_m: int
    stats: SearchStats
