"""Reads of the canteen orders: what a canteen may order, when, and what it ordered.

Lists cost a fixed number of queries whatever their length (select_related, prefetch).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from marche.accounts.models import User
from marche.canteens.holidays import school_holiday
from marche.canteens.models import (
    Canteen,
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    DeliveryWindow,
    SkippedWeek,
    StandingOrder,
    StandingOrderLine,
)
from marche.catalog.selectors import product_labels_prefetch
from marche.cycles.models import Offer, OrderCycle
from marche.producers.models import Producer
from marche.relays.models import Weekday


def week_monday(day: date) -> date:
    """The Monday of the week of ``day`` (weeks are skipped Monday to Sunday)."""
    return day - timedelta(days=day.weekday())


def canteens_managed(*, user: User) -> QuerySet[Canteen]:
    """The canteens a user manages, with their territory and delivery windows."""
    if not user.is_authenticated:
        return Canteen.objects.none()
    return (
        Canteen.objects.filter(managers=user)
        .select_related("territory")
        .prefetch_related("delivery_windows")
        .order_by("name")
    )


def canteen_window(*, canteen: Canteen, day: date) -> DeliveryWindow | None:
    """The canteen's delivery window on the weekday of ``day``, or None."""
    windows = getattr(canteen, "_prefetched_objects_cache", {}).get("delivery_windows")
    if windows is not None:
        return next((w for w in windows if w.weekday == day.weekday()), None)
    return DeliveryWindow.objects.filter(canteen=canteen, weekday=day.weekday()).first()


def canteen_week_skipped(*, canteen: Canteen, day: date) -> SkippedWeek | None:
    """The skipped week holding ``day``, if the manager skipped it."""
    return SkippedWeek.objects.filter(canteen=canteen, week_start=week_monday(day)).first()


def canteen_offers_queryset(*, cycle: OrderCycle) -> QuerySet[Offer]:
    """The offers of a cycle a canteen may buy, remaining stock or not (no stock filter)."""
    return (
        Offer.objects.filter(
            cycle=cycle,
            withdrawn_at__isnull=True,
            product__wholesale_price__isnull=False,
            product__is_active=True,
            product__producer__is_active=True,
        )
        .select_related("product__producer", "product__category")
        .prefetch_related(
            product_labels_prefetch(on=cycle.delivery_date, lookup="product__certifications")
        )
        .order_by("product__family", "product__name", "pk")
    )


def canteen_offers(*, canteen: Canteen, cycle: OrderCycle) -> list[Offer]:
    """The cycle's offers sold to canteens, producer active, not withdrawn, with stock left.

    ``product.valid_labels`` answers for the cycle's delivery day without a query.
    """
    if cycle.territory_id != canteen.territory_id:
        return []
    in_stock = Q(quantity_available__isnull=True) | Q(
        quantity_available__gt=F("quantity_held") + F("quantity_sold")
    )
    return list(canteen_offers_queryset(cycle=cycle).filter(in_stock))


@dataclass(frozen=True, slots=True)
class CycleChoice:
    """An open cycle as a canteen sees it: can it be delivered that day, and if not why."""

    cycle: OrderCycle
    deliverable: bool
    reason: str = ""
    code: str = ""
    window: DeliveryWindow | None = None
    holiday: str | None = None
    skipped: bool = False
    order: CanteenOrder | None = None

    @property
    def delivery_date(self) -> date:
        return self.cycle.delivery_date


def canteen_cycles(*, canteen: Canteen, now: datetime | None = None) -> list[CycleChoice]:
    """The territory's cycles open now, each saying whether the canteen can be delivered.

    A cycle is refused for no window on its delivery weekday, a school holiday of the
    canteen's zone (with its name) or a week the manager skipped. Three queries in all.
    """
    now = now or timezone.now()
    cycles = list(
        OrderCycle.objects.filter(
            territory_id=canteen.territory_id, opens_at__lte=now, closes_at__gt=now
        ).order_by("delivery_date", "closes_at", "pk")
    )
    if not cycles:
        return []
    windows = {w.weekday: w for w in DeliveryWindow.objects.filter(canteen=canteen)}
    mondays = {week_monday(cycle.delivery_date) for cycle in cycles}
    skipped = set(
        SkippedWeek.objects.filter(canteen=canteen, week_start__in=mondays).values_list(
            "week_start", flat=True
        )
    )
    orders = {
        order.cycle_id: order
        for order in CanteenOrder.objects.filter(canteen=canteen, cycle__in=[c.pk for c in cycles])
    }
    return [
        _cycle_choice(cycle=cycle, canteen=canteen, windows=windows, skipped=skipped, orders=orders)
        for cycle in cycles
    ]


