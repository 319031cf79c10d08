"""Canteen ordering: bulk orders per cycle, producers' answers, the cutoff, standing orders.

Stock. An offer's ``quantity_sold`` counts each canteen line's due quantity (the confirmed
one once the producer answered, the ordered one until then). Every change of a line moves
the counter by the difference, with a conditional UPDATE whose WHERE clause carries the stock
test, under the offers' row locks taken all at once in primary-key order
(``marche/canteens/locking.py``): two canteens, or a canteen and households, can never both
take the last crate, and the database's ``offer_never_oversold`` CHECK backs it up.

A refusal changes nothing: checks run inside the one transaction that writes, so a refusal
raised for the third line rolls back the first two.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from marche.accounts.models import User
from marche.canteens.errors import (
    AnswerAboveOrdered,
    AnswerTooLate,
    BelowWholesaleMinimum,
    CanteenInactive,
    CanteenLineNotFound,
    CycleClosed,
    InsufficientStock,
    InvalidDates,
    NotADeliveryDay,
    NotCanteenManager,
    NotProducerMember,
    NotSoldToCanteens,
    OrderCancelled,
    OrderEmpty,
    OrderNotCancellable,
    ProducerInactive,
    SchoolHoliday,
    StandingOrderNotFound,
    WeekHasOrder,
    WeekSkipped,
)
from marche.canteens.holidays import school_holiday
from marche.canteens.locking import canteen_lock, canteen_order_lock
from marche.canteens.models import (
    Canteen,
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    DeliveryWindow,
    LineStatus,
    SkippedWeek,
    StandingOrder,
    StandingOrderLine,
)
from marche.canteens.notifications import canteen_notification_enqueue
from marche.canteens.selectors import canteen_offers_queryset, week_monday
from marche.catalog.models import Product, Unit
from marche.catalog.selectors import product_labels_prefetch
from marche.core.locking import locking_atomic
from marche.core.numbers import parse_decimal, parse_decimal_of, parse_id
from marche.cycles.locking import offers_lock
from marche.cycles.models import STOCK_MAX, Offer, OrderCycle
from marche.errors import DomainError
from marche.orders.display import quantity_label
from marche.producers.models import ProducerMembership

ZERO = Decimal("0")
DIVISIBLE_UNITS = {Unit.KG, Unit.LITRE}
REFERENCE_PREFIX = "C"


# --- checks ---------------------------------------------------------------------------------


def canteen_check_manager(*, canteen: Canteen, user: User | None) -> None:
    """Refuse a user who is not one of the canteen's managers."""
    if (
        user is None
        or not user.is_authenticated
        or not canteen.managers.filter(pk=user.pk).exists()
    ):
        raise NotCanteenManager()


def _check_active(canteen: Canteen) -> None:
    if not canteen.is_active:
        raise CanteenInactive()


def _delivery_window(*, canteen: Canteen, day: date) -> DeliveryWindow:
    """The canteen's window on the delivery day, or refuse the day (no window, holiday)."""
    window = DeliveryWindow.objects.filter(canteen=canteen, weekday=day.weekday()).first()
    if window is None:
        raise NotADeliveryDay(
            _("%(canteen)s n'est pas livrée le %(day)s : pas de créneau de livraison ce jour-là.")
            % {"canteen": canteen.name, "day": _day_label(day)},
            delivery_date=day.isoformat(),
        )
    holiday = school_holiday(canteen.school_zone, day)
    if holiday:
        raise SchoolHoliday(
            _("Le %(day)s tombe pendant les vacances scolaires (%(holiday)s, zone %(zone)s).")
            % {"day": _day_label(day), "holiday": holiday, "zone": canteen.school_zone},
            holiday=holiday,
            delivery_date=day.isoformat(),
        )
    return window


def _day_label(day: date) -> str:
    return date_format(day, "l j F Y")


def _quantity_places(unit: str, *, variable_weight: bool = False) -> int:
    """Decimals a quantity may have: 3 for kg and litres, none for pieces, bunches, dozens."""
    return 3 if unit in DIVISIBLE_UNITS and not variable_weight else 0


def _parse_quantity(value: object, *, product: Product, **where: int) -> Decimal:
    """The quantity as typed ("12,5"); a refusal names the product and its field (``where``)."""
    return parse_decimal_of(
        value,
        "stock",
        name=product.name,
        places=_quantity_places(product.unit, variable_weight=product.is_variable_weight),
        **where,
    )


