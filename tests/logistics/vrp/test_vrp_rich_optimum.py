"""The exhaustive optimum of small rich problems, the territory-shaped problems, and the
command that measures the OR-Tools path on them (``python -m logistics.rich_bench``)."""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest

from logistics import rich_bench
from logistics.vrp import (
    Depot,
    MatrixProvider,
    PickupDelivery,
    Problem,
    SolveOptions,
    Stop,
    TimeWindow,
    Vehicle,
    check_solution,
    solve,
)
from logistics.vrp.checker import check_routes
from logistics.vrp.optimum import MAX_RICH_STOPS, cvrp_optimum, rich_optimum
from logistics.vrp.providers import Point
from logistics.vrp.synthetic import square_problem, territory_problem


def line(*xs: int) -> tuple[list[str], list[list[int]]]:
    """A depot at 0 and stops at positions ``xs`` on a line: ids and distances."""
    points = [0, *xs]
    ids = ["d"] + [f"s{i}" for i in range(1, len(points))]
    return ids, [[abs(a - b) for b in points] for a in points]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_on_capacity_only_problems_it_is_the_capacity_optimum(seed: int) -> None:
    problem, provider = square_problem(7, seed, capacity=15, window=None)
    ids = ["d"] + [s.id for s in problem.stops]
    matrix = provider.matrix([Point(i, None, None) for i in ids], problem.vehicles[0].profile)
    demand = [s.demand["kg"] for s in problem.stops]

    found = rich_optimum(problem, provider)

    assert found.cost == cvrp_optimum(matrix.distance_m, demand, 15)
    assert len(found.routes) > 1  # the capacity splits the stops: not a single tour


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_its_plan_passes_the_checker_and_no_search_beats_it(seed: int) -> None:
    problem, provider = territory_problem(7, seed)

    found = rich_optimum(problem, provider)
    report = check_routes(problem, found.routes, provider)
    solution = solve(problem, provider, SolveOptions(time_limit_s=2))

    assert report.ok, report.codes()
    # the checker times a route at its earliest, the solver (and the optimum) delay the
    # departure to cut paid waiting: the checker's figure can only be higher
    assert report.cost >= found.cost - 1e-6
    assert check_solution(problem, solution, provider).ok
    assert not solution.unserved
    assert solution.cost >= found.cost - 1e-6


def test_a_pickup_comes_before_its_delivery_even_when_the_other_order_is_shorter() -> None:
    ids, dist = line(10, 2)  # the pickup far away, its delivery near the depot
    stops = (
        Stop("s1", demand={"kg": 5}, kind="pickup"),
        Stop("s2", demand={"kg": 5}),
    )
    vehicle = Vehicle("v", "d", {"kg": 10})
    free = Problem((Depot("d"),), (vehicle,), stops[1:])
    paired = Problem((Depot("d"),), (vehicle,), stops, (PickupDelivery("s1", "s2"),))
    provider = MatrixProvider(ids, dist)

    found = rich_optimum(paired, provider)

    assert found.routes == [("v", 0, ["s1", "s2"])]
    assert found.cost == 10 + 8 + 2
    assert rich_optimum(free, provider).cost == 4


def test_a_limited_fleet_and_a_window_change_the_plan() -> None:
    ids, dist = line(10, -10)
    stops = (Stop("s1", demand={"kg": 5}), Stop("s2", demand={"kg": 5}))
    two = Vehicle("v", "d", {"kg": 5}, copies=2)
    provider = MatrixProvider(ids, dist)

    assert rich_optimum(Problem((Depot("d"),), (two,), stops), provider).cost == 40
    one = dataclasses.replace(two, copies=1)
    with pytest.raises(ValueError, match="no plan serves every stop"):
        rich_optimum(Problem((Depot("d"),), (one,), stops), provider)
    roomy = dataclasses.replace(one, capacity={"kg": 10})
    assert rich_optimum(Problem((Depot("d"),), (roomy,), stops), provider).cost == 40
    # s2 must be served before time 12: the roomy van goes there first, then to s1
    late = (stops[0], dataclasses.replace(stops[1], windows=(TimeWindow(0, 12),)))
    found = rich_optimum(Problem((Depot("d"),), (roomy,), late), provider)
    assert found.routes == [("v", 0, ["s2", "s1"])]


def test_chilled_goods_only_go_in_a_vehicle_with_the_feature() -> None:
    ids, dist = line(10)
    stop = Stop("s1", demand={"kg": 1}, requires=frozenset({"cold"}))
    bike = Vehicle("bike", "d", {"kg": 5}, fixed_cost=1.0)
    van = Vehicle("van", "d", {"kg": 5}, fixed_cost=9.0, features=frozenset({"cold"}))
    provider = MatrixProvider(ids, dist)

    found = rich_optimum(Problem((Depot("d"),), (bike, van), (stop,)), provider)

    assert found.routes == [("van", 0, ["s1"])]
    assert found.cost == 9.0


def test_it_refuses_problems_too_large_to_try_every_order() -> None:
    problem, provider = square_problem(MAX_RICH_STOPS + 1, 1)
    with pytest.raises(ValueError, match="exhaustive optimum is kept to"):
        rich_optimum(problem, provider)


def test_territory_problems_have_every_feature_and_are_reproducible() -> None:
    problem, provider = territory_problem(30, 4)
    again, _ = territory_problem(30, 4)
    other, _ = territory_problem(30, 5)

    assert problem == again
    assert problem != other
    assert len(problem.pairs) == 6  # a fifth of the stops are farm pickups
    assert {v.id for v in problem.vehicles} == {"van", "bike"}
    assert any(s.requires for s in problem.stops)
    assert all(s.windows for s in problem.stops if s.kind == "delivery")
    bike = next(v for v in problem.vehicles if v.id == "bike")
    van_times = provider.matrix(
        [Point("d", None, None), Point("s1", None, None)], problem.vehicles[0].profile
    )
    bike_times = provider.matrix([Point("d", None, None), Point("s1", None, None)], bike.profile)
    assert bike_times.duration_s[0][1] == pytest.approx(2 * van_times.duration_s[0][1], abs=1)


@pytest.mark.solver
def test_the_command_prints_a_row_per_problem_with_its_reference(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = rich_bench.main(
        ["--sizes", "6,12", "--seeds", "1", "--time-limit", "1", "--reference-time", "2"]
    )

    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out.split("\nn=")[0])))
    assert code == 0
    assert [(r["n"], r["reference"], r["valid"]) for r in rows] == [
        ("6", "exact", "yes"),
        ("12", "long", "yes"),
    ]
    assert float(rows[0]["gap_pct"]) >= -1e-6  # nothing beats the exact optimum
    assert float(rows[1]["gap_pct"]) >= -1e-6  # the reference is the better of the two runs
    assert "n=6: mean gap" in out
    assert "load average" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sizes", "trente"], "liste d'entiers attendue"),
        (["--seeds", "0"], "entiers positifs attendus"),
        (["--time-limit", "0"], "doivent être positifs"),
    ],
)
def test_the_command_refuses_bad_arguments(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        rich_bench.main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
