"""Ruin and recreate under simulated annealing, compiled with Numba.

This is the search for the problems whose cost is the distance (times a per-km price) plus
a fixed cost per route, served by one kind of vehicle with an unlimited fleet: capacities
in several dimensions, at most one time window per stop, a shift, one start and one end
depot. The benchmark's problems are of this kind, and so is a territory's plain delivery
round; everything richer (pairs, hourly costs, mixed or counted fleets, ranges) stays with
OR-Tools (``ortools_search.py``, ``rounds.py``, ``portfolio.py``).

Each iteration takes a few strings of consecutive stops out of nearby routes (the seed
stop's neighbours, route by route), then puts every stop back at its cheapest feasible
place, skipping a place now and then (a "blink"), in one of a few orders (random, largest
demand, farthest from the depot, nearest); a route of its own is one candidate place, and
the only one for a stop that fits nowhere else. On windowed plans of few long routes
(``LONG_ROUTE_STOPS``), a share of the recreates also opens a route for their first stop
and a share of the ruins empties a whole route, so that the route count can move. The new
plan is kept when it is better than the current one, or worse by less than a random share
of the temperature, which cools geometrically from ``TEMP_START`` to ``TEMP_END`` (times
the mean arc of the first plan) over the work budget. That threshold is drawn before the
recreate, which gives up once its plan can no longer pass it (``GIVE_UP``). This is the
"slack induction by string removals" of Christiaens and Vanden Berghe (2020).

The kernel works on integer matrices (the solver's own units) and counts its work; the
time limit becomes a budget of work (``work_for``), so that the same seed and time limit
give the same plan. It runs in chunks between which Python reads the clock, so that the
deadline holds whatever the machine, and progress can be reported.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

AVG_REMOVED = 10  # stops taken out per iteration, on average (c-bar)
MAX_STRING = 10  # longest string taken out of one route (L-max)
SPLIT_RATE = 0.5  # share of ruins that keep a few stops inside the string
SPLIT_GROW = 0.5  # each extra stop kept inside a split string, with this probability
BLINK = 0.01  # a place is skipped with this probability during the recreate
NEIGHBOURS = 100  # the ruin walks through this many nearest stops of its seed
# A removed stop goes back only into the routes holding one of its GRANULAR nearest stops,
# on problems with time windows of at least GRANULAR_STOPS stops whose first plan has
# GRANULAR_ROUTES routes or more; the others try every route (logistics/README.md,
# "Granular recreate").
GRANULAR = 60
GRANULAR_STOPS = 300
GRANULAR_ROUTES = 20
# Plans of few long routes under time windows (R2, RC2, C2: about 12 stops per route or
# more in the first plan) hold one route too few: inserting a stop into a long route is
# almost always cheaper than a route of its own, so the search never tries the count
# above. There, a share of the recreates opens a route for its first stop, and a share of
# the ruins empties the whole of the first route it reaches (the seed's own), so the
# count can rise and fall again (logistics/README.md, "A route opened on purpose"; the
# opening rate raised from 0.15 to 0.5 on 4 December: on the 6 of the 9 long-route
# instances whose plans vary, 8 seeds each, the sum of mean gaps fell from 2.63 to 1.89
# points, R2_2_1 1.16 to 0.62 %).
LONG_ROUTE_STOPS = 12
ROUTE_OPEN_RATE = 0.5
ROUTE_RUIN_RATE = 0.1
# A recreate gives up as soon as the cost it has added leaves its plan above the threshold
# of acceptance, which is drawn before it starts: on a metric rounded to whole units
# (``Instance.unit``), as the benchmark's and the great-circle matrices are, no insertion
# lowers the cost by more than a unit, so the plan would be refused anyway, and the work
# left goes to the next iterations. On a road matrix that breaks the triangle inequality
# by more, a plan that would have been accepted may now and then be refused
# (logistics/README.md, "A recreate that gives up").
GIVE_UP = True
TEMP_START = 1.0  # times the mean arc of the first plan
TEMP_END = 0.01
CHUNK_SECONDS = 0.05  # the clock is read about this often
FIRST_CHUNK_SHARE = 0.2  # the first chunk, before the pace is measured: a fifth of one
DEADLINE_MARGIN = 0.01  # seconds: the search stops this long before its deadline
# When the measured pace says the deadline will come before this share of the work budget,
# the cooling schedule is shortened to end at the deadline (``search``).
PACE_BELOW = 0.9
# ... but only from a pace measured over PACE_SPAN seconds, or PACE_SPAN_SHARE of the time
# left when the pace starts being measured (the end of the first chunk) if that is less:
# over a few chunks, one slow moment (a fork, a page fault storm, another process's burst)
# reads as a slow machine, and shrank the schedules of searches that then ran their whole
# budget well before the deadline (6 of the 33 of the 10 s bench on c6f8e94, on an idle
# machine).
PACE_SPAN = 0.5
PACE_SPAN_SHARE = 0.05
# A time limit becomes a budget of work (places examined, time checks, stops moved, route
# steps), so that the same seed and time limit give the same plan. The rate is measured
# with two searches at once (python -m logistics.bench PATH --time-limit 3 --calibrate,
# logistics/README.md, "The work budget re-measured"), and it moves with the host: on 4
# December 77 to 111 million units a second from 100 to 500 stops and 33 to 34 million
# at 1000 (--time-limit 10), where earlier sessions read 48 to 109 and 12.5 to 47; the same
# search can take 5 s on one run and 9 s on the next. Above CACHED_STOPS the matrices
# outgrow the caches and the rate falls about as (CACHED_STOPS / n) ** CACHE_FALL. The
# budget assumes about 85 % of the slowest rate of 4 December (65 million a second from
# 100 to 500 stops, 28 million at 1000): on an idle machine in a fast spell it ends before
# the clock and the search has most of its time; in a slow spell, or on a busy machine,
# the clock ends the search (paced, see ``search``) and the plan is not reproducible.
# Below SMALL_STOPS the budget is SMALL_SHARE of that: 50 million a second, as before, the
# budget on which the kernel was chosen for problems of 20 to 50 stops (logistics/README.md,
# "the kernel takes problems of more than 10 stops"; 4 December read 47 million units a
# second at 31 stops, 57 at 77).
WORK_PER_SECOND = 65_000_000
SMALL_STOPS = 100
SMALL_SHARE = 50 / 65
CACHED_STOPS = 500
CACHE_FALL = 1.2
# From this many stops the first plan is the best of five (``_first_plan``): at 1000 stops
# the search has too little work per stop to make up for a poor first plan (X-n1001-k43
# with the work of 4 s: +4.73 % from the recreate's plan, +3.36 % from savings'); from 100
# to 400 stops, with the work of 10 s, a better first plan gave no better plans (0.44 to
# 0.50 % over the 33 of the bench; logistics/README.md, "The first plan of a large
# problem"). It starts where the work rate starts to fall. The constructions stop once
# they have taken FIRST_PLANS_SHARE of the time limit (0.3 s of 10 at 1000 stops, idle).
FIRST_PLANS_STOPS = CACHED_STOPS
FIRST_PLANS_SHARE = 0.1

_BIG = np.int64(2**62)
NO_WINDOW = 2**40  # a stop's due time when it has no window (kernel.sisr_instance)


@dataclass(slots=True)
class Instance:
    """One homogeneous fleet's problem, as the kernel reads it (data node numbering)."""

    dist: IntArray  # arc cost, n x n (already times the per-km price)
    time: IntArray  # travel time plus the service time of the "from" node, n x n
    ready: IntArray  # earliest service start per node (0 without window)
    due: IntArray  # latest service start per node
    demand: IntArray  # n x dims, non-negative
    capacity: IntArray  # dims
    start: int  # start depot node
    end: int  # end depot node
    shift_start: int
    shift_end: int
    fixed: int  # cost of each route used
    customers: IntArray  # the nodes to serve
    # the step of ``dist``: a metric rounded to whole steps breaks the triangle inequality
    # by at most one step, so an insertion lowers the cost by at most this much (GIVE_UP)
    unit: int = 1

    @classmethod
    def from_matrix(
        cls,
        dist: IntArray | list[list[int]],
        capacity: int,
        ready: list[int] | None = None,
        due: list[int] | None = None,
    ) -> Instance:
        """A problem on a matrix: node 0 the depot, travel time equal to distance, one unit
        of demand per stop, no window unless given, no shift, no fixed cost."""
        matrix = np.asarray(dist, dtype=np.int64)
        n = matrix.shape[0]
        return cls(
            dist=matrix,
            time=matrix.copy(),
            ready=np.asarray(ready or [0] * n, dtype=np.int64),
            due=np.asarray(due or [NO_WINDOW] * n, dtype=np.int64),
            demand=np.asarray([[0]] + [[1]] * (n - 1), dtype=np.int64),
            capacity=np.asarray([capacity], dtype=np.int64),
            start=0,
            end=0,
            shift_start=0,
            shift_end=NO_WINDOW,
            fixed=0,
            customers=np.arange(1, n, dtype=np.int64),
        )


