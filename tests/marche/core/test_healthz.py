"""/healthz: up or down for everyone; which service and why, for staff only."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REDIS_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1},
    }
}


def test_healthz_says_only_ok_to_the_public(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")
    # Asking for details without being staff changes nothing.
    assert client.get("/healthz?details=1").json() == {"status": "ok"}
    client.force_login(UserFactory())
    assert client.get("/healthz?details=1").json() == {"status": "ok"}


def test_healthz_details_for_staff_on_the_embedded_default(client: Client) -> None:
    client.force_login(UserFactory(is_staff=True))
    response = client.get("/healthz?details=1")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["broker"]["detail"] == "in-process (no broker configured)"
    assert body["outbox_unsent"] == 0


def test_an_unreachable_cache_is_down_without_saying_why_to_the_public(
    client: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.CACHES = REDIS_DOWN
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down"}
    assert b"redis" not in response.content.lower()


def test_an_unreachable_cache_is_named_to_staff(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    client.force_login(UserFactory(is_staff=True))
    settings.CACHES = REDIS_DOWN
    response = client.get("/healthz?details=1")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["cache"]["ok"] is False
    assert "ConnectionError" in body["checks"]["cache"]["detail"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.redis
def test_healthz_reaches_real_redis_as_cache_and_broker(
    client: Client, settings, redis_url
) -> None:  # type: ignore[no-untyped-def]
    from marche.celery import app

    client.force_login(UserFactory(is_staff=True))
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = redis_url, False
    try:
        response = client.get("/healthz?details=1")
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["cache"] == {"ok": True, "detail": "RedisCache"}
    assert body["checks"]["broker"] == {"ok": True, "detail": redis_url}


def test_healthz_refuses_post(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