def _check_sellable(*, offer: Offer | None, offer_id: int, cycle: OrderCycle) -> Offer:
    """The offer, if a canteen may buy it in this cycle; else the reason why not."""
    if offer is None or offer.cycle_id != cycle.pk:
        raise NotSoldToCanteens(
            _("Ce produit n'est pas proposé aux cantines dans ce cycle."), offer_id=offer_id
        )
    product = offer.product
    if not product.is_active or not product.producer.is_active:
        raise ProducerInactive(
            _("%(product)s : le producteur ou le produit n'est plus en activité.")
            % {"product": product.name},
            offer_id=offer_id,
        )
    if product.wholesale_price is None or offer.withdrawn_at is not None:
        raise NotSoldToCanteens(
            _("%(product)s n'est pas vendu aux cantines dans ce cycle.")
            % {"product": product.name},
            offer_id=offer_id,
        )
    return offer


def _check_minimum(*, product: Product, quantity: Decimal, **params: object) -> None:
    if quantity < product.wholesale_minimum:
        raise BelowWholesaleMinimum(
            _("%(product)s : %(minimum)s au minimum par commande de cantine.")
            % {
                "product": product.name,
                "minimum": quantity_label(product.wholesale_minimum, product.unit),
            },
            minimum=str(product.wholesale_minimum),
            unit=product.unit,
            **params,
        )


def _parse_quantities(quantities: Mapping[object, object]) -> dict[int, object]:
    """The ids of a quantities mapping parsed (values are parsed once the product is known)."""
    parsed: dict[int, object] = {}
    for key, value in quantities.items():
        parsed[parse_id(key)] = value
    return parsed


# --- stock ----------------------------------------------------------------------------------


def _stock_take(*, offer: Offer, quantity: Decimal, already: Decimal) -> None:
    """Count ``quantity`` more as sold, if the offer has it; else refuse, saying what is left.

    The caller holds the offer's row lock; the stock test is in the UPDATE's WHERE clause all
    the same, so it holds whoever else moves the counters without that lock.
    """
    enough = Q(
        quantity_available__isnull=True, max_per_order__gte=already + quantity, after__lte=STOCK_MAX
    ) | Q(quantity_available__gte=F("after"))
    updated = (
        Offer.objects.filter(pk=offer.pk)
        .alias(after=F("quantity_held") + F("quantity_sold") + quantity)
        .filter(enough)
        .update(quantity_sold=F("quantity_sold") + quantity, updated_at=timezone.now())
    )
    if updated != 1:
        raise _insufficient(
            offer=Offer.objects.get(pk=offer.pk), product=offer.product, already=already
        )


def _insufficient(*, offer: Offer, product: Product, already: Decimal) -> InsufficientStock:
    remaining = offer.quantity_remaining
    left = offer.max_per_order if remaining is None else remaining + already
    return InsufficientStock(
        _("Stock insuffisant pour %(product)s : il en reste %(left)s.")
        % {"product": product.name, "left": quantity_label(max(left, ZERO), product.unit)},
        offer_id=offer.pk,
        remaining=str(max(left, ZERO)),
        unit=product.unit,
    )


def _stock_give_back(*, offer_id: int, quantity: Decimal) -> None:
    """Count ``quantity`` less as sold (the caller holds the offer's row lock)."""
    if quantity > 0:
        Offer.objects.filter(pk=offer_id).update(
            quantity_sold=F("quantity_sold") - quantity, updated_at=timezone.now()
        )


def _stock_move(*, offer: Offer, before: Decimal, after: Decimal) -> None:
    """Move the offer's sold counter from a line's old due quantity to its new one."""
    if after > before:
        _stock_take(offer=offer, quantity=after - before, already=before)
    elif after < before:
        _stock_give_back(offer_id=offer.pk, quantity=before - after)


# --- orders ---------------------------------------------------------------------------------


def _weight_per_unit(product: Product) -> Decimal:
    """One unit's weight in kg: 1 for kg, the piece's estimate, else the setting per unit."""
    if product.unit == Unit.KG:
        return Decimal("1")
    if product.estimated_weight_kg:
        return product.estimated_weight_kg
    per_unit = getattr(settings, "LOGISTICS_UNIT_WEIGHT_KG", {}).get(product.unit, "1")
    return Decimal(str(per_unit))


