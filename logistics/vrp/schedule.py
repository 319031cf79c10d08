"""Timing of a fixed route: earliest arrivals, then the departure delayed to cut waiting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Schedule:
    """Departure from the depot, arrival and service start at each stop, return time."""

    departure: int
    arrivals: list[int]
    starts: list[int]
    end: int


def _pass(
    departure: int,
    travel: Sequence[int],
    service: Sequence[int],
    windows: Sequence[Sequence[tuple[int, int]]],
) -> tuple[list[int], list[int], list[int], int]:
    t = departure
    arrivals, starts, waits = [], [], []
    for k, ws in enumerate(windows):
        a = t + travel[k]
        s = a
        for lo, hi in ws:
            if hi >= a:
                s = max(a, lo)
                break
        arrivals.append(a)
        starts.append(s)
        waits.append(s - a)
        t = s + service[k]
    return arrivals, starts, waits, t + travel[-1]


def forward_schedule(
    travel: Sequence[int],
    service: Sequence[int],
    windows: Sequence[Sequence[tuple[int, int]]],
    shift: tuple[int, int],
) -> Schedule:
    """Schedule a route; ``travel`` has one leg more than there are stops.

    Leaving at the shift start gives the earliest times; the departure is then pushed back
    by as much waiting as can be absorbed without missing a window (forward time slack), so
    that a driver paid by the hour does not wait in front of closed doors.
    """
    arrivals, starts, waits, end = _pass(shift[0], travel, service, windows)
    total_wait = sum(waits)
    delay = total_wait
    cumulated = 0
    for k, ws in enumerate(windows):
        cumulated += waits[k]
        hi = next((h for lo, h in ws if lo <= starts[k] <= h), None)
        if hi is not None:
            delay = min(delay, cumulated + hi - starts[k])
    delay = max(0, delay)
    if delay:
        arrivals, starts, _, end = _pass(shift[0] + delay, travel, service, windows)
    return Schedule(shift[0] + delay, arrivals, starts, end)
