"""The independent checker: it accepts valid plans and names every broken rule."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest

from logistics.vrp import (
    Depot,
    MatrixProvider,
    PickupDelivery,
    Problem,
    Route,
    SearchStats,
    Solution,
    Stop,
    TimeWindow,
    Unserved,
    Vehicle,
    Visit,
    check_solution,
)
from logistics.vrp.benchmarks import load_instance, parse_sol
from logistics.vrp.checker import check_routes

SHARED = Path("/work/shared/bench/vrp")
IDS = ["d", "a", "b", "f"]
# a line: d=0, a=10, b=20, f=30 (metres, 1 m/s)
PROVIDER = MatrixProvider(IDS, [[abs(i - j) * 10 for j in range(4)] for i in range(4)])
VAN = Vehicle("van", "d", {"kg": 10}, shift=TimeWindow(0, 200), max_distance_m=100)
COLD = Vehicle("cold", "d", {"kg": 10}, features=frozenset({"cold"}))
PROBLEM = Problem(
    depots=(Depot("d"),),
    vehicles=(VAN, COLD),
    stops=(
        Stop("a", demand={"kg": 4}, windows=(TimeWindow(0, 50),), service_s=5),
        Stop("b", demand={"kg": 4}),
        Stop("f", demand={"kg": 4}, kind="pickup"),
    ),
    pairs=(PickupDelivery("f", "b"),),
)
STATS = SearchStats(0.0, 0, None, "completed", 1, 2)


def visit(stop: str, t: int, service: int = 0) -> Visit:
    return Visit(stop, t, t, t + service, {})


# van: d -> f(30) -> b(40) -> a(50, service 5) -> d(65); distance 30 + 10 + 10 + 10 = 60
GOOD_ROUTE = Route("van", 0, (visit("f", 30), visit("b", 40), visit("a", 50, 5)), 0, 65, 60, 60.0)
GOOD = Solution((GOOD_ROUTE,), (), 60.0, 60, STATS)


def codes(solution: Solution) -> list[str]:
    return check_solution(PROBLEM, solution, PROVIDER).codes()


def with_route(route: Route, cost: float | None = None) -> Solution:
    return dataclasses.replace(GOOD, routes=(route,), cost=route.cost if cost is None else cost)


def test_valid_solution_passes_with_recomputed_figures():
    report = check_solution(PROBLEM, GOOD, PROVIDER)
    assert report.violations == []
    assert (report.cost, report.distance_m, report.vehicles_used) == (60.0, 60, 1)


def test_capacity_counts_depot_goods_and_pickups_on_board():
    tight = dataclasses.replace(
        PROBLEM, vehicles=(dataclasses.replace(VAN, capacity={"kg": 7}), COLD)
    )
    # leaves with a's 4 kg, picks up f's 4 kg: 8 kg on board
    assert check_solution(tight, GOOD, PROVIDER).codes() == ["capacity_exceeded"]


def test_time_window_violation_is_found():
    late = dataclasses.replace(
        GOOD_ROUTE, visits=(visit("f", 30), visit("b", 40), visit("a", 60, 5)), end_time=75
    )
    assert codes(with_route(late)) == ["time_window_violated"]


def test_travel_faster_than_the_matrix_is_found():
    fast = dataclasses.replace(
        GOOD_ROUTE, visits=(visit("f", 20), visit("b", 40), visit("a", 50, 5))
    )
    assert codes(with_route(fast)) == ["travel_too_fast"]


def test_short_service_is_found():
    short = dataclasses.replace(
        GOOD_ROUTE, visits=(visit("f", 30), visit("b", 40), visit("a", 50, 2))
    )
    assert codes(with_route(short)) == ["service_too_short"]


def test_pair_order_and_split_are_found():
    backwards = dataclasses.replace(
        GOOD_ROUTE, visits=(visit("a", 10, 5), visit("b", 25), visit("f", 35)), end_time=65
    )
    assert codes(with_route(backwards)) == ["pair_order"]
    without_b = dataclasses.replace(
        GOOD_ROUTE, visits=(visit("a", 10, 5), visit("f", 35)), end_time=65, distance_m=60
    )
    split = dataclasses.replace(
        GOOD,
        routes=(without_b, Route("cold", 0, (visit("b", 20),), 0, 40, 40, 40.0)),
        cost=100.0,
    )
    assert codes(split) == ["pair_split"]


def test_served_twice_missing_and_unknown_stops_are_found():
    twice = dataclasses.replace(
        GOOD_ROUTE, visits=(visit("f", 30), visit("b", 40), visit("a", 50, 5), visit("a", 60, 5))
    )
    assert "stop_served_twice" in codes(with_route(twice))
    missing = dataclasses.replace(
        GOOD_ROUTE, visits=(visit("f", 30), visit("b", 40)), end_time=60, distance_m=60, cost=60.0
    )
    assert codes(with_route(missing)) == ["stop_missing"]
    listed = dataclasses.replace(with_route(missing), unserved=(Unserved("a", "not_routed", "…"),))
    assert codes(listed) == []
    ghost = dataclasses.replace(GOOD, unserved=(Unserved("zz", "not_routed", "…"),))
    assert codes(ghost) == ["unknown_stop"]


def test_shift_end_range_and_compatibility_are_found():
    short_shift = dataclasses.replace(VAN, shift=TimeWindow(0, 60))
    problem = dataclasses.replace(PROBLEM, vehicles=(short_shift, COLD))
    assert check_solution(problem, GOOD, PROVIDER).codes() == ["shift_violated"]
    short_range = dataclasses.replace(VAN, max_distance_m=50)
    problem = dataclasses.replace(PROBLEM, vehicles=(short_range, COLD))
    assert check_solution(problem, GOOD, PROVIDER).codes() == ["range_exceeded"]
    cold_a = dataclasses.replace(PROBLEM.stops[0], requires=frozenset({"cold"}))
    problem = dataclasses.replace(PROBLEM, stops=(cold_a, *PROBLEM.stops[1:]))
    assert check_solution(problem, GOOD, PROVIDER).codes() == ["incompatible_vehicle"]


def test_wrong_cost_or_distance_is_found():
    assert codes(dataclasses.replace(GOOD, cost=59.0)) == ["cost_mismatch"]
    assert codes(with_route(dataclasses.replace(GOOD_ROUTE, distance_m=50))) == [
        "distance_mismatch"
    ]


def test_unknown_or_reused_vehicle_is_found():
    ghost = dataclasses.replace(GOOD_ROUTE, vehicle_id="truck")
    assert "unknown_vehicle" in codes(with_route(ghost))
    copy = dataclasses.replace(GOOD_ROUTE, copy=1)
    assert codes(with_route(copy)) == ["unknown_vehicle"]


def test_check_routes_times_bare_routes_at_the_earliest():
    report = check_routes(PROBLEM, [("van", 0, ["f", "b", "a"])], PROVIDER)
    assert report.ok and report.distance_m == 60
    # the same stops split over two vehicles: 60 m for the van, 20 m for the cold van
    late = check_routes(PROBLEM, [("van", 0, ["f", "b"]), ("cold", 0, ["a"])], PROVIDER)
    assert late.ok and late.distance_m == 80


def _bks() -> dict[str, float]:
    with (SHARED / "bks.csv").open(newline="") as fh:
        return {row["instance"]: float(row["bks_distance"]) for row in csv.DictReader(fh)}


@pytest.mark.skipif(not (SHARED / "instances").exists(), reason="/work/shared/bench/vrp absent")
@pytest.mark.parametrize(
    "name",
    sorted(p.stem for p in (SHARED / "instances").glob("*.sol")) if SHARED.exists() else [],
)
def test_best_known_solutions_pass_the_checker(name: str):
    folder = SHARED / "instances"
    path = folder / f"{name}.txt" if (folder / f"{name}.txt").exists() else folder / f"{name}.vrp"
    inst = load_instance(path)
    routes, announced = parse_sol((folder / f"{name}.sol").read_text())
    by_label = {label: sid for sid, label in inst.customer_label.items()}
    plan = [("v", k, [by_label[c] for c in route]) for k, route in enumerate(routes)]
    report = check_routes(inst.problem, plan, inst.provider)
    assert report.violations == []
    assert report.distance_m / inst.scale == pytest.approx(_bks()[name], abs=0.051)
    if announced is not None:
        assert report.distance_m / inst.scale == pytest.approx(announced, abs=0.051)


def test_a_best_known_solution_with_one_customer_moved_fails(tmp_path: Path):
    text = """C101-like
VEHICLE
NUMBER     CAPACITY
  25         10
CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME
    0      0          0          0          0       1000          0
    1      3          4          6          0        100          0
    2      6          8          6          0        100          0
"""
    path = tmp_path / "tiny.txt"
    path.write_text(text)
    inst = load_instance(path)
    both = check_routes(inst.problem, [("v", 0, ["c1", "c2"])], inst.provider)
    assert both.codes() == ["capacity_exceeded"]
    apart = check_routes(inst.problem, [("v", 0, ["c1"]), ("v", 1, ["c2"])], inst.provider)
    assert apart.ok and apart.distance_m == 300  # 2 x 5.0 + 2 x 10.0, in tenths