def _line_snapshot(*, offer: Offer) -> dict[str, object]:
    """What a line keeps of its product as sold: price HT, VAT, labels valid that day…"""
    product = offer.product
    return {
        "product": product,
        "producer_id": product.producer_id,
        "name": product.name,
        "unit": product.unit,
        "unit_price_ht": product.wholesale_price,
        "vat_rate": product.vat_rate,
        "labels": [label.value for label in product.valid_labels],
        "family": product.family,
        "origin": product.origin,
        "allergens": list(product.allergens or []),
        "is_chilled": product.is_chilled,
        "weight_per_unit_kg": _weight_per_unit(product),
    }


def _order_reference(order: CanteenOrder) -> str:
    """``C-2026-00042``: the delivery year and the order's id, unique with the id."""
    return f"{REFERENCE_PREFIX}-{order.delivery_date:%Y}-{order.pk:05d}"


def _order_status(order: CanteenOrder) -> str:
    """Confirmed once every line is answered; submitted while one waits."""
    waiting = order.lines.filter(status=LineStatus.PENDING).exists()
    return CanteenOrderStatus.SUBMITTED if waiting else CanteenOrderStatus.CONFIRMED


def _open_cycle(*, canteen: Canteen, cycle: OrderCycle, now: datetime, materialise: bool) -> None:
    """Refuse a cycle of another territory, closed, or (for a manager) not open yet."""
    if cycle.territory_id != canteen.territory_id:
        raise CycleClosed(_("Ce cycle de commande n'est pas celui du territoire de la cantine."))
    if now >= cycle.closes_at or (not materialise and now < cycle.opens_at):
        raise CycleClosed()


def order_place(
    *,
    canteen: Canteen,
    cycle: OrderCycle,
    quantities: Mapping[object, object],
    user: User,
    note: str = "",
    now: datetime | None = None,
) -> CanteenOrder:
    """Place or change the canteen's order of a cycle: offer id → quantity (0 removes a line).

    Creates the cycle's order (reference ``C-2026-00042``) or changes the lines named in
    ``quantities`` while the cycle is open; lines not named stay as they are. Quantities are
    in the product's unit, as typed (decimal commas). Each new or changed line snapshots the
    product as sold on the delivery day and goes back to the producer for an answer.
    """
    canteen_check_manager(canteen=canteen, user=user)
    return _order_write(
        canteen=canteen,
        cycle=cycle,
        quantities=_parse_quantities(quantities),
        user=user,
        note=note,
        now=now or timezone.now(),
    )


def _order_write(
    *,
    canteen: Canteen,
    cycle: OrderCycle,
    quantities: dict[int, object],
    user: User | None,
    note: str,
    now: datetime,
    standing_order: StandingOrder | None = None,
) -> CanteenOrder | None:
    """The one path that writes a canteen's order: the manager's and the standing order's.

    With ``standing_order`` it only creates: an order already there for the cycle (placed by
    the manager, or by another run of the task) is left alone and None is returned.
    Locks: the canteen, its order for the cycle, then every offer touched, by primary key.
    """
    materialise = standing_order is not None
    _check_active(canteen)
    _open_cycle(canteen=canteen, cycle=cycle, now=now, materialise=materialise)
    window = _delivery_window(canteen=canteen, day=cycle.delivery_date)
    if (
        materialise
        and SkippedWeek.objects.filter(
            canteen=canteen, week_start=week_monday(cycle.delivery_date)
        ).exists()
    ):
        raise WeekSkipped()
    with locking_atomic():
        canteen_lock(canteen.pk)
        order = (
            CanteenOrder.objects.select_for_update(no_key=True, of=("self",))
            .filter(canteen=canteen, cycle=cycle)
            .first()
        )
        if order is not None and materialise:
            return None
        if order is not None and order.status == CanteenOrderStatus.CANCELLED:
            # A cancelled order gave its stock back: its old lines count for nothing.
            order.lines.all().delete()
        existing = {line.offer_id: line for line in order.lines.all()} if order else {}
        if not existing and not any(_is_positive(value) for value in quantities.values()):
            raise OrderEmpty()
        offers_lock(offer_ids=list(quantities))
        offers = {
            offer.pk: offer
            for offer in Offer.objects.filter(pk__in=list(quantities))
            .select_related("product__producer")
            .prefetch_related(
                product_labels_prefetch(on=cycle.delivery_date, lookup="product__certifications")
            )
        }
        if order is None:
            order = CanteenOrder.objects.create(
                reference=f"tmp-{uuid.uuid4().hex[:24]}",
                canteen=canteen,
                cycle=cycle,
                delivery_date=cycle.delivery_date,
                window_starts_at=window.starts_at,
                window_ends_at=window.ends_at,
                standing_order=standing_order,
                placed_by=user,
                note=note,
            )
            order.reference = _order_reference(order)
            order.save(update_fields=["reference"])
        for offer_id in sorted(quantities):
            _line_write(
                order=order,
                offer_id=offer_id,
                offer=offers.get(offer_id),
                value=quantities[offer_id],
                line=existing.get(offer_id),
                cycle=cycle,
            )
        _order_settle(order=order, window=window, user=user, note=note, now=now)
    return order


