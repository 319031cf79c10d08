"""Stock services: hold at checkout, confirm at payment, release on expiry or cancellation.

Invariant: for every offer with a published quantity, held + sold <= available, whatever the
interleaving of buyers. Holds move the counter with one conditional UPDATE whose WHERE
clause carries the stock test; PostgreSQL re-evaluates that clause on the latest row version
after waiting for a concurrent writer, so two buyers can never both take the last unit. A
CHECK constraint in the database backs it up. Hold rows are locked before their counters
move, so confirm and release cannot both apply to the same hold.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from marche.cycles.errors import (
    CycleClosed,
    HoldExpired,
    InvalidQuantity,
    OfferNotFound,
    OutOfStock,
)
from marche.cycles.models import HoldStatus, Offer, StockHold
from marche.errors import DomainError

DEFAULT_HOLD_TTL = timedelta(minutes=30)


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    status = 409


def _reserve(*, offer_id: int, quantity: Decimal) -> bool:
    """Add ``quantity`` to the held counter if the stock allows it; True when it did."""
    enough = Q(quantity_available__isnull=True) | Q(
        quantity_available__gte=F("quantity_held") + F("quantity_sold") + quantity
    )
    updated = (
        Offer.objects.filter(pk=offer_id)
        .filter(enough)
        .update(quantity_held=F("quantity_held") + quantity, updated_at=timezone.now())
    )
    return updated == 1


def stock_hold(
    *,
    offer_id: int,
    quantity: Decimal,
    key: str,
    now: datetime | None = None,
    ttl: timedelta = DEFAULT_HOLD_TTL,
) -> StockHold:
    """Set stock aside for a buyer; replaying the same key returns the first hold."""
    now = now or timezone.now()
    if not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0:
        raise InvalidQuantity()
    existing = StockHold.objects.filter(key=key).first()
    if existing is not None:
        return _same_hold(existing, offer_id=offer_id, quantity=quantity)
    offer = Offer.objects.select_related("cycle").filter(pk=offer_id).first()
    if offer is None:
        raise OfferNotFound()
    if not offer.cycle.is_open(now):
        raise CycleClosed()
    try:
        with transaction.atomic():
            if not _reserve(offer_id=offer_id, quantity=quantity):
                raise OutOfStock()
            return StockHold.objects.create(
                offer_id=offer_id, key=key, quantity=quantity, expires_at=now + ttl
            )
    except IntegrityError:
        # A concurrent replay of the same key won the insert; its hold is the answer.
        winner = StockHold.objects.filter(key=key).first()
        if winner is None:
            raise
        return _same_hold(winner, offer_id=offer_id, quantity=quantity)


def _same_hold(hold: StockHold, *, offer_id: int, quantity: Decimal) -> StockHold:
    if hold.offer_id != offer_id or hold.quantity != quantity:
        raise IdempotencyConflict(
            "Cette clé d'idempotence a déjà servi pour une autre réservation."
        )
    return hold


@transaction.atomic
def stock_confirm(
    *, hold_id: int, now: datetime | None = None, allow_late: bool = False
) -> StockHold:
    """Turn a live hold into a sale (at payment). Idempotent; an expired hold is refused.

    With ``allow_late``, a hold past its expiry that no one has released yet is confirmed:
    its quantity is still counted as held, so confirming it cannot oversell. The order
    services use it for a payment that lands just after the deadline.
    """
    now = now or timezone.now()
    hold = StockHold.objects.select_for_update().get(pk=hold_id)
    if hold.status == HoldStatus.CONFIRMED:
        return hold
    if hold.status != HoldStatus.HELD or (hold.expires_at <= now and not allow_late):
        raise HoldExpired()
    Offer.objects.filter(pk=hold.offer_id).update(
        quantity_held=F("quantity_held") - hold.quantity,
        quantity_sold=F("quantity_sold") + hold.quantity,
        updated_at=now,
    )
    hold.status = HoldStatus.CONFIRMED
    hold.save(update_fields=["status", "updated_at"])
    return hold


@transaction.atomic
def stock_release(*, hold_id: int) -> StockHold:
    """Give a held quantity back to the offer (cart abandoned, payment failed). Idempotent."""
    hold = StockHold.objects.select_for_update().get(pk=hold_id)
    if hold.status != HoldStatus.HELD:
        return hold
    Offer.objects.filter(pk=hold.offer_id).update(
        quantity_held=F("quantity_held") - hold.quantity, updated_at=timezone.now()
    )
    hold.status = HoldStatus.RELEASED
    hold.save(update_fields=["status", "updated_at"])
    return hold


@transaction.atomic
def stock_return(*, hold_id: int) -> StockHold:
    """Put a confirmed (sold) quantity back on sale: an order cancelled before the cutoff.

    Also releases a hold that was still only held. Idempotent.
    """
    hold = StockHold.objects.select_for_update().get(pk=hold_id)
    if hold.status == HoldStatus.HELD:
        return stock_release(hold_id=hold_id)
    if hold.status != HoldStatus.CONFIRMED:
        return hold
    Offer.objects.filter(pk=hold.offer_id).update(
        quantity_sold=F("quantity_sold") - hold.quantity, updated_at=timezone.now()
    )
    hold.status = HoldStatus.RETURNED
    hold.save(update_fields=["status", "updated_at"])
    return hold


def stock_holds_expire(*, now: datetime | None = None) -> int:
    """Release every hold past its expiry; returns how many were released."""
    now = now or timezone.now()
    expired = StockHold.objects.filter(status=HoldStatus.HELD, expires_at__lte=now)
    released = 0
    for hold_id in expired.order_by("pk").values_list("pk", flat=True):
        if stock_release(hold_id=hold_id).status == HoldStatus.RELEASED:
            released += 1
    return released
