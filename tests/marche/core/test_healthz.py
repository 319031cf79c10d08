from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_is_green_on_the_embedded_default(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["broker"]["detail"] == "in-process (no broker configured)"
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_names_an_unreachable_cache(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["cache"]["ok"] is False
    assert "ConnectionError" in body["checks"]["cache"]["detail"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.redis
def test_healthz_reaches_real_redis_as_cache_and_broker(
    client: Client, settings, redis_url
) -> None:  # type: ignore[no-untyped-def]
    from marche.celery import app

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = redis_url, False
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["cache"] == {"ok": True, "detail": "RedisCache"}
    assert body["checks"]["broker"] == {"ok": True, "detail": redis_url}


def test_healthz_refuses_post(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
