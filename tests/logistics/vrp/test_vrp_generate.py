"""Instances by family (``python -m logistics.generate``) and the bench's figures on them."""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Sequence
from pathlib import Path

import pytest

from logistics import generate as generate_command
from logistics.vrp import Problem, SolveOptions, check_solution, solve
from logistics.vrp.benchmarks import Instance, load_instance, parse_cvrplib, parse_solomon
from logistics.vrp.families import (
    FAMILIES,
    LOOSE_FILL,
    Customer,
    Family,
    Windows,
    generate,
    instance_name,
)
from logistics.vrp.optimum import cvrp_optimum


def write(out: Path, *args: str) -> dict[str, bytes]:
    """Run the command into ``out``; the files it wrote, by name."""
    assert generate_command.main(["--out", str(out), *args]) == 0
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def stops_and_capacity(inst: Instance) -> tuple[list[int], int]:
    return [s.demand["load"] for s in inst.problem.stops], inst.problem.vehicles[0].capacity["load"]


def depot_distances(inst: Instance) -> list[int]:
    row = inst.provider.distance[inst.provider.index["depot"]]
    return [row[inst.provider.index[s.id]] for s in inst.problem.stops]


def mean_nearest_neighbour(inst: Instance) -> float:
    """Mean distance from each customer to its nearest other customer, from the file."""
    index = [inst.provider.index[s.id] for s in inst.problem.stops]
    dist = inst.provider.distance
    return statistics.fmean(min(dist[i][j] for j in index if j != i) for i in index)


def test_the_same_seed_writes_the_same_bytes_and_another_seed_other_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    args = ("--sizes", "20,60", "--placements", "clustered,mixed", "--windows", "none,wide")
    first = write(tmp_path / "a", "--seed", "3", *args)
    again = write(tmp_path / "b", "--seed", "3", *args)
    other = write(tmp_path / "c", "--seed", "4", *args)
    assert sorted(first) == sorted(
        f"G-{p}-{c}-{w}-n{n}-s3.{'vrp' if w == 'none' else 'txt'}"
        for p in ("clu", "mix")
        for c in ("tight", "loose")
        for w in ("none", "wide")
        for n in (20, 60)
    )
    assert first == again
    assert sorted(other) == sorted(name.replace("-s3.", "-s4.") for name in first)
    for name, text in first.items():
        assert other[name.replace("-s3.", "-s4.")] != text
    # one summary line per file, after the header
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "instance,n,capacity,fill_fewest,route_size,fill_drawn,demand,depot,horizon"
    assert len(lines) == 3 * (1 + 16)


def test_an_instance_does_not_depend_on_what_is_generated_with_it(tmp_path: Path):
    alone = write(tmp_path / "a", "--sizes", "50", "--placements", "mixed", "--windows", "narrow")
    among = write(tmp_path / "b", "--sizes", "20,50", "--windows", "none,narrow")
    for name, text in alone.items():
        assert among[name] == text


def test_tight_capacity_fills_the_fewest_routes_and_loose_leaves_room(tmp_path: Path):
    write(tmp_path, "--sizes", "20,50,200", "--repeat", "2")
    tight = loose = 0
    for path in tmp_path.iterdir():
        demands, capacity = stops_and_capacity(load_instance(path))
        total = sum(demands)
        fewest = math.ceil(total / capacity)  # no plan has fewer routes
        assert max(demands) <= capacity
        if "-tight-" in path.name:
            tight += 1
            assert 0.95 <= total / (capacity * fewest) <= 0.99, path.name
        else:
            loose += 1
            family, n, seed = next(
                (f, n, s)
                for f in FAMILIES
                for n in (20, 50, 200)
                for s in (1, 2)
                if path.stem == instance_name(f, n, s)
            )
            drawn = generate(family, n, seed)
            assert drawn.capacity == capacity
            # the vehicles hold 1.3 to 1.8 times what routes of the drawn size need
            assert LOOSE_FILL[0] - 0.01 <= drawn.fill_drawn <= LOOSE_FILL[1] + 0.01, path.name
    assert (tight, loose) == (54, 54)
    # with few routes a loose capacity leaves the fewest routes far from full
    assert generate(Family("mixed", "loose", "none"), 50, 1).fill_fewest < 0.85


def test_narrow_windows_are_narrower_than_wide_ones_and_each_customer_can_be_served_alone(
    tmp_path: Path,
):
    write(tmp_path, "--sizes", "100", "--windows", "narrow,wide")
    shares: dict[str, list[float]] = {"narrow": [], "wide": []}
    for path in sorted(tmp_path.iterdir()):
        inst = load_instance(path)
        (vehicle,) = inst.problem.vehicles
        horizon = vehicle.shift.end
        for stop, reach in zip(inst.problem.stops, depot_distances(inst), strict=True):
            (window,) = stop.windows
            assert reach <= window.end, path.name  # on time when sent first
            start = max(reach, window.start)
            assert start + stop.service_s + reach <= horizon, path.name  # and back
        widths = [(s.windows[0].end - s.windows[0].start) / horizon for s in inst.problem.stops]
        shares[path.stem.split("-")[3]].append(statistics.fmean(widths))
    assert len(shares["narrow"]) == len(shares["wide"]) == 6
    assert max(shares["narrow"]) <= 0.10 < 0.20 <= min(shares["wide"])
    assert statistics.fmean(shares["narrow"]) * 3 < statistics.fmean(shares["wide"])


