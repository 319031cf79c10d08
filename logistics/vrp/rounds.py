"""Rounds of group searches (a large neighbourhood search over OR-Tools searches).

Each round cuts the plan into groups of nearby routes and searches every group as a problem
of its own, the groups side by side on a pool of processes. A group goes to its process as
a small problem of its own (``GroupTask``), in the task itself: nothing is left in a module
for the forked processes to find.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from logistics.vrp.data import (
    Data,
    Result,
    Routes,
    can_decompose,
    data_node_of_depot,
    fleet_lower_bound,
)
from logistics.vrp.errors import InvalidProblem
from logistics.vrp.ortools_model import Config
from logistics.vrp.ortools_search import (
    WORK_SHARE,
    Start,
    first_solution,
    ortools_work_for,
    run_search,
    trimmed,
)

# Rounds of group searches (large neighbourhood search), measured on the benchmark (see
# logistics/README.md); use_rounds says which problems get them. Above DECOMPOSE_ABOVE
# stops each round cuts the plan into groups of nearby routes holding about DECOMPOSE_GROUP
# stops, and each group is searched as a problem of its own for SECONDS_PER_STOP x its
# size, the groups in parallel; smaller problems are one group. When there are fewer
# groups than workers, a group is searched several times: the even copies restart the
# metaheuristic from the plan, the odd ones first take out RUIN_SHARE of its stops (the
# ones nearest a random stop) and put them back. Above CLUSTER_FIRST_ABOVE stops the first
# solution itself is built cluster by cluster.
ROUNDS_ABOVE = 50
DECOMPOSE_ABOVE = 250
DECOMPOSE_GROUP = 150
CLUSTER_FIRST_ABOVE = 300
RUIN_SHARE = 0.15
SECONDS_PER_STOP = 0.005
# The rounds spend WORK_SHARE of the time limit; the rest is left to the first solutions
# and to building, sending and collecting the groups. No round is started with less than
# MIN_ROUND_SECONDS of budget (or of clock) left.
MIN_ROUND_SECONDS = 0.3
MIN_GROUP_SECONDS = 0.05
LONG_ROUTE = 20  # stops a route, by the capacity bound


def use_rounds(data: Data) -> bool:
    """Whether rounds of group searches (``run_decomposed``) suit this problem.

    Measured on the benchmark: they win on large problems, and on small ones whose routes
    are short; on small problems with long routes (say, 50 stops a route when the capacity
    allows it) the guided local search does better when it runs without a break.
    """
    n_stops = len(data.node_ids) - data.n_depots
    if n_stops <= ROUNDS_ABOVE or not can_decompose(data):
        return False
    if n_stops > DECOMPOSE_ABOVE:
        return True
    routes = sum(fleet_lower_bound(data, b) for b in range(len(data.base_vehicles)))
    return n_stops / max(1, routes) <= LONG_ROUTE


def route_cost(data: Data, b: int, nodes: list[int]) -> int:
    """The cost of one route of base vehicle ``b`` (distance priced per km, plus fixed cost)."""
    if not nodes:
        return 0
    dist = data.dist[data.base_profile[b]]
    path = [data_node_of_depot(data, b, True), *nodes, data_node_of_depot(data, b, False)]
    meters = sum(int(dist[a, z]) for a, z in itertools.pairwise(path))
    return meters * data.base_km[b] + data.base_fixed[b]


def _sub_data(data: Data, stops: list[int]) -> Data:
    """The same problem restricted to the depots and ``stops`` (data nodes, kept in order)."""
    keep = list(range(data.n_depots)) + stops
    sel = np.asarray(keep)
    return Data(
        need_time=data.need_time,
        node_ids=[data.node_ids[i] for i in keep],
        n_depots=data.n_depots,
        dist=[m[np.ix_(sel, sel)] for m in data.dist],
        time=[m[np.ix_(sel, sel)] for m in data.time],
        service=[data.service[i] for i in keep],
        windows=[data.windows[i] for i in keep],
        dims=data.dims,
        transit=[[row[i] for i in keep] for row in data.transit],
        from_depot=[[row[i] for i in keep] for row in data.from_depot],
        signed_loads=data.signed_loads,
        base_vehicles=data.base_vehicles,
        base_profile=data.base_profile,
        base_km=data.base_km,
        base_hour=data.base_hour,
        base_fixed=data.base_fixed,
        allowed=[data.allowed[i] for i in keep],
        pairs=[],
        penalty=data.penalty,
        horizon=data.horizon,
        copies=data.copies,
    )


def route_groups(data: Data, routes: Routes, size: int, rng: random.Random) -> list[list[int]]:
    """Routes (by index) gathered around random seed stops, about ``size`` stops a group."""
    route_of = {x: k for k, (_, _, nodes) in enumerate(routes) for x in nodes}
    left = set(range(len(routes)))
    dist = data.dist[0]
    groups: list[list[int]] = []
    while left:
        seed_route = rng.choice(sorted(left))
        seed = rng.choice(routes[seed_route][2])
        order = np.argsort(dist[seed] + dist[:, seed], kind="stable")
        group: list[int] = []
        count = 0
        for x in order.tolist():
            k = route_of.get(x)
            if k is None or k not in left:
                continue
            left.discard(k)
            group.append(k)
            count += len(routes[k][2])
            if count >= size:
                break
        groups.append(group)
    return groups


@dataclass(slots=True)
class GroupAnswer:
    """A group search's answer, in the numbering of the problem it was given."""

    old: int  # the group's cost before its search
    new: int  # its cost after (``old`` when the search found nothing better)
    routes: Routes
    seconds: float  # the search's work in nominal seconds (its budget's rate)
    on_clock: bool  # the deadline, not the work budget or the stall rule, ended it


