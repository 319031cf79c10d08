"""A transactional outbox: Celery tasks that survive a broker outage.

``.delay()`` after commit loses the task when the broker is down (and, with Celery's default
retry policy, makes the household wait many seconds for a 500). Instead, :func:`enqueue`
writes an :class:`~marche.core.models.OutboxMessage` in the caller's transaction, so the task
exists exactly when the change that causes it was committed. After commit it is published
once, with a short broker timeout and no retry; a message the broker did not accept stays
unsent and :func:`outbox_relay` (the ``outbox.relay`` beat task, or ``manage.py
outbox_relay``) publishes it again later, oldest first. Delivery is therefore at least once:
every task published through the outbox must be idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from marche.core.models import OutboxMessage, SentNotification

logger = logging.getLogger(__name__)

MAX_ERROR = 1000


def enqueue(task: str | Task, *args: Any, key: str) -> OutboxMessage:
    """Record a task to run once the current transaction commits; publish it after commit.

    ``key`` names the event (``order-12-confirmed``): enqueuing the same key again, in this
    transaction or a later one, returns the existing message and publishes nothing more.
    ``args`` must be JSON values (ids and short strings: tasks re-read what they need).
    """
    name = task if isinstance(task, str) else task.name
    message, created = OutboxMessage.objects.get_or_create(
        key=key, defaults={"task": name, "args": list(args)}
    )
    if created:
        message_id = message.pk
        # robust: whatever happens while publishing, the committed change stands and the
        # person is answered; the relay publishes what this could not.
        transaction.on_commit(lambda: outbox_publish(message_id=message_id), robust=True)
    return message


def outbox_publish(*, message_id: int) -> bool:
    """Publish one unsent message now; True once it is sent (by this call or an earlier one).

    The row is locked (``skip_locked``) while the broker is asked, so the after-commit
    publish and a relay never publish the same message at the same moment; the lock lasts
    at most the short broker timeout. A refusal is recorded on the row and logged, never
    raised: the household's request has already succeeded.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        )
        if message is None:
            # Locked by a relay publishing it right now (or gone): that one will do.
            return OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=False).exists()
        if message.sent_at is not None:
            return True
        return _publish_locked(message)


def outbox_relay(*, limit: int = 500) -> int:
    """Publish every unsent message, oldest first; returns how many were sent.

    Rows are taken with ``select_for_update(skip_locked=True)`` in primary-key order, so two
    relays (or a relay and an after-commit publish) share the work without publishing a
    message twice. The relay stops at the first message the broker refuses: the broker is
    down, and the others would wait for the same timeout.
    """
    sent = 0
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .order_by("pk")[:limit]
        )
        for message in messages:
            if not _publish_locked(message):
                break
            sent += 1
    return sent


def outbox_prune(*, older_than: timedelta = timedelta(days=30), now: datetime | None = None) -> int:
    """Delete messages published long ago, and the records of notifications sent as long ago.

    Nothing replays a message that old, so its key no longer needs to guard against a second
    e-mail. Returns how many rows went.
    """
    limit = (now or timezone.now()) - older_than
    messages, _kinds = OutboxMessage.objects.filter(sent_at__lt=limit).delete()
    notifications, _kinds = SentNotification.objects.filter(sent_at__lt=limit).delete()
    return messages + notifications


def outbox_unsent_count() -> int:
    """How many messages wait for the broker."""
    return OutboxMessage.objects.filter(sent_at__isnull=True).count()


def _publish_locked(message: OutboxMessage) -> bool:
    """Hand a locked message to the broker (or run it in-process); mark it sent if that worked."""
    try:
        _deliver(message)
    except Exception as exc:  # any broker or task failure: the message stays for the relay
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        logger.warning("outbox: %s %s not published: %s", message.task, message.key, error)
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=F("attempts") + 1, last_error=error
        )
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )
    return True


def _deliver(message: OutboxMessage) -> None:
    from marche.celery import app

    if app.conf.task_always_eager:
        # The embedded default has no broker: the task runs here, and a failure leaves the
        # message unsent for the relay. A savepoint keeps its writes apart from ours.
        if message.task not in app.tasks:
            app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery)
        task = app.tasks[message.task]
        with transaction.atomic():
            task.apply(args=message.args, throw=True)
        return
    timeout = settings.MARCHE_OUTBOX_PUBLISH_TIMEOUT
    with app.connection_for_write(
        connect_timeout=timeout,
        # One attempt: kombu retries a refused connection three times by default (seconds
        # of waiting); the relay is the retry.
        transport_options={
            "max_retries": 0,
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout * 2,
        },
    ) as connection:
        # ignore_result: with a result backend, Celery would otherwise first subscribe to
        # the result on the (unreachable) Redis, with its own long retry policy.
        app.send_task(
            message.task,
            args=message.args,
            connection=connection,
            retry=False,
            ignore_result=True,
        )
