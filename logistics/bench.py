"""Benchmark the routing core on public instances against their best-known solutions.

    python -m logistics.bench PATH... --time-limit SECONDS [--bks FILE] [--csv]
        [--write-solutions DIR] [--compare pyvrp] [--workers N] [--seed N]
    python -m logistics.bench PATH... --time-limit SECONDS --calibrate [--workers N]

PATH may be instance files (.txt Solomon/Gehring-Homberger VRPTW, .vrp CVRPLIB) or folders
holding them. Every solution is verified by the independent checker before it is printed.
An instance with no best-known cost is measured against the exact optimum when it is a
capacity-only one of at most 12 customers, else against PyVRP (``--compare pyvrp``); the
generated ones (``python -m logistics.generate``) are summed up by family.
``--calibrate`` instead measures the ruin-and-recreate kernel's work rate (units a second,
``workers`` searches at once, no work limit) against the rate ``sisr.work_for`` assumes.
"""

from __future__ import annotations

import argparse
import csv
import math
import multiprocessing
import os
import re
import statistics
import sys
import time
from pathlib import Path

from logistics.vrp import SearchStats, SolveOptions, sisr, solve, warm_up
from logistics.vrp.benchmarks import Instance, format_sol, load_instance
from logistics.vrp.checker import check_routes
from logistics.vrp.kernel import kernel_view
from logistics.vrp.optimum import MAX_CUSTOMERS, cvrp_optimum

# stopped_by: work_limit when the budget ended the search (the plan is reproducible),
# time_limit when the clock ended it or shaped its schedule (the plan depends on the host);
# schedule: the share of its work budget the ruin and recreate's cooling schedule spread
# over, the least over the workers (1.000: the budget's, or grown back to it; less:
# shortened by the clock), empty for OR-Tools
COLUMNS = [
    "instance",
    "n",
    "bks",
    "cost",
    "gap_pct",
    "vehicles",
    "seconds",
    "feasible",
    "stopped_by",
    "schedule",
]


