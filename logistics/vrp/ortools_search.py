"""One OR-Tools search: size the fleet, build a first solution, then run the metaheuristic
on a budget of work (calls of its limit check), the clock only guarding that budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from logistics.vrp.data import Data, Result, Routes, fleet_lower_bound
from logistics.vrp.ortools_model import Config, build_model, extract_routes, search_parameters

# The search stops when this many work units (calls of the OR-Tools limit check, a
# deterministic measure of effort) have passed without improvement (20k n + 2k n^2): small
# problems then end on their own, in a reproducible way, long before the time limit.
STALL_WORK_PER_STOP = 20_000
STALL_WORK_PER_STOP_SQUARED = 2_000

# The time limit of an OR-Tools search becomes a budget of those calls, so that the plan
# depends on the seed and the time limit, not on the machine's speed or load; the clock
# only guards the budget. Rates measured by ``python -m logistics.calibrate`` (two
# searches at once; figures in logistics/README.md): 0.6 to 1.1 million calls a second up
# to 100 stops, falling as (100 / n)^0.4-0.7 above, and much faster, about (100 / n)^1.5
# to 1.7, when the cost counts hours (each move then costs more to evaluate). The assumed
# rate sits below the slowest measured. The searches get WORK_SHARE of the time limit;
# the rest is left to the first solutions, which are not counted in calls.
ORTOOLS_WORK_PER_SECOND = 500_000
ORTOOLS_FLAT_STOPS = 100
ORTOOLS_FALL = 0.6
ORTOOLS_FALL_COSTLY = 1.7
WORK_SHARE = 0.85


@dataclass(slots=True)
class _State:
    best: float = math.inf
    count: int = 0
    last_send: float = 0.0
    pending: bool = False
    work: int = 0
    work_at_best: int = 0
    stopped: str = "completed"
    best_routes: list[tuple[int, int, list[int]]] = field(default_factory=list)


@dataclass(slots=True)
class Start:
    """A first solution and the fleet the metaheuristic will search with."""

    fleet: list[int]
    routes: Routes
    cost: int | None


def first_solution(data: Data, cfg: Config, deadline: float) -> Start:
    """Size unlimited fleets and build a first solution with ``cfg.first_solution``."""
    fleet = [c if c is not None else 0 for c in data.copies]
    unlimited = [b for b, c in enumerate(data.copies) if c is None]
    n_stops = len(data.node_ids) - data.n_depots
    if not unlimited:
        return Start(fleet, [], None)
    for b in unlimited:
        # generous: unused vehicles cost the first-solution heuristics little, and a
        # second attempt with more vehicles costs a whole first solution
        fleet[b] = min(n_stops, 3 * fleet_lower_bound(data, b) + 10)
    routes: Routes = []
    first_cost: int | None = None
    while True:
        built = build_model(data, fleet, cfg.seed)
        left = max(0.05, deadline - time.monotonic())
        # most of the time left: a bigger second fleet is rarely needed, no plan is worse
        assignment = built.routing.SolveWithParameters(search_parameters(cfg, left * 0.9, True))
        if assignment is not None:
            routes = extract_routes(built, assignment)
            first_cost = int(assignment.ObjectiveValue())
        served = sum(len(r[2]) for r in routes)
        grow = [b for b in unlimited if fleet[b] < n_stops]
        if served == n_stops or not grow or time.monotonic() > deadline:
            break
        for b in grow:
            fleet[b] = min(n_stops, fleet[b] * 2)
    if not routes or first_cost is None:
        return Start(fleet, [], None)
    return trimmed(data, routes, first_cost)


def trimmed(data: Data, routes: Routes, cost: int | None) -> Start:
    """Unlimited fleets cut to the used vehicles plus a margin, copies renumbered."""
    fleet = [c if c is not None else 0 for c in data.copies]
    used = {b: sum(1 for r in routes if r[0] == b) for b in range(len(fleet))}
    for b, c in enumerate(data.copies):
        if c is None:
            fleet[b] = used[b] + max(2, math.ceil(0.1 * used[b]))
    counter: dict[int, int] = {}
    renumbered: Routes = []
    for b, copy, nodes in routes:
        if data.copies[b] is None:
            copy = counter.get(b, 0)
            counter[b] = copy + 1
        renumbered.append((b, copy, nodes))
    return Start(fleet, renumbered, cost)


def ortools_work_for(seconds: float, data: Data) -> int:
    """The budget of limit-check calls an OR-Tools search of ``data`` gets for ``seconds``."""
    n_stops = max(1, len(data.node_ids) - data.n_depots)
    fall = ORTOOLS_FALL_COSTLY if any(data.base_hour) else ORTOOLS_FALL
    rate = ORTOOLS_WORK_PER_SECOND * min(1.0, (ORTOOLS_FLAT_STOPS / n_stops) ** fall)
    return max(1, int(seconds * rate))


def run_search(
    data: Data,
    cfg: Config,
    deadline: float,
    on_improve: Callable[[int], None] | None = None,
    on_routes: Callable[[int, Routes], None] | None = None,
    start: Start | None = None,
    work: int | None = None,
) -> Result:
    """One search: fleet sizing when a vehicle is unlimited, then the metaheuristic.

    With ``start`` (routes and fleet), the first solution is skipped. The metaheuristic
    ends after ``work`` calls of its limit check (None: no such budget), on the stall rule,
    or at ``deadline``, whichever comes first; only the clock makes the plan depend on
    the machine.
    """
    n_stops = len(data.node_ids) - data.n_depots
    if start is None:
        start = first_solution(data, cfg, deadline)
        if start.cost is not None:
            if on_improve is not None:
                on_improve(start.cost)
            if on_routes is not None:
                on_routes(start.cost, start.routes)
    fleet = start.fleet
    initial: Routes | None = start.routes or None
    first_cost = start.cost
    built = build_model(data, fleet, cfg.seed)
    routing = built.routing
    state = _State()
    if initial is not None and first_cost is not None:
        # already reported by the fleet-sizing step
        state.best, state.best_routes = first_cost, initial
    finish_at = deadline - 0.02
    stall_work = STALL_WORK_PER_STOP * max(1, n_stops) + STALL_WORK_PER_STOP_SQUARED * n_stops**2

    def at_solution() -> None:
        cost = routing.CostVar().Value()
        state.count += 1
        if cost < state.best:
            state.best = cost
            state.work_at_best = state.work
            if on_improve is not None:
                on_improve(cost)
            if on_routes is not None:
                state.best_routes = extract_routes(built, None)
                state.pending = True
        if state.pending and on_routes is not None:
            now = time.monotonic()
            if now - state.last_send > 0.2:
                on_routes(int(state.best), state.best_routes)
                state.last_send, state.pending = now, False

    def limit() -> bool:
        # called by OR-Tools many times per move evaluation: a deterministic work counter
        state.work += 1
        if state.work - state.work_at_best > stall_work:
            state.stopped = "stall"
            return True
        if work is not None and state.work >= work:
            state.stopped = "work_limit"
            return True
        if state.work % 256 == 0 and time.monotonic() > finish_at:
            state.stopped = "time_limit"
            return True
        return False

    routing.AddAtSolutionCallback(at_solution)
    routing.AddSearchMonitor(routing.solver().CustomLimit(limit))
    left = deadline - time.monotonic()
    # OR-Tools overshoots its own limit; keep a margin and let the callback stop it
    params = search_parameters(cfg, max(0.05, left - min(0.5, 0.05 * left)), False)
    if initial is not None:
        slot_of = {bc: v for v, bc in enumerate(built.slots)}
        inv = {data_node: model_node for model_node, data_node in enumerate(built.perm)}
        rows: list[list[int]] = [[] for _ in built.slots]
        for b, c, nodes in initial:
            rows[slot_of[(b, c)]] = [built.manager.NodeToIndex(inv[x]) for x in nodes]
        read = routing.ReadAssignmentFromRoutes(rows, True)
        solution = routing.SolveFromAssignmentWithParameters(read, params)
    else:
        solution = routing.SolveWithParameters(params)
    if solution is None:
        # nothing better than the fleet-sizing solution (or nothing at all) within the time
        fallback = state.best_routes or initial or []
        cost = int(state.best) if state.best_routes else (first_cost or 2**62)
        stopped = state.stopped
        if not fallback:
            stopped = "no_solution"
        elif stopped == "completed":  # OR-Tools' own time limit
            stopped = "time_limit"
        return Result(
            cost=cost if fallback else 2**62,
            routes=fallback,
            solutions=state.count,
            first_cost=first_cost,
            stopped_by=stopped,
            fleet=len(built.slots),
            work=state.work,
        )
    stopped = state.stopped
    if cfg.max_solutions is not None and state.count >= cfg.max_solutions:
        stopped = "solution_limit"
    elif stopped == "completed" and time.monotonic() >= finish_at - 0.5:
        stopped = "time_limit"
    return Result(
        cost=int(solution.ObjectiveValue()),
        routes=extract_routes(built, solution),
        solutions=state.count,
        first_cost=first_cost,
        stopped_by=stopped,
        fleet=len(built.slots),
        work=state.work,
    )