@pytest.mark.parametrize("windows", ["none", "narrow"])
def test_clustered_customers_sit_nearer_their_centres_than_random_ones(windows: Windows):
    clustered = generate(Family("clustered", "tight", windows), 200, 1)
    scattered = generate(Family("random", "tight", windows), 200, 1)
    mixed = generate(Family("mixed", "tight", windows), 200, 1)
    assert scattered.centres == () and len(clustered.centres) >= 3

    def to_centre(customers: Sequence[Customer], centres: Sequence[tuple[int, int]]) -> float:
        return statistics.fmean(min(math.dist((c.x, c.y), k) for k in centres) for c in customers)

    # the same centres, clustered customers against customers spread over the square
    assert to_centre(clustered.customers, clustered.centres) * 3 < to_centre(
        scattered.customers, clustered.centres
    )
    # from the files alone: nearest neighbours are closer when clustered
    spacing = {}
    for inst in (clustered, scattered, mixed):
        parsed = load_instance_text(inst.name + inst.suffix, inst.text())
        spacing[inst.family.placement] = mean_nearest_neighbour(parsed)
    assert spacing["clustered"] * 1.5 < spacing["random"]
    assert spacing["clustered"] < spacing["mixed"]
    # half a mixed instance's customers gather around its own centres
    near_mixed = to_centre(mixed.customers, mixed.centres)
    assert to_centre(clustered.customers, clustered.centres) < near_mixed
    assert near_mixed < to_centre(scattered.customers, mixed.centres)


def load_instance_text(name: str, text: str) -> Instance:
    stem = name.rsplit(".", 1)[0]
    return parse_cvrplib(text, stem) if name.endswith(".vrp") else parse_solomon(text, stem)


def brute_force_cvrp(distance: list[list[int]], demand: list[int], capacity: int) -> int:
    """Every order of the customers, cut into routes in every way."""
    n = len(demand)
    best = math.inf
    for order in itertools.permutations(range(n)):
        for cuts in range(1 << (n - 1)):
            cost, load, here = 0, 0, 0
            for k, c in enumerate(order):
                if k and cuts >> (k - 1) & 1:
                    cost, load, here = cost + distance[here][0], 0, 0
                cost, load, here = cost + distance[here][c + 1], load + demand[c], c + 1
                if load > capacity:
                    break
            else:
                best = min(best, cost + distance[here][0])
    return int(best)


def test_the_exact_optimum_matches_a_brute_force():
    rng = random.Random(5)
    for _ in range(4):
        pts = [(rng.randint(0, 100), rng.randint(0, 100)) for _ in range(7)]
        dist = [[round(math.dist(a, b)) for b in pts] for a in pts]
        demand = [rng.randint(1, 9) for _ in range(6)]
        capacity = rng.randint(9, 20)
        assert cvrp_optimum(dist, demand, capacity) == brute_force_cvrp(dist, demand, capacity)
    # two arms of a cross, two stops each, two a vehicle: each arm is a route
    cross = [(0, 0), (10, 0), (20, 0), (0, 10), (0, 20)]
    dist = [[round(math.dist(a, b)) for b in cross] for a in cross]
    assert cvrp_optimum(dist, [1, 1, 1, 1], 2) == 80
    # one vehicle for all: out one arm, across (sqrt(800) = 28.3 -> 28), back the other
    assert cvrp_optimum(dist, [1, 1, 1, 1], 4) == 10 + 10 + 28 + 10 + 10
    with pytest.raises(ValueError):
        cvrp_optimum([[0] * 14] * 14, [1] * 13, 20)


def solve_and_check(problem: Problem, inst: Instance) -> float:
    solution = solve(problem, inst.provider, SolveOptions(time_limit_s=1.0, seed=0, workers=1))
    report = check_solution(problem, solution, inst.provider)
    assert report.ok, report.codes()
    assert not solution.unserved
    return report.distance_m / inst.scale


