"""Celery tasks of delivery planning: they take ids, re-read, and are idempotent."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from logistics.services import cycle_close_due, plan_compute
from marche.errors import DomainError


@shared_task(name="logistics.close_due_cycles", acks_late=True)
def close_due_cycles() -> list[int]:
    """Close the cycles whose cutoff has passed (idempotent); returns the ids it closed."""
    return cycle_close_due(now=timezone.now())


@shared_task(name="logistics.plan_compute", acks_late=True)
def plan_compute_task(cycle_id: int, time_limit: float = 10.0) -> dict[str, object]:
    """Compute and store the cycle's draft plan; runs on the ``routing`` queue.

    Replaying it recomputes the same draft (the solver is reproducible for a given problem).
    A refusal is a result, not a failure to retry.
    """
    try:
        result = plan_compute(cycle_id=cycle_id, time_limit=time_limit)
    except DomainError as error:
        return {"ok": False, **error.as_dict()}
    return {"ok": True, "plan": result.plan.pk, "version": result.plan.version}
