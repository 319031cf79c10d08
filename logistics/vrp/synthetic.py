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

from logistics.vrp.model import (
    CARGO_BIKE,
    VAN,
    Depot,
    PickupDelivery,
    Problem,
    Stop,
    TimeWindow,
    Vehicle,
)
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


def territory_problem(n: int, seed: int) -> tuple[Problem, MatrixProvider]:
    """A morning's rounds of a territory, with ``n`` stops, drawn from ``seed``.

    On a 20 km square around the depot (metres; a van at 30 km/h, a cargo bike at 15 km/h):
    - a tenth of the stops (at least one) are canteens, with a 30-minute reception window
      between 9:00 and 11:30 and 10 minutes of unloading; some of their boxes are chilled;
    - a fifth are farm pickups (no window), each paired with the relay point that receives
      its goods;
    - the others are relay points, open for 2 to 3 hours from 8:00 to 12:00, 5 minutes of
      unloading; a third of them get chilled boxes;
    - loads in kilograms and chilled boxes ("cold"); a stop with chilled boxes needs a
      vehicle with the "cold" feature;
    - the fleet: n / 10 refrigerated vans (at least 2; 600 kg, 8 boxes, 20 euros a day,
      0.35 euros a km, 22 euros an hour) and n / 15 cargo bikes (at least 1; 120 kg, no
      cold, 5 euros a day, 0.02 a km, 18 an hour, 40 km of range), 6:00 to 14:00.
    """
    rng = random.Random(seed)  # noqa: S311 (reproducible, not secret)
    side = 20_000
    pts = [(side // 2, side // 2)] + [
        (rng.randint(0, side), rng.randint(0, side)) for _ in range(n)
    ]
    ids = ["d"] + [f"s{i}" for i in range(1, n + 1)]
    dist = [[round(math.dist(a, b)) for b in pts] for a in pts]
    van_s = [[round(d * 3.6 / VAN.speed_kmh) for d in row] for row in dist]
    bike_s = [[round(d * 3.6 / CARGO_BIKE.speed_kmh) for d in row] for row in dist]
    hour = 3600
    canteens = max(1, n // 10)
    farms = n // 5 if n >= 4 else 0
    stops: list[Stop] = []
    pairs: list[PickupDelivery] = []
    for i in range(1, n + 1):
        sid = ids[i]
        if i <= canteens:
            start = rng.randint(9 * hour, 11 * hour)
            demand = {"kg": rng.randint(20, 80), "cold": rng.randint(0, 3)}
            window = (TimeWindow(start, start + hour // 2),)
            stops.append(Stop(sid, demand=demand, windows=window, service_s=600))
        elif i <= canteens + 2 * farms and (i - canteens) % 2 == 1:
            # a farm pickup, whose goods go to the next stop, a relay point
            goods = {"kg": rng.randint(10, 60), "cold": rng.randint(0, 1)}
            stops.append(Stop(sid, demand=goods, service_s=600, kind="pickup"))
            pairs.append(PickupDelivery(sid, ids[i + 1]))
        else:
            opens = rng.randint(8 * hour, 10 * hour)
            window = (TimeWindow(opens, opens + rng.randint(2 * hour, 3 * hour)),)
            if pairs and pairs[-1].delivery == sid:
                demand = dict(stops[-1].demand)
            else:
                demand = {"kg": rng.randint(5, 60), "cold": rng.choice((0, 0, 1, 2))}
            stops.append(Stop(sid, demand=demand, windows=window, service_s=300))
    stops = [
        dataclasses.replace(s, requires=frozenset({"cold"})) if s.demand.get("cold") else s
        for s in stops
    ]
    shift = TimeWindow(6 * hour, 14 * hour)
    van = Vehicle(
        "van",
        "d",
        {"kg": 600, "cold": 8},
        shift=shift,
        cost_per_km=0.35,
        cost_per_hour=22.0,
        fixed_cost=20.0,
        features=frozenset({"cold"}),
        copies=max(2, n // 10),
    )
    bike = Vehicle(
        "bike",
        "d",
        {"kg": 120},
        shift=shift,
        profile=CARGO_BIKE,
        cost_per_km=0.02,
        cost_per_hour=18.0,
        fixed_cost=5.0,
        max_distance_m=40_000,
        copies=max(1, n // 15),
    )
    problem = Problem((Depot("d"),), (van, bike), tuple(stops), tuple(pairs))
    return problem, MatrixProvider(ids, dist, van_s, {CARGO_BIKE.name: bike_s})