def _is_positive(value: object) -> bool:
    try:
        return parse_decimal(value, "stock") > 0
    except DomainError:
        return True  # refused with its own message once the product is known


def _line_write(
    *,
    order: CanteenOrder,
    offer_id: int,
    offer: Offer | None,
    value: object,
    line: CanteenOrderLine | None,
    cycle: OrderCycle,
) -> None:
    """Create, change or remove one line, and move its offer's sold counter accordingly."""
    if offer is None or offer.cycle_id != cycle.pk:
        if line is None and not _is_positive(value):
            return  # nothing asked of an offer the canteen cannot buy
        raise NotSoldToCanteens(
            _("Ce produit n'est pas proposé aux cantines dans ce cycle."), offer_id=offer_id
        )
    quantity = _parse_quantity(value, product=offer.product, offer_id=offer_id)
    if quantity == 0:
        if line is not None:
            _stock_give_back(offer_id=offer_id, quantity=line.quantity_due)
            line.delete()
        return
    if line is not None and line.quantity_ordered == quantity:
        return  # unchanged: the producer's answer stands
    _check_sellable(offer=offer, offer_id=offer_id, cycle=cycle)
    _check_minimum(product=offer.product, quantity=quantity, offer_id=offer_id)
    before = line.quantity_due if line is not None else ZERO
    _stock_move(offer=offer, before=before, after=quantity)
    fields = {
        **_line_snapshot(offer=offer),
        "quantity_ordered": quantity,
        "quantity_confirmed": None,
        "status": LineStatus.PENDING,
        "producer_note": "",
        "answered_at": None,
        "answered_by": None,
    }
    if line is None:
        CanteenOrderLine.objects.create(order=order, offer=offer, **fields)
    else:
        for name, field_value in fields.items():
            setattr(line, name, field_value)
        line.save()


def _order_settle(
    *, order: CanteenOrder, window: DeliveryWindow, user: User | None, note: str, now: datetime
) -> None:
    """After its lines changed: the order's status, window and note; no line left cancels it."""
    order.window_starts_at = window.starts_at
    order.window_ends_at = window.ends_at
    if note:
        order.note = note
    if not order.lines.exists():
        order.status = CanteenOrderStatus.CANCELLED
        order.cancelled_at = now
    else:
        order.status = _order_status(order)
        order.cancelled_at = None
    if user is not None:
        order.placed_by = user
    order.save()


def order_cancel(*, order: CanteenOrder, user: User, now: datetime | None = None) -> CanteenOrder:
    """Cancel a canteen order before the cycle's cutoff: its stock goes back. Idempotent."""
    now = now or timezone.now()
    canteen_check_manager(canteen=order.canteen, user=user)
    with locking_atomic():
        canteen_lock(order.canteen_id)
        order = canteen_order_lock(order.pk)
        if order.status == CanteenOrderStatus.CANCELLED:
            return order
        if order.status == CanteenOrderStatus.DELIVERED:
            raise OrderNotCancellable()
        if now >= order.cycle.closes_at:
            raise CycleClosed(
                _("Le cycle est clos : la commande ne peut plus être annulée, elle sera livrée.")
            )
        lines = list(order.lines.order_by("offer_id"))
        offers_lock(offer_ids=[line.offer_id for line in lines])
        for line in lines:
            _stock_give_back(offer_id=line.offer_id, quantity=line.quantity_due)
        order.status = CanteenOrderStatus.CANCELLED
        order.cancelled_at = now
        order.save(update_fields=["status", "cancelled_at", "updated_at"])
    return order


# --- producers' answers ---------------------------------------------------------------------