@dataclass(slots=True)
class GroupTask:
    """A group of routes as a problem of its own, sent whole to the process searching it."""

    data: Data  # the depots and the group's stops only
    routes: Routes  # the group's routes, in the numbering of ``data``
    cfg: Config
    seconds: float  # the search's work budget, in nominal seconds
    deadline: float


def group_problem(data: Data, routes: Routes) -> tuple[Data, Routes, list[int]]:
    """The group of ``routes`` as a problem of its own: its data, the routes in its
    numbering, and the data nodes its stops stand for."""
    stops = [x for _, _, nodes in routes for x in nodes]
    local = {x: data.n_depots + i for i, x in enumerate(stops)}
    start_routes = [(b, c, [local[x] for x in nodes]) for b, c, nodes in routes]
    return _sub_data(data, stops), start_routes, stops


def search_group(task: GroupTask) -> GroupAnswer:
    """Search one group of routes as a problem of its own, for ``task.seconds`` of work.

    The answer's routes serve the group's stops, in the task's numbering: its new routes
    when they are cheaper and serve every stop, its routes as they were otherwise.
    """
    sub, cfg, seconds = task.data, task.cfg, task.seconds
    n_stops = len(sub.node_ids) - sub.n_depots
    old = sum(route_cost(sub, b, nodes) for b, _, nodes in task.routes)
    start = trimmed(sub, task.routes, old)
    if cfg.ruin:
        # ruin: the stops nearest a random one leave their routes; the search starts with
        # them unserved and must put them back (their penalty outweighs any route)
        seed = random.Random(cfg.seed).choice(list(range(sub.n_depots, len(sub.node_ids))))  # noqa: S311
        dist = sub.dist[0]
        order = np.argsort(dist[seed] + dist[:, seed], kind="stable").tolist()
        out = set([x for x in order if x >= sub.n_depots][: cfg.ruin])
        start = Start(
            start.fleet, [(b, c, [x for x in n if x not in out]) for b, c, n in start.routes], None
        )
    work = ortools_work_for(seconds, sub)
    result = run_search(sub, cfg, task.deadline, start=start, work=work)
    # a search that ends at once (nothing to move) still costs the round its overhead: the
    # floor keeps the rounds from looping until the clock
    spent = max(MIN_GROUP_SECONDS, seconds * result.work / work)
    on_clock = result.stopped_by == "time_limit"
    served = sum(len(r[2]) for r in result.routes)
    new = sum(route_cost(sub, b, nodes) for b, _, nodes in result.routes)
    if served != n_stops or new >= old:
        return GroupAnswer(old, old, task.routes, spent, on_clock)
    return GroupAnswer(old, new, result.routes, spent, on_clock)


def _in_data_nodes(routes: Routes, stops: list[int], n_depots: int) -> Routes:
    """Routes of a group's or a cluster's own numbering back in the data nodes of ``stops``."""
    return [(b, c, [stops[x - n_depots] for x in nodes]) for b, c, nodes in routes]


def improve_group(
    data: Data, routes: Routes, cfg: Config, deadline: float, seconds: float
) -> GroupAnswer:
    """``search_group`` of the group of ``routes``, in this process, in data nodes."""
    sub, start_routes, stops = group_problem(data, routes)
    answer = search_group(GroupTask(sub, start_routes, cfg, seconds, deadline))
    answer.routes = _in_data_nodes(answer.routes, stops, data.n_depots)
    return answer


