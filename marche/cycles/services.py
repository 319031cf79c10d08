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
from django.utils.translation import gettext as _

from marche.accounts.models import User
from marche.catalog.models import Product
from marche.cycles.errors import (
    CycleClosed,
    CycleNotFound,
    HoldExpired,
    InvalidPrice,
    InvalidQuantity,
    NotYourProducer,
    OfferNotFound,
    OutOfStock,
    ProductNotFound,
    QuantityBelowCommitted,
)
from marche.cycles.models import HoldStatus, Offer, OrderCycle, StockHold
from marche.errors import DomainError
from marche.producers.models import Producer, ProducerMembership

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


# Farmers' offers ------------------------------------------------------------------------

PRICE_MAX = Decimal("999999.99")
QUANTITY_MAX = Decimal("9999999.999")


def offer_check_price(unit_price: object) -> Decimal:
    """The price as a Decimal if it is positive and to the cent; refuses anything else."""
    if (
        not isinstance(unit_price, Decimal)
        or not unit_price.is_finite()
        or unit_price <= 0
        or unit_price > PRICE_MAX
        or unit_price != unit_price.quantize(Decimal("0.01"))
    ):
        raise InvalidPrice()
    return unit_price


def offer_check_quantity(quantity: object) -> Decimal | None:
    """The quantity offered: None for "on demand", else positive with at most 3 decimals."""
    if quantity is None:
        return None
    if (
        not isinstance(quantity, Decimal)
        or not quantity.is_finite()
        or quantity <= 0
        or quantity > QUANTITY_MAX
        or quantity != quantity.quantize(Decimal("0.001"))
    ):
        raise InvalidQuantity(
            _(
                "La quantité doit être strictement positive (au plus 3 décimales), "
                "ou « à la demande »."
            )
        )
    return quantity


def offer_check_member(*, user: User, producer_id: int) -> None:
    """Refuses a user who is not a member of the producer."""
    if not ProducerMembership.objects.filter(user=user, producer_id=producer_id).exists():
        raise NotYourProducer()


def offer_editable_cycle(*, cycle_id: int, territory_id: int, now: datetime) -> OrderCycle:
    """The cycle, if it is of the producer's territory and has not closed yet."""
    cycle = OrderCycle.objects.filter(pk=cycle_id, territory_id=territory_id).first()
    if cycle is None:
        raise CycleNotFound()
    if cycle.closes_at <= now:
        raise CycleClosed(_("Ce cycle de commande est clos : ses offres ne peuvent plus changer."))
    return cycle


def _committed(offer_id: int) -> Decimal:
    offer = Offer.objects.only("quantity_held", "quantity_sold").get(pk=offer_id)
    return offer.quantity_held + offer.quantity_sold


def _below_committed(committed: Decimal) -> QuantityBelowCommitted:
    return QuantityBelowCommitted(
        _(
            "La quantité ne peut pas être inférieure à %(committed)s, "
            "déjà réservé ou vendu dans ce cycle."
        )
        % {"committed": _format_quantity(committed)},
        committed=str(committed),
    )


def _format_quantity(quantity: Decimal) -> str:
    text = f"{quantity.normalize():f}"
    return text.replace(".", ",")


@transaction.atomic
def offer_save(
    *,
    user: User,
    cycle_id: int,
    product_id: int,
    unit_price: Decimal,
    quantity_available: Decimal | None,
    now: datetime | None = None,
) -> Offer:
    """Publish or update a producer's offer of a product in a cycle not yet closed.

    ``quantity_available`` None means "on demand". The new quantity may not fall below what
    buyers already hold or bought: the UPDATE carries that test in its WHERE clause, so a
    hold made at the same moment either counts or waits, and the CHECK constraint never fires.
    """
    now = now or timezone.now()
    product = (
        Product.objects.filter(pk=product_id, is_active=True).only("pk", "producer_id").first()
    )
    if product is None:
        raise ProductNotFound()
    offer_check_member(user=user, producer_id=product.producer_id)
    territory_id = Producer.objects.values_list("territory_id", flat=True).get(
        pk=product.producer_id
    )
    cycle = offer_editable_cycle(cycle_id=cycle_id, territory_id=territory_id, now=now)
    unit_price = offer_check_price(unit_price)
    quantity_available = offer_check_quantity(quantity_available)

    offer_id = (
        Offer.objects.filter(cycle=cycle, product=product).values_list("pk", flat=True).first()
    )
    if offer_id is None:
        try:
            with transaction.atomic():
                return Offer.objects.create(
                    cycle=cycle,
                    product=product,
                    unit_price=unit_price,
                    quantity_available=quantity_available,
                )
        except IntegrityError:
            # Another request published the same offer a moment ago: update it instead.
            offer_id = Offer.objects.values_list("pk", flat=True).get(cycle=cycle, product=product)
    rows = Offer.objects.filter(pk=offer_id)
    if quantity_available is not None:
        rows = rows.alias(committed=F("quantity_held") + F("quantity_sold")).filter(
            committed__lte=quantity_available
        )
    if not rows.update(
        unit_price=unit_price,
        quantity_available=quantity_available,
        updated_at=timezone.now(),
    ):
        raise _below_committed(_committed(offer_id))
    return Offer.objects.get(pk=offer_id)


@transaction.atomic
def offer_withdraw(*, user: User, offer_id: int, now: datetime | None = None) -> Offer:
    """Stop selling an offer: its quantity becomes what is already held or sold."""
    now = now or timezone.now()
    offer = Offer.objects.select_related("product__producer").filter(pk=offer_id).first()
    if offer is None:
        raise OfferNotFound()
    producer = offer.product.producer
    offer_check_member(user=user, producer_id=producer.pk)
    offer_editable_cycle(cycle_id=offer.cycle_id, territory_id=producer.territory_id, now=now)
    Offer.objects.filter(pk=offer_id).update(
        quantity_available=F("quantity_held") + F("quantity_sold"),
        updated_at=timezone.now(),
    )
    return Offer.objects.get(pk=offer_id)
