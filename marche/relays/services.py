"""Pickup capacity and the handover at the relay point.

Slots are generated from opening hours and booked without ever overbooking.

A booking moves two counters, the relay point's day and the slot, each with one conditional
UPDATE whose WHERE clause carries the capacity test (PostgreSQL re-checks it on the latest
row version after a concurrent writer commits), inside one transaction: a refusal of the
second rolls the first back. CHECK constraints in the database back it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F

from marche.accounts.models import User
from marche.core.locking import locking_atomic
from marche.orders.models import Order, OrderStatus
from marche.payments.methods import PayAtPickup
from marche.payments.models import Payment, PaymentStatus
from marche.payments.services import order_collect
from marche.relays.errors import (
    PickupSlotFull,
    PickupSlotNotFound,
    RelayOrderNotFound,
    RelayPointFull,
)
from marche.relays.models import PickupSlot, RelayDay, RelayPoint
from marche.relays.selectors import clean_text


def pickup_slots_ensure(*, relay_point: RelayPoint, on: date) -> list[PickupSlot]:
    """Create (once) the relay point's day and its pickup slots for a date; return the slots."""
    RelayDay.objects.bulk_create(
        [RelayDay(relay_point=relay_point, date=on, capacity=relay_point.capacity_per_day)],
        ignore_conflicts=True,
    )
    wanted: list[PickupSlot] = []
    step = timedelta(minutes=relay_point.slot_minutes)
    for period in relay_point.opening_hours.filter(weekday=on.weekday()).order_by("opens_at"):
        start = datetime.combine(on, period.opens_at)
        end = datetime.combine(on, period.closes_at)
        while start < end:
            stop = min(start + step, end)
            wanted.append(
                PickupSlot(
                    relay_point=relay_point,
                    date=on,
                    starts_at=start.time(),
                    ends_at=stop.time(),
                    capacity=relay_point.slot_capacity,
                )
            )
            start = stop
    PickupSlot.objects.bulk_create(wanted, ignore_conflicts=True)
    return list(PickupSlot.objects.filter(relay_point=relay_point, date=on).order_by("starts_at"))


@transaction.atomic
def pickup_slot_book(*, relay_point_id: int, slot_id: int, on: date) -> PickupSlot:
    """Take one basket's room in a slot and in its relay point's day, or refuse clearly."""
    slot = PickupSlot.objects.filter(pk=slot_id, relay_point_id=relay_point_id, date=on).first()
    if slot is None:
        raise PickupSlotNotFound()
    day_taken = RelayDay.objects.filter(
        relay_point_id=relay_point_id, date=on, booked__lt=F("capacity")
    ).update(booked=F("booked") + 1)
    if day_taken != 1:
        raise RelayPointFull()
    slot_taken = PickupSlot.objects.filter(pk=slot_id, booked__lt=F("capacity")).update(
        booked=F("booked") + 1
    )
    if slot_taken != 1:
        raise PickupSlotFull()
    return slot


@transaction.atomic
def pickup_slot_release(*, slot_id: int) -> None:
    """Give back one basket's room in a slot and its day (an order cancelled or expired).

    The day's row is updated before the slot's, as in ``pickup_slot_book``: a booking and a
    release of the same slot that took them in opposite orders could deadlock (see the lock
    order in ``marche/orders/locking.py``).
    """
    slot = PickupSlot.objects.get(pk=slot_id)
    RelayDay.objects.filter(
        relay_point_id=slot.relay_point_id, date=slot.date, booked__gt=0
    ).update(booked=F("booked") - 1)
    PickupSlot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


@dataclass(frozen=True, slots=True)
class HandOver:
    """What "Remis" did: the order, whether it was already handed over, what was cashed."""

    order: Order
    already: bool
    cashed: Payment | None


def relay_order_hand_over(
    *,
    relay_point: RelayPoint,
    reference: str,
    means: str | None,
    by: User,
    now: datetime | None = None,
) -> HandOver:
    """Hand an order over at its relay point: ``order_collect`` for an order of this point.

    The order is looked up by its reference among this relay point's orders only, so a form
    forged with another point's reference is refused like an unknown one, and changes
    nothing. ``order_collect`` checks who records it, cashes a pay-at-pickup order
    (``means``: cash or cheque) and is idempotent: handing over an order already collected
    (a double tap, a replayed form) changes nothing.
    """
    reference = clean_text(reference, 20)
    if not reference:
        raise RelayOrderNotFound()
    # The order row is locked first, as order_collect locks it (marche/orders/locking.py), so
    # its status read here is the one the handover starts from: of two taps at once, the
    # second waits and is told the order was already handed over.
    with locking_atomic():
        found = (
            Order.objects.select_for_update()
            .filter(relay_point=relay_point, reference=reference)
            .values_list("pk", "status")
            .first()
        )
        if found is None:
            raise RelayOrderNotFound()
        order_id, status_before = found
        order = order_collect(
            order_id=order_id, means=(means or "").strip() or None, by=by, now=now
        )
        already = status_before == OrderStatus.COLLECTED
        cashed = (
            None
            if already
            else Payment.objects.filter(
                order=order, method=PayAtPickup.code, status=PaymentStatus.SUCCEEDED
            )
            .exclude(means="")
            .order_by("-pk")
            .first()
        )
    return HandOver(order=order, already=already, cashed=cashed)
