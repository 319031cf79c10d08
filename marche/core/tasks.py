"""Operational tasks."""

from celery import shared_task

from marche.core.mail import email_send_once
from marche.core.outbox import outbox_prune, outbox_relay


@shared_task(name="core.ping", acks_late=True)
def ping(value: str) -> str:
    """Echo a value back: proves a round trip through the broker to a worker."""
    return f"pong:{value}"


@shared_task(name="outbox.relay", acks_late=True, ignore_result=True)
def relay_outbox() -> int:
    """Publish the tasks the broker could not take when they were enqueued."""
    return outbox_relay()


@shared_task(name="outbox.prune", acks_late=True, ignore_result=True)
def prune_outbox() -> int:
    """Forget messages and sent-notification records older than a month."""
    return outbox_prune()


@shared_task(
    name="core.send_email",
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_email(key: str, subject: str, body: str, to: str, from_email: str | None = None) -> bool:
    """Send one e-mail written earlier in a transaction (see ``marche.core.mail``), once."""
    return email_send_once(key=key, subject=subject, body=body, to=to, from_email=from_email)
