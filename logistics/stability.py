"""Stable rounds: a new plan keeps each destination on its usual vehicle and in its usual
order unless changing it saves enough, and says what changed for each driver.

Interface used by ``logistics.services.plan_compute`` (bodies to be completed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from logistics.vrp import model as vrp
from logistics.vrp.providers import TravelProvider


@dataclass(frozen=True)
class UsualRounds:
    """Per vehicle slug, the places of its usual round in their usual order."""

    routes: dict[str, tuple[str, ...]] = field(default_factory=dict)


def usual_rounds(*, cycle: Any) -> UsualRounds:
    """The rounds of the last published plan of the cycle's territory before this cycle."""
    return UsualRounds()


def solution_stabilise(
    *,
    problem: vrp.Problem,
    provider: TravelProvider,
    solution: vrp.Solution,
    usual: UsualRounds,
    threshold_pct: Decimal,
) -> tuple[vrp.Solution, list[dict[str, Any]]]:
    """The solution to store and, per vehicle, what moved from the usual rounds and why."""
    return solution, []


def routes_snapshot(*, plan: Any) -> dict[str, tuple[str, ...]]:
    """Per vehicle slug, the ordered places of the plan's routes (before a re-plan)."""
    return {}


def changes_describe(
    *,
    before: dict[str, tuple[str, ...]],
    after: dict[str, tuple[str, ...]],
    drivers: dict[str, str],
) -> list[dict[str, Any]]:
    """Per vehicle (and its driver's name), the places added, removed and reordered."""
    return []
