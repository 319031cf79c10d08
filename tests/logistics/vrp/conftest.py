"""Shared builders for the routing-core tests (exposed as fixtures: tests/ has no packages)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from logistics.vrp import (
    Depot,
    MatrixProvider,
    PickupDelivery,
    Problem,
    SpeedProfile,
    Stop,
    TimeWindow,
    Vehicle,
    warm_up,
)
from logistics.vrp.synthetic import square_problem

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

    ``solve`` compiles it with its clock stopped, but on a fresh clone that takes several
    seconds, which would otherwise fall on whichever test happens to run first.
    """
    warm_up()


@pytest.fixture
def calls_to(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], list[tuple[object, ...]]]:
    """``calls_to(module, name)`` wraps that function and returns the list of its calls,
    each as the tuple of its positional arguments."""

    def watch(module: object, name: str) -> list[tuple[object, ...]]:
        calls: list[tuple[object, ...]] = []
        real = getattr(module, name)

        def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(args)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
        return calls

    return watch


@pytest.fixture
def plane() -> PlaneProvider:
    """Factory of explicit-matrix providers over points of a plane (1 m/s unless told)."""
    return plane_provider


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
