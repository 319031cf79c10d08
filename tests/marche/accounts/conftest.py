"""Account e-mails go through the outbox, published after commit.

The test's own transaction never commits, so after-commit work runs at once here, as a
commit would run it; the real after-commit path is covered by the outbox tests and by the
browser journeys, whose server commits for real.
"""

import pytest


@pytest.fixture(autouse=True)
def _after_commit_runs_at_once(monkeypatch):
    monkeypatch.setattr(
        "django.db.transaction.on_commit", lambda func, using=None, robust=False: func()
    )
