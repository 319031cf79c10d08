"""Lock timeouts: a transaction never waits long for a row lock, and never answers a 500.

Services that lock rows run in :func:`locking_atomic`: a transaction (or a savepoint inside
the caller's) whose lock waits are bounded by ``settings.MARCHE_LOCK_TIMEOUT_MS`` (5 s by
default) on PostgreSQL, through ``SET LOCAL lock_timeout``. A wait beyond it, or a deadlock
PostgreSQL broke by aborting this transaction, rolls the block back and is raised as
:class:`ServiceBusy`, a :class:`~marche.errors.DomainError` with a stable code: the API
answers 409 with it, an HTML page shows "Le service est très demandé, réessayez" and nothing
was changed. Which rows are locked, and in which order, is each app's ``locking.py``; the
order that holds across apps is written in ``marche/orders/locking.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.utils.translation import gettext_lazy as _

from marche.errors import DomainError

DEFAULT_LOCK_TIMEOUT_MS = 5000
# PostgreSQL's SQLSTATEs for "lock_timeout expired" and "deadlock detected".
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED = "40P01"
LOCK_FAILURES = frozenset({LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED})


class ServiceBusy(DomainError):
    code = "service_busy"
    status = 409
    default_message = _(
        "Le service est très demandé, réessayez dans un instant : rien n'a été enregistré."
    )


def lock_timeout_ms() -> int:
    """How long one lock may be waited for, in milliseconds (``MARCHE_LOCK_TIMEOUT_MS``)."""
    return int(getattr(settings, "MARCHE_LOCK_TIMEOUT_MS", DEFAULT_LOCK_TIMEOUT_MS))


def lock_timeout_set(*, timeout_ms: int | None = None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Bound every lock wait of the current transaction (PostgreSQL; elsewhere a no-op).

    ``SET LOCAL``: the bound ends with the transaction, so a pooled connection never keeps
    it. Must run inside ``transaction.atomic``.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("lock_timeout_set() runs inside a transaction.")
    if connection.vendor != "postgresql":
        return
    timeout = lock_timeout_ms() if timeout_ms is None else timeout_ms
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(timeout)}ms"])


def is_lock_failure(error: BaseException) -> bool:
    """Whether a database error is a lock wait that timed out or a deadlock victim."""
    return getattr(error.__cause__, "sqlstate", None) in LOCK_FAILURES


@contextmanager
def locking_atomic(
    *, timeout_ms: int | None = None, using: str = DEFAULT_DB_ALIAS
) -> Iterator[None]:
    """``transaction.atomic`` with bounded lock waits; a lock failure is :class:`ServiceBusy`.

    The block is rolled back (the whole transaction, or the savepoint when called inside
    another atomic block) before ``ServiceBusy`` is raised, so a refusal changes nothing.
    """
    try:
        with transaction.atomic(using=using):
            lock_timeout_set(timeout_ms=timeout_ms, using=using)
            yield
    except OperationalError as error:
        if is_lock_failure(error):
            raise ServiceBusy() from error
        raise
