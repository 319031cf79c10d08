"""Measure the OR-Tools path on the rich problems a territory really has.

    python -m logistics.rich_bench [--sizes 8,30,100,300] [--seeds 1,2] [--time-limit 10]
        [--reference-time 60] [--workers 1] [--csv]

The public benchmark only holds plain problems, which the ruin-and-recreate kernel takes.
A territory's rounds go to OR-Tools: time windows, a mixed fleet of refrigerated vans and
cargo bikes, farm pickups paired with the relay points they supply, chilled boxes only a
refrigerated van carries, costs by the day, the kilometre and the hour
(``synthetic.territory_problem``). For each size and seed, ``solve`` runs with
``--time-limit`` and its default options (``--workers``), and its plan is compared with:
- the exact optimum, found by trying every order of every set of stops, up to
  ``optimum.MAX_RICH_STOPS`` stops (``exact``);
- above, the best plan of ``solve`` itself given ``--reference-time`` seconds and
  ``--workers`` (``long``): how far the run is from what the same engine reaches with
  more time, not from an optimum, which is unknown there.
Every plan is verified by the independent checker. Prints one row per problem, then the
mean gap per size, the load average and the runs that went past their time limit.
Exit code 1 if any plan broke a rule or left a stop unserved.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
from collections import defaultdict

from logistics.vrp import SolveOptions, check_solution, solve
from logistics.vrp.model import Problem, Solution
from logistics.vrp.optimum import MAX_RICH_STOPS, rich_optimum
from logistics.vrp.providers import TravelProvider
from logistics.vrp.synthetic import territory_problem

COLUMNS = [
    "n",
    "seed",
    "reference",
    "reference_cost",
    "cost",
    "gap_pct",
    "vehicles",
    "stopped_by",
    "seconds",
    "over_limit_pct",
    "valid",
]


def _ints(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"liste d'entiers attendue : « {text} »") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"entiers positifs attendus : « {text} »")
    return values


def _solve(
    problem: Problem, provider: TravelProvider, seconds: float, workers: int
) -> tuple[Solution, bool]:
    solution = solve(problem, provider, SolveOptions(time_limit_s=seconds, workers=workers))
    valid = check_solution(problem, solution, provider).ok and not solution.unserved
    return solution, valid


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m logistics.rich_bench``."""
    parser = argparse.ArgumentParser(prog="python -m logistics.rich_bench", description=__doc__)
    parser.add_argument("--sizes", type=_ints, default=[8, 30, 100, 300])
    parser.add_argument("--seeds", type=_ints, default=[1, 2])
    parser.add_argument("--time-limit", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--reference-time", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--csv", action="store_true", help="CSV rows only, no summary")
    args = parser.parse_args(argv)
    if args.time_limit <= 0 or args.reference_time <= 0 or args.workers < 1:
        parser.error("les durées et le nombre de processus doivent être positifs")

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(COLUMNS)
    gaps: dict[int, list[float]] = defaultdict(list)
    loads = [os.getloadavg()[0]]
    invalid = over = 0
    for n in args.sizes:
        for seed in args.seeds:
            problem, provider = territory_problem(n, seed)
            solution, valid = _solve(problem, provider, args.time_limit, args.workers)
            if n <= MAX_RICH_STOPS:
                kind, reference = "exact", rich_optimum(problem, provider).cost
            else:
                kind = "long"
                long, long_valid = _solve(problem, provider, args.reference_time, args.workers)
                reference = min(long.cost, solution.cost) if long_valid else solution.cost
            gap = (solution.cost - reference) / reference * 100 if reference else 0.0
            overrun = (solution.stats.seconds / args.time_limit - 1) * 100
            invalid += not valid
            over += overrun > 5
            if valid:
                gaps[n].append(gap)
            out.writerow(
                [
                    n,
                    seed,
                    kind,
                    f"{reference:.2f}",
                    f"{solution.cost:.2f}",
                    f"{gap:.2f}",
                    len(solution.routes),
                    solution.stats.stopped_by,
                    f"{solution.stats.seconds:.1f}",
                    f"{overrun:.1f}",
                    "yes" if valid else "no",
                ]
            )
            sys.stdout.flush()
            loads.append(os.getloadavg()[0])
    if not args.csv:
        for n, values in gaps.items():
            print(f"n={n}: mean gap {statistics.fmean(values):.2f} % over {len(values)}")
        print(
            f"load average (1 min) {statistics.fmean(loads):.1f} on {os.cpu_count()} cores"
            f" (max {max(loads):.1f}), {args.workers} workers;"
            f" {invalid} invalid, {over} over their limit by more than 5 %"
        )
    return 1 if invalid else 0


if __name__ == "__main__":
    raise SystemExit(main())
