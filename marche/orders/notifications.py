"""E-mails to households about their orders, in their language, through Django's mail.

An e-mail is enqueued through the outbox in the transaction of the change it announces, and
sent by the ``orders.notify`` task. Tasks may run more than once (a relay publishes again a
message whose acknowledgement was lost, a worker dies after sending): a notification is
recorded under its key, so each event reaches the household once.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import translation

from marche.core.mail import render_text, send_mail
from marche.core.models import SentNotification
from marche.core.outbox import enqueue
from marche.orders.models import Order
from marche.orders.selectors import order_payment_parts
from marche.territories.selectors import territory_from_email

SUBJECTS = {
    "confirmed": "orders/email/confirmed_subject.txt",
    "cancelled": "orders/email/cancelled_subject.txt",
    "weighed": "orders/email/weighed_subject.txt",
    "missing": "orders/email/missing_subject.txt",
    "refunded": "orders/email/refunded_subject.txt",
}


def order_notification_key(*, order_id: int, event: str, ref: str = "") -> str:
    """The key of one notification: the order, the event and what tells repeats apart."""
    return f"order-{order_id}-{event}" + (f"-{ref}" if ref else "")


def order_notification_enqueue(*, order_id: int, event: str, ref: str = "") -> None:
    """Queue the e-mail for ``event`` in the current transaction (sent after commit)."""
    key = order_notification_key(order_id=order_id, event=event, ref=ref)
    enqueue("orders.notify", order_id, event, key, key=key)


def order_notification_send(*, order_id: int, event: str, key: str | None = None) -> bool:
    """Send the e-mail for ``event`` (confirmed, cancelled, weighed, missing) of an order, once.

    The key is inserted before the mail is handed to the mailer, in one transaction: a second
    delivery of the same task waits on the first's insert, then finds it and sends nothing;
    a mailer failure rolls the key back, so the retry sends. Returns whether it sent.
    """
    key = key or order_notification_key(order_id=order_id, event=event)
    order = (
        Order.objects.select_related("customer", "relay_point", "pickup_slot", "cycle__territory")
        .prefetch_related("lines", "payments")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        return False
    context = {
        "order": order,
        "lines": [line for line in order.lines.all() if not line.parent_id],
        # The manne part and the euro rest, so the household knows what it still owes.
        "parts": order_payment_parts(order=order),
    }
    if event == "refunded":
        from marche.payments.refunds import order_refund_notice

        context["refund"] = order_refund_notice(order=order, key=key.split("-refunded-", 1)[-1])
    with translation.override(getattr(order.customer, "language", None) or "fr"):
        subject = render_text(SUBJECTS[event], context).strip()
        body = render_text(f"orders/email/{event}.txt", context)
    try:
        with transaction.atomic():
            SentNotification.objects.create(key=key)
            send_mail(
                subject,
                body,
                territory_from_email(territory=order.cycle.territory),
                [order.customer.email],
            )
    except IntegrityError:
        return False  # already sent by an earlier delivery of this task
    return True
