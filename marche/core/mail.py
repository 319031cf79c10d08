"""E-mails that are never lost and never sent twice: written to the outbox, sent by a task.

A message is rendered when its cause happens (in the request's language) and stored in the
outbox in the same transaction; the ``core.send_email`` task sends it once the broker takes
it, however long the broker or the mailer are down. The key is recorded in the same
transaction as the send, so a task delivered twice sends one e-mail.
"""

from __future__ import annotations

import uuid

from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from marche.core.models import SentNotification
from marche.core.outbox import enqueue


def email_enqueue(*, subject: str, body: str, to: str, key: str | None = None) -> str:
    """Queue one e-mail through the outbox; returns its key (a new one unless given)."""
    key = key or f"mail-{uuid.uuid4().hex}"
    enqueue("core.send_email", key, " ".join(subject.split()), body, to, key=key)
    return key


def email_send_once(*, key: str, subject: str, body: str, to: str) -> bool:
    """Send the e-mail unless its key was already sent; a mailer error is raised for a retry."""
    try:
        with transaction.atomic():
            SentNotification.objects.create(key=key)
            send_mail(subject, body, None, [to])
    except IntegrityError:
        return False
    return True
