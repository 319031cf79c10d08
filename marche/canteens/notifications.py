"""E-mails to canteen managers: producers' answers, the cutoff, standing products left out.

Enqueued through the outbox in the transaction of the change they announce, sent by the
``canteens.notify`` task, once per event and manager (a ``SentNotification`` under the
event's key and the manager's id), in the manager's language.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation

from marche.canteens.models import Canteen, CanteenOrder, CanteenOrderLine
from marche.core.mail import render_text, send_mail
from marche.core.models import SentNotification
from marche.core.outbox import enqueue
from marche.cycles.models import OrderCycle
from marche.territories.selectors import territory_from_email

EVENTS = {"answered", "confirmed", "left_out"}
TEMPLATES = "canteens/emails"


def canteen_notification_key(*, canteen_id: int, event: str, ref: str = "") -> str:
    """The key of one notification: the canteen, the event and what tells repeats apart."""
    return f"canteen-{canteen_id}-{event}" + (f"-{ref}" if ref else "")


def canteen_notification_enqueue(
    *, canteen_id: int, event: str, ref: str = "", data: dict[str, Any] | None = None
) -> None:
    """Queue the managers' e-mail for ``event`` in the current transaction (sent after commit).

    ``data`` holds JSON values only (ids, names): the task re-reads the rows it needs.
    """
    key = canteen_notification_key(canteen_id=canteen_id, event=event, ref=ref)
    enqueue("canteens.notify", canteen_id, event, key, data or {}, key=key)


def _context(canteen: Canteen, event: str, data: dict[str, Any]) -> dict[str, Any]:
    order_id = data.get("order_id")
    order = (
        CanteenOrder.objects.select_related("cycle")
        .prefetch_related("lines")
        .filter(pk=order_id, canteen=canteen)
        .first()
        if order_id
        else None
    )
    line = None
    if data.get("line_id"):
        line = (
            CanteenOrderLine.objects.select_related("producer")
            .filter(pk=data["line_id"], order__canteen=canteen)
            .first()
        )
    cycle = order.cycle if order is not None else None
    if cycle is None and data.get("cycle_id"):
        cycle = OrderCycle.objects.filter(pk=data["cycle_id"]).first()
    return {
        "canteen": canteen,
        "order": order,
        "lines": list(order.lines.all()) if order is not None else [],
        "line": line,
        "previous": data.get("previous"),
        "cycle": cycle,
        "left_out": [{"name": name, "reason": reason} for name, reason in data.get("left_out", [])],
    }


def canteen_notification_send(
    *, canteen_id: int, event: str, key: str, data: dict[str, Any] | None = None
) -> int:
    """Send the e-mail for ``event`` to each of the canteen's managers, once; returns how many.

    Each manager's key is inserted with the mail handed to the mailer, in one transaction: a
    second delivery of the task finds it and sends nothing; a mailer failure rolls it back.
    """
    if event not in EVENTS:
        return 0
    canteen = Canteen.objects.select_related("territory").filter(pk=canteen_id).first()
    if canteen is None:
        return 0
    context = _context(canteen, event, data or {})
    if event in {"answered", "confirmed"} and context["order"] is None:
        return 0
    sender = territory_from_email(territory=canteen.territory)
    sent = 0
    for manager in canteen.managers.filter(is_active=True).order_by("pk"):
        with translation.override(getattr(manager, "language", None) or "fr"):
            subject = render_text(f"{TEMPLATES}/{event}_subject.txt", context).strip()
            body = render_text(f"{TEMPLATES}/{event}.txt", context)
        try:
            with transaction.atomic():
                SentNotification.objects.create(key=f"{key}-u{manager.pk}")
                send_mail(" ".join(subject.split()), body, sender, [manager.email])
        except IntegrityError:
            continue
        sent += 1
    return sent
