"""Celery for real: a task goes through Redis to a worker thread and its result comes back."""

from __future__ import annotations

import uuid

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

from marche.celery import app
from marche.core.tasks import ping


@pytest.mark.redis
def test_task_round_trip_through_redis_broker(redis_url: str) -> None:
    # A fresh app with the project's Celery settings, pointed at Redis: the project's app
    # caches its backend and producer pool, so earlier in-process tests must not leak in.
    redis_app = Celery("marche-redis-test", set_as_current=False)
    redis_app.config_from_object("django.conf:settings", namespace="CELERY")
    redis_app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)
    remote_ping = redis_app.task(name="core.ping", acks_late=True)(ping.run)
    try:
        with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            token = uuid.uuid4().hex
            result = remote_ping.delay(token)
            assert result.get(timeout=20) == f"pong:{token}"
            assert result.successful()
    finally:
        app.set_current()  # the worker makes its app current; shared tasks must find ours
        redis_app.close()


def test_task_runs_in_process_without_broker() -> None:
    assert app.conf.task_always_eager is True
    assert ping.delay("x").get(timeout=1) == "pong:x"