def _first(args: tuple[Data, Config, float]) -> Start:
    return first_solution(*args)


def _first_solutions(
    pool: Any, args: list[tuple[Data, Config, float]], deadline: float
) -> list[Start]:
    """First solutions built side by side, in the order of ``args``; those ``deadline`` cuts
    are missing from the answer."""
    results = pool.imap(_first, args)
    starts: list[Start] = []
    while len(starts) < len(args):
        try:
            starts.append(results.next(timeout=max(0.0, deadline - time.monotonic())))
        except multiprocessing.TimeoutError:
            break
    return starts


def stop_clusters(data: Data, size: int, rng: random.Random) -> list[list[int]]:
    """Stops split around far-apart centres (farthest-point seeds), each to its nearest."""
    stops = np.arange(data.n_depots, len(data.node_ids))
    dist = data.dist[0]
    k = math.ceil(len(stops) / size)
    centres = [int(rng.choice(stops.tolist()))]
    near = dist[centres[0], stops] + dist[stops, centres[0]]
    while len(centres) < k:
        c = int(stops[int(np.argmax(near))])
        centres.append(c)
        near = np.minimum(near, dist[c, stops] + dist[stops, c])
    sel = np.asarray(centres)
    owner = np.argmin(dist[np.ix_(sel, stops)] + dist[np.ix_(stops, sel)].T, axis=0)
    return [stops[owner == i].tolist() for i in range(k) if bool((owner == i).any())]


def _cluster_start(args: tuple[Data, Config, float]) -> tuple[int | None, Routes]:
    start = first_solution(*args)
    return start.cost, start.routes


def cluster_first(
    data: Data, configs: list[Config], deadline: float, pool: Any, rng: random.Random
) -> Start | None:
    """A first solution built cluster by cluster (cluster first, route second).

    On large problems a first solution of the whole costs seconds (quadratic in the
    stops); clusters of about DECOMPOSE_GROUP stops cost a fraction of that, and the
    rounds then repair the cluster borders. Each cluster keeps the cheaper of the first
    solutions of ``configs``; None when a cluster could not be served in full. Each task
    carries its cluster as a problem of its own.
    """
    clusters = stop_clusters(data, DECOMPOSE_GROUP, rng)
    strategies = configs[:2]
    subs = [_sub_data(data, cl) for cl in clusters]
    args = [(sub, cfg, deadline) for sub in subs for cfg in strategies]
    if pool is not None:
        try:
            answers = pool.map_async(_cluster_start, args).get(
                timeout=max(0.0, deadline - time.monotonic())
            )
        except multiprocessing.TimeoutError:
            return None
    else:
        answers = [_cluster_start(a) for a in args]
    routes: Routes = []
    for k, cluster in enumerate(clusters):
        full = [
            (cost, rs)
            for cost, rs in answers[k * len(strategies) : (k + 1) * len(strategies)]
            if cost is not None and sum(len(r[2]) for r in rs) == len(cluster)
        ]
        if not full:
            return None
        best = min(full, key=lambda a: cast(int, a[0]))[1]
        routes.extend(_in_data_nodes(best, cluster, data.n_depots))
    return trimmed(data, routes, sum(route_cost(data, b, n) for b, _, n in routes))


def makespan(seconds: list[float], workers: int) -> float:
    """When ``workers`` processes, each taking the next task when free, finish the tasks."""
    loads = [0.0] * max(1, workers)
    for t in seconds:
        i = loads.index(min(loads))
        loads[i] += t
    return max(loads)