@numba.njit()
def _seed(seed: int) -> None:
    np.random.seed(seed)


@numba.njit()
def _refresh(r, rt, ln, earliest, latest, load, rcost, route_of, pos_of, inst_arrays):  # type: ignore[no-untyped-def]
    dist, tm, ready, due, demand, s, e, t0, t1 = inst_arrays
    n = ln[r]
    dims = demand.shape[1]
    for d in range(dims):
        load[r, d] = 0
    t = t0
    prev = s
    cost = 0
    for k in range(n):
        c = rt[r, k]
        route_of[c] = r
        pos_of[c] = k
        for d in range(dims):
            load[r, d] += demand[c, d]
        cost += dist[prev, c]
        a = t + tm[prev, c]
        t = a if a > ready[c] else ready[c]
        earliest[r, k] = t
        prev = c
    if n > 0:
        cost += dist[prev, e]
    rcost[r] = cost
    late = t1
    nxt = e
    for k in range(n - 1, -1, -1):
        c = rt[r, k]
        lim = late - tm[c, nxt]
        if due[c] < lim:
            lim = due[c]
        latest[r, k] = lim
        late = lim
        nxt = c


@numba.njit()
def _near(adj, n_near, route_of, n_routes_max):  # type: ignore[no-untyped-def]
    """What ``_best_place`` reads to choose the routes it tries (its ``near``)."""
    return (
        adj,
        n_near,
        route_of,
        np.empty(n_routes_max, dtype=np.int64),
        np.zeros(n_routes_max, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )


@numba.njit()
def _best_place(c, rt, ln, earliest, latest, load, r_hi, inst_arrays, capacity, blink, near):  # type: ignore[no-untyped-def]
    """The cheapest feasible place of ``c``: (route, position, extra cost, work done).

    ``near`` = (adjacency, how many neighbours, route of each node, a scratch list and a
    mark per route, a one-cell stamp): with a count above zero, only the routes holding one
    of ``c``'s nearest stops are tried (a granular recreate, for problems of many routes);
    with zero, every route is.
    """
    dist, tm, ready, due, demand, s, e, t0, t1 = inst_arrays
    adj, n_near, route_of, cand, mark, tag = near
    dims = demand.shape[1]
    best = _BIG
    best_r = -1
    best_k = -1
    if n_near > 0:
        m = 0
        tag[0] += 1
        stamp = tag[0]
        for j in range(n_near):
            r = route_of[adj[c, j]]
            if r >= 0 and mark[r] != stamp:
                mark[r] = stamp
                cand[m] = r
                m += 1
        work = n_near
    else:
        m = r_hi
        work = r_hi
    for i in range(m):
        r = cand[i] if n_near > 0 else i
        n = ln[r]
        if n == 0:
            continue
        fits = True
        for d in range(dims):
            if load[r, d] + demand[c, d] > capacity[d]:
                fits = False
                break
        if not fits:
            continue
        work += n + 1
        prev = s
        t_prev = t0
        for k in range(n + 1):
            if k < n:
                nxt = rt[r, k]
                late_next = latest[r, k]
            else:
                nxt = e
                late_next = t1
            if blink <= 0.0 or np.random.random() >= blink:
                delta = dist[prev, c] + dist[c, nxt] - dist[prev, nxt]
                if delta < best:
                    work += 1
                    a = t_prev + tm[prev, c]
                    if a < ready[c]:
                        a = ready[c]
                    if a <= due[c] and a + tm[c, nxt] <= late_next:
                        best = delta
                        best_r = r
                        best_k = k
            if k < n:
                prev = nxt
                t_prev = earliest[r, k]
    return best_r, best_k, best, work


@numba.njit()
def _backup(r, sol, bak):  # type: ignore[no-untyped-def]
    rt, ln, earliest, latest, load, rcost, _route_of, _pos_of = sol
    b_rt, b_ln, b_earliest, b_latest, b_load, b_rcost = bak
    n = ln[r]
    for j in range(n):
        b_rt[r, j] = rt[r, j]
        b_earliest[r, j] = earliest[r, j]
        b_latest[r, j] = latest[r, j]
    b_ln[r] = n
    for d in range(load.shape[1]):
        b_load[r, d] = load[r, d]
    b_rcost[r] = rcost[r]


@numba.njit()
def _restore(r, sol, bak):  # type: ignore[no-untyped-def]
    rt, ln, earliest, latest, load, rcost, route_of, pos_of = sol
    b_rt, b_ln, b_earliest, b_latest, b_load, b_rcost = bak
    n = b_ln[r]
    ln[r] = n
    for k in range(n):
        x = b_rt[r, k]
        rt[r, k] = x
        earliest[r, k] = b_earliest[r, k]
        latest[r, k] = b_latest[r, k]
        route_of[x] = r
        pos_of[x] = k
    for d in range(load.shape[1]):
        load[r, d] = b_load[r, d]
    rcost[r] = b_rcost[r]


@numba.njit()
def _insert(c, r, k, rt, ln):  # type: ignore[no-untyped-def]
    n = ln[r]
    for j in range(n, k, -1):
        rt[r, j] = rt[r, j - 1]
    rt[r, k] = c
    ln[r] = n + 1


@numba.njit()
def _draw_order():  # type: ignore[no-untyped-def]
    """One of the recreate's four orders, 4 times in 11 random, 4 demand, 2 far, 1 near."""
    u = np.random.random() * 11.0
    return 0 if u < 4.0 else (1 if u < 8.0 else (2 if u < 10.0 else 3))


@numba.njit()
def _recreate(  # type: ignore[no-untyped-def]
    removed,
    n_removed,
    inst_arrays,
    capacity,
    fixed,
    sol,
    bak,
    r_hi,
    touched,
    n_touched,
    touch_mark,
    stamp,
    blink,
    near,
    open_first,
    order_kind=-1,
    slack=-1.0,
    unit=1,
):
    """Puts the removed stops back, each at its cheapest place, in one of four orders:
    random, largest demand first, farthest from the depot first, nearest first
    (``order_kind`` 0 to 3; -1 draws one, ``_draw_order``).

    With ``slack`` at zero or more, the recreate gives up before the insertion that would
    make what it has added reach ``slack`` even if each stop still to come lowered the cost
    by ``unit`` (``Instance.unit``): the plan could no longer be accepted. It then leaves
    that stop and the rest out, and the caller must restore the routes it touched. With
    ``slack`` negative it never gives up.
    Returns (r_hi, routes touched, work done, whether it gave up)."""
    dist, _tm, _ready, _due, demand, s, e, _t0, _t1 = inst_arrays
    rt, ln, earliest, latest, load, rcost, route_of, pos_of = sol
    keys = np.empty(n_removed, dtype=np.float64)
    if order_kind < 0:
        order_kind = _draw_order()
    for i in range(n_removed):
        c = removed[i]
        if order_kind == 0:
            keys[i] = np.random.random()
        elif order_kind == 1:
            keys[i] = -float(demand[c].sum())
        elif order_kind == 2:
            keys[i] = -float(dist[s, c] + dist[c, e])
        else:
            keys[i] = float(dist[s, c] + dist[c, e])
    order = np.argsort(keys, kind="mergesort")
    work = 0
    added = 0
    for i in range(n_removed):
        c = removed[order[i]]
        r, k, delta, w = _best_place(
            c, rt, ln, earliest, latest, load, r_hi, inst_arrays, capacity, blink, near
        )
        # a route of its own is a candidate like any other place: with wide windows and
        # roomy vehicles every stop fits somewhere, yet more, shorter routes may be cheaper;
        # ``open_first`` gives the first stop one whatever it costs (the stops after it may
        # join it), so that a plan of few long routes can try one route more
        alone = dist[s, c] + dist[c, e] + fixed
        if r < 0 or alone < delta or (open_first and i == 0):
            delta = alone
            r = -1
        if slack >= 0.0 and added + delta - unit * (n_removed - 1 - i) >= slack:
            return r_hi, n_touched, work + w, True
        added += delta
        if r < 0:
            r = 0
            while ln[r] > 0:
                r += 1
            k = 0
            if r + 1 > r_hi:
                r_hi = r + 1
        if touch_mark[r] != stamp:
            touch_mark[r] = stamp
            touched[n_touched] = r
            n_touched += 1
            _backup(r, sol, bak)
            work += ln[r]
        _insert(c, r, k, rt, ln)
        _refresh(r, rt, ln, earliest, latest, load, rcost, route_of, pos_of, inst_arrays)
        work += w + ln[r]
    return r_hi, n_touched, work, False


@numba.njit()
def _search(  # type: ignore[no-untyped-def]
    work_limit,
    work_before,
    work_total,
    temp_hot,
    temp_cold,
    inst_arrays,
    capacity,
    fixed,
    adj,
    n_near,
    customers,
    sol,
    bak,
    best_rt,
    best_ln,
    state,
    route_open_rate,
    route_ruin_rate,
    give_up,
    unit,
):
    """Iterations from the current plan until ``work_limit`` units of work are done.

    ``state`` holds [current cost, best cost, r_hi]. The temperature follows the share of
    the whole budget done (``work_before`` + this call's, out of ``work_total``), so that
    the schedule depends on the work, never on the clock. Returns (accepted, iterations,
    work done); ``best_rt``/``best_ln`` receive the best plan whenever it improves.
    ``route_open_rate`` and ``route_ruin_rate`` are the shares of iterations whose recreate
    opens a route for its first stop, and whose seed route loses all its stops (0: never; no
    random number is drawn for them then, so the plans stay those of a search without them).
    With ``give_up``, a recreate stops as soon as the plan can no longer be accepted
    (``GIVE_UP``; ``unit``: ``Instance.unit``).
    """
    rt, ln, earliest, latest, load, rcost, route_of, pos_of = sol
    b_ln, b_rcost = bak[1], bak[5]
    n_c = customers.shape[0]
    n_routes_max = rt.shape[0]
    touched = np.empty(n_routes_max, dtype=np.int64)
    touch_mark = np.zeros(n_routes_max, dtype=np.int64)
    ruin_mark = np.zeros(n_routes_max, dtype=np.int64)
    removed = np.empty(n_c, dtype=np.int64)
    keep = np.empty(n_c + 2, dtype=np.int64)
    near = _near(adj, n_near, route_of, n_routes_max)
    current = state[0]
    best = state[1]
    r_hi = state[2]
    accepted = 0
    done = 0
    it = 0
    while done < work_limit:
        it += 1
        stamp = it
        frac = (work_before + done) / work_total
        if frac > 1.0:  # past a schedule shortened to the deadline: stay cold
            frac = 1.0
        temp = temp_hot * (temp_cold / temp_hot) ** frac if temp_hot > 0 else 0.0
        done += r_hi
        used = 0
        for r in range(r_hi):
            if ln[r] > 0:
                used += 1
        ls_max = min(float(MAX_STRING), n_c / max(1, used))
        ks_max = 4.0 * AVG_REMOVED / (1.0 + ls_max) - 1.0
        ks = int(np.random.random() * ks_max) + 1
        seed_c = customers[np.random.randint(n_c)]
        n_removed = 0
        n_touched = 0
        n_ruined = 0
        for j in range(adj.shape[1]):
            if n_ruined >= ks:
                break
            done += 1
            c = adj[seed_c, j]
            r = route_of[c]
            if r < 0 or ruin_mark[r] == stamp:
                continue
            ruin_mark[r] = stamp
            touch_mark[r] = stamp
            touched[n_touched] = r
            n_touched += 1
            _backup(r, sol, bak)
            n = ln[r]
            done += 2 * n  # the backup and the refresh walk the route
            if n_ruined == 0 and route_ruin_rate > 0.0 and np.random.random() < route_ruin_rate:
                size = n  # the whole route: the number of routes can fall
            else:
                size = int(np.random.random() * min(float(n), ls_max)) + 1
            p = pos_of[c]
            total = size
            kept_from = 0
            kept_to = 0
            if size < n and np.random.random() < SPLIT_RATE:
                m = 1
                while size + m < n and np.random.random() < SPLIT_GROW:
                    m += 1
                total = size + m
            lo = max(0, p - total + 1)
            hi = min(p, n - total)
            st = lo + np.random.randint(hi - lo + 1)
            if total > size:
                kept_from = st + np.random.randint(total - (total - size) + 1)
                kept_to = kept_from + (total - size)
            w = 0
            for k in range(n):
                x = rt[r, k]
                if st <= k < st + total and not (kept_from <= k < kept_to):
                    removed[n_removed] = x
                    n_removed += 1
                    route_of[x] = -1
                else:
                    keep[w] = x
                    w += 1
            for k in range(w):
                rt[r, k] = keep[k]
            ln[r] = w
            _refresh(r, rt, ln, earliest, latest, load, rcost, route_of, pos_of, inst_arrays)
            n_ruined += 1
        open_first = route_open_rate > 0.0 and np.random.random() < route_open_rate
        # the plan is accepted below ``cut``, drawn now: the ruin's change is known, so the
        # recreate may give up once what it adds leaves the plan above it (no insertion
        # lowers the cost by more than ``unit`` on a metric rounded to whole units)
        cut = current - temp * math.log(np.random.random() + 1e-300)
        ruined = current
        for i in range(n_touched):
            r = touched[i]
            ruined += (rcost[r] + fixed if ln[r] > 0 else 0) - (b_rcost[r] + fixed)
        r_hi_new, n_touched, work, gave_up = _recreate(
            removed,
            n_removed,
            inst_arrays,
            capacity,
            fixed,
            sol,
            bak,
            r_hi,
            touched,
            n_touched,
            touch_mark,
            stamp,
            BLINK,
            near,
            open_first,
            -1,
            max(0.0, cut - ruined) if give_up else -1.0,
            unit,
        )
        done += work + n_removed + 1
        delta = 0
        for i in range(n_touched):
            r = touched[i]
            if b_ln[r] > 0:
                delta -= b_rcost[r] + fixed
            if ln[r] > 0:
                delta += rcost[r] + fixed
        candidate = current + delta
        if not gave_up and candidate < cut:
            current = candidate
            r_hi = r_hi_new
            accepted += 1
            if current < best:
                best = current
                for r in range(n_routes_max):
                    best_ln[r] = ln[r] if r < r_hi else 0
                    for k in range(best_ln[r]):
                        best_rt[r, k] = rt[r, k]
        else:
            for i in range(n_touched):
                _restore(touched[i], sol, bak)
    state[0] = current
    state[1] = best
    state[2] = r_hi
    return accepted, it, done


@numba.njit()
def _construct(inst_arrays, capacity, fixed, sol, bak, removed, order_kind=-1):  # type: ignore[no-untyped-def]
    """The recreate on an empty plan, in the order given (-1: drawn); returns (r_hi, the
    order it used)."""
    if order_kind < 0:
        order_kind = _draw_order()
    n_routes_max = sol[0].shape[0]
    touched = np.empty(n_routes_max, dtype=np.int64)
    touch_mark = np.zeros(n_routes_max, dtype=np.int64)
    # the first plan tries every route for every stop
    near = _near(np.zeros((1, 1), dtype=np.int64), 0, sol[6], n_routes_max)
    r_hi, _, _, _ = _recreate(
        removed,
        removed.shape[0],
        inst_arrays,
        capacity,
        fixed,
        sol,
        bak,
        0,
        touched,
        0,
        touch_mark,
        1,
        0.0,
        near,
        False,
        order_kind,
    )
    return r_hi, order_kind


@numba.njit()
def _savings(inst_arrays, capacity, sol, customers, pair_i, pair_j, reverse):  # type: ignore[no-untyped-def]
    """A first plan by savings: every stop on a route of its own, then, pair by pair in the
    order given (the largest saving first), the route ending at ``i`` and the route starting
    at ``j`` become one when the load and the times allow it. With ``reverse`` (no windows,
    one depot, a symmetric matrix: a route then costs the same both ways) a route may be
    turned round to put ``i`` and ``j`` at its ends.
    The routes end at 0 .. r_hi - 1; returns r_hi."""
    _dist, tm, ready, due, _demand, s, e, t0, t1 = inst_arrays
    rt, ln, earliest, latest, load, rcost, route_of, pos_of = sol
    n_c = customers.shape[0]
    ln[:] = 0
    for q in range(n_c):
        rt[q, 0] = customers[q]
        ln[q] = 1
        _refresh(q, rt, ln, earliest, latest, load, rcost, route_of, pos_of, inst_arrays)
    buf = np.empty(n_c, dtype=np.int64)
    for p in range(pair_i.shape[0]):
        i = pair_i[p]
        j = pair_j[p]
        a = route_of[i]
        b = route_of[j]
        if a == b:
            continue
        na = ln[a]
        nb = ln[b]
        i_first = pos_of[i] == 0
        i_last = pos_of[i] == na - 1
        j_first = pos_of[j] == 0
        j_last = pos_of[j] == nb - 1
        if not (i_last and j_first) and not (
            reverse and (i_first or i_last) and (j_first or j_last)
        ):
            continue
        if (load[a] + load[b] > capacity).any():
            continue
        # a then b, each turned round when its end does not face the other
        flip_a = not i_last
        flip_b = not j_first
        for k in range(na):
            buf[k] = rt[a, na - 1 - k] if flip_a else rt[a, k]
        for k in range(nb):
            buf[na + k] = rt[b, nb - 1 - k] if flip_b else rt[b, k]
        t = t0
        prev = s
        ok = True
        for k in range(na + nb):
            c = buf[k]
            t = t + tm[prev, c]
            if t < ready[c]:
                t = ready[c]
            if t > due[c]:
                ok = False
                break
            prev = c
        if not ok or t + tm[prev, e] > t1:
            continue
        for k in range(na + nb):
            rt[a, k] = buf[k]
        ln[a] = na + nb
        ln[b] = 0
        _refresh(a, rt, ln, earliest, latest, load, rcost, route_of, pos_of, inst_arrays)
    r_hi = 0
    for r in range(n_c):
        if ln[r] > 0:
            if r != r_hi:  # moved down: its bookkeeping follows (the others' is current)
                for k in range(ln[r]):
                    rt[r_hi, k] = rt[r, k]
                ln[r_hi] = ln[r]
                ln[r] = 0
                _refresh(r_hi, rt, ln, earliest, latest, load, rcost, route_of, pos_of, inst_arrays)
            r_hi += 1
    return r_hi


@dataclass(slots=True)
class Outcome:
    """The best plan of one search: routes (data nodes), its cost, and what it took."""

    routes: list[list[int]]
    cost: int  # recomputed from the routes
    kernel_cost: int  # the kernel's own running total (equal to ``cost``, or a bug)
    first_cost: int
    iterations: int
    accepted: int
    work: int  # units of work done
    on_clock: bool  # the clock ended the search or shaped its schedule (not reproducible)
    cooled_over: int = 0  # the work the cooling schedule spread over in the end


def _plan_cost(inst: Instance, routes: list[list[int]]) -> int:
    cost = 0
    for nodes in routes:
        if nodes:
            path = [inst.start, *nodes, inst.end]
            cost += int(sum(inst.dist[a, b] for a, b in itertools.pairwise(path)))
            cost += inst.fixed
    return cost


def _routes_of(rt: IntArray, ln: IntArray, r_hi: int) -> list[list[int]]:
    """The routes the kernel's arrays hold among 0 .. r_hi - 1, empty ones left out."""
    return [rt[r, : ln[r]].tolist() for r in range(r_hi) if ln[r] > 0]


def _arrays_cost(sol: tuple[Any, ...], r_hi: int, fixed: int) -> int:
    """The cost of the plan the kernel's arrays hold (its routes among 0 .. r_hi - 1)."""
    used = sol[1][:r_hi] > 0
    return int(sol[5][:r_hi][used].sum()) + fixed * int(used.sum())


def granular(n_customers: int, n_routes: int, windows: bool) -> int:
    """How many nearest stops choose the routes a removed stop may go back into (0: all)."""
    if not windows or GRANULAR <= 0:
        return 0
    if n_customers < GRANULAR_STOPS or n_routes < GRANULAR_ROUTES:
        return 0
    return min(GRANULAR, n_customers, NEIGHBOURS)


def _symmetric(m: IntArray) -> bool:
    return bool(np.array_equal(m, m.T))


def _savings_pairs(inst: Instance, customers: IntArray, adj: IntArray) -> tuple[IntArray, IntArray]:
    """The pairs (i, j) the savings construction tries, i's route ending where j's begins:
    each stop with its nearest stops, both ways, the largest saving first, those that save
    nothing (a route's fixed cost included) left out."""
    i = np.repeat(customers, adj.shape[1])
    j = adj[customers].ravel()
    i, j = np.concatenate([i, j]), np.concatenate([j, i])
    keep = i != j
    i, j = i[keep], j[keep]
    # a pair (i, j) of mutual neighbours comes up twice, from i's list and from j's: once
    # is enough (and (j, i) stays, a pair of its own)
    _, first = np.unique(i * inst.dist.shape[0] + j, return_index=True)
    first.sort()
    i, j = i[first], j[first]
    d = inst.dist
    saving = d[i, inst.end] + d[inst.start, j] - d[i, j] + inst.fixed
    order = np.argsort(-saving, kind="stable")
    order = order[saving[order] > 0]
    return np.ascontiguousarray(i[order]), np.ascontiguousarray(j[order])


def work_for(seconds: float, n_stops: int) -> int:
    """The work budget of a time limit, for a problem of ``n_stops`` stops."""
    n = max(1, n_stops)
    if n < SMALL_STOPS:
        rate = WORK_PER_SECOND * SMALL_SHARE
    else:
        rate = WORK_PER_SECOND * min(1.0, (CACHED_STOPS / n) ** CACHE_FALL)
    return max(1, int(seconds * rate))


def _empty_plan(inst: Instance) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]:
    """The kernel's arrays for ``inst``: an empty plan (``sol``), room to back its routes
    up (``bak``), and the instance as the kernel reads it (``inst_arrays``)."""
    n = inst.dist.shape[0]
    n_c = len(inst.customers)
    dims = inst.demand.shape[1]
    n_routes = n_c + 1
    width = n_c + 1
    rt = np.zeros((n_routes, width), dtype=np.int64)
    ln = np.zeros(n_routes, dtype=np.int64)
    earliest = np.zeros((n_routes, width), dtype=np.int64)
    latest = np.zeros((n_routes, width), dtype=np.int64)
    load = np.zeros((n_routes, dims), dtype=np.int64)
    rcost = np.zeros(n_routes, dtype=np.int64)
    route_of = np.full(n, -1, dtype=np.int64)
    pos_of = np.zeros(n, dtype=np.int64)
    sol = (rt, ln, earliest, latest, load, rcost, route_of, pos_of)
    bak = (
        np.zeros_like(rt),
        np.zeros_like(ln),
        np.zeros_like(earliest),
        np.zeros_like(latest),
        np.zeros_like(load),
        np.zeros_like(rcost),
    )
    arrays = (
        inst.dist,
        inst.time,
        inst.ready,
        inst.due,
        inst.demand,
        inst.start,
        inst.end,
        inst.shift_start,
        inst.shift_end,
    )
    return sol, bak, arrays


