"""Measure the OR-Tools searches' work rate, and how often their work budget ends a solve.

    python -m logistics.calibrate [--seconds S] [--workers N] [--kinds K,...] [--sizes N,...]
        [--solve SECONDS]

The OR-Tools searches count their effort in calls of their limit check, and ``solve``
turns a time limit into a budget of such calls (``ortools_search.ortools_work_for``), so that the
plan does not depend on the machine's speed. This command builds the problems of
``logistics.vrp.synthetic`` (kinds: plain, hourly, limited, mixed, pairs, two_windows;
seed 1) and prints, for each kind and size, the calls a second measured with ``workers``
searches running at once next to the assumed rate. With ``--solve``, it then solves each
problem through ``solve`` with that time limit and prints which path took it, why it
stopped (``work_limit``, ``stall`` or ``solution_limit`` are reproducible; ``time_limit``
means the clock came first) and how long it took.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

from logistics.vrp import SolveOptions, solve
from logistics.vrp.data import Data, compile_problem
from logistics.vrp.ortools_search import first_solution, ortools_work_for, run_search
from logistics.vrp.portfolio import default_portfolio
from logistics.vrp.solver import search_path
from logistics.vrp.synthetic import KINDS, variant


def _data(kind: str, n: int) -> Data:
    """The solver's compiled view of the ``variant`` problem of this kind and size."""
    problem, provider = variant(kind, n, 1)
    return compile_problem(problem, provider, SolveOptions())[0]


def _rate(kind: str, n: int, worker: int, seconds: float) -> tuple[int, float]:
    """One search of ``seconds`` (after its first solution): (calls, seconds it ran)."""
    data = _data(kind, n)
    # worker k runs the portfolio's configuration k, as in ``solve``
    cfg = default_portfolio(n, worker + 1, 0, pairs=bool(data.pairs))[worker]
    start = first_solution(data, cfg, time.monotonic() + seconds)
    began = time.monotonic()
    result = run_search(data, cfg, began + seconds, start=start)
    return result.work, time.monotonic() - began


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m logistics.calibrate``."""
    parser = argparse.ArgumentParser(prog="python -m logistics.calibrate", description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="each measure (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="searches at once (default 2)")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--sizes", default="20,50,100,200,400")
    parser.add_argument("--solve", type=float, default=None, metavar="SECONDS")
    args = parser.parse_args(argv)
    kinds = args.kinds.split(",")
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"genre inconnu : {', '.join(unknown)} (connus : {', '.join(KINDS)})")
    sizes = [int(x) for x in args.sizes.split(",")]
    ctx = multiprocessing.get_context("fork")
    print("kind,n,workers,calls_per_s_min,calls_per_s_max,assumed,min_over_assumed")
    for kind in kinds:
        for n in sizes:
            with ctx.Pool(args.workers) as pool:
                runs = pool.starmap(
                    _rate, [(kind, n, s, args.seconds) for s in range(args.workers)]
                )
            rates = [work / max(1e-9, took) for work, took in runs]
            assumed = ortools_work_for(1.0, _data(kind, n))
            print(
                f"{kind},{n},{args.workers},{min(rates) / 1e3:.0f}k,{max(rates) / 1e3:.0f}k,"
                f"{assumed / 1e3:.0f}k,{min(rates) / assumed:.2f}",
                flush=True,
            )
    if args.solve is not None:
        print("kind,n,path,time_limit,workers,stopped_by,seconds,cost")
        options = SolveOptions(time_limit_s=args.solve, workers=args.workers)
        for kind in kinds:
            for n in sizes:
                problem, provider = variant(kind, n, 1)
                began = time.monotonic()
                solution = solve(problem, provider, options)
                print(
                    f"{kind},{n},{search_path(_data(kind, n), options)},"
                    f"{args.solve:g},{args.workers},"
                    f"{solution.stats.stopped_by},{time.monotonic() - began:.2f},"
                    f"{solution.cost:.1f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
