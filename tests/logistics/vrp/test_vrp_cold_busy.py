"""The routing engine on a cold and busy machine (issue 16).

A fresh process with an empty Numba cache (a new machine, deploy or container) solves a
tight-capacity problem of the Augerat B shape while busy processes, started here and ended
by their id, contend for the cores. Its kernel is compiled by the first ``solve``, with the
clock stopped, so that:

- the run keeps its time limit once the compilation is set aside (``stats.warm_up_s``);
- a search the clock ends at 25, 50 or 75 % of the time its work budget takes hands back a
  plan within a stated factor of the one the whole budget reaches;
- with the work budget spent (the assumed rate lowered so that it ends long before the
  clock, even here), two workers never give a worse plan than one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from logistics import warmup
from logistics.vrp import sisr

ROOT = Path(__file__).resolve().parents[3]
BUSY = 3  # busy processes beside the solve, on the 2-core reference machine (load about 5)
LIMIT = 3.0  # seconds, the time limit of the timed solve
# The contract: a solve ends within its limit plus 5 % (the searches stop 0.01 s before the
# deadline, in chunks sized to the measured pace; the other workers' plans are awaited 2 %
# of the limit past it). On top of it the test allows the contention it creates itself: a
# process waiting for a core for a few scheduler periods (tens of milliseconds each).
CONTRACT = 1.05
CONTENTION_MARGIN_S = 0.3
# Searches cut at this share of the time their budget takes, summed over three seeds, against
# the whole budgets' plans (or, where the clock left a cut less than its share of the work,
# against the same search planned for the work it did). One run alone varies too much: a
# single cut at 25 % once ended 1.6 % above its whole run when the load rose mid-test.
# Measured on this problem under this contention (8 runs): cooled by the deadline, the sums
# ended between 0.8 % better and 0.6 % worse; with the cooling tied to the work budget alone
# (``PACE_BELOW`` below zero), the cut at 25 % was 3.3 and 3.8 % worse.
CUT_FACTORS = {0.25: 1.015, 0.5: 1.015, 0.75: 1.015}

SCRIPT = r"""
import json, math, random, sys, time

from logistics.vrp import (
    Depot, MatrixProvider, Problem, SolveOptions, Stop, TimeWindow, Vehicle, sisr, solve
)
from logistics.vrp.kernel import kernel_view

limit = float(sys.argv[1])
SEEDS = (3, 4, 5)


