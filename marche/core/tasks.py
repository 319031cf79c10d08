"""Operational tasks."""

from celery import shared_task


@shared_task(name="core.ping", acks_late=True)
def ping(value: str) -> str:
    """Echo a value back: proves a round trip through the broker to a worker."""
    return f"pong:{value}"
