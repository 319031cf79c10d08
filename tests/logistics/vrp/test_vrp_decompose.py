"""Decomposition of large problems into groups of nearby routes searched on their own."""

from __future__ import annotations

import dataclasses
import multiprocessing
import pickle
import random
import time

import pytest

from logistics.vrp import (
    PickupDelivery,
    Problem,
    SolveOptions,
    check_solution,
    kernel,
    rounds,
    solve,
)
from logistics.vrp.data import Data, Routes, can_decompose, compile_problem
from logistics.vrp.ortools_model import Config
from logistics.vrp.ortools_search import first_solution, run_search, trimmed
from logistics.vrp.rounds import (
    GroupTask,
    cluster_first,
    group_problem,
    improve_group,
    route_cost,
    route_groups,
    search_group,
    stop_clusters,
    use_rounds,
)


def _first(square, n: int, seed: int) -> tuple[Data, Routes]:
    problem, provider = square(n, seed, 40)
    data, unserved, _ = compile_problem(problem, provider, SolveOptions())
    assert unserved == []
    cfg = Config("SAVINGS", "GUIDED_LOCAL_SEARCH", 0, None)
    start = first_solution(data, cfg, time.monotonic() + 30)
    assert sum(len(nodes) for _, _, nodes in start.routes) == n
    return data, start.routes


def test_groups_hold_every_route_once_and_reach_their_size(square):
    data, routes = _first(square, 60, 2)
    groups = route_groups(data, routes, 12, random.Random(5))
    assert sorted(k for g in groups for k in g) == list(range(len(routes)))
    sizes = [sum(len(routes[k][2]) for k in g) for g in groups]
    assert all(size >= 12 for size in sizes[:-1])
    assert sum(sizes) == 60


@pytest.mark.solver
def test_a_group_search_keeps_its_stops_and_never_costs_more(square):
    data, routes = _first(square, 60, 3)
    groups = route_groups(data, routes, 20, random.Random(1))
    improved = 0
    for k, group in enumerate(groups):
        mine = [routes[i] for i in group]
        cfg = Config("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", k + 1, None)
        answer = improve_group(data, mine, cfg, time.monotonic() + 5, 0.5)
        old, new, better = answer.old, answer.new, answer.routes
        # a group search ends on its work budget (or the stall rule), not on the clock
        assert not answer.on_clock and 0 < answer.seconds <= 0.5
        assert old == sum(route_cost(data, b, nodes) for b, _, nodes in mine)
        assert new == sum(route_cost(data, b, nodes) for b, _, nodes in better)
        assert new <= old
        assert sorted(x for _, _, n in better for x in n) == sorted(
            x for _, _, n in mine for x in n
        )
        improved += new < old
    # savings leaves room: at least one group must find something better
    assert improved >= 1


@pytest.mark.solver
def test_a_group_sent_to_another_process_gives_the_answer_it_gives_here(square):
    # the rounds send each group to a worker as a problem of its own, in the task (no
    # module global to find in the forked process): the task must pickle, vehicles and
    # matrices included, and the search must not depend on which process runs it
    data, routes = _first(square, 60, 3)
    mine = [routes[i] for i in route_groups(data, routes, 20, random.Random(1))[0]]
    cfg = Config("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", 1, None, ruin=3)
    sub, start, stops = group_problem(data, mine)
    task = GroupTask(sub, start, cfg, 0.5, time.monotonic() + 30)
    sent = pickle.loads(pickle.dumps(task))
    assert sent.data.base_vehicles == data.base_vehicles
    with multiprocessing.get_context("fork").Pool(1) as pool:
        there = pool.apply(search_group, (task,))
    here = improve_group(data, mine, cfg, time.monotonic() + 30, 0.5)
    assert (there.old, there.new) == (here.old, here.new)
    assert [(b, c, [stops[x - data.n_depots] for x in n]) for b, c, n in there.routes] == (
        here.routes
    )


