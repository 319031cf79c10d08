"""E-mails to households about their orders, in their language, through Django's mail."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from marche.orders.models import Order

SUBJECTS = {
    "confirmed": "orders/email/confirmed_subject.txt",
    "cancelled": "orders/email/cancelled_subject.txt",
    "weighed": "orders/email/weighed_subject.txt",
    "missing": "orders/email/missing_subject.txt",
}


def order_notification_send(*, order_id: int, event: str) -> None:
    """Send the e-mail for ``event`` (confirmed, cancelled, weighed) of an order."""
    order = (
        Order.objects.select_related("customer", "relay_point", "pickup_slot", "cycle")
        .prefetch_related("lines")
        .get(pk=order_id)
    )
    context = {"order": order, "lines": [line for line in order.lines.all() if not line.parent_id]}
    with translation.override(getattr(order.customer, "language", None) or "fr"):
        subject = render_to_string(SUBJECTS[event], context).strip()
        body = render_to_string(f"orders/email/{event}.txt", context)
    send_mail(subject, body, None, [order.customer.email])