def _adjacency(inst: Instance) -> IntArray:
    """Each customer's ``NEIGHBOURS`` nearest customers, nearest first (row per node; the
    depots' rows are zeros): the ruin walks from a seed stop through them."""
    customers = np.asarray(inst.customers, dtype=np.int64)
    sym = inst.dist[np.ix_(customers, customers)] + inst.dist[np.ix_(customers, customers)].T
    k = min(NEIGHBOURS, customers.shape[0])
    nearest = np.argsort(sym, axis=1, kind="stable")[:, :k]
    adj = np.zeros((inst.dist.shape[0], k), dtype=np.int64)
    adj[customers] = customers[nearest]
    return adj


@dataclass(slots=True)
class FirstPlan:
    """The plan a search starts from, in the kernel's arrays (``_first_plan``)."""

    sol: tuple[Any, ...]  # the plan's arrays
    bak: tuple[Any, ...]  # room to back its routes up
    arrays: tuple[Any, ...]  # the instance as the kernel reads it
    r_hi: int  # its routes are among 0 .. r_hi - 1
    routes: list[list[int]]
    drawn: int  # routes of the recreate's plan in the seed's order: the moves' gates read it
    cut: bool  # the clock left out some of the constructions


def _first_plan(
    inst: Instance, adj: IntArray, windows: bool, every: bool, deadline: float = math.inf
) -> FirstPlan:
    """The plan the search starts from: the recreate's, in the order the seed draws.

    With ``every`` (from ``FIRST_PLANS_STOPS`` stops), the recreate also builds a plan in
    each of its four orders (but the seed's own, unless random: that plan is the first),
    and a savings construction another; the search starts from
    the one of fewest routes, then lowest cost (the seed's own first on a tie). The search
    lowers the cost of a plan far more easily than its number of routes: on tight windows
    the orders' plans differ by a fifth in routes, and on tight capacity savings may use a
    route or two more than the recreate (logistics/README.md, "The first plan of a large
    problem"). The constructions stop once they have taken ``FIRST_PLANS_SHARE`` of the
    time to ``deadline`` (``cut``: the plan then depends on the clock)."""
    began = time.monotonic()
    allowed = FIRST_PLANS_SHARE * (deadline - began)
    customers = np.asarray(inst.customers, dtype=np.int64)
    sol, bak, arrays = _empty_plan(inst)
    rt, ln, route_of = sol[0], sol[1], sol[6]
    r_hi, own = _construct(arrays, inst.capacity, inst.fixed, sol, bak, customers.copy(), -1)
    chosen = _routes_of(rt, ln, r_hi)
    drawn = len(chosen)
    if not every:
        return FirstPlan(sol, bak, arrays, r_hi, chosen, drawn, False)
    best = (len(chosen), _arrays_cost(sol, r_hi, inst.fixed))
    held = True  # the arrays hold the chosen plan
    cut = False
    for kind in range(5):
        if kind == own and kind != 0:  # the seed's own plan again (random keys differ)
            continue
        if time.monotonic() - began > allowed:
            cut = True
            break
        ln[:] = 0
        route_of[:] = -1
        if kind < 4:
            r_hi, _ = _construct(
                arrays, inst.capacity, inst.fixed, sol, bak, customers.copy(), kind
            )
        else:
            pair_i, pair_j = _savings_pairs(inst, customers, adj)
            # a route turned round is checked like any other; without windows it seldom
            # fails, and with one depot on a symmetric matrix it costs the same
            reverse = not windows and inst.start == inst.end and _symmetric(inst.dist)
            r_hi = _savings(arrays, inst.capacity, sol, customers, pair_i, pair_j, reverse)
        key = (int(np.count_nonzero(ln[:r_hi])), _arrays_cost(sol, r_hi, inst.fixed))
        held = key < best
        if held:
            best = key
            chosen = _routes_of(rt, ln, r_hi)
    if not held:
        ln[:] = 0
        route_of[:] = -1
        for r, route in enumerate(chosen):
            rt[r, : len(route)] = route
            ln[r] = len(route)
            _refresh(r, rt, ln, sol[2], sol[3], sol[4], sol[5], route_of, sol[7], arrays)
        r_hi = len(chosen)
    return FirstPlan(sol, bak, arrays, r_hi, chosen, drawn, cut)


