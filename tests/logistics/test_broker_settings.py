"""Celery's settings for losing machines: late acknowledgement, one task at a time, and a
visibility timeout longer than the longest plan computation (system check logistics.E001)."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings

from logistics.checks import SOLVE_MARGIN_S, visibility_outlasts_the_longest_solve
from logistics.services import MAX_TIME_LIMIT_S


def test_a_task_is_acknowledged_after_it_ran_and_a_worker_takes_one_at_a_time() -> None:
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout > MAX_TIME_LIMIT_S + SOLVE_MARGIN_S


@override_settings(
    CELERY_TASK_ALWAYS_EAGER=False,
    CELERY_BROKER_TRANSPORT_OPTIONS={"visibility_timeout": MAX_TIME_LIMIT_S},
)
def test_a_visibility_timeout_shorter_than_a_solve_stops_the_start() -> None:
    (error,) = visibility_outlasts_the_longest_solve(None)
    assert error.id == "logistics.E001"
    assert "délai de visibilité" in error.msg


@override_settings(
    CELERY_TASK_ALWAYS_EAGER=False,
    CELERY_BROKER_TRANSPORT_OPTIONS={"visibility_timeout": 3600},
)
def test_the_default_visibility_timeout_passes() -> None:
    assert visibility_outlasts_the_longest_solve(None) == []


@override_settings(CELERY_TASK_ALWAYS_EAGER=True, CELERY_BROKER_TRANSPORT_OPTIONS={})
def test_tasks_run_in_process_need_no_visibility_timeout() -> None:
    assert visibility_outlasts_the_longest_solve(None) == []