def tight_problem(n, seed):
    # n customers in a few clusters, routes filled to about 99 % (the Augerat B shape)
    rng = random.Random(seed)
    centres = [(rng.uniform(10, 90), rng.uniform(10, 90)) for _ in range(max(2, n // 8))]
    pts = [(50.0, 50.0)]
    for _ in range(n):
        cx, cy = rng.choice(centres)
        pts.append((cx + rng.gauss(0, 6), cy + rng.gauss(0, 6)))
    demand = [rng.randint(1, 30) for _ in range(n)]
    total = sum(demand)
    routes = math.ceil(total / 100)
    capacity = math.ceil(total / (routes - 0.05))
    ids = ["d"] + [f"s{i}" for i in range(1, n + 1)]
    dist = [[math.floor(math.dist(a, b) + 0.5) for b in pts] for a in pts]
    stops = tuple(Stop(ids[i + 1], demand={"kg": q}) for i, q in enumerate(demand))
    vehicle = Vehicle("v", "d", {"kg": capacity}, shift=TimeWindow(0, 10**9), copies=None)
    zeros = [[0] * len(ids) for _ in ids]
    return Problem((Depot("d"),), (vehicle,), stops), MatrixProvider(ids, dist, zeros)


problem, provider = tight_problem(100, 4)
out = {"ready_before": sisr.ready()}

began = time.monotonic()
first = solve(problem, provider, SolveOptions(time_limit_s=limit, workers=2))
out["cold"] = {
    "wall": time.monotonic() - began,
    "seconds": first.stats.seconds,
    "warm_up": first.stats.warm_up_s,
    "served": not first.unserved,
}

# the same search cut by the clock at shares of the time its whole work budget takes, on
# SEEDS seeds: one annealing run varies by a percent or two from seed to seed, the sums less
view = kernel_view(problem, provider)
work = sisr.work_for(0.5, len(view.customers))
out["runs"] = []
for seed in SEEDS:
    began = time.monotonic()
    full = sisr.search(view, seed, math.inf, work)
    took = time.monotonic() - began
    run = {"full": full.cost, "seconds": took, "on_clock": full.on_clock, "cuts": {}}
    for share in (0.25, 0.5, 0.75):
        cut = sisr.search(view, seed, time.monotonic() + share * took, work)
        # the search planned for the very work the clock let the cut do, ended by its
        # budget alone: what that much work reaches with a whole cooling schedule
        alike = sisr.search(view, seed, math.inf, cut.work)
        run["cuts"][str(share)] = {
            "cost": cut.cost,
            "on_clock": cut.on_clock,
            "work": cut.work / work,
            "alike": alike.cost,
        }
    out["runs"].append(run)

# one worker against two, both ending on their work budget
sisr.WORK_PER_SECOND = 1_000_000
plans = {}
for workers in (1, 2):
    s = solve(problem, provider, SolveOptions(time_limit_s=5, seed=2, workers=workers))
    plans[workers] = {"cost": s.cost, "stopped_by": s.stats.stopped_by}
out["workers"] = plans
print(json.dumps(out))
"""


@pytest.fixture
def busy_cores():
    """BUSY processes spinning on the CPU for the test's length, ended by their id."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


@pytest.mark.solver
@pytest.mark.usefixtures("busy_cores")
def test_a_cold_solve_on_a_busy_machine_keeps_its_limit_and_a_good_plan():
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(LIMIT)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])

    # the empty cache: the kernel was compiled by this solve, its clock stopped meanwhile
    cold = out["cold"]
    assert not out["ready_before"]
    assert cold["warm_up"] > 0.5
    assert cold["served"]
    assert cold["seconds"] <= LIMIT * CONTRACT + CONTENTION_MARGIN_S
    assert cold["wall"] - cold["warm_up"] <= LIMIT * CONTRACT + CONTENTION_MARGIN_S

    # the whole budget, then the clock at 25, 50 and 75 % of its time, on each seed
    runs = out["runs"]
    for run in runs:
        assert not run["on_clock"]
        for share in CUT_FACTORS:
            cut = run["cuts"][str(share)]
            # The clock cuts it, unless the machine sped up since the whole run was timed
            # (the load of other processes fell): then it spent the same work budget and,
            # the search being deterministic for a budget, ended on the very same plan.
            assert cut["on_clock"] or cut["cost"] == run["full"], (share, run)
    for share, factor in CUT_FACTORS.items():
        # Summed over the seeds, the cut plans are within the factor of the whole budget's,
        # or, where the load rose and the clock left the cut less than its share of the
        # work, of what that work reaches with a whole schedule.
        cuts = sum(run["cuts"][str(share)]["cost"] for run in runs)
        reference = sum(max(run["full"], run["cuts"][str(share)]["alike"]) for run in runs)
        assert cuts <= reference * factor, (share, cuts, reference, runs)

    # worker 0 runs the one-worker search: with the budget spent, two are never worse
    one, two = out["workers"]["1"], out["workers"]["2"]
    assert one["stopped_by"] == two["stopped_by"] == "work_limit"
    assert two["cost"] <= one["cost"]


def test_a_routing_worker_warms_the_kernel_up_before_its_first_task(monkeypatch, calls_to):
    calls = calls_to(sisr, "warm_up")

    class Queues:
        def __init__(self, names: list[str]) -> None:
            self.consume_from = {name: object() for name in names}

    class Worker:
        def __init__(self, names: list[str]) -> None:
            self.app = type("App", (), {"amqp": type("AMQP", (), {"queues": Queues(names)})})

    # the signal Celery sends once -Q is applied, before the pool forks and tasks arrive
    from celery.signals import celeryd_after_setup

    celeryd_after_setup.send(sender="mail@host", instance=Worker(["celery"]), conf=None)
    assert len(calls) == 0
    celeryd_after_setup.send(sender="routing@host", instance=Worker(["routing"]), conf=None)
    assert len(calls) == 1
    assert sisr.ready()
    assert warmup.consumes_routing(["celery", "routing"])