def find_instances(paths: list[str]) -> list[Path]:
    """Instance files named by ``paths`` (folders are searched, sorted by size then name)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in (".txt", ".vrp")))
        elif path.suffix in (".txt", ".vrp") and path.exists():
            found.append(path)
        else:
            raise SystemExit(f"pas d'instance à {raw}")
    return found


def read_bks(path: Path | None) -> dict[str, float]:
    """Best-known distances by instance name from a ``bks.csv`` file."""
    if path is None or not path.exists():
        return {}
    with path.open(newline="") as fh:
        return {row["instance"]: float(row["bks_distance"]) for row in csv.DictReader(fh)}


def family_of(name: str) -> str | None:
    """The family of a generated instance (``G-clu-tight-narrow-n200-s1``: clu-tight-narrow)."""
    match = re.fullmatch(r"G-(.+)-n\d+-s\d+", name)
    return match.group(1) if match else None


def exact_reference(inst: Instance) -> float | None:
    """The optimum of a capacity-only instance small enough to solve exactly, else None."""
    problem = inst.problem
    if inst.kind != "cvrp" or len(problem.stops) > MAX_CUSTOMERS:
        return None
    ids = [problem.depots[0].id] + [s.id for s in problem.stops]
    rows = [inst.provider.distance[inst.provider.index[a]] for a in ids]
    distance = [[row[inst.provider.index[b]] for b in ids] for row in rows]
    demand = [s.demand.get("load", 0) for s in problem.stops]
    capacity = problem.vehicles[0].capacity.get("load", 0)
    return cvrp_optimum(distance, demand, capacity) / inst.scale


Measured = tuple[str, str, float | None, float | None, str]
"""(family, instance, gap % or None, cost ratio to PyVRP or None, reference)."""


def measured(family: str, name: str, gap: float | None, ratio: float | None, ref: str) -> Measured:
    """One generated instance's figures; with no other reference, the gap is PyVRP's."""
    if gap is None and ratio is not None:
        return (family, name, (ratio - 1) * 100, ratio, "pyvrp")
    return (family, name, gap, ratio, ref)


def print_families(rows: list[Measured]) -> None:
    """Mean gap to the reference and mean cost ratio to PyVRP, per family and over all.

    The reference is the best-known cost (``bks``), the exact optimum (``exact``) or else
    PyVRP's cost; an instance left with no gap (infeasible, or no reference) is only
    counted in ``left_out``.
    """
    print("family,instances,mean_gap_pct,reference,mean_ratio,worst,worst_gap_pct,left_out")
    groups: dict[str, list[Measured]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    for family, members in [*sorted(groups.items()), ("all", rows)]:
        gaps = [(r[2], r[1]) for r in members if r[2] is not None]
        ratios = [r[3] for r in members if r[3] is not None]
        refs = "+".join(sorted({r[4] for r in members if r[2] is not None}))
        mean_gap = f"{statistics.fmean(g for g, _ in gaps):.2f}" if gaps else ""
        mean_ratio = f"{statistics.fmean(ratios):.4f}" if ratios else ""
        worst_gap, worst = max(gaps) if gaps else (None, "")
        print(
            f"{family},{len(gaps)},{mean_gap},{refs},{mean_ratio},{worst},"
            f"{'' if worst_gap is None else f'{worst_gap:.2f}'},{len(members) - len(gaps)}"
        )


def run_one(
    inst: Instance, args: argparse.Namespace
) -> tuple[float, int, float, bool, SearchStats, list]:
    """Solve and check one instance: (cost, vehicles, seconds, feasible, the search's
    figures, routes by label)."""
    started = time.monotonic()
    options = SolveOptions(time_limit_s=args.time_limit, seed=args.seed, workers=args.workers)
    solution = solve(inst.problem, inst.provider, options)
    seconds = time.monotonic() - started
    routes = [(r.vehicle_id, r.copy, [v.stop_id for v in r.visits]) for r in solution.routes]
    report = check_routes(
        inst.problem,
        routes,
        inst.provider,
        unserved=[u.stop_id for u in solution.unserved],
    )
    feasible = report.ok and not solution.unserved
    labelled = [[inst.customer_label[s] for s in stops] for _, _, stops in routes]
    return (
        report.distance_m / inst.scale,
        report.vehicles_used,
        seconds,
        feasible,
        solution.stats,
        labelled,
    )


def run_pyvrp(inst: Instance, seconds: float, seed: int) -> float:
    """Cost found by PyVRP (development-only dependency) on the same data and budget.

    PyVRP gets the very matrices our solver gets (through the instance's provider), so
    both follow the same distance convention; its cost is in the instance's own unit.
    """
    import numpy as np
    import pyvrp
    from pyvrp.stop import MaxRuntime

    problem = inst.problem
    ids = [problem.depots[0].id] + [s.id for s in problem.stops]
    dist = np.asarray(
        [
            [inst.provider.distance[inst.provider.index[a]][inst.provider.index[b]] for b in ids]
            for a in ids
        ],
        dtype=np.int64,
    )
    duration = np.asarray(
        [
            [inst.provider.duration[inst.provider.index[a]][inst.provider.index[b]] for b in ids]
            for a in ids
        ],
        dtype=np.int64,
    )
    vehicle = problem.vehicles[0]
    dims = list(problem.dimensions())
    clients = [
        pyvrp.Client(
            location=k + 1,
            delivery=[s.demand.get(d, 0) for d in dims],
            service_duration=s.service_s,
            tw_early=s.windows[0].start if s.windows else 0,
            tw_late=s.windows[0].end if s.windows else 2**62,
        )
        for k, s in enumerate(problem.stops)
    ]
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x=0.0, y=0.0) for _ in ids],
        clients=clients,
        depots=[pyvrp.Depot(location=0)],
        vehicle_types=[
            pyvrp.VehicleType(
                num_available=len(clients),
                capacity=[vehicle.capacity.get(d, 0) for d in dims],
                tw_early=vehicle.shift.start,
                tw_late=vehicle.shift.end,
            )
        ],
        distance_matrices=[dist],
        duration_matrices=[duration],
    )
    result = pyvrp.solve(data, stop=MaxRuntime(seconds), seed=seed, display=False)
    return float(result.cost()) / inst.scale if result.is_feasible() else float("inf")


def _rate(inst: sisr.Instance, seed: int, seconds: float) -> tuple[float, float]:
    began = time.monotonic()
    out = sisr.search(inst, seed, began + seconds, 10**15)
    spent = time.monotonic() - began
    return out.work / spent, out.iterations / spent


def calibrate(files: list[Path], seconds: float, workers: int) -> int:
    """Print the kernel's measured work rate per instance, next to the assumed one."""
    print("instance,n,workers,units_per_s_min,units_per_s_max,assumed,iterations_per_s")
    ctx = multiprocessing.get_context("fork")
    for path in files:
        inst = load_instance(path)
        view = kernel_view(inst.problem, inst.provider)
        if view is None:
            continue
        n = len(view.customers)
        with ctx.Pool(workers) as pool:
            rates = pool.starmap(_rate, [(view, seed, seconds) for seed in range(workers)])
        work = [r[0] for r in rates]
        print(
            f"{inst.name},{n},{workers},{min(work) / 1e6:.1f}M,{max(work) / 1e6:.1f}M,"
            f"{sisr.work_for(1.0, n) / 1e6:.1f}M,{statistics.fmean(r[1] for r in rates):.0f}",
            flush=True,
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m logistics.bench``."""
    parser = argparse.ArgumentParser(prog="python -m logistics.bench", description=__doc__)
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--time-limit", type=float, required=True, metavar="SECONDS")
    parser.add_argument("--bks", type=Path, default=None, metavar="FILE")
    parser.add_argument("--csv", action="store_true", help="CSV output only")
    parser.add_argument("--write-solutions", type=Path, default=None, metavar="DIR")
    parser.add_argument("--compare", choices=["pyvrp"], default=None)
    parser.add_argument("--workers", type=int, default=2, help="search processes (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calibrate", action="store_true", help="measure the kernel's rate")
    args = parser.parse_args(argv)

    files = find_instances(args.paths)
    bks_file = args.bks
    if bks_file is None:
        guess = files[0].parent.parent / "bks.csv" if files else None
        bks_file = guess if guess is not None and guess.exists() else None
    bks = read_bks(bks_file)
    if args.write_solutions:
        args.write_solutions.mkdir(parents=True, exist_ok=True)

    # the kernel is compiled once per installation (then loaded from Numba's cache): do it
    # before the first instance, so that no instance's budget pays for it
    print(f"# ruin-and-recreate kernel ready in {warm_up():.1f} s", file=sys.stderr)
    if args.calibrate:
        return calibrate(files, args.time_limit, args.workers)
    out = csv.writer(sys.stdout, lineterminator="\n")
    header = COLUMNS + (["pyvrp_cost", "pyvrp_gap_pct", "ratio"] if args.compare else [])
    if args.csv:
        out.writerow(header)
    else:
        print(" ".join(f"{c:>12}" for c in header))
    gaps: list[float] = []
    ratios: list[float] = []
    by_family: list[Measured] = []
    their_gaps: list[float] = []
    infeasible = 0
    on_clock = 0
    # the budget is wall-clock time: on a shared machine the load changes the figures
    loads = [os.getloadavg()[0]]
    for path in files:
        inst = load_instance(path)
        n = len(inst.problem.stops)
        cost, vehicles, seconds, feasible, stats, labelled = run_one(inst, args)
        on_clock += stats.stopped_by == "time_limit"
        ref = bks.get(inst.name)
        source = "bks"
        if ref is None:
            ref, source = exact_reference(inst), "exact"
        gap = (cost - ref) / ref * 100 if ref else None
        if gap is not None and feasible:
            gaps.append(gap)
        infeasible += not feasible
        row: list[object] = [
            inst.name,
            n,
            "" if ref is None else f"{ref:g}",
            f"{cost:.1f}" if inst.kind == "vrptw" else f"{cost:.0f}",
            "" if gap is None else f"{gap:.2f}",
            vehicles,
            f"{seconds:.1f}",
            "yes" if feasible else "no",
            stats.stopped_by,
            "" if stats.schedule_share is None else f"{stats.schedule_share:.3f}",
        ]
        ratio = None
        if args.compare:
            theirs = run_pyvrp(inst, args.time_limit, args.seed)
            their_gap = (theirs - ref) / ref * 100 if ref else None
            row += [
                f"{theirs:.1f}",
                "" if their_gap is None else f"{their_gap:.2f}",
                f"{cost / theirs:.4f}",
            ]
            ratios.append(cost / theirs)
            if their_gap is not None:
                their_gaps.append(their_gap)
            ratio = cost / theirs if feasible and math.isfinite(theirs) else None
        family = family_of(inst.name)
        if family is not None:
            by_family.append(measured(family, inst.name, gap if feasible else None, ratio, source))
        if args.write_solutions:
            (args.write_solutions / f"{inst.name}.sol").write_text(
                format_sol(labelled, cost, inst.kind)
            )
        if args.csv:
            out.writerow(row)
        else:
            print(" ".join(f"{c!s:>12}" for c in row))
        sys.stdout.flush()
        loads.append(os.getloadavg()[0])
    if by_family:
        print_families(by_family)
    if gaps:
        print(
            f"mean gap {statistics.fmean(gaps):.2f} % over {len(gaps)} instances",
            end="",
        )
        print(f", {infeasible} infeasible")
    print(f"{on_clock} of {len(files)} ended or shaped by the clock (time_limit)")
    print(
        f"load average (1 min) {statistics.fmean(loads):.1f} on {os.cpu_count()} cores"
        f" (max {max(loads):.1f}), {args.workers} workers"
    )
    if ratios:
        print(f"mean cost ratio to pyvrp {statistics.fmean(ratios):.4f}")
    if their_gaps:
        print(f"pyvrp mean gap {statistics.fmean(their_gaps):.2f} % over {len(their_gaps)}")
    return 1 if infeasible else 0


if __name__ == "__main__":
    raise SystemExit(main())