def line_answer(
    *,
    line: CanteenOrderLine,
    quantity: object,
    user: User,
    note: str = "",
    now: datetime | None = None,
) -> CanteenOrderLine:
    """A producer confirms (= ordered), adjusts (0 < q < ordered) or refuses (0) a line.

    Only before the cycle's cutoff, by a member of the line's producer. The offer's sold
    counter follows the new due quantity; the order is confirmed once every line is
    answered; the canteen's managers are e-mailed about this answer.
    """
    now = now or timezone.now()
    if (
        user is None
        or not user.is_authenticated
        or not ProducerMembership.objects.filter(user=user, producer_id=line.producer_id).exists()
    ):
        raise NotProducerMember()
    parsed = parse_decimal(quantity, "stock", places=_quantity_places(line.unit))
    with locking_atomic():
        order = canteen_order_lock(line.order_id)
        if now >= order.cycle.closes_at:
            raise AnswerTooLate()
        if order.status == CanteenOrderStatus.CANCELLED:
            raise OrderCancelled()
        fresh = CanteenOrderLine.objects.select_related("product").filter(pk=line.pk).first()
        if fresh is None:
            raise CanteenLineNotFound()
        if parsed > fresh.quantity_ordered:
            raise AnswerAboveOrdered(
                _("Vous ne pouvez pas confirmer plus que les %(ordered)s commandés.")
                % {"ordered": quantity_label(fresh.quantity_ordered, fresh.unit)},
                ordered=str(fresh.quantity_ordered),
            )
        offers_lock(offer_ids=[fresh.offer_id])
        offer = Offer.objects.select_related("product").get(pk=fresh.offer_id)
        previous = fresh.quantity_due
        _stock_move(offer=offer, before=previous, after=parsed)
        if parsed == fresh.quantity_ordered:
            fresh.status = LineStatus.CONFIRMED
        elif parsed == 0:
            fresh.status = LineStatus.REFUSED
        else:
            fresh.status = LineStatus.ADJUSTED
        fresh.quantity_confirmed = parsed
        fresh.producer_note = (note or "").strip()[:200]
        fresh.answered_at = now
        fresh.answered_by = user
        fresh.save(
            update_fields=[
                "status",
                "quantity_confirmed",
                "producer_note",
                "answered_at",
                "answered_by",
            ]
        )
        status = _order_status(order)
        if status != order.status:
            order.status = status
            order.save(update_fields=["status", "updated_at"])
        canteen_notification_enqueue(
            canteen_id=order.canteen_id,
            event="answered",
            ref=f"line-{fresh.pk}-{uuid.uuid4().hex[:12]}",  # every answer is news
            data={"order_id": order.pk, "line_id": fresh.pk, "previous": str(previous)},
        )
    return fresh


def orders_confirm_at_cutoff(*, cycle: OrderCycle, now: datetime | None = None) -> int:
    """After the cutoff, pending lines are confirmed as ordered and their orders confirmed.

    The producer's silence keeps the order. Idempotent; returns how many orders it confirmed.
    Each order is locked on its own, so the closing code and the beat task may both run it.
    """
    now = now or timezone.now()
    if now < cycle.closes_at:
        return 0
    confirmed = 0
    waiting = CanteenOrder.objects.filter(cycle=cycle, status=CanteenOrderStatus.SUBMITTED)
    for order_id in waiting.order_by("pk").values_list("pk", flat=True):
        with locking_atomic():
            order = canteen_order_lock(order_id)
            if order.status != CanteenOrderStatus.SUBMITTED:
                continue
            order.lines.filter(status=LineStatus.PENDING).update(
                status=LineStatus.CONFIRMED, quantity_confirmed=F("quantity_ordered")
            )
            order.status = CanteenOrderStatus.CONFIRMED
            order.save(update_fields=["status", "updated_at"])
            canteen_notification_enqueue(
                canteen_id=order.canteen_id,
                event="confirmed",
                ref=f"order-{order.pk}",
                data={"order_id": order.pk},
            )
            confirmed += 1
    return confirmed


# --- standing orders ------------------------------------------------------------------------


