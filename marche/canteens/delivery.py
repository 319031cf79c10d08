"""What arrived at a canteen: delivered quantities, shortfalls and who received the goods.

The driver records it at the canteen's stop (through the round's check-off, which may come
late from an offline phone), or the canteen's manager on the order's delivery page, until the
line is invoiced: invoices are made from delivered quantities, so an invoiced line never
changes. A coordinator may record it on anyone's behalf. Every check comes before the first
write and the writes are one transaction: a refusal changes nothing.

Replays: a phone or a double-clicked form sends the same key again. Each recording is a
``DeliveryRecord`` (unique key, scoped to the order, with who recorded what and when), written
in the same transaction as the quantities, so a second call with the key answers the order as
it is and changes nothing; corrections are new records, kept as the delivery's history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from marche.accounts.models import Role, User
from marche.canteens.models import (
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    DeliveryRecord,
)
from marche.catalog.models import Unit
from marche.core.locking import locking_atomic
from marche.core.numbers import parse_decimal_of
from marche.errors import DomainError, NotFound
from marche.orders.selectors import user_can_see_territory, user_is_coordinator

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_:.-]{8,120}$")
MAX_REASON = 200
MAX_RECEIVED_BY = 120
# Units counted whole on a delivery note; the others (kg, litre) to the gram or millilitre.
WEIGHED_UNITS = frozenset({Unit.KG, Unit.LITRE})


class DeliveryNotAllowed(DomainError):
    code = "delivery_not_allowed"
    status = 403
    default_message = _(
        "Seuls le chauffeur de la tournée qui livre cette cantine, ses gestionnaires et la "
        "coordination peuvent saisir sa livraison."
    )


class DeliveryOrderNotFound(NotFound):
    code = "canteen_order_not_found"
    default_message = _("Cette commande de cantine n'existe pas.")


class DeliveryOrderCancelled(DomainError):
    code = "canteen_order_cancelled"
    status = 409
    default_message = _("Cette commande est annulée : elle n'est pas livrée.")


class DeliveryTooEarly(DomainError):
    code = "delivery_too_early"
    status = 409
    default_message = _(
        "La livraison se saisit le jour où elle arrive (le %(day)s), une fois les commandes "
        "closes et les quantités confirmées par les producteurs."
    )


class DeliveredAboveDue(DomainError):
    code = "delivered_above_due"
    status = 422
    default_message = _(
        "La quantité livrée ne peut pas dépasser la quantité due (confirmée par le producteur)."
    )


class ShortfallReasonMissing(DomainError):
    code = "shortfall_reason_missing"
    status = 422
    default_message = _("Indiquez le motif de l'écart quand il manque une partie de la ligne.")


class DeliveredQuantityMissing(DomainError):
    code = "delivered_quantity_missing"
    status = 422
    default_message = _("Indiquez la quantité livrée de chaque ligne.")


class DeliveryLineUnknown(DomainError):
    code = "canteen_line_unknown"
    status = 422
    default_message = _("Cette ligne n'appartient pas à la commande.")


class AlreadyInvoiced(DomainError):
    code = "already_invoiced"
    status = 409
    default_message = _("Cette ligne est déjà facturée : sa quantité livrée ne peut plus changer.")


class ReceivedByMissing(DomainError):
    code = "received_by_missing"
    status = 422
    default_message = _("Indiquez qui a réceptionné la livraison (nom, 120 caractères au plus).")


class InvalidDeliveryKey(DomainError):
    code = "invalid_delivery_key"
    status = 422
    default_message = _(
        "La clé d'idempotence doit compter de 8 à 120 caractères : lettres, chiffres, - _ : ."
    )


class ReasonTooLong(DomainError):
    code = "shortfall_reason_too_long"
    status = 422
    default_message = _("Le motif de l'écart tient en 200 caractères au plus.")


# --- who may record ----------------------------------------------------------------------------


def user_drives_to_canteen(*, user: User, order: CanteenOrder) -> bool:
    """Whether ``user`` drives a published round of the order's cycle that drops at its canteen.

    The rounds live in another app, which marche does not import: the answer comes from the
    function named by the setting ``MARCHE_CANTEEN_DRIVER_ROUND`` (called with the user and
    the order); empty, no round is known and no driver may record.
    """
    if not user.is_authenticated or user.role != Role.DRIVER:
        return False
    path = getattr(settings, "MARCHE_CANTEEN_DRIVER_ROUND", "")
    if not path:
        return False
    return bool(import_string(path)(user, order))


def user_manages_canteen(*, user: User, order: CanteenOrder) -> bool:
    return bool(user.is_authenticated and order.canteen.managers.filter(pk=user.pk).exists())


def user_coordinates_canteen(*, user: User, order: CanteenOrder) -> bool:
    return bool(
        user.is_authenticated
        and user_is_coordinator(user=user)
        and user_can_see_territory(user=user, territory_id=order.canteen.territory_id)
    )


def user_may_record_delivery(*, user: User, order: CanteenOrder) -> bool:
    """The driver whose published round stops at the canteen, its managers, coordinators."""
    return (
        user_manages_canteen(user=user, order=order)
        or user_coordinates_canteen(user=user, order=order)
        or user_drives_to_canteen(user=user, order=order)
    )


# --- input -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LineChange:
    line: CanteenOrderLine
    delivered: Decimal
    reason: str


def _quantity(value: object, line: CanteenOrderLine) -> Decimal:
    kind = "weight" if line.unit in WEIGHED_UNITS else "count"
    places = 3 if kind == "weight" else 0
    if line.quantity_due != line.quantity_due.to_integral_value():
        # A count confirmed with decimals (rare) is delivered with as many.
        kind, places = "weight", 3
    return parse_decimal_of(value, kind, name=line.name, places=places, line=line.pk)


def _key(key: object, order: CanteenOrder) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InvalidDeliveryKey()
    return f"canteen-delivery:{order.pk}:{key}"


def _changes(
    lines: list[CanteenOrderLine],
    quantities: dict[int, object],
    reasons: dict[int, str],
) -> list[_LineChange]:
    """Each line's delivered quantity and reason, checked; refuses before anything is written."""
    by_id = {line.pk: line for line in lines}
    for line_id in list(quantities) + list(reasons):
        if _as_id(line_id) not in by_id:
            raise DeliveryLineUnknown(line=str(line_id)[:20])
    typed = {_as_id(k): v for k, v in quantities.items()}
    said = {_as_id(k): ("" if v is None else str(v)).strip() for k, v in reasons.items()}
    changes = []
    for line in lines:
        due = line.quantity_due
        raw = typed.get(line.pk)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if due == 0:
                delivered = Decimal("0")  # refused by the producer: nothing was due
            elif line.quantity_delivered is not None:
                delivered = line.quantity_delivered  # already recorded, not corrected now
            else:
                raise DeliveredQuantityMissing(line=line.pk, name=line.name)
        else:
            delivered = _quantity(raw, line)
        if delivered > due:
            raise DeliveredAboveDue(
                str(
                    _("« %(name)s » : %(delivered)s livré(s) pour %(due)s dû(s).")
                    % {"name": line.name, "delivered": delivered, "due": due}
                ),
                line=line.pk,
            )
        reason = said.get(line.pk, line.shortfall_reason if line.pk not in typed else "")
        if len(reason) > MAX_REASON:
            raise ReasonTooLong(line=line.pk)
        if delivered < due and not reason:
            raise ShortfallReasonMissing(
                str(
                    _("« %(name)s » : il manque une partie de la ligne, indiquez le motif.")
                    % {"name": line.name}
                ),
                line=line.pk,
            )
        if delivered == due:
            reason = ""
        changes.append(_LineChange(line=line, delivered=delivered, reason=reason))
    return changes


