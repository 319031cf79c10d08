"""The portfolio: OR-Tools searches side by side, one a process, each with its configuration;
the best plan wins, and a guard at the deadline keeps the last routes each one reported.
"""

from __future__ import annotations

import math
import multiprocessing
import multiprocessing.connection
import time
from collections.abc import Callable
from typing import Any, cast

from logistics.vrp.data import Data, Result
from logistics.vrp.errors import InvalidProblem
from logistics.vrp.model import SolveOptions
from logistics.vrp.ortools_model import Config
from logistics.vrp.ortools_search import run_search


def default_portfolio(n_stops: int, workers: int, seed: int, pairs: bool = False) -> list[Config]:
    """Search configurations run side by side, one per worker (chosen by measurement).

    OR-Tools' savings heuristic finds no first solution when there are pickup-delivery
    pairs (it grew the fleet to one vehicle a stop and still failed, in 3.7 s at 200
    stops, measured by ``python -m logistics.calibrate``): the second worker then starts
    from local cheapest insertion instead.
    """
    second = "LOCAL_CHEAPEST_INSERTION" if pairs else "SAVINGS"
    configs = [
        Config("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", seed, None),
        Config(second, "GUIDED_LOCAL_SEARCH", seed + 1, None),
    ]
    return [configs[i % len(configs)] for i in range(workers)]


def configs_for(data: Data, options: SolveOptions) -> list[Config]:
    """The portfolio of ``default_portfolio`` with the caller's strategies, seed and
    solution limit (one configuration a worker; the rounds use the first ones)."""
    configs = default_portfolio(
        len(data.node_ids) - data.n_depots, options.workers, 0, pairs=bool(data.pairs)
    )
    if options.first_solution or options.metaheuristic:
        configs = [
            Config(
                options.first_solution or c.first_solution,
                options.metaheuristic or c.metaheuristic,
                c.seed,
                None,
            )
            for c in configs
        ]
    return [
        Config(c.first_solution, c.metaheuristic, c.seed + options.seed, options.max_solutions)
        for c in configs
    ]


def _worker(
    data: Data,
    cfg: Config,
    deadline: float,
    work: int | None,
    conn: multiprocessing.connection.Connection,
) -> None:
    def send_routes(cost: int, routes: list[tuple[int, int, list[int]]]) -> None:
        conn.send(("routes", cost, routes))

    def send_cost(cost: int) -> None:
        conn.send(("cost", cost))

    result = run_search(data, cfg, deadline, on_improve=send_cost, on_routes=send_routes, work=work)
    conn.send(("done", result))
    conn.close()


def run_portfolio(
    data: Data,
    configs: list[Config],
    deadline: float,
    report: Callable[[int], None],
    work: int | None = None,
) -> Result:
    """One search a process, each with its configuration and ``work`` budget; the best wins.

    The plan is reproducible when every search ends on its own (budget, stall rule or
    solution limit); when the deadline cuts one, ``stopped_by`` says ``time_limit``.
    """
    # fork shares the matrices without pickling them; the searches hold no threads here
    ctx = multiprocessing.get_context("fork")
    procs = []
    conns = []
    for cfg in configs:
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(data, cfg, deadline, work, child), daemon=True)
        proc.start()
        child.close()
        procs.append(proc)
        conns.append(parent)
    best_partial: list[Result | None] = [None] * len(configs)
    done: list[Result | None] = [None] * len(configs)
    best_cost = math.inf
    open_conns = {id(c): i for i, c in enumerate(conns)}
    # the guard: at the deadline, searches still running are stopped and their last
    # reported routes used; only when none has reported anything yet do we wait longer
    # (up to twice the budget) rather than return no plan at all
    budget = deadline - time.monotonic()
    while open_conns:
        have = any(r is not None for r in done + best_partial)
        until = deadline + 0.05 if have else deadline + max(budget, 1.0)
        if time.monotonic() >= until:
            break
        ready = multiprocessing.connection.wait(
            [conns[i] for i in open_conns.values()], timeout=max(0.0, until - time.monotonic())
        )
        for conn in ready:
            i = open_conns[id(conn)]
            try:
                msg: Any = cast(multiprocessing.connection.Connection, conn).recv()
            except EOFError:
                del open_conns[id(conn)]
                continue
            if msg[0] == "cost" and msg[1] < best_cost:
                best_cost = msg[1]
                report(msg[1])
            elif msg[0] == "routes":
                best_partial[i] = Result(cost=msg[1], routes=msg[2], stopped_by="guard")
            elif msg[0] == "done":
                done[i] = msg[1]
                del open_conns[id(conn)]
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(1.0)
    found = [c for c in done + best_partial if c is not None and c.cost < 2**62]
    if not found:
        raise InvalidProblem("Aucune solution trouvée dans le temps imparti.", code="no_solution")
    best = min(found, key=lambda r: r.cost)
    if any(d is None or d.stopped_by == "time_limit" for d in done):
        best.stopped_by = "time_limit"
    best.solutions = sum(c.solutions for c in found)
    firsts = [c.first_cost for c in found if c.first_cost is not None]
    best.first_cost = min(firsts) if firsts else None
    return best
