"""Coordinators' edits of a draft delivery plan: moves checked by the engine's checker,
locked routes, unserved decisions, publishing; each write checks the plan's version.

Interface used by ``logistics.views`` (bodies to be completed).
"""

from __future__ import annotations

from typing import Any


def plan_stop_move(
    *, plan_id: int, stop_id: int, route_id: int, position: int, version: int, by: Any
) -> Any:
    """Move a stop to another route or position; refused with the checker's reason."""
    raise NotImplementedError


def plan_route_lock(*, plan_id: int, route_id: int, locked: bool, version: int, by: Any) -> Any:
    """Lock or unlock a route: a locked route is kept as it is when the plan is recomputed."""
    raise NotImplementedError


def plan_unserved_decide(*, plan_id: int, place: str, decision: str, version: int, by: Any) -> Any:
    """Record what happens to an unserved destination: other_vehicle, other_day, hub_pickup."""
    raise NotImplementedError


def plan_publish(*, plan_id: int, version: int, by: Any) -> Any:
    """Publish a draft whose unserved stops are all decided; drivers then see their routes."""
    raise NotImplementedError
