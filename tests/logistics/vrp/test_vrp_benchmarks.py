"""Readers and writers of the benchmark formats, on small inline files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from logistics.vrp import InvalidProblem, Point
from logistics.vrp.benchmarks import (
    format_sol,
    load_instance,
    parse_cvrplib,
    parse_sol,
    parse_solomon,
)

SOLOMON = """R999

VEHICLE
NUMBER     CAPACITY
  25         200

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      35         35          0          0        230          0
    1      41         49         10        161        171         10
    2      35         17          7         50         60         10
"""

CVRP = """NAME : tiny-n3
COMMENT : (inline test)
TYPE : CVRP
DIMENSION : 3
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 100
NODE_COORD_SECTION
 1 0 0
 2 3 4
 3 1 1
DEMAND_SECTION
1 0
2 30
3 40
DEPOT_SECTION
 1
 -1
EOF
"""


def test_solomon_scales_times_and_truncates_distances_to_one_decimal():
    inst = parse_solomon(SOLOMON, "R999")
    assert inst.kind == "vrptw" and inst.scale == 10
    (vehicle,) = inst.problem.vehicles
    assert (vehicle.capacity["load"], vehicle.copies) == (200, None)
    assert (vehicle.shift.start, vehicle.shift.end) == (0, 2300)
    c1, _c2 = inst.problem.stops
    assert (c1.id, dict(c1.demand), c1.service_s) == ("c1", {"load": 10}, 100)
    assert (c1.windows[0].start, c1.windows[0].end) == (1610, 1710)
    m = inst.provider.matrix([Point(i, None, None) for i in ("depot", "c1", "c2")], vehicle.profile)
    # depot-c1: sqrt(36 + 196) = 15.231... -> 15.2; c1-c2: sqrt(36 + 1024) = 32.557 -> 32.5
    assert m.distance_m[0][1] == 152 and m.distance_m[1][2] == 325 and m.distance_m[0][2] == 180
    assert m.duration_s == m.distance_m
    assert inst.customer_label == {"c1": "1", "c2": "2"}


def test_cvrplib_rounds_distances_to_nearest_integer():
    inst = parse_cvrplib(CVRP, "tiny-n3")
    assert inst.kind == "cvrp" and inst.scale == 1
    assert [dict(s.demand) for s in inst.problem.stops] == [{"load": 30}, {"load": 40}]
    m = inst.provider.matrix(
        [Point(i, None, None) for i in ("depot", "c2", "c3")], inst.problem.vehicles[0].profile
    )
    # 5.0 -> 5, sqrt(2) = 1.41 -> 1, sqrt(4 + 9) = 3.61 -> 4
    assert m.distance_m == [[0, 5, 1], [5, 0, 4], [1, 4, 0]]
    # customers are numbered from 1 in .sol files: file node 2 is customer 1
    assert inst.customer_label == {"c2": "1", "c3": "2"}


def test_malformed_files_are_refused(tmp_path: Path):
    with pytest.raises(InvalidProblem) as info:
        parse_solomon("nothing here", "x")
    assert info.value.code == "invalid_instance"
    with pytest.raises(InvalidProblem):
        parse_cvrplib(CVRP.replace("EUC_2D", "GEO"), "geo")
    other = tmp_path / "a.json"
    other.write_text("{}")
    with pytest.raises(InvalidProblem):
        load_instance(other)


def test_sol_round_trip():
    text = format_sol([["5", "3", "7"], ["1"]], 827.3, "vrptw")
    assert text == "Route #1: 5 3 7\nRoute #2: 1\nCost 827.3\n"
    assert parse_sol(text) == ([["5", "3", "7"], ["1"]], 827.3)
    assert format_sol([["2"]], 784.0, "cvrp").endswith("Cost 784\n")


CROSS = """NAME : cross-n4
COMMENT : (two arms of a cross, two stops each; the optimum runs each arm, 80)
TYPE : CVRP
DIMENSION : 5
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 2
NODE_COORD_SECTION
 1 0 0
 2 10 0
 3 20 0
 4 0 10
 5 0 20
DEMAND_SECTION
1 0
2 1
3 1
4 1
5 1
DEPOT_SECTION
 1
 -1