def standing_order_save(
    *,
    canteen: Canteen,
    quantities: Mapping[object, object],
    starts_on: date,
    ends_on: date | None = None,
    user: User,
    standing_order: StandingOrder | None = None,
) -> StandingOrder:
    """Save the canteen's weekly order: product id → quantity per week (0 or absent: none).

    The lines given replace the old ones. Without ``standing_order``, the canteen's active
    standing order is replaced when there is one (a canteen runs one at a time), else a new
    one is made. Every product must be sold to canteens by an active producer, at least at
    its minimum.
    """
    canteen_check_manager(canteen=canteen, user=user)
    _check_active(canteen)
    if ends_on is not None and ends_on < starts_on:
        raise InvalidDates()
    if standing_order is not None and standing_order.canteen_id != canteen.pk:
        raise StandingOrderNotFound()
    parsed_ids = _parse_quantities(quantities)
    products = {
        product.pk: product
        for product in Product.objects.filter(pk__in=list(parsed_ids)).select_related("producer")
    }
    lines: dict[int, Decimal] = {}
    for product_id in sorted(parsed_ids):
        product = products.get(product_id)
        if product is None or product.producer.territory_id != canteen.territory_id:
            raise NotSoldToCanteens(
                _("Ce produit n'est pas vendu aux cantines de ce territoire."),
                product_id=product_id,
            )
        quantity = _parse_quantity(parsed_ids[product_id], product=product, product_id=product_id)
        if quantity == 0:
            continue
        if not product.is_active or not product.producer.is_active:
            raise ProducerInactive(
                _(
                    "%(product)s : %(producer)s ne vend plus ce produit ou n'est plus en "
                    "activité ; il ne peut pas entrer dans une commande régulière."
                )
                % {"product": product.name, "producer": product.producer.name},
                product_id=product_id,
            )
        if product.wholesale_price is None:
            raise NotSoldToCanteens(
                _("%(product)s n'est pas vendu aux cantines.") % {"product": product.name},
                product_id=product_id,
            )
        _check_minimum(product=product, quantity=quantity, product_id=product_id)
        lines[product_id] = quantity
    if not lines:
        raise OrderEmpty()
    with transaction.atomic():
        canteen_lock(canteen.pk)
        if standing_order is None:
            standing_order = (
                StandingOrder.objects.select_for_update()
                .filter(canteen=canteen, is_active=True)
                .order_by("-starts_on", "-pk")
                .first()
            )
        if standing_order is None:
            standing_order = StandingOrder.objects.create(
                canteen=canteen, starts_on=starts_on, ends_on=ends_on, created_by=user
            )
        else:
            standing_order.starts_on = starts_on
            standing_order.ends_on = ends_on
            standing_order.is_active = True
            standing_order.save(update_fields=["starts_on", "ends_on", "is_active", "updated_at"])
            standing_order.lines.all().delete()
        StandingOrderLine.objects.bulk_create(
            StandingOrderLine(standing_order=standing_order, product_id=pid, quantity=qty)
            for pid, qty in sorted(lines.items())
        )
    return standing_order


def standing_order_end(
    *, standing_order: StandingOrder, user: User, ends_on: date | None = None
) -> StandingOrder:
    """End a standing order: its last week is the one of ``ends_on`` (today by default)."""
    canteen_check_manager(canteen=standing_order.canteen, user=user)
    ends_on = ends_on or timezone.localdate()
    with transaction.atomic():
        standing_order = StandingOrder.objects.select_for_update().get(pk=standing_order.pk)
        if ends_on < standing_order.starts_on:
            # Ended before it began: it never runs.
            standing_order.ends_on = standing_order.starts_on
            standing_order.is_active = False
        else:
            standing_order.ends_on = ends_on
            standing_order.is_active = ends_on > timezone.localdate()
        standing_order.save(update_fields=["ends_on", "is_active", "updated_at"])
    return standing_order


def week_skip(*, canteen: Canteen, week_start: date, reason: str = "", user: User) -> SkippedWeek:
    """Skip a week of standing deliveries (any day of the week names its Monday). Idempotent.

    A week whose order is already placed is refused (``week_has_order``): skipping it would
    say "no delivery" while that order is still delivered and invoiced.
    """
    canteen_check_manager(canteen=canteen, user=user)
    monday = week_monday(week_start)
    placed = (
        CanteenOrder.objects.filter(
            canteen=canteen,
            delivery_date__gte=monday,
            delivery_date__lte=monday + timedelta(days=6),
        )
        .exclude(status=CanteenOrderStatus.CANCELLED)
        .order_by("delivery_date")
        .first()
    )
    if placed is not None:
        raise WeekHasOrder(
            str(WeekHasOrder.default_message)
            % {"reference": placed.reference, "day": f"{placed.delivery_date:%d/%m/%Y}"},
            order_id=placed.pk,
        )
    week, _created = SkippedWeek.objects.get_or_create(
        canteen=canteen,
        week_start=monday,
        defaults={"reason": (reason or "").strip()[:120], "created_by": user},
    )
    return week