def _cycle_choice(
    *,
    cycle: OrderCycle,
    canteen: Canteen,
    windows: dict[int, DeliveryWindow],
    skipped: set[date],
    orders: dict[int, CanteenOrder],
) -> CycleChoice:
    day = cycle.delivery_date
    window = windows.get(day.weekday())
    order = orders.get(cycle.pk)
    if window is None:
        return CycleChoice(
            cycle=cycle,
            deliverable=False,
            code="not_a_delivery_day",
            reason=_("Pas de créneau de livraison le %(day)s.") % {"day": _weekday_name(day)},
            order=order,
        )
    holiday = school_holiday(canteen.school_zone, day)
    if holiday:
        return CycleChoice(
            cycle=cycle,
            deliverable=False,
            code="school_holiday",
            reason=_("Vacances scolaires : %(name)s.") % {"name": holiday},
            window=window,
            holiday=holiday,
            order=order,
        )
    if week_monday(day) in skipped:
        return CycleChoice(
            cycle=cycle,
            deliverable=False,
            code="week_skipped",
            reason=_("Semaine sautée : pas de livraison cette semaine."),
            window=window,
            skipped=True,
            order=order,
        )
    return CycleChoice(cycle=cycle, deliverable=True, window=window, order=order)


def _weekday_name(day: date) -> str:
    return str(Weekday(day.weekday()).label)


def _lines_prefetch() -> Prefetch:
    return Prefetch(
        "lines",
        queryset=CanteenOrderLine.objects.select_related("producer", "offer").order_by(
            "producer__name", "name", "pk"
        ),
    )


def canteen_orders(*, canteen: Canteen) -> QuerySet[CanteenOrder]:
    """A canteen's orders, newest delivery first, with their lines (two queries)."""
    return (
        CanteenOrder.objects.filter(canteen=canteen)
        .select_related("cycle", "canteen")
        .prefetch_related(_lines_prefetch())
        .order_by("-delivery_date", "-pk")
    )


def canteen_order_get(*, canteen: Canteen, order_id: int) -> CanteenOrder | None:
    """One order of a canteen with its lines, or None."""
    return canteen_orders(canteen=canteen).filter(pk=order_id).first()


def producer_canteen_lines(
    *, producer: Producer, cycle: OrderCycle | None = None
) -> QuerySet[CanteenOrderLine]:
    """The lines canteens ordered from a producer (cancelled orders left out), by delivery."""
    lines = (
        CanteenOrderLine.objects.filter(producer=producer)
        .exclude(order__status=CanteenOrderStatus.CANCELLED)
        .select_related("order__canteen", "order__cycle", "product", "offer")
        .order_by("order__delivery_date", "order__canteen__name", "name", "pk")
    )
    if cycle is not None:
        lines = lines.filter(order__cycle=cycle)
    return lines


def canteen_standing_order(*, canteen: Canteen, on: date | None = None) -> StandingOrder | None:
    """The canteen's active standing order (running on ``on``, or the latest active one)."""
    orders = StandingOrder.objects.filter(canteen=canteen, is_active=True).prefetch_related(
        Prefetch(
            "lines",
            queryset=StandingOrderLine.objects.select_related("product__producer").order_by(
                "product__name"
            ),
        )
    )
    if on is not None:
        orders = orders.filter(starts_on__lte=on).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=on)
        )
    return orders.order_by("-starts_on", "-pk").first()


def canteen_skipped_weeks(*, canteen: Canteen, since: date | None = None) -> QuerySet[SkippedWeek]:
    """The weeks a canteen skipped, from ``since`` (a Monday) on."""
    weeks = SkippedWeek.objects.filter(canteen=canteen).order_by("week_start")
    if since is not None:
        weeks = weeks.filter(week_start__gte=week_monday(since))
    return weeks