EOF
"""


@pytest.mark.solver
def test_the_bench_command_prints_its_table_writes_solutions_and_compares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    pytest.importorskip("pyvrp", reason="development pin: requirements-bench.txt")
    from logistics import bench

    folder = tmp_path / "instances"
    folder.mkdir()
    (folder / "cross-n4.vrp").write_text(CROSS)
    (tmp_path / "bks.csv").write_text("instance,bks_distance\ncross-n4,80\n")
    sols = tmp_path / "sols"
    code = bench.main(
        [
            *(str(folder), "--time-limit", "1", "--csv", "--compare", "pyvrp"),
            *("--write-solutions", str(sols), "--workers", "1"),
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "instance,n,bks,cost,gap_pct,vehicles,seconds,feasible,stopped_by,schedule,"
        "pyvrp_cost,pyvrp_gap_pct,ratio"
    )
    row = lines[1].split(",")
    assert row[:6] == ["cross-n4", "4", "80", "80", "0.00", "2"]
    assert row[7] == "yes" and row[10:] == ["80.0", "0.00", "1.0000"]
    # four stops go to OR-Tools, whose search of them ends long before the clock, and
    # which has no cooling schedule
    assert row[8] in {"stall", "completed", "solution_limit", "work_limit"}
    assert row[9] == ""
    assert lines[2] == "mean gap 0.00 % over 1 instances, 0 infeasible"
    assert lines[3] == "0 of 1 ended or shaped by the clock (time_limit)"
    assert lines[-1] == "pyvrp mean gap 0.00 % over 1"
    routes, cost = parse_sol((sols / "cross-n4.sol").read_text())
    assert cost == 80
    assert sorted(sorted(r) for r in routes) == [["1", "2"], ["3", "4"]]


@pytest.mark.solver
def test_the_bench_command_measures_the_kernels_work_rate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    from logistics import bench
    from logistics.vrp import sisr

    rng = random.Random(3)
    coords = "\n".join(f" {i} {rng.randint(0, 100)} {rng.randint(0, 100)}" for i in range(1, 62))
    demands = "\n".join(f"{i} {0 if i == 1 else rng.randint(1, 9)}" for i in range(1, 62))
    (tmp_path / "rand-n60.vrp").write_text(
        "NAME : rand-n60\nTYPE : CVRP\nDIMENSION : 61\nEDGE_WEIGHT_TYPE : EUC_2D\n"
        f"CAPACITY : 40\nNODE_COORD_SECTION\n{coords}\nDEMAND_SECTION\n{demands}\n"
        "DEPOT_SECTION\n 1\n -1\nEOF\n"
    )
    (tmp_path / "cross-n4.vrp").write_text(CROSS)  # too small for the kernel: no row
    code = bench.main([str(tmp_path), "--time-limit", "0.3", "--calibrate", "--workers", "1"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("instance,n,workers,units_per_s_min")
    assert len(lines) == 2
    name, n, workers, low, high, assumed, _ = lines[1].split(",")
    assert (name, n, workers) == ("rand-n60", "60", "1")
    assert 0 < float(low[:-1]) <= float(high[:-1])
    assert float(assumed[:-1]) == round(sisr.work_for(1.0, 60) / 1e6, 1)


@pytest.mark.solver
def test_the_calibrate_command_measures_the_ortools_rates_and_how_solves_end(
    capsys: pytest.CaptureFixture[str],
):
    from logistics import calibrate
    from logistics.vrp import SolveOptions
    from logistics.vrp.data import compile_problem
    from logistics.vrp.ortools_search import ortools_work_for
    from logistics.vrp.synthetic import variant

    argv = ["--seconds", "0.3", "--workers", "2", "--kinds", "hourly,pairs", "--sizes", "30"]
    code = calibrate.main([*argv, "--solve", "0.5"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "kind,n,workers,calls_per_s_min,calls_per_s_max,assumed,min_over_assumed"
    for line, kind in zip(lines[1:3], ["hourly", "pairs"], strict=True):
        name, n, workers, low, high, assumed, ratio = line.split(",")
        assert (name, n, workers) == (kind, "30", "2")
        assert 0 < float(low[:-1]) <= float(high[:-1])
        problem, provider = variant(kind, 30, 1)
        data, _, _ = compile_problem(problem, provider, SolveOptions())
        assert float(assumed[:-1]) == round(ortools_work_for(1.0, data) / 1e3)
        assert float(ratio) == pytest.approx(float(low[:-1]) / float(assumed[:-1]), abs=0.01)
    assert lines[3] == "kind,n,path,time_limit,workers,stopped_by,seconds,cost"
    rows = [line.split(",") for line in lines[4:]]
    assert [r[:5] for r in rows] == [[k, "30", "search", "0.5", "2"] for k in ("hourly", "pairs")]
    assert all(r[5] in ("work_limit", "stall", "time_limit") and float(r[7]) > 0 for r in rows)


def test_the_calibrate_command_refuses_an_unknown_kind(capsys: pytest.CaptureFixture[str]):
    from logistics import calibrate

    with pytest.raises(SystemExit) as exc:
        calibrate.main(["--kinds", "plain,boats"])
    assert exc.value.code == 2
    assert "genre inconnu : boats" in capsys.readouterr().err
