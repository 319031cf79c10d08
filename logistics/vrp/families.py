"""Routing instances by family, drawn from a seed, written in the benchmark formats.

A family crosses three traits, after the published descriptions of the Solomon (1987)
R/C/RC classes and of the X set of Uchoa et al. (2017):

- **placement**: customers spread at random over a square, gathered around a few
  centres, or half and half (``random``, ``clustered``, ``mixed``); the depot is central,
  in a corner or anywhere (drawn per instance);
- **capacity**: a route size of 4 to 20 customers is drawn; ``tight``: the fewest routes
  the total demand allows are 95 to 99 % full, and about that many routes of that size
  carry it; ``loose``: the vehicles hold 1.3 to 1.8 times what routes of that size need;
- **windows**: ``none`` (a CVRPLIB ``.vrp`` file), ``narrow`` (3 to 10 % of the horizon)
  or ``wide`` (25 to 50 %), in a Solomon ``.txt`` file.

Everything is drawn from one ``random.Random`` seeded by the instance's name, so the same
name always gives the same bytes, whatever else is generated alongside it. Every instance
is feasible with an unlimited fleet: each customer fits a vehicle and can be served alone
within its window.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

Placement = Literal["random", "clustered", "mixed"]
Capacity = Literal["tight", "loose"]
Windows = Literal["none", "narrow", "wide"]

PLACEMENTS: tuple[Placement, ...] = ("random", "clustered", "mixed")
CAPACITIES: tuple[Capacity, ...] = ("tight", "loose")
WINDOWS: tuple[Windows, ...] = ("none", "narrow", "wide")
SHORT: dict[Placement, str] = {"random": "rnd", "clustered": "clu", "mixed": "mix"}

MIN_SIZE, MAX_SIZE = 5, 2000
ROUTE_SIZE = (4, 20)  # customers a route holds when capacity binds, drawn per instance
TIGHT_FILL = (0.95, 0.99)  # total demand over (capacity x fewest routes)
LOOSE_FILL = (0.55, 0.75)  # total demand over (capacity x the drawn route count)
NARROW = (0.03, 0.10)  # window width as a share of the horizon
WIDE = (0.25, 0.50)
SERVICE = 10  # Solomon's service time on its R and RC classes
CVRP_SIDE = 1000  # the X set's grid
DEMANDS = {"U[1,10]": (1, 10), "U[5,10]": (5, 10), "U[1,100]": (1, 100), "U[50,100]": (50, 100)}


@dataclass(frozen=True, slots=True)
class Family:
    """One combination of placement, capacity and windows."""

    placement: Placement
    capacity: Capacity
    windows: Windows

    @property
    def name(self) -> str:
        """Short name, as in file names: ``clu-tight-narrow``."""
        return f"{SHORT[self.placement]}-{self.capacity}-{self.windows}"


FAMILIES: tuple[Family, ...] = tuple(
    Family(p, c, w) for p in PLACEMENTS for c in CAPACITIES for w in WINDOWS
)


@dataclass(frozen=True, slots=True)
class Customer:
    """A generated customer; ``ready`` and ``due`` are 0 and the horizon without windows."""

    x: int
    y: int
    demand: int
    ready: int
    due: int
    service: int


@dataclass(frozen=True, slots=True)
class Generated:
    """A generated instance and the draws that made it."""

    name: str
    family: Family
    seed: int
    side: int  # the square is [0, side] x [0, side]
    depot: tuple[int, int]
    depot_position: str  # "central", "corner" or "random"
    centres: tuple[tuple[int, int], ...]  # cluster centres (empty for random placement)
    customers: tuple[Customer, ...]
    capacity: int
    route_size: int
    demand_rule: str
    horizon: int  # the depot's closing time (0 without windows)

    @property
    def suffix(self) -> str:
        """File extension of the instance's format."""
        return ".vrp" if self.family.windows == "none" else ".txt"

    @property
    def fill_fewest(self) -> float:
        """Total demand over capacity x the fewest routes that can carry it.

        At least 0.95 when capacity is tight; with many routes it is high for any
        capacity (a fleet of k vehicles cannot have a vehicle's worth of room to spare).
        """
        total = sum(c.demand for c in self.customers)
        return total / (self.capacity * math.ceil(total / self.capacity))

    @property
    def fill_drawn(self) -> float:
        """Total demand over capacity x the routes of ``route_size`` customers it needs."""
        total = sum(c.demand for c in self.customers)
        return total / (self.capacity * math.ceil(len(self.customers) / self.route_size))

    def text(self) -> str:
        """The instance in its benchmark format (see ``suffix``)."""
        return _cvrplib(self) if self.family.windows == "none" else _solomon(self)


