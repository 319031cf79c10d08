"""Shared fixtures and the rules that skip tests whose services are missing (locally only)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

CHROMIUM = Path("/usr/bin/chromium")
ON_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip, saying why, the tests whose service is missing; in CI nothing may be skipped."""
    skips = {
        "postgres": (
            settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
            "PostgreSQL injoignable : test réservé à PostgreSQL ignoré (SQLite)",
        ),
        "concurrency": (
            settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
            "PostgreSQL injoignable : test de concurrence ignoré (SQLite)",
        ),
        "redis": (not os.environ.get("TEST_REDIS_URL"), "Redis injoignable : test ignoré"),
        "browser": (not CHROMIUM.exists(), "Chromium absent (/usr/bin/chromium) : test ignoré"),
    }
    for item in items:
        for marker, (missing, reason) in skips.items():
            if missing and item.get_closest_marker(marker):
                if ON_CI:
                    raise pytest.UsageError(f"CI : {reason} ({item.nodeid})")
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def demo(db: None) -> None:
    """The Loos-en-Gohelle demo territory, loaded by the real command."""
    call_command("load_demo", stdout=io.StringIO())


@pytest.fixture
def redis_url() -> str:
    return os.environ["TEST_REDIS_URL"]


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(settings.BASE_DIR) / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def fake_stripe(settings):  # type: ignore[no-untyped-def]
    """Card payments switched on against a local fake Stripe (tests/fakes/stripe_server.py)."""
    from marche.payments import methods
    from tests.fakes.stripe_server import FakeStripe

    fake = FakeStripe(webhook_secret="whsec_test_secret").start()
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
    settings.STRIPE_API_BASE = fake.url
    settings.CARD_PAYMENTS_ENABLED = True
    methods._registry.cache_clear()
    yield fake
    fake.stop()
    methods._registry.cache_clear()


@pytest.fixture(autouse=True)
def _celery_join_flag_reset() -> None:
    """Eager Celery keeps a process-wide "inside a task" flag that it saves and restores
    around each task; tasks run eagerly by concurrent threads (the race tests) can restore
    it in the wrong order and leave it on, which then makes any later ``.get()`` fail.
    Production runs tasks in workers, so this only concerns in-process test runs."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


@pytest.fixture(autouse=True)
def _content_types_cache_clear() -> None:
    """A transactional test's flush deletes the content types and the next migration signal
    recreates them with new ids; Django's per-process cache would still hand out the old
    ones (Wagtail pages, permissions), so a test that loads the demo after a transactional
    one would fail on "content type 1 is not a valid choice". Each test starts from the
    database's own content types."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


def _uses_database(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return bool(
        item.get_closest_marker("django_db")
        or names & {"db", "transactional_db", "live_server", "demo"}
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):  # type: ignore[no-untyped-def]
    """After every test that touched the database, the manne ledger must still reconcile.

    This is ``manage.py reconcile_ledger``'s check run on the state each test leaves behind
    (before its rollback), so the whole suite's traffic is proven, not only the ledger's
    own tests. Tests that corrupt the ledger on purpose carry ``ledger_drift_expected``.
    """
    outcome = yield
    if (
        outcome.excinfo is None
        and _uses_database(item)
        and not item.get_closest_marker("ledger_drift_expected")
    ):
        from django.db import connection

        from marche.mannes.selectors import ledger_drifts

        if connection.needs_rollback:
            return  # the test ended inside a failed transaction on purpose: nothing to read
        drifts = ledger_drifts()
        if drifts:
            raise AssertionError(f"Le grand livre des mannes ne se réconcilie plus : {drifts}")
