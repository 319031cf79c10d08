"""The exact optimum of a tiny capacitated problem, as a reference for the benchmark.

Dynamic programming over subsets: the cheapest tour of each set of customers that fits
one vehicle (Held and Karp), then the cheapest split of all customers into such sets.
The work grows as 3^n, so it is kept to ``MAX_CUSTOMERS``.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_CUSTOMERS = 12


def cvrp_optimum(distance: Sequence[Sequence[int]], demand: Sequence[int], capacity: int) -> int:
    """Least total distance serving every customer, unlimited vehicles of ``capacity``.

    ``distance`` is indexed by node, the depot being node 0 and customer ``i`` node
    ``i + 1``; ``demand[i]`` is customer ``i``'s demand.
    """
    n = len(demand)
    if n > MAX_CUSTOMERS:
        raise ValueError(f"{n} customers: the exact optimum is kept to {MAX_CUSTOMERS}")
    if any(d > capacity for d in demand):
        raise ValueError("a customer's demand exceeds the capacity")
    if n == 0:
        return 0
    full = 1 << n
    load = [0] * full
    for mask in range(1, full):
        low = (mask & -mask).bit_length() - 1
        load[mask] = load[mask & (mask - 1)] + demand[low]
    inf = float("inf")
    # path[mask][j]: cheapest path from the depot through ``mask``, ending at customer j
    path = [[inf] * n for _ in range(full)]
    for j in range(n):
        path[1 << j][j] = distance[0][j + 1]
    tour = [inf] * full
    for mask in range(1, full):
        if load[mask] > capacity:
            continue
        row = path[mask]
        best = inf
        for j in range(n):
            here = row[j]
            if here == inf:
                continue
            best = min(best, here + distance[j + 1][0])
            for k in range(n):
                bit = 1 << k
                if mask & bit or load[mask | bit] > capacity:
                    continue
                step = here + distance[j + 1][k + 1]
                if step < path[mask | bit][k]:
                    path[mask | bit][k] = step
        tour[mask] = best
    # split: the route holding the lowest customer left, then the best of the rest
    split = [inf] * full
    split[0] = 0
    for mask in range(1, full):
        low = mask & -mask
        rest = mask ^ low
        sub = rest
        best = inf
        while True:
            route = sub | low
            if tour[route] < inf:
                best = min(best, tour[route] + split[mask ^ route])
            if sub == 0:
                break
            sub = (sub - 1) & rest
        split[mask] = best
    return int(split[full - 1])