def instance_name(family: Family, n: int, seed: int) -> str:
    """File stem of a generated instance: ``G-clu-tight-narrow-n200-s1``."""
    return f"G-{family.name}-n{n}-s{seed}"


def generate(family: Family, n: int, seed: int) -> Generated:
    """Draw the instance of ``family`` with ``n`` customers for ``seed``."""
    if not MIN_SIZE <= n <= MAX_SIZE:
        raise ValueError(f"n must be between {MIN_SIZE} and {MAX_SIZE}, not {n}")
    name = instance_name(family, n, seed)
    rng = random.Random(name)  # noqa: S311 (reproducible, not secret)
    # Solomon's 100 customers sit on a 100 x 100 square and Gehring-Homberger's 200 on
    # 140 x 140: the same density at every size keeps legs and service times comparable
    side = CVRP_SIDE if family.windows == "none" else round(10 * math.sqrt(n / 100)) * 10
    depot_position = rng.choice(["central", "corner", "random"])
    depot = {
        "central": (side // 2, side // 2),
        "corner": (0, 0),
        "random": (rng.randint(0, side), rng.randint(0, side)),
    }[depot_position]
    points, centres = _place(rng, family.placement, n, side, depot)
    demand_rule = rng.choice(sorted(DEMANDS))
    low, high = DEMANDS[demand_rule]
    demands = [rng.randint(low, high) for _ in range(n)]
    route_size = rng.randint(*ROUTE_SIZE)
    capacity = _capacity(rng, family.capacity, demands, route_size)
    if family.windows == "none":
        windows = [(0, 0)] * n
        horizon = 0
    else:
        horizon, windows = _windows(rng, family.windows, points, depot, side, capacity, demands)
    customers = tuple(
        Customer(x, y, d, ready, due, 0 if family.windows == "none" else SERVICE)
        for (x, y), d, (ready, due) in zip(points, demands, windows, strict=True)
    )
    return Generated(
        name=name,
        family=family,
        seed=seed,
        side=side,
        depot=depot,
        depot_position=depot_position,
        centres=tuple(centres),
        customers=customers,
        capacity=capacity,
        route_size=route_size,
        demand_rule=demand_rule,
        horizon=horizon,
    )


def _place(
    rng: random.Random, placement: Placement, n: int, side: int, depot: tuple[int, int]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Customers' points (distinct, none on the depot) and the cluster centres."""
    taken = {depot}
    centres: list[tuple[int, int]] = []
    clustered = {"random": 0, "clustered": n, "mixed": n // 2}[placement]
    if clustered:
        spread = side / 25
        margin = round(2 * spread)
        count = rng.randint(3, 8) + n // 100
        centres = [
            (rng.randint(margin, side - margin), rng.randint(margin, side - margin))
            for _ in range(count)
        ]
    points: list[tuple[int, int]] = []
    for k in range(n):
        for _ in range(10_000):
            if k < clustered:
                cx, cy = rng.choice(centres)
                x = min(side, max(0, round(rng.gauss(cx, spread))))
                y = min(side, max(0, round(rng.gauss(cy, spread))))
            else:
                x, y = rng.randint(0, side), rng.randint(0, side)
            if (x, y) not in taken:
                break
        else:  # pragma: no cover (the squares hold far more points than customers)
            raise ValueError(f"no free point left on a {side} x {side} square")
        taken.add((x, y))
        points.append((x, y))
    rng.shuffle(points)  # a mixed instance's clustered customers are not numbered first
    return points, centres


def _capacity(rng: random.Random, kind: Capacity, demands: list[int], route_size: int) -> int:
    """A capacity making routes of about ``route_size`` customers, full or with room."""
    total, biggest = sum(demands), max(demands)
    routes = math.ceil(len(demands) / route_size)
    if kind == "loose":
        fill = rng.uniform(*LOOSE_FILL)
        return max(biggest, math.ceil(total / (routes * fill)))
    target = rng.uniform(*TIGHT_FILL)
    # the capacity nearest the drawn fill whose fewest routes are 95 to 99 % full (a
    # rounded capacity alone can miss the range when it is small)
    best: tuple[float, int] | None = None
    for capacity in range(biggest, math.ceil(total / TIGHT_FILL[0]) + 1):
        fewest = math.ceil(total / capacity)
        if TIGHT_FILL[0] <= total / (capacity * fewest) <= TIGHT_FILL[1]:
            miss = abs(total / (capacity * routes) - target)
            if best is None or miss < best[0]:
                best = (miss, capacity)
    if best is None:  # pragma: no cover (one customer's demand fills a vehicle)
        return max(biggest, math.ceil(total / (routes * target)))
    return best[1]


def _windows(
    rng: random.Random,
    kind: Windows,
    points: list[tuple[int, int]],
    depot: tuple[int, int],
    side: int,
    capacity: int,
    demands: list[int],
) -> tuple[int, list[tuple[int, int]]]:
    """The horizon and each customer's (ready, due) window.

    The horizon lets a vehicle reach the farthest customer and come back, plus serve a
    full load's worth of customers at the square's mean spacing. Each window lies inside
    [distance from the depot, horizon - service - distance back], so a vehicle sent to
    that customer alone is always on time.
    """
    reach = [math.dist(depot, p) for p in points]
    per_load = capacity * len(demands) / sum(demands)
    spacing = side / math.sqrt(len(points))
    horizon = math.ceil(2 * max(reach) + SERVICE + per_load * (SERVICE + spacing))
    share = NARROW if kind == "narrow" else WIDE
    windows = []
    for d in reach:
        earliest, latest = math.ceil(d), math.floor(horizon - SERVICE - d)
        width = rng.uniform(*share) * horizon
        centre = rng.uniform(earliest, latest)
        ready = max(earliest, math.ceil(centre - width / 2))
        due = min(latest, math.floor(centre + width / 2))
        windows.append((min(ready, due), due))
    return horizon, windows


def _solomon(inst: Generated) -> str:
    rows = [(0, *inst.depot, 0, 0, inst.horizon, 0)] + [
        (i, c.x, c.y, c.demand, c.ready, c.due, c.service)
        for i, c in enumerate(inst.customers, start=1)
    ]
    lines = [
        inst.name,
        "",
        "VEHICLE",
        "NUMBER     CAPACITY",
        f"{len(inst.customers):>6}{inst.capacity:>13}",
        "",
        "CUSTOMER",
        "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME",
        "",
        *("".join(f"{v:>10}" for v in row) for row in rows),
    ]
    return "\n".join(lines) + "\n"


def _cvrplib(inst: Generated) -> str:
    comment = (
        f"logistics.generate: {inst.family.placement} customers, depot {inst.depot_position},"
        f" demand {inst.demand_rule}, route size {inst.route_size},"
        f" fill {inst.fill_fewest:.3f} of the fewest routes"
    )
    lines = [
        f"NAME : {inst.name}",
        f'COMMENT : "{comment}"',
        "TYPE : CVRP",
        f"DIMENSION : {len(inst.customers) + 1}",
        "EDGE_WEIGHT_TYPE : EUC_2D",
        f"CAPACITY : {inst.capacity}",
        "NODE_COORD_SECTION",
        f"1 {inst.depot[0]} {inst.depot[1]}",
        *(f"{i} {c.x} {c.y}" for i, c in enumerate(inst.customers, start=2)),
        "DEMAND_SECTION",
        "1 0",
        *(f"{i} {c.demand}" for i, c in enumerate(inst.customers, start=2)),
        "DEPOT_SECTION",
        " 1",
        " -1",
        "EOF",
    ]
    return "\n".join(lines) + "\n"