@pytest.mark.solver
@pytest.mark.parametrize("workers", [1, 2])
def test_a_decomposed_plan_is_checked_valid_and_beats_its_first_solution(
    workers: int,
    monkeypatch: pytest.MonkeyPatch,
    square,
    calls_to,
):
    monkeypatch.setattr(kernel, "use_sisr", lambda data: False)
    monkeypatch.setattr(rounds, "DECOMPOSE_ABOVE", 40)
    monkeypatch.setattr(rounds, "CLUSTER_FIRST_ABOVE", 60)
    monkeypatch.setattr(rounds, "DECOMPOSE_GROUP", 20)
    monkeypatch.setattr(rounds, "SECONDS_PER_STOP", 0.01)
    calls = calls_to(rounds, "run_decomposed")
    problem, provider = square(80, 4, 40)
    seen: list[float] = []
    solution = solve(
        problem,
        provider,
        SolveOptions(time_limit_s=3, workers=workers),
        progress=lambda cost, seconds: seen.append(cost),
    )
    assert len(calls) == 1
    assert solution.unserved == ()
    assert check_solution(problem, solution, provider).ok
    assert solution.stats.first_cost is not None
    assert solution.cost < solution.stats.first_cost
    assert solution.stats.solutions >= 1  # rounds of group searches
    # progress reports only improvements, and the last one is the plan returned
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)
    assert seen[0] == solution.stats.first_cost and seen[-1] == solution.cost


@pytest.mark.solver
def test_a_search_started_from_a_ruined_plan_puts_every_stop_back(square):
    data, routes = _first(square, 40, 6)
    out = {x for _, _, nodes in routes[:2] for x in nodes}
    ruined = [(b, c, [x for x in nodes if x not in out]) for b, c, nodes in routes]
    start = trimmed(data, ruined, None)
    cfg = Config("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", 3, None)
    result = run_search(data, cfg, time.monotonic() + 1.0, start=start)
    assert sorted(x for _, _, n in result.routes for x in n) == sorted(
        x for _, _, n in routes for x in n
    )


def test_decomposition_is_only_for_costs_that_split_by_route(square):
    problem, provider = square(10, 1, 40, None)
    data, _, _ = compile_problem(problem, provider, SolveOptions())
    assert can_decompose(data)
    base = problem.vehicles[0]
    variants = {
        "hourly cost": dataclasses.replace(base, cost_per_hour=20.0),
        "limited fleet": dataclasses.replace(base, copies=3),
        "range": dataclasses.replace(base, max_distance_m=10**6),
    }
    for name, vehicle in variants.items():
        variant = Problem(problem.depots, (vehicle,), problem.stops)
        data, _, _ = compile_problem(variant, provider, SolveOptions())
        assert not can_decompose(data), name
    pickup = dataclasses.replace(problem.stops[0], kind="pickup")
    paired = Problem(
        problem.depots,
        problem.vehicles,
        (pickup, *problem.stops[1:]),
        pairs=(PickupDelivery("s1", "s2"),),
    )
    data, _, _ = compile_problem(paired, provider, SolveOptions())
    assert not can_decompose(data)


def test_rounds_are_for_large_problems_and_small_ones_with_short_routes(square):
    def rounds(n: int, capacity: int) -> bool:
        problem, provider = square(n, 1, capacity, None)
        data, _, _ = compile_problem(problem, provider, SolveOptions())
        return use_rounds(data)

    assert rounds(60, 40)  # about 8 stops a route
    assert not rounds(60, 10_000)  # one route could hold them all
    assert not rounds(30, 40)  # too small to be worth it
    assert rounds(260, 10_000)  # large: always


def test_clusters_hold_every_stop_once(square):
    problem, provider = square(70, 8, 40)
    data, _, _ = compile_problem(problem, provider, SolveOptions())
    clusters = stop_clusters(data, 20, random.Random(2))
    assert len(clusters) == 4
    assert sorted(x for c in clusters for x in c) == list(range(1, 71))


@pytest.mark.solver
def test_a_clustered_first_solution_serves_every_stop(monkeypatch: pytest.MonkeyPatch, square):
    monkeypatch.setattr(rounds, "DECOMPOSE_GROUP", 20)
    problem, provider = square(70, 9, 40)
    data, _, _ = compile_problem(problem, provider, SolveOptions())
    configs = [
        Config("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", 0, None),
        Config("SAVINGS", "GUIDED_LOCAL_SEARCH", 1, None),
    ]
    start = cluster_first(data, configs, time.monotonic() + 30, None, random.Random(0))
    assert start is not None
    assert sorted(x for _, _, n in start.routes for x in n) == list(range(1, 71))
    assert start.cost == sum(route_cost(data, b, n) for b, _, n in start.routes)
