"""Solve a routing problem: the entry point, which only connects the parts.

The pipeline: validate, compile the problem to arrays (``data``: the provider's matrices,
the stops no vehicle can serve set aside with their reason), choose the search
(``search_path``), run it under a wall-clock guard, and turn the best routes into a
schedule with costs (``assemble``). The searches: ruin and recreate (``kernel``), rounds
of group searches (``rounds``), one OR-Tools search (``ortools_search``) or several side
by side (``portfolio``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from logistics.vrp import kernel, ortools_search, portfolio, rounds, sisr
from logistics.vrp.assemble import assemble
from logistics.vrp.data import Data, Result, compile_problem
from logistics.vrp.model import Problem, Solution, SolveOptions
from logistics.vrp.providers import GreatCircleProvider, TravelProvider
from logistics.vrp.validation import validate_options, validate_problem

Progress = Callable[[float, float], None]
"""Called with (best cost so far in euros or distance units, seconds elapsed)."""


def solve(
    problem: Problem,
    provider: TravelProvider | None = None,
    options: SolveOptions | None = None,
    progress: Progress | None = None,
) -> Solution:
    """Plan routes for ``problem``; unserved stops are listed with their reason.

    The time limit holds from the call to the answer, start-up and processes included,
    except the compilation of the ruin-and-recreate kernel (``sisr.warm_up``): done once
    per process, with the clock stopped, and reported in ``stats.warm_up_s``.
    """
    started = time.monotonic()
    options = options or SolveOptions()
    provider = provider or GreatCircleProvider()
    validate_options(options)
    validate_problem(problem, requires_coordinates=provider.requires_coordinates)
    deadline = started + options.time_limit_s
    warm_up_s = 0.0

    data, unserved, scale = compile_problem(problem, provider, options)
    if len(data.node_ids) == data.n_depots:
        result = Result(cost=0, routes=[])
    else:
        configs = portfolio.configs_for(data, options)

        def report(cost: int) -> None:
            if progress is not None:
                progress(cost / scale, time.monotonic() - started)

        path = search_path(data, options)
        if path == "kernel":
            # the kernel is compiled (or loaded from Numba's cache) with the clock stopped:
            # seconds once per process with a warm cache, up to minutes on a cold and busy
            # machine, which no time limit could absorb; a routing worker has done it
            # before its first task (logistics/warmup.py), and then this costs nothing
            warm_up_s = sisr.warm_up()
            started += warm_up_s
            deadline += warm_up_s
            work = sisr.work_for(options.time_limit_s, len(data.node_ids) - data.n_depots)
            result = kernel.run_sisr(data, options.seed, deadline, work, options.workers, report)
        elif path == "rounds":
            result = rounds.run_decomposed(
                data, configs, deadline, options.workers, report, options.time_limit_s
            )
        else:
            work = ortools_search.ortools_work_for(
                ortools_search.WORK_SHARE * options.time_limit_s, data
            )
            if options.workers == 1:
                result = ortools_search.run_search(
                    data, configs[0], deadline, on_improve=report, work=work
                )
            else:
                result = portfolio.run_portfolio(data, configs, deadline, report, work)
    return assemble(problem, data, result, unserved, started, options, scale, warm_up_s)


def search_path(data: Data, options: SolveOptions) -> str:
    """The search ``solve`` runs: ``kernel`` (ruin and recreate), ``rounds`` (of group
    searches) or ``search`` (OR-Tools, one process or a portfolio by ``options.workers``).

    A caller asking for a solution limit gets the OR-Tools search.
    """
    if options.max_solutions is None and kernel.use_sisr(data):
        return "kernel"
    if options.max_solutions is None and rounds.use_rounds(data):
        return "rounds"
    return "search"