def run_decomposed(
    data: Data,
    configs: list[Config],
    deadline: float,
    workers: int,
    report: Callable[[int], None],
    seconds: float,
) -> Result:
    """First solutions in parallel, then rounds of group searches on ``workers`` processes.

    Each round cuts the current plan into groups of nearby routes (new random seeds each
    round) and runs the metaheuristic on every group, from its current routes, with an
    equal share of the budget left. A group's routes are replaced only by cheaper ones
    that serve the same stops, so the plan never gets worse.

    The budget is ``WORK_SHARE`` of ``seconds``, spent in nominal seconds: each group
    search gets a work budget (``ortools_work_for``) and a round costs what its searches'
    work would take on the workers. The number of rounds and every search therefore depend
    on the problem and the seed only. ``deadline`` is the guard: when it comes, groups
    still searching are abandoned (their routes stay as they were) and ``stopped_by``
    says ``time_limit``.
    """
    rng = random.Random(configs[0].seed)  # noqa: S311 (reproducible, not secret)
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(workers) if workers > 1 else None
    rounds = 0
    on_clock = False
    try:
        # as in the portfolio's guard, a first plan may take up to twice the budget: a late
        # plan is better than none
        late = deadline + max(1.0, deadline - time.monotonic())
        first_args = [(data, c, late) for c in configs[: max(1, workers)]]
        clustered = None
        if len(data.node_ids) - data.n_depots > CLUSTER_FIRST_ABOVE:
            clustered = cluster_first(data, configs, late, pool, rng)
            # None also when the clock cut the clusters' first solutions
            on_clock = clustered is None and time.monotonic() >= late
        if clustered is not None:
            starts = [clustered]
        elif pool is not None:
            starts = _first_solutions(pool, first_args, late)
            if len(starts) < len(first_args):
                # a first solution still running would hold a worker: start afresh
                on_clock = True
                pool.terminate()
                pool.join()
                pool = ctx.Pool(workers)
        else:
            starts = [_first(a) for a in first_args]
        found = [s for s in starts if s.cost is not None and s.routes]
        if not found:
            raise InvalidProblem(
                "Aucune solution trouvée dans le temps imparti.", code="no_solution"
            )
        routes = min(found, key=lambda s: cast(int, s.cost)).routes
        first_cost = sum(route_cost(data, b, nodes) for b, _, nodes in routes)
        cost = reported = first_cost
        report(cost)
        n_stops = len(data.node_ids) - data.n_depots
        group_size = DECOMPOSE_GROUP if n_stops > DECOMPOSE_ABOVE else n_stops
        left = WORK_SHARE * seconds
        while left > MIN_ROUND_SECONDS:
            if deadline - time.monotonic() < MIN_ROUND_SECONDS:
                on_clock = True
                break
            rounds += 1
            groups = route_groups(data, routes, group_size, rng)
            # every group of a round gets the same share, in proportion to the largest group
            waves = math.ceil(len(groups) / max(1, workers))
            biggest = max(sum(len(routes[i][2]) for i in g) for g in groups)
            share = min(max(MIN_ROUND_SECONDS, SECONDS_PER_STOP * biggest), left / waves)
            # fewer groups than workers (small problems): each group is searched by several
            # workers with different seeds, and the best of their answers is kept
            copies = max(1, workers // len(groups))
            # each task carries its group as a problem of its own (small: one group)
            group_routes = [[routes[i] for i in group] for group in groups]
            group_stops: list[list[int]] = []
            tasks: list[GroupTask] = []
            for k, mine in enumerate(group_routes):
                sub, start_routes, stops = group_problem(data, mine)
                group_stops.append(stops)
                for j in range(copies):
                    cfg = Config(
                        configs[0].first_solution,
                        configs[0].metaheuristic,
                        configs[0].seed + 1000 * rounds + copies * k + j,
                        None,
                        ruin=round(RUIN_SHARE * len(stops)) if j % 2 else 0,
                    )
                    tasks.append(GroupTask(sub, start_routes, cfg, share, deadline))
            results: list[GroupAnswer | None] = []
            if pool is not None:
                handles = [pool.apply_async(search_group, (t,)) for t in tasks]
                for h in handles:
                    try:
                        results.append(h.get(timeout=max(0.0, deadline + 0.05 - time.monotonic())))
                    except multiprocessing.TimeoutError:
                        results.append(None)
            else:
                results = [search_group(t) for t in tasks]
            new_routes: Routes = []
            for k in range(len(groups)):
                answers = [r for r in results[k * copies : (k + 1) * copies] if r is not None]
                if not answers:
                    new_routes.extend(group_routes[k])
                    continue
                best = min(answers, key=lambda r: r.new)
                cost += best.new - best.old
                new_routes.extend(_in_data_nodes(best.routes, group_stops[k], data.n_depots))
            routes = new_routes
            if cost < reported:
                reported = cost
                report(cost)
            if any(r is None or r.on_clock for r in results):
                on_clock = True
                break
            left -= makespan([cast(GroupAnswer, r).seconds for r in results], workers)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    final = trimmed(data, routes, cost)
    return Result(
        cost=cost,
        routes=final.routes,
        solutions=rounds,
        first_cost=first_cost,
        stopped_by="time_limit" if on_clock else "work_limit",
        fleet=sum(final.fleet),
    )
