"""Shared builders for the routing-core tests (exposed as fixtures: tests/ has no packages)."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from logistics.vrp import sisr
from logistics.vrp.model import (
    Depot,
    PickupDelivery,
    Problem,
    SpeedProfile,
    Stop,
    TimeWindow,
    Vehicle,
)
from logistics.vrp.providers import MatrixProvider

DATA = Path(__file__).parent / "data"
SHARED_INSTANCES = Path("/work/shared/bench/vrp/instances")

PlaneProvider = Callable[..., MatrixProvider]
SquareProblem = Callable[..., tuple[Problem, MatrixProvider]]


def plane_provider(
    places: Mapping[str, tuple[float, float]], slowness: Mapping[str, int] | None = None
) -> MatrixProvider:
    """Euclidean metres between (x, y) places; a profile's time is distance x its slowness."""
    ids = list(places)
    dist = [[round(math.dist(places[a], places[b])) for b in ids] for a in ids]
    durations = {
        name: [[d * factor for d in row] for row in dist]
        for name, factor in (slowness or {}).items()
    }
    return MatrixProvider(ids, dist, duration=dist, durations=durations)


@pytest.fixture(scope="session", autouse=True)
def compiled_kernel() -> None:
    """Compile the ruin-and-recreate kernel (or load it from Numba's cache) once, first.

    ``solve`` counts the compilation in its time budget: on a fresh clone it takes several
    seconds, which would otherwise fall on whichever timed test happens to run first.
    """
    sisr.warm_up()


@pytest.fixture
def calls_to(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], list[int]]:
    """``calls_to(module, name)`` wraps that function and returns the list of its calls."""

    def watch(module: object, name: str) -> list[int]:
        calls: list[int] = []
        real = getattr(module, name)

        def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
        return calls

    return watch


@pytest.fixture
def plane() -> PlaneProvider:
    """Factory of explicit-matrix providers over points of a plane (1 m/s unless told)."""
    return plane_provider


def square_problem(
    n: int,
    seed: int,
    capacity: int = 40,
    window: tuple[int, int] | None = (100, 400),
    horizon: int = 2000,
    service: int = 10,
    opens_from: int = 0,
) -> tuple[Problem, MatrixProvider]:
    """``n`` stops drawn on a 100 x 100 square around a central depot, one unlimited vehicle.

    ``window`` is the (shortest, longest) window length, None for no windows; windows open
    between ``opens_from`` and half the ``horizon``, which is also the vehicle's shift.
    """
    rng = random.Random(seed)
    pts = [(50, 50)] + [(rng.randint(0, 100), rng.randint(0, 100)) for _ in range(n)]
    ids = ["d"] + [f"s{i}" for i in range(1, n + 1)]
    dist = [[round(math.dist(a, b)) for b in pts] for a in pts]
    stops = []
    for i in range(1, n + 1):
        tw: tuple[TimeWindow, ...] = ()
        if window is not None:
            start = rng.randint(opens_from, horizon // 2)
            tw = (TimeWindow(start, start + rng.randint(*window)),)
        stops.append(Stop(ids[i], demand={"kg": rng.randint(1, 9)}, windows=tw, service_s=service))
    vehicle = Vehicle("v", "d", {"kg": capacity}, shift=TimeWindow(0, horizon), copies=None)
    return Problem((Depot("d"),), (vehicle,), tuple(stops)), MatrixProvider(ids, dist)


@pytest.fixture
def square() -> SquareProblem:
    """Factory of random problems on a square (see ``square_problem``)."""
    return square_problem


def load_demo() -> Problem:
    """The demo territory of tests/logistics/vrp/data/lensois_demo.json as a Problem."""
    raw = json.loads((DATA / "lensois_demo.json").read_text(encoding="utf-8"))
    depot = raw["depot"]
    vehicles = tuple(
        Vehicle(
            id=v["id"],
            start_depot=depot["id"],
            capacity=v["capacity"],
            shift=TimeWindow(*v["shift"]),
            profile=SpeedProfile(v["profile"], v["speed_kmh"]),
            cost_per_km=v["cost_per_km"],
            cost_per_hour=v["cost_per_hour"],
            max_distance_m=v["max_distance_m"],
            features=frozenset(v["features"]),
        )
        for v in raw["vehicles"]
    )
    stops = tuple(
        Stop(
            id=s["id"],
            lat=s["lat"],
            lon=s["lon"],
            demand=s["demand"],
            windows=tuple(TimeWindow(*w) for w in s["windows"]),
            service_s=s["service_s"],
            kind=s["kind"],
            requires=frozenset(s["requires"]),
        )
        for s in raw["stops"]
    )
    pairs = tuple(PickupDelivery(p["pickup"], p["delivery"]) for p in raw["pairs"])
    return Problem(
        depots=(Depot(depot["id"], depot["lat"], depot["lon"]),),
        vehicles=vehicles,
        stops=stops,
        pairs=pairs,
    )


@pytest.fixture
def demo_problem() -> Problem:
    """The Loos-en-Gohelle demo: 10 relay points, canteens, 2 farms, 2 vans, 2 tricycles."""
    return load_demo()