def week_unskip(*, canteen: Canteen, week_start: date, user: User) -> bool:
    """Deliver a skipped week again; True when it was skipped."""
    canteen_check_manager(canteen=canteen, user=user)
    deleted, _kinds = SkippedWeek.objects.filter(
        canteen=canteen, week_start=week_monday(week_start)
    ).delete()
    return deleted > 0


@dataclass(frozen=True, slots=True)
class _Left:
    name: str
    reason: str


def standing_orders_materialise(
    *, cycle: OrderCycle, now: datetime | None = None
) -> list[CanteenOrder]:
    """Make this cycle's order of every running standing order of the territory's canteens.

    Left alone: a canteen on school holiday, a skipped week, no window that weekday, an
    order already there (idempotent). Products not offered this cycle, out of stock, under
    the minimum or whose producer closed are left out and listed in an e-mail to the
    managers. Each order goes through the same path as ``order_place``.
    """
    now = now or timezone.now()
    if now >= cycle.closes_at:
        return []
    day = cycle.delivery_date
    running = (
        StandingOrder.objects.filter(
            canteen__territory_id=cycle.territory_id,
            canteen__is_active=True,
            is_active=True,
            starts_on__lte=day,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .exclude(canteen__orders__cycle=cycle)
        .select_related("canteen")
        .prefetch_related("lines__product__producer")
        .order_by("canteen_id", "-starts_on", "-pk")
    )
    per_canteen: dict[int, StandingOrder] = {}
    for standing in running:
        per_canteen.setdefault(standing.canteen_id, standing)
    if not per_canteen:
        return []
    offers = {offer.product_id: offer for offer in canteen_offers_queryset(cycle=cycle)}
    created: list[CanteenOrder] = []
    for standing in per_canteen.values():
        order = _materialise_one(standing=standing, cycle=cycle, offers=offers, now=now)
        if order is not None:
            created.append(order)
    return created


def _materialise_one(
    *, standing: StandingOrder, cycle: OrderCycle, offers: dict[int, Offer], now: datetime
) -> CanteenOrder | None:
    canteen = standing.canteen
    quantities: dict[int, object] = {}
    left: list[_Left] = []
    names: dict[int, str] = {}
    for line in standing.lines.all():
        offer = offers.get(line.product_id)
        if offer is None:
            left.append(_Left(line.product.name, _("pas proposé dans ce cycle")))
            continue
        remaining = offer.quantity_remaining
        if remaining is not None and remaining < line.quantity:
            left.append(_Left(line.product.name, _("stock insuffisant")))
            continue
        quantities[offer.pk] = line.quantity
        names[offer.pk] = line.product.name
    order: CanteenOrder | None = None
    while quantities:
        try:
            order = _order_write(
                canteen=canteen,
                cycle=cycle,
                quantities=dict(quantities),
                user=None,
                note="",
                now=now,
                standing_order=standing,
            )
        except (NotADeliveryDay, SchoolHoliday, WeekSkipped, CycleClosed, CanteenInactive):
            return None
        except DomainError as error:
            offer_id = error.params.get("offer_id")
            if offer_id not in quantities:
                raise
            quantities.pop(offer_id)
            left.append(_Left(names.get(offer_id, str(offer_id)), error.message))
            continue
        break
    if left and (order is not None or not quantities):
        if order is None and not _deliverable(canteen=canteen, cycle=cycle):
            return None
        with transaction.atomic():
            canteen_notification_enqueue(
                canteen_id=canteen.pk,
                event="left_out",
                ref=f"cycle-{cycle.pk}",
                data={
                    "cycle_id": cycle.pk,
                    "order_id": order.pk if order is not None else None,
                    "left_out": [[item.name, str(item.reason)] for item in left],
                },
            )
    return order


def _deliverable(*, canteen: Canteen, cycle: OrderCycle) -> bool:
    """Whether the canteen takes a standing delivery on the cycle's day at all."""
    try:
        _delivery_window(canteen=canteen, day=cycle.delivery_date)
    except DomainError:
        return False
    return not SkippedWeek.objects.filter(
        canteen=canteen, week_start=week_monday(cycle.delivery_date)
    ).exists()
