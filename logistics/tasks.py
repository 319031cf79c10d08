"""Celery tasks of delivery planning: they take ids, re-read, and are idempotent."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from logistics.errors import SolveCrashed
from logistics.services import cycle_close_due, plan_compute
from marche.errors import DomainError

logger = logging.getLogger(__name__)


@shared_task(name="logistics.close_due_cycles", acks_late=True)
def close_due_cycles() -> list[int]:
    """Close the cycles whose cutoff has passed (idempotent); each closing enqueues its plan."""
    return cycle_close_due(now=timezone.now())


@shared_task(name="logistics.plan_compute", acks_late=True)
def plan_compute_task(
    cycle_id: int, time_limit: float | None = None, version: int | None = None
) -> dict[str, object]:
    """Compute and store the cycle's draft plan; runs on the ``routing`` queue.

    ``version`` is the plan's version when the computation was asked for (``plan_queue``),
    0 for the plan enqueued by the cycle's closing, None to compute in any case. A replayed
    or superseded request finds the plan moved on and does nothing. A refusal is a result
    (also stored on the plan as ``solve_state = failed``), not a failure to retry; so is
    an unexpected error, logged, which ``plan_compute`` has already stored as failed: the
    coordinator asks again rather than the broker replaying a crash.
    """
    try:
        result = plan_compute(cycle_id=cycle_id, time_limit=time_limit, expected_version=version)
    except DomainError as error:
        return {"ok": False, **error.as_dict()}
    except Exception:
        logger.exception("plan_compute crashed for cycle %s", cycle_id)
        return {"ok": False, **SolveCrashed().as_dict()}
    return {
        "ok": True,
        "plan": result.plan.pk,
        "version": result.plan.version,
        **({"skipped": True} if result.skipped else {}),
    }