def search(
    inst: Instance,
    seed: int,
    deadline: float,
    work: int,
    on_improve: Callable[[int], None] | None = None,
) -> Outcome:
    """Ruin and recreate from a first plan (``_first_plan``).

    The search ends when ``work`` units are done: the same instance, seed and work give the
    same plan. ``deadline`` (``time.monotonic()``) is a guard that ends it earlier on a
    machine slower or busier than ``WORK_PER_SECOND`` assumes. On such a machine the pace
    is measured between chunks, over at least ``PACE_SPAN`` seconds (or ``PACE_SPAN_SHARE``
    of the time left) before it may shorten the schedule: when the deadline will come
    before ``PACE_BELOW`` of the work, the cooling schedule is shortened to end at the
    deadline, so that a search the clock ends is cold and hands back a plan close to what
    its whole budget would reach (``on_clock`` then says the plan depends on the clock);
    when the pace recovers, the schedule grows back, at most to the budget
    (``cooled_over``). The best plan is kept at every moment; a search ended before its
    first iteration hands back its first plan.
    """
    customers = np.asarray(inst.customers, dtype=np.int64)
    n_c = customers.shape[0]
    windows = bool((inst.due[customers] < NO_WINDOW).any() or inst.ready[customers].any())
    adj = _adjacency(inst)
    use_cache()  # before the first call compiles the kernel
    _seed(seed)
    start = _first_plan(inst, adj, windows, n_c >= FIRST_PLANS_STOPS, deadline)
    sol, bak, arrays = start.sol, start.bak, start.arrays
    r_hi, routes_now = start.r_hi, start.routes
    recreate_routes = start.drawn
    rt, ln = sol[0], sol[1]
    first = _plan_cost(inst, routes_now)
    if on_improve is not None:
        on_improve(first)
    best_rt = rt.copy()
    best_ln = ln.copy()
    n_near = granular(n_c, recreate_routes, windows)
    long_routes = windows and n_c >= LONG_ROUTE_STOPS * recreate_routes
    route_open_rate = ROUTE_OPEN_RATE if long_routes else 0.0
    route_ruin_rate = ROUTE_RUIN_RATE if long_routes else 0.0
    state = np.asarray([first, first, r_hi], dtype=np.int64)
    mean_arc = first / max(1, n_c + len(routes_now))
    t_hot, t_cold = TEMP_START * mean_arc, TEMP_END * mean_arc
    done = iterations = accepted = 0
    on_clock = start.cut
    reported = first
    # the cooling schedule spreads over ``planned`` units: the whole budget, unless the
    # measured pace says the clock will end the search before PACE_BELOW of it (a slow or
    # busy machine): the schedule then shrinks to the work the deadline leaves room for,
    # so that the search is cold, and its plan close to what it would reach, when it ends
    planned = work
    rate = WORK_PER_SECOND * FIRST_CHUNK_SHARE  # until measured
    # The pace is measured from the end of the first chunk: that chunk may hold the
    # compilation of the search loop, whose seconds say nothing of the pace to come (counted
    # in, they shrank the schedule of a search with hours ahead of it, for good).
    began: float | None = None
    done_then = 0
    trusted = PACE_SPAN  # the span a pace must be measured over to shrink the schedule
    while done < work:
        now = time.monotonic()
        left = deadline - now - DEADLINE_MARGIN
        if left <= 0:
            on_clock = True
            break
        if began is not None and done > done_then and now > began:
            rate = (done - done_then) / (now - began)
            projected = done + rate * left
            slow = projected < planned and (planned < work or projected < PACE_BELOW * work)
            if slow and now - began >= trusted:  # a span long enough to shrink on
                planned = max(done + 1, int(projected))
                on_clock = True  # the clock shaped the schedule: not reproducible
            elif planned < work and projected > planned:
                # the pace recovered (a slow moment passed, the other processes ended):
                # the schedule grows back towards the budget, so that a slow start does
                # not leave a fast search cold for the rest of its budget
                planned = min(work, int(projected))
        # chunks of about CHUNK_SECONDS at the measured pace, never longer than the time left
        chunk = max(1, min(work // 200, int(rate * min(CHUNK_SECONDS, left))))
        acc, its, spent = _search(
            min(chunk, work - done),
            done,
            planned,
            t_hot,
            t_cold,
            arrays,
            inst.capacity,
            inst.fixed,
            adj,
            n_near,
            customers,
            sol,
            bak,
            best_rt,
            best_ln,
            state,
            route_open_rate,
            route_ruin_rate,
            GIVE_UP,
            inst.unit,
        )
        done += spent
        iterations += its
        accepted += acc
        if began is None:
            began, done_then = time.monotonic(), done
            trusted = min(PACE_SPAN, PACE_SPAN_SHARE * (deadline - began))
        if on_improve is not None and state[1] < reported:
            reported = int(state[1])
            on_improve(reported)
    routes = _routes_of(best_rt, best_ln, len(rt)) if state[1] < first else routes_now
    return Outcome(
        routes,
        _plan_cost(inst, routes),
        int(state[1]),  # the best total, which starts at the first plan's
        first,
        iterations,
        accepted,
        done,
        on_clock,
        planned,
    )


KERNEL = (_seed, _refresh, _construct, _savings, _search)
"""The kernel's entry points from Python (the others are compiled inside them)."""

# Compiled without a cache at import; ``use_cache`` gives them one before they are compiled.
_COMPILED = (
    _seed,
    _refresh,
    _near,
    _best_place,
    _backup,
    _restore,
    _insert,
    _draw_order,
    _recreate,
    _search,
    _construct,
    _savings,
)
_caching = False  # whether ``use_cache`` has run in this process


def use_cache() -> None:
    """Let Numba cache the compiled kernel, in a folder it can write to.

    Numba caches it in ``__pycache__`` next to this file. Where that folder is read-only (an
    image installed by root and run by another user), the cache goes to a temporary folder
    instead, unless the operator chose one (``NUMBA_CACHE_DIR``). Done before the first
    compilation (``warm_up``, ``search``) rather than at import, so that importing the
    package changes neither ``os.environ`` nor Numba's settings. Cheap once done.
    """
    global _caching
    if _caching:
        return
    config: Any = numba.config  # its settings are set at run time: no types to check
    if not config.CACHE_DIR and not os.access(Path(__file__).parent, os.W_OK):
        config.CACHE_DIR = str(Path(tempfile.gettempdir()) / "marche-numba-cache")
    for f in _COMPILED:
        f.enable_caching()
    _caching = True


def ready() -> bool:
    """Whether this process holds the compiled kernel (compiled or loaded from the cache)."""
    return all(f.signatures for f in KERNEL)


def warm_up() -> float:
    """Compile the kernel (or load it from Numba's cache); returns the seconds it took.

    Every entry point is compiled, whatever the time it takes (8 to 16 s on an idle
    2-core machine with an empty cache, over a minute on a busy one; 0.2 to 0.5 s to load
    from the cache), so that no search pays for it afterwards. Cheap once done: a worker
    calls it before its first task, and ``solve`` before its clock starts.
    """
    began = time.monotonic()
    if ready():
        return 0.0
    use_cache()
    inst = Instance.from_matrix([[0, 2, 2, 3], [2, 0, 1, 2], [2, 1, 0, 2], [3, 2, 2, 0]], 2)
    # no deadline: a deadline set before the compilation would pass during it, and the
    # search it guards, never called, would be compiled by the first real solve instead
    search(inst, 0, math.inf, 1000)
    _first_plan(inst, _adjacency(inst), False, True)  # the constructions of large problems
    return time.monotonic() - began