@pytest.mark.solver
def test_every_family_parses_and_small_ones_solve_within_the_checkers_rules(tmp_path: Path):
    write(tmp_path, "--sizes", "8,30")
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2 * len(FAMILIES)
    for path in files:
        inst = load_instance(path)
        assert inst.kind == ("cvrp" if path.suffix == ".vrp" else "vrptw")
        assert len(inst.problem.stops) == int(path.stem.rsplit("-", 2)[1][1:])
    for name in ("G-clu-tight-narrow-n30-s1.txt", "G-mix-loose-wide-n30-s1.txt"):
        inst = load_instance(tmp_path / name)
        solve_and_check(inst.problem, inst)
    # a tiny capacity-only one: never below its exact optimum
    inst = load_instance(tmp_path / "G-rnd-tight-none-n8-s1.vrp")
    demands, capacity = stops_and_capacity(inst)
    index = [inst.provider.index[i] for i in ["depot"] + [s.id for s in inst.problem.stops]]
    dist = [[inst.provider.distance[a][b] for b in index] for a in index]
    assert solve_and_check(inst.problem, inst) >= cvrp_optimum(dist, demands, capacity)


@pytest.mark.solver
def test_the_bench_sums_up_generated_instances_by_family(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    pytest.importorskip("pyvrp", reason="development pin: requirements-bench.txt")
    from logistics import bench

    folder = tmp_path / "gen"
    write(folder, "--sizes", "8", "--placements", "random", "--windows", "none,narrow")
    capsys.readouterr()
    code = bench.main(
        [str(folder), "--time-limit", "0.5", "--csv", "--compare", "pyvrp", "--workers", "1"]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:5]}
    assert sorted(rows) == [
        f"G-rnd-{c}-{w}-n8-s1" for c in ("loose", "tight") for w in ("narrow", "none")
    ]
    for name, row in rows.items():
        inst = load_instance(folder / f"{name}{'.vrp' if name.endswith('none-n8-s1') else '.txt'}")
        if inst.kind == "cvrp":  # the exact optimum is the reference
            demands, capacity = stops_and_capacity(inst)
            index = [inst.provider.index[i] for i in ["depot"] + [s.id for s in inst.problem.stops]]
            dist = [[inst.provider.distance[a][b] for b in index] for a in index]
            assert row[2] == f"{cvrp_optimum(dist, demands, capacity):g}"
            assert float(row[4]) == pytest.approx(
                (float(row[3]) / float(row[2]) - 1) * 100, abs=0.01
            )
        else:  # no reference but PyVRP's cost
            assert row[2] == row[4] == ""
    header = lines.index(
        "family,instances,mean_gap_pct,reference,mean_ratio,worst,worst_gap_pct,left_out"
    )
    families = {line.split(",")[0]: line.split(",") for line in lines[header + 1 : header + 6]}
    assert sorted(families) == [
        "all",
        "rnd-loose-narrow",
        "rnd-loose-none",
        "rnd-tight-narrow",
        "rnd-tight-none",
    ]
    assert families["rnd-tight-none"][1:4] == ["1", rows["G-rnd-tight-none-n8-s1"][4], "exact"]
    ratio = float(rows["G-rnd-tight-narrow-n8-s1"][len(bench.COLUMNS) + 2])  # the third added
    assert families["rnd-tight-narrow"][1] == "1" and families["rnd-tight-narrow"][3] == "pyvrp"
    assert float(families["rnd-tight-narrow"][2]) == pytest.approx((ratio - 1) * 100, abs=0.011)
    assert families["rnd-tight-narrow"][4] == f"{ratio:.4f}"
    assert families["all"][1] == "4" and families["all"][3] == "exact+pyvrp"
    assert families["all"][7] == "0"
    assert lines[header + 6].startswith("mean gap ")  # the two with an exact optimum
    assert lines[header + 6].endswith("over 2 instances, 0 infeasible")


def test_family_names_are_read_back_from_instance_names():
    from logistics import bench

    assert bench.family_of("G-clu-tight-narrow-n200-s1") == "clu-tight-narrow"
    assert bench.family_of("R1_2_1") is None
    assert bench.family_of("X-n101-k25") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sizes", "3"], "taille invalide : '3'"),
        (["--sizes", "50,abc"], "taille invalide : 'abc'"),
        (["--sizes", ","], "liste vide"),
        (["--placements", "random,spiral"], "valeur inconnue : 'spiral'"),
        (["--capacities", "full"], "valeur inconnue : 'full'"),
        (["--windows", "hourly"], "valeur inconnue : 'hourly'"),
        (["--seed", "-1"], "entier d'au moins 0 attendu : '-1'"),
        (["--repeat", "0"], "entier d'au moins 1 attendu : '0'"),
    ],
)
def test_the_command_refuses_bad_arguments_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        generate_command.main(["--out", str(out), *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_the_command_wants_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exc:
        generate_command.main([])
    assert exc.value.code == 2
    assert "--out" in capsys.readouterr().err
    plain = tmp_path / "file"
    plain.write_text("x")
    with pytest.raises(SystemExit) as exc:
        generate_command.main(["--out", str(plain)])
    assert exc.value.code == 2
    assert "n'est pas un dossier" in capsys.readouterr().err
    assert plain.read_text() == "x"
