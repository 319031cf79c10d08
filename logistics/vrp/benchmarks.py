"""Readers and writers for public benchmark formats (Solomon/Gehring-Homberger, CVRPLIB).

Each instance becomes a ``Problem`` plus a ``MatrixProvider``: VRPTW distances are Euclidean
truncated to one decimal and CVRP distances rounded to the nearest integer, the conventions
of the published best-known solutions. VRPTW figures are held in tenths so that the solver
works on integers; ``scale`` converts back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from logistics.vrp.errors import InvalidProblem
from logistics.vrp.model import Depot, Problem, SpeedProfile, Stop, TimeWindow, Vehicle
from logistics.vrp.providers import MatrixProvider

BENCH_PROFILE = SpeedProfile("bench", 1.0)
NO_SHIFT_LIMIT = 10**12


@dataclass(frozen=True, slots=True)
class Instance:
    """A benchmark instance ready to solve."""

    name: str
    kind: str  # "vrptw" or "cvrp"
    problem: Problem
    provider: MatrixProvider
    scale: int  # solver units per published unit (10 for VRPTW, 1 for CVRP)
    customer_label: dict[str, str]  # stop id -> customer number used in .sol files


def _fail(path: str, message: str) -> InvalidProblem:
    return InvalidProblem(f"{path} : {message}", code="invalid_instance", culprit=path)


def parse_solomon(text: str, name: str = "instance") -> Instance:
    """Read a Solomon or Gehring-Homberger VRPTW file."""
    lines = [ln.split() for ln in text.splitlines()]
    capacity = None
    rows: list[list[int]] = []
    for i, parts in enumerate(lines):
        if parts[:2] == ["NUMBER", "CAPACITY"]:
            nxt = next(p for p in lines[i + 1 :] if p)
            capacity = int(nxt[1])
        if len(parts) == 7 and all(re.fullmatch(r"-?\d+(\.\d+)?", p) for p in parts):
            rows.append([int(float(p)) for p in parts])
    if capacity is None or len(rows) < 2:
        raise _fail(name, "format Solomon non reconnu (capacité ou clients manquants).")
    depot_row, customers = rows[0], rows[1:]
    xs = [r[1] for r in rows]
    ys = [r[2] for r in rows]
    n = len(rows)
    dist = [
        [math.isqrt(100 * ((xs[i] - xs[j]) ** 2 + (ys[i] - ys[j]) ** 2)) for j in range(n)]
        for i in range(n)
    ]
    ids = ["depot"] + [f"c{r[0]}" for r in customers]
    stops = tuple(
        Stop(
            id=f"c{r[0]}",
            demand={"load": r[3]},
            windows=(TimeWindow(10 * r[4], 10 * r[5]),),
            service_s=10 * r[6],
        )
        for r in customers
    )
    vehicle = Vehicle(
        id="v",
        start_depot="depot",
        capacity={"load": capacity},
        shift=TimeWindow(10 * depot_row[4], 10 * depot_row[5]),
        profile=BENCH_PROFILE,
        cost_per_km=1.0,
        copies=None,
    )
    problem = Problem(depots=(Depot("depot"),), vehicles=(vehicle,), stops=stops)
    labels = {f"c{r[0]}": str(r[0]) for r in customers}
    return Instance(name, "vrptw", problem, MatrixProvider(ids, dist), 10, labels)


def parse_cvrplib(text: str, name: str = "instance") -> Instance:
    """Read a CVRPLIB (TSPLIB-style, EUC_2D) CVRP file."""
    header: dict[str, str] = {}
    coords: dict[int, tuple[float, float]] = {}
    demand: dict[int, int] = {}
    depots: list[int] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if ":" in line and not line[0].isdigit() and not line.startswith("-"):
            key, _, value = line.partition(":")
            header[key.strip().upper()] = value.strip().strip('"')
            section = ""
            continue
        word = line.split()[0].upper()
        if word.endswith("_SECTION"):
            section = word
            continue
        if word == "EOF":
            break
        parts = line.split()
        if section == "NODE_COORD_SECTION":
            coords[int(parts[0])] = (float(parts[1]), float(parts[2]))
        elif section == "DEMAND_SECTION":
            demand[int(parts[0])] = int(parts[1])
        elif section == "DEPOT_SECTION":
            depot_no = int(parts[0])
            if depot_no != -1:
                depots.append(depot_no)
    if header.get("EDGE_WEIGHT_TYPE", "EUC_2D") != "EUC_2D":
        raise _fail(name, "seul EDGE_WEIGHT_TYPE EUC_2D est pris en charge.")
    if "CAPACITY" not in header or not coords or len(depots) != 1:
        raise _fail(name, "format CVRPLIB non reconnu (capacité, coordonnées ou dépôt).")
    depot = depots[0]
    nodes = [depot, *sorted(k for k in coords if k != depot)]
    pts = [coords[k] for k in nodes]
    # TSPLIB nint: floor(x + 0.5)
    dist = [[math.floor(math.hypot(a[0] - b[0], a[1] - b[1]) + 0.5) for b in pts] for a in pts]
    zeros = [[0] * len(pts) for _ in pts]
    ids = ["depot"] + [f"c{k}" for k in nodes[1:]]
    stops = tuple(Stop(id=f"c{k}", demand={"load": demand.get(k, 0)}) for k in nodes[1:])
    vehicle = Vehicle(
        id="v",
        start_depot="depot",
        capacity={"load": int(header["CAPACITY"])},
        shift=TimeWindow(0, NO_SHIFT_LIMIT),
        profile=BENCH_PROFILE,
        cost_per_km=1.0,
        copies=None,
    )
    problem = Problem(depots=(Depot("depot"),), vehicles=(vehicle,), stops=stops)
    # CVRPLIB solutions number customers from 1, the depot being node 1 of the file
    labels = {f"c{k}": str(k - 1 if k > depot else k) for k in nodes[1:]}
    return Instance(name, "cvrp", problem, MatrixProvider(ids, dist, zeros), 1, labels)


def load_instance(path: Path) -> Instance:
    """Read an instance file, choosing the parser from its extension."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".vrp":
        return parse_cvrplib(text, path.stem)
    if path.suffix == ".txt":
        return parse_solomon(text, path.stem)
    raise _fail(str(path), "extension inconnue (attendu .txt ou .vrp).")


def parse_sol(text: str) -> tuple[list[list[str]], float | None]:
    """Read a CVRPLIB ``.sol`` file: routes of customer numbers and the announced cost."""
    routes: list[list[str]] = []
    cost = None
    for line in text.splitlines():
        match = re.match(r"\s*Route\s*#\d+\s*:(.*)", line)
        if match:
            routes.append(match.group(1).split())
        elif line.strip().lower().startswith("cost"):
            cost = float(line.split()[1])
    return routes, cost


def format_sol(routes: Sequence[Sequence[str]], cost: float, kind: str) -> str:
    """Write routes of customer numbers in the CVRPLIB ``.sol`` format."""
    lines = [f"Route #{i}: {' '.join(r)}" for i, r in enumerate(routes, start=1)]
    lines.append(f"Cost {cost:.1f}" if kind == "vrptw" else f"Cost {round(cost)}")
    return "\n".join(lines) + "\n"
