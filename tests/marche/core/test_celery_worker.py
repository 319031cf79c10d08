"""Celery for real: a task goes through Redis to a worker thread and its result comes back."""

from __future__ import annotations

import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from marche.celery import app
from marche.core.tasks import ping


@pytest.mark.redis
def test_task_round_trip_through_redis_broker(redis_url: str) -> None:
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            token = uuid.uuid4().hex
            result = ping.delay(token)
            assert result.get(timeout=20) == f"pong:{token}"
            assert result.successful()
    finally:
        app.conf.update(saved)


def test_task_runs_in_process_without_broker() -> None:
    assert app.conf.task_always_eager is True
    assert ping.delay("x").get(timeout=1) == "pong:x"
