"""The adapter to the ruin-and-recreate kernel (``sisr.py``): which problems it takes, its
view of them, and its searches on several processes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import time
from collections.abc import Callable

import numpy as np

from logistics.vrp import sisr
from logistics.vrp.data import Data, Result, can_decompose, compile_problem, data_node_of_depot
from logistics.vrp.model import Problem, SolveOptions
from logistics.vrp.providers import TravelProvider

# Ruin and recreate (sisr.py) for the problems it models, above this many stops; smaller
# ones keep the OR-Tools search. It was 50: on 37 generated instances of 20 to 50
# customers at 5 s, OR-Tools's stall rule ended its search 1 to 5 % above PyVRP on a third
# of them (mean ratio 1.0106, worst +6.9 %); the kernel reached 0.9987 (worst +0.28 %),
# never worse than OR-Tools on any (logistics/README.md, "Instance families").
SISR_ABOVE = 10


def use_sisr(data: Data) -> bool:
    """Whether the ruin-and-recreate search models this problem exactly.

    One kind of vehicle, unlimited, priced by distance and per route; capacities without
    pickups; at most one time window per stop; one travel matrix.
    """
    n_stops = len(data.node_ids) - data.n_depots
    return (
        n_stops > SISR_ABOVE
        and can_decompose(data)
        and len(data.base_vehicles) == 1
        and len(data.dist) == 1
        and not data.signed_loads
        and all(len(w) <= 1 for w in data.windows[data.n_depots :])
    )


def sisr_instance(data: Data) -> sisr.Instance:
    """The kernel's view of a problem ``use_sisr`` accepts (data node numbering)."""
    vehicle = data.base_vehicles[0]
    n = len(data.node_ids)
    far = sisr.NO_WINDOW  # no window: a bound no route reaches
    ready = np.zeros(n, dtype=np.int64)
    due = np.full(n, far, dtype=np.int64)
    if data.need_time:
        for x in range(data.n_depots, n):
            if data.windows[x]:
                ready[x], due[x] = data.windows[x][0]
        travel = data.time[0]
        shift = (vehicle.shift.start, vehicle.shift.end)
    else:
        travel = np.zeros_like(data.time[0])
        shift = (0, far)
    return sisr.Instance(
        dist=np.ascontiguousarray(data.dist[0] * data.base_km[0], dtype=np.int64),
        time=np.ascontiguousarray(travel, dtype=np.int64),
        ready=ready,
        due=due,
        demand=np.asarray(
            [[data.transit[d][x] for d in range(len(data.dims))] for x in range(n)],
            dtype=np.int64,
        ).reshape(n, len(data.dims)),
        capacity=np.asarray([vehicle.capacity.get(d, 0) for d in data.dims], dtype=np.int64),
        start=data_node_of_depot(data, 0, True),
        end=data_node_of_depot(data, 0, False),
        shift_start=shift[0],
        shift_end=shift[1],
        fixed=data.base_fixed[0],
        unit=max(1, int(data.base_km[0])),
        customers=np.arange(data.n_depots, n, dtype=np.int64),
    )


# run_sisr awaits the other processes' plans this share of the time limit past the deadline
# (at least WORKER_GRACE_MIN seconds): the searches stop at the deadline, and a solve must
# not last more than 5 % over its limit.
WORKER_GRACE = 0.02
WORKER_GRACE_MIN = 0.05


def _sisr_worker(
    inst: sisr.Instance,
    seed: int,
    deadline: float,
    work: int,
    conn: multiprocessing.connection.Connection,
) -> None:
    conn.send(sisr.search(inst, seed, deadline, work))
    conn.close()


def kernel_view(problem: Problem, provider: TravelProvider) -> sisr.Instance | None:
    """The ruin-and-recreate kernel's view of ``problem``, or None when it is not for it."""
    data, unserved, _ = compile_problem(problem, provider, SolveOptions())
    return sisr_instance(data) if not unserved and use_sisr(data) else None


def run_sisr(
    data: Data,
    seed: int,
    deadline: float,
    work: int,
    workers: int,
    report: Callable[[int], None],
) -> Result:
    """Ruin and recreate on ``workers`` processes with their own seeds; the best plan wins.

    Each process does ``work`` units (``sisr.work_for`` of the time limit), so the plan
    depends on the seed and the time limit, not on the clock, unless ``deadline`` comes
    first (``stopped_by`` then says ``time_limit``).

    Process 0 runs the very search of ``workers=1``, so that with the work budget spent
    more workers never give a worse plan than one. The others' plans are awaited a short
    grace past the deadline (``WORKER_GRACE``); one that has not answered by then is left
    out, and cannot displace a plan in hand.

    The kernel is compiled (or loaded from Numba's cache) before the processes fork, so
    that they inherit it (``solve`` has done it already, with its clock stopped).
    """
    sisr.warm_up()
    grace = max(WORKER_GRACE_MIN, WORKER_GRACE * (deadline - time.monotonic()))
    inst = sisr_instance(data)
    ctx = multiprocessing.get_context("fork")
    procs = []
    conns = []
    for w in range(1, max(1, workers)):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_sisr_worker,
            args=(inst, seed * 7919 + w, deadline, work, child),
            daemon=True,
        )
        proc.start()
        child.close()
        procs.append(proc)
        conns.append(parent)
    outcomes = [sisr.search(inst, seed * 7919, deadline, work, on_improve=report)]
    for conn in conns:
        if conn.poll(max(0.0, deadline + grace - time.monotonic())):
            # a worker that died without a word leaves the others' plans standing
            with contextlib.suppress(EOFError):
                outcomes.append(conn.recv())
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
        proc.join(1.0)
    best = min(outcomes, key=lambda o: o.cost)
    if best.cost < outcomes[0].cost:
        report(best.cost)
    return Result(
        cost=best.cost,
        routes=[(0, c, nodes) for c, nodes in enumerate(best.routes)],
        solutions=sum(o.iterations for o in outcomes),
        first_cost=min(o.first_cost for o in outcomes),
        stopped_by="time_limit" if any(o.on_clock for o in outcomes) else "work_limit",
        fleet=len(best.routes),
        schedule_share=min(1.0, min(o.cooled_over for o in outcomes) / max(1, work)),
    )
