"""Test helpers for lock timeouts and races: another connection holding a row lock, and
whether another connection waits for one."""

from __future__ import annotations

import threading

from django.db import connection, connections, transaction
from django.db.models import Model


class RowHeld:
    """Another connection holds ``instance``'s row lock (``SELECT ... FOR UPDATE``) until the
    ``with`` block ends: a service run inside the block meets the lock as it would meet a
    concurrent writer. Needs a transactional test on PostgreSQL (the thread's own connection).

    The lock is let go after ``HOLD_S`` seconds at the latest, so that a test which fails
    inside the block does not leave a connection locked; a block that outlasts it fails on
    leaving, rather than letting the test believe the row stayed locked all along.
    """

    HOLD_S = 30.0

    def __init__(self, instance: Model) -> None:
        self.model = type(instance)
        self.pk = instance.pk
        self.locked = threading.Event()
        self.done = threading.Event()
        self.let_go_early = False
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        try:
            with transaction.atomic():
                self.model._default_manager.select_for_update().get(pk=self.pk)
                self.locked.set()
                self.let_go_early = not self.done.wait(timeout=self.HOLD_S)
        finally:
            connections.close_all()

    def __enter__(self) -> RowHeld:
        self.thread.start()
        assert self.locked.wait(timeout=10)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=10)
        if exc_type is None:
            assert not self.let_go_early, f"the row lock was let go after {self.HOLD_S:g} s"


def someone_waits_for_a_lock() -> bool:
    """Whether another connection to the test database is waiting for a lock now.

    PostgreSQL keeps one snapshot of ``pg_stat_activity`` for the rest of a transaction, so
    a caller polling from inside its own transaction would read the first answer again and
    again and never see the other connection start waiting: the snapshot is cleared first.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database() AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
        return bool(row and row[0] > 0)
