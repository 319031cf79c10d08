"""Probes of the services the product depends on: database, cache and Celery broker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from marche.settings.env import redact


@dataclass(frozen=True)
class Probe:
    """The state of one service: ``ok`` and a short human-readable detail."""

    name: str
    ok: bool
    detail: str


def probe_database() -> Probe:
    """Run a trivial query on the default database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the detail says which
        return Probe("database", False, f"{type(exc).__name__}: {exc}".strip())
    return Probe("database", True, connection.vendor)


def probe_cache() -> Probe:
    """Write, read back and delete a unique key in the default cache."""
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=10)
        value = cache.get(key)
        cache.delete(key)
    except Exception as exc:
        return Probe("cache", False, f"{type(exc).__name__}: {exc}")
    if value != "1":
        return Probe("cache", False, "value not read back")
    return Probe("cache", True, settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1])


def probe_broker() -> Probe:
    """Open a connection to the Celery broker; in-process mode has no broker to reach."""
    from marche.celery import app

    if app.conf.task_always_eager:
        return Probe("broker", True, "in-process (no broker configured)")
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:
        url = redact(str(app.conf.broker_url))
        return Probe("broker", False, f"{url}: {type(exc).__name__}: {exc}")
    return Probe("broker", True, redact(str(app.conf.broker_url)))


def probe_all() -> list[Probe]:
    """Probe every service, in a stable order."""
    return [probe_database(), probe_cache(), probe_broker()]
