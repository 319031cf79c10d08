"""Random problems on a square, for the tests and for calibrating the searches' work rates.

The benchmark files only hold plain problems (one unlimited vehicle kind, distance cost),
which the ruin-and-recreate kernel takes. The richer ones the OR-Tools searches take
(hourly costs, limited or mixed fleets, pickup-delivery pairs, several windows) are built
here, from a seed, so that their measures can be repeated.
"""

from __future__ import annotations

import dataclasses
import math
import random

from logistics.vrp.model import Depot, PickupDelivery, Problem, Stop, TimeWindow, Vehicle
from logistics.vrp.providers import MatrixProvider

KINDS = ("plain", "hourly", "limited", "mixed", "pairs", "two_windows")
"""The problem kinds ``variant`` builds."""


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
    rng = random.Random(seed)  # noqa: S311 (reproducible, not secret)
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


def variant(kind: str, n: int, seed: int) -> tuple[Problem, MatrixProvider]:
    """A ``square_problem`` made richer in one way (``kind``, one of ``KINDS``).

    - ``hourly``: a cost per hour besides the cost per km;
    - ``limited``: n / 5 vehicles, not an unlimited fleet;
    - ``mixed``: two unlimited kinds, a large one and a small cheap one;
    - ``pairs``: one stop in four is a pickup whose goods go to the next stop;
    - ``two_windows``: half the stops have a second window after the first.
    """
    problem, provider = square_problem(n, seed)
    vehicle = problem.vehicles[0]
    stops = list(problem.stops)
    if kind == "hourly":
        vehicle = dataclasses.replace(vehicle, cost_per_km=0.5, cost_per_hour=20.0)
        problem = dataclasses.replace(problem, vehicles=(vehicle,))
    elif kind == "limited":
        vehicle = dataclasses.replace(vehicle, copies=max(2, n // 5))
        problem = dataclasses.replace(problem, vehicles=(vehicle,))
    elif kind == "mixed":
        small = dataclasses.replace(vehicle, id="w", capacity={"kg": 20}, fixed_cost=5.0)
        large = dataclasses.replace(vehicle, fixed_cost=10.0)
        problem = dataclasses.replace(problem, vehicles=(large, small))
    elif kind == "pairs":
        pairs = []
        for i in range(0, n - 1, 4):
            goods = stops[i + 1].demand
            stops[i] = dataclasses.replace(stops[i], kind="pickup", windows=(), demand=goods)
            pairs.append(PickupDelivery(stops[i].id, stops[i + 1].id))
        problem = dataclasses.replace(problem, stops=tuple(stops), pairs=tuple(pairs))
    elif kind == "two_windows":
        rng = random.Random(seed)  # noqa: S311
        for i, stop in enumerate(stops):
            if stop.windows and rng.random() < 0.5:
                first = stop.windows[0]
                second = TimeWindow(first.end + 200, first.end + 400)
                stops[i] = dataclasses.replace(stop, windows=(first, second))
        problem = dataclasses.replace(problem, stops=tuple(stops))
    elif kind != "plain":
        raise ValueError(kind)
    return problem, provider