def _as_id(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


# --- the service ---------------------------------------------------------------------------------


def delivery_record(
    *,
    order: CanteenOrder,
    quantities: dict[int, Decimal | str],
    reasons: dict[int, str],
    received_by: str,
    user: User,
    key: str,
    at: datetime | None = None,
) -> CanteenOrder:
    """Record what a canteen received: each line's delivered quantity and shortfall reason.

    ``quantities`` maps line ids to what arrived (a ``Decimal`` or text typed with a decimal
    comma); a line left out keeps the quantity already recorded (none due: 0). More than due
    is refused (``delivered_above_due``), less without a reason too
    (``shortfall_reason_missing``), a change to an invoiced line too (``already_invoiced``).
    The order row, then its lines in primary-key order, are locked while the key and the
    quantities are written in one transaction: the same key again changes nothing.
    """
    key = _key(key, order)
    who = (received_by or "").strip()
    if not who or len(who) > MAX_RECEIVED_BY:
        raise ReceivedByMissing()
    moment = at or timezone.now()
    try:
        with locking_atomic():
            return _record_locked(
                order_id=order.pk,
                quantities=quantities,
                reasons=reasons,
                received_by=who,
                user=user,
                key=key,
                at=moment,
            )
    except IntegrityError:
        # The same key recorded at the same moment by another request: its result stands.
        if DeliveryRecord.objects.filter(key=key).exists():
            return CanteenOrder.objects.select_related("canteen", "cycle").get(pk=order.pk)
        raise


def _record_locked(
    *,
    order_id: int,
    quantities: dict[int, Decimal | str],
    reasons: dict[int, str],
    received_by: str,
    user: User,
    key: str,
    at: datetime,
) -> CanteenOrder:
    order = (
        CanteenOrder.objects.select_for_update(no_key=True, of=("self",))
        .select_related("canteen", "cycle")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise DeliveryOrderNotFound()
    if not user_may_record_delivery(user=user, order=order):
        raise DeliveryNotAllowed()
    if DeliveryRecord.objects.filter(key=key).exists():
        return order  # a replay: recorded already
    if order.status == CanteenOrderStatus.CANCELLED:
        raise DeliveryOrderCancelled()
    # Nothing arrives before the delivery day, nor while producers may still change the
    # quantities: a delivery recorded early would be invoiced and sent to "ma cantine".
    if at < order.cycle.closes_at or timezone.localdate(at) < order.delivery_date:
        raise DeliveryTooEarly(
            str(DeliveryTooEarly.default_message) % {"day": f"{order.delivery_date:%d/%m/%Y}"}
        )
    lines = list(
        CanteenOrderLine.objects.select_for_update(no_key=True, of=("self",))
        .filter(order=order)
        .select_related("invoice_line")
        .order_by("pk")
    )
    changes = _changes(lines, quantities, reasons)
    for change in changes:
        line = change.line
        moved = (
            line.quantity_delivered != change.delivered or line.shortfall_reason != change.reason
        )
        if moved and _invoiced(line):
            raise AlreadyInvoiced(
                str(
                    _("« %(name)s » est déjà facturée : sa quantité livrée ne peut plus changer.")
                    % {"name": line.name}
                ),
                line=line.pk,
            )
    DeliveryRecord.objects.create(
        order=order,
        key=key,
        recorded_by=user,
        delivered_at=at,
        received_by=received_by,
        quantities={
            str(change.line.pk): {"delivered": str(change.delivered), "reason": change.reason}
            for change in changes
        },
    )
    for change in changes:
        line = change.line
        if line.quantity_delivered == change.delivered and line.shortfall_reason == change.reason:
            continue
        line.quantity_delivered = change.delivered
        line.shortfall_reason = change.reason
        line.save(update_fields=["quantity_delivered", "shortfall_reason"])
    order.status = CanteenOrderStatus.DELIVERED
    order.delivered_at = order.delivered_at or at
    order.received_by = received_by
    order.delivery_recorded_by = user
    order.save(
        update_fields=[
            "status",
            "delivered_at",
            "received_by",
            "delivery_recorded_by",
            "updated_at",
        ]
    )
    return order


def _invoiced(line: CanteenOrderLine) -> bool:
    try:
        return line.invoice_line is not None
    except CanteenOrderLine.invoice_line.RelatedObjectDoesNotExist:
        return False
