"""E-mails that are never lost and never sent twice: written to the outbox, sent by a task.

A message is rendered when its cause happens (in the request's language) and stored in the
outbox in the same transaction; the ``core.send_email`` task sends it once the broker takes
it, however long the broker or the mailer are down. The key is recorded in the same
transaction as the send, so a task delivered twice sends one e-mail.
"""

from __future__ import annotations

import email.policy
import uuid
from email.message import EmailMessage as MIMEMessage
from typing import Any

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template import Context
from django.template.loader import get_template

from marche.core.models import SentNotification
from marche.core.outbox import enqueue


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """A plain-text template rendered without HTML escaping.

    ``render_to_string`` escapes as for HTML, so a plain-text e-mail would read
    "l&#x27;école" and "Dupont &amp; fils". Text e-mails are never shown as HTML: their
    templates render with autoescaping off.
    """
    template = get_template(template_name)
    return template.template.render(Context(context, autoescape=False))  # type: ignore[attr-defined]


class TextEmail(EmailMessage):
    """A plain-text e-mail whose body travels as UTF-8 "8bit": links stay whole and readable.

    Since Django 6.0, ``EmailMessage.message()`` builds the body with Python's modern
    ``email`` API, which picks the transfer encoding by itself: any line longer than 78
    characters (a confirmation or reset link) or a body with accents too many makes the whole
    text quoted-printable or base64, so the console mailer of development shows links cut by
    ``=`` and mail sources are unreadable. Before 6.0 Django sent UTF-8 text as 8bit. This
    keeps that: 8bit as long as every line is within SMTP's 998-byte limit (past it, Python's
    choice stays), for the console as for SMTP (whose policy, ``email.policy.SMTP``, is kept).
    """

    def message(self, *, policy: email.policy.Policy = email.policy.default) -> MIMEMessage:
        msg = super().message(policy=policy)
        body = self.body or ""
        if (
            not msg.is_multipart()
            and msg.get_content_type() == "text/plain"
            and msg["Content-Transfer-Encoding"] in {"quoted-printable", "base64"}
            and all(len(line.encode()) <= 998 for line in body.splitlines())
        ):
            msg.set_content(body, subtype="plain", charset="utf-8", cte="8bit")
        return msg


def send_mail(subject: str, body: str, from_email: str | None, recipient_list: list[str]) -> int:
    """Django's ``send_mail`` for a plain-text e-mail, sent as a :class:`TextEmail`."""
    return TextEmail(subject, body, from_email, recipient_list).send()


def email_enqueue(
    *, subject: str, body: str, to: str, from_email: str, key: str | None = None
) -> str:
    """Queue one e-mail through the outbox; returns its key (a new one unless given).

    ``from_email`` is decided by the caller from the territory the e-mail is about
    (``territory_from_email``), when the e-mail is written.
    """
    key = key or f"mail-{uuid.uuid4().hex}"
    enqueue("core.send_email", key, " ".join(subject.split()), body, to, from_email, key=key)
    return key


def email_send_once(
    *, key: str, subject: str, body: str, to: str, from_email: str | None = None
) -> bool:
    """Send the e-mail unless its key was already sent; a mailer error is raised for a retry.

    ``from_email`` None (a message queued before senders were per territory): the default.
    """
    try:
        with transaction.atomic():
            SentNotification.objects.create(key=key)
            send_mail(subject, body, from_email, [to])
    except IntegrityError:
        return False
    return True
