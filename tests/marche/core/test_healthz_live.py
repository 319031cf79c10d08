"""/healthz/live: the process answers, whatever the database, the cache or the broker do."""

from __future__ import annotations

import pytest
from django.test import Client

REDIS_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1},
    }
}


@pytest.mark.django_db
def test_live_answers_ok_without_a_query(client: Client, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_num_queries(0):
        response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_live_answers_with_every_service_unreachable(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    # No django_db mark: pytest-django refuses any database access in this test, so a query
    # would fail it. The cache and the broker point at a port where nothing listens.
    settings.CACHES = REDIS_DOWN
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_live_refuses_writes(client: Client) -> None:
    assert client.post("/healthz/live").status_code == 405
