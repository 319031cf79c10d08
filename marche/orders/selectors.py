"""Reads of the preparation after the cutoff: pick lists per producer, packing lists per relay.

Only orders that will be handed over count: confirmed, packed or collected (a pending order
is not paid yet, a cancelled or expired one gave its stock back). A composed basket is
picked through its component lines, so the pick list sums item and component lines.

A "destination" is where the goods leave for: a relay point today; canteens and other
drop-offs will be further kinds of the same :class:`Destination` without changing the
callers. A collective (such as Bioloos) sees its own offers and those of its member farms,
each row naming the farm, because the collective dispatches the harvest among its farms;
a member farm sees only its own offers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import overload

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from marche.accounts.models import Role, User
from marche.catalog.models import Unit
from marche.cycles.models import Offer, OrderCycle
from marche.money import EUR, tender_split
from marche.orders.models import LineKind, Order, OrderLine, OrderStatus
from marche.payments.methods import payment_method_find
from marche.payments.models import Payment, PaymentStatus
from marche.producers.models import Producer, ProducerMembership
from marche.relays.models import RelayPoint

HANDED_OVER = (OrderStatus.CONFIRMED, OrderStatus.PACKED, OrderStatus.COLLECTED)
ZERO = Decimal("0")


class DestinationKind:
    RELAY_POINT = "relay_point"


@dataclass(frozen=True, slots=True)
class Destination:
    """Where picked goods go: a relay point for now (canteens later)."""

    kind: str
    pk: int
    name: str


@dataclass(frozen=True, slots=True)
class PickQuantity:
    destination: Destination
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class PickRow:
    """One offer of the pick list: how much to harvest in all, and for which destination."""

    offer_id: int
    producer_name: str
    product_name: str
    unit: str
    unit_label: str
    is_variable_weight: bool
    total: Decimal
    destinations: tuple[PickQuantity, ...]


@dataclass(frozen=True, slots=True)
class PickList:
    producer: Producer
    cycle: OrderCycle
    rows: tuple[PickRow, ...]
    includes_member_farms: bool = False

    @property
    def destinations(self) -> list[Destination]:
        """Every destination of the list, once, by name."""
        seen = {d.destination for row in self.rows for d in row.destinations}
        return sorted(seen, key=lambda d: (d.name, d.pk))


@dataclass(frozen=True, slots=True)
class PackingLine:
    """A line to put in a household's basket (a composed basket carries its components)."""

    line_id: int
    kind: str
    name: str
    count: Decimal
    quantity: Decimal
    unit: str
    unit_label: str
    producer_name: str
    producer_id: int | None
    total: Decimal
    price_per_kg: Decimal | None
    estimated_weight_kg: Decimal | None
    weight_kg: Decimal | None
    components: tuple[PackingLine, ...] = ()
    is_missing: bool = False

    @property
    def is_variable_weight(self) -> bool:
        return self.price_per_kg is not None

    @property
    def kind_label(self) -> str:
        return str(LineKind(self.kind).label)


@dataclass(frozen=True, slots=True)
class PackingOrder:
    """One household's basket at the relay point, with what it pays at pickup."""

    order_id: int
    reference: str
    customer_name: str
    customer_phone: str
    slot_date: date
    slot_starts_at: time
    slot_ends_at: time
    status: str
    status_label: str
    total: Decimal
    is_final: bool
    payment_method: str
    payment_method_label: str
    payment_status: str
    payment_status_label: str
    payment_means_label: str
    payment_amount: Decimal | None
    lines: tuple[PackingLine, ...]

    @property
    def amount_to_collect(self) -> Decimal | None:
        """What the relay point cashes at pickup (after mannes), while it is still due."""
        if self.payment_method == "pickup" and self.payment_status == PaymentStatus.PENDING:
            return self.payment_amount
        return None

    @property
    def lines_to_weigh(self) -> list[PackingLine]:
        return [line for line in self.lines if line.is_variable_weight]

    @property
    def is_collected(self) -> bool:
        return self.status == OrderStatus.COLLECTED


@dataclass(frozen=True, slots=True)
class PackingList:
    relay_point: RelayPoint
    cycle: OrderCycle
    orders: tuple[PackingOrder, ...] = field(default_factory=tuple)

    @property
    def lines_left_to_weigh(self) -> int:
        return sum(
            1 for order in self.orders for line in order.lines_to_weigh if line.weight_kg is None
        )


@overload
def trim(value: Decimal) -> Decimal: ...
@overload
def trim(value: None) -> None: ...
@overload
def trim(value: Decimal | None) -> Decimal | None: ...
def trim(value: Decimal | None) -> Decimal | None:
    """A quantity without trailing zeros (``2.500`` → ``2.5``, ``10.000`` → ``10``) to show."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return value.quantize(Decimal("1"))
    return value.normalize()


def _unit_label(unit: str) -> str:
    try:
        return str(Unit(unit).label)
    except ValueError:
        return unit


def _customer_name(user: User) -> str:
    """The name a relay point calls out; never the e-mail address, which drivers and relay
    staff do not need (the order reference tells baskets apart)."""
    return user.get_full_name() or str(_("Nom non renseigné"))


# --- pick lists -----------------------------------------------------------------------------


def pick_list_producers(*, producer: Producer) -> list[Producer]:
    """The producer and, for a collective, its member farms: whose offers its pick list shows."""
    return [producer, *producer.member_farms.order_by("name", "pk")]


def pick_list_for_producer(*, producer: Producer, cycle: OrderCycle) -> PickList:
    """Every offer of the producer (and its member farms) in the cycle, with what to pick.

    Quantities are in the product's unit (pieces for a variable-weight product), summed over
    item and component lines of confirmed, packed and collected orders. Three queries.
    """
    producer_ids = [p.pk for p in pick_list_producers(producer=producer)]
    offers = list(
        Offer.objects.filter(cycle=cycle, product__producer_id__in=producer_ids)
        .select_related("product__producer")
        .order_by("product__producer__name", "product__name", "pk")
    )
    sums = (
        OrderLine.objects.filter(
            offer__in=[offer.pk for offer in offers],
            kind__in=[LineKind.ITEM, LineKind.COMPONENT],
            order__status__in=HANDED_OVER,
        )
        .values("offer_id", "order__relay_point_id", "order__relay_point__name")
        .annotate(quantity=Sum("quantity"))
        .order_by("offer_id", "order__relay_point__name", "order__relay_point_id")
    )
    by_offer: dict[int, list[PickQuantity]] = defaultdict(list)
    for row in sums:
        destination = Destination(
            kind=DestinationKind.RELAY_POINT,
            pk=row["order__relay_point_id"],
            name=row["order__relay_point__name"],
        )
        by_offer[row["offer_id"]].append(
            PickQuantity(destination=destination, quantity=trim(row["quantity"]))
        )
    rows = []
    for offer in offers:
        destinations = tuple(by_offer.get(offer.pk, ()))
        rows.append(
            PickRow(
                offer_id=offer.pk,
                producer_name=offer.product.producer.name,
                product_name=str(offer.product.name),
                unit=offer.product.unit,
                unit_label=_unit_label(offer.product.unit),
                is_variable_weight=offer.product.is_variable_weight,
                total=trim(sum((d.quantity for d in destinations), ZERO)),
                destinations=destinations,
            )
        )
    return PickList(
        producer=producer,
        cycle=cycle,
        rows=tuple(rows),
        includes_member_farms=len(producer_ids) > 1,
    )


@dataclass(frozen=True, slots=True)
class WeighingLine:
    """A variable-weight line a producer weighs, with the basket (order) it goes into."""

    line_id: int
    order_reference: str
    relay_point_name: str
    name: str
    count: Decimal
    price_per_kg: Decimal
    estimated_weight_kg: Decimal | None
    weight_kg: Decimal | None
    total: Decimal


def weighing_lines_for_producer(*, producer: Producer, cycle: OrderCycle) -> list[WeighingLine]:
    """The variable-weight lines of the producer (and member farms) to weigh in a cycle."""
    producer_ids = [p.pk for p in pick_list_producers(producer=producer)]
    lines = (
        OrderLine.objects.filter(
            order__cycle=cycle,
            order__status__in=HANDED_OVER,
            producer_id__in=producer_ids,
            price_per_kg__isnull=False,
        )
        .select_related("order__relay_point")
        .order_by("order__relay_point__name", "order__reference", "pk")
    )
    return [
        WeighingLine(
            line_id=line.pk,
            order_reference=line.order.reference,
            relay_point_name=line.order.relay_point.name,
            name=line.name,
            count=trim(line.count),
            price_per_kg=line.price_per_kg,
            estimated_weight_kg=trim(line.estimated_weight_kg),
            weight_kg=trim(line.weight_kg),
            total=line.total,
        )
        for line in lines
        if line.price_per_kg is not None
    ]


# --- packing lists --------------------------------------------------------------------------


def _packing_line(line: OrderLine, children: list[OrderLine]) -> PackingLine:
    return PackingLine(
        line_id=line.pk,
        kind=line.kind,
        name=line.name,
        count=trim(line.count),
        quantity=trim(line.quantity),
        unit=line.unit,
        unit_label=_unit_label(line.unit) if line.unit else "",
        producer_name=line.producer.name if line.producer is not None else "",
        producer_id=line.producer_id,
        total=line.total,
        price_per_kg=line.price_per_kg,
        estimated_weight_kg=trim(line.estimated_weight_kg),
        weight_kg=trim(line.weight_kg),
        components=tuple(_packing_line(child, []) for child in children),
        is_missing=line.is_missing,
    )


def _payment_summary(order: Order) -> tuple[str, str, str, Decimal | None]:
    """The payment of the order's chosen method: its status, status label and means label.

    Its live row (pending or succeeded) if any, else its latest; other tenders (mannes) are
    not what the relay point collects.
    """
    payments = [p for p in order.payments.all() if p.method == order.payment_method]
    live = [p for p in payments if p.status in {PaymentStatus.SUCCEEDED, PaymentStatus.PENDING}]
    chosen = live[0] if live else (payments[-1] if payments else None)
    if chosen is None:
        return "", "", "", None
    return (
        chosen.status,
        str(chosen.get_status_display()),
        str(chosen.get_means_display()),
        chosen.amount,
    )


def packing_list_for_relay(*, relay_point: RelayPoint, cycle: OrderCycle) -> PackingList:
    """Every basket to prepare for the relay point in the cycle, by pickup slot. Three queries."""
    orders = (
        Order.objects.filter(cycle=cycle, relay_point=relay_point, status__in=HANDED_OVER)
        .select_related("customer", "pickup_slot")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("producer").order_by("pk")),
            Prefetch("payments", queryset=Payment.objects.order_by("pk")),
        )
        .order_by(
            "pickup_slot__date",
            "pickup_slot__starts_at",
            "customer__last_name",
            "customer__first_name",
            "reference",
        )
    )
    result = []
    for order in orders:
        lines = list(order.lines.all())
        children: dict[int, list[OrderLine]] = defaultdict(list)
        for line in lines:
            if line.parent_id is not None:
                children[line.parent_id].append(line)
        method = payment_method_find(order.payment_method)
        status, status_label, means_label, amount = _payment_summary(order)
        result.append(
            PackingOrder(
                order_id=order.pk,
                reference=order.reference,
                customer_name=_customer_name(order.customer),
                customer_phone=order.customer.phone,
                slot_date=order.pickup_slot.date,
                slot_starts_at=order.pickup_slot.starts_at,
                slot_ends_at=order.pickup_slot.ends_at,
                status=order.status,
                status_label=str(order.get_status_display()),
                total=order.total,
                is_final=order.is_final,
                payment_method=order.payment_method,
                payment_method_label=str(method.label) if method else order.payment_method,
                payment_status=status,
                payment_status_label=status_label,
                payment_means_label=means_label,
                payment_amount=amount,
                lines=tuple(
                    _packing_line(line, children.get(line.pk, []))
                    for line in lines
                    if line.parent_id is None
                ),
            )
        )
    return PackingList(relay_point=relay_point, cycle=cycle, orders=tuple(result))


# --- who sees what --------------------------------------------------------------------------


def user_is_coordinator(*, user: User) -> bool:
    """Coordinators (and superusers) run the preparation of every cycle."""
    return bool(user.is_superuser or user.role == Role.COORDINATOR)


def user_can_see_territory(*, user: User, territory_id: int) -> bool:
    """A coordinator bound to a territory sees only its cycles; unbound ones see all."""
    return user.is_superuser or user.territory_id in (None, territory_id)


def producers_for_user(*, user: User) -> QuerySet[Producer]:
    """The producers whose pick lists a farmer may see: their own, and member farms of theirs.

    A member of a collective sees the collective's list, which includes its member farms.
    """
    member_of = ProducerMembership.objects.filter(user=user).values("producer_id")
    return Producer.objects.filter(Q(pk__in=member_of) | Q(collective_id__in=member_of))


def user_can_see_pick_list(*, user: User, producer: Producer) -> bool:
    """Coordinators see every pick list; a farmer, those of their producers."""
    if user_is_coordinator(user=user):
        return user_can_see_territory(user=user, territory_id=producer.territory_id)
    return producers_for_user(user=user).filter(pk=producer.pk).exists()


def user_can_see_packing_lists(*, user: User) -> bool:
    """Coordinators and drivers (who hand baskets over at relay points) see packing lists."""
    return user_is_coordinator(user=user) or user.role == Role.DRIVER


def cycles_for_preparation(*, user: User, limit: int = 12) -> list[OrderCycle]:
    """The latest cycles, most recent delivery first, in the user's territory if bound."""
    cycles = OrderCycle.objects.order_by("-delivery_date", "-pk")
    if not user.is_superuser and user.territory_id is not None:
        cycles = cycles.filter(territory_id=user.territory_id)
    return list(cycles[:limit])


def relay_points_for_cycle(*, cycle: OrderCycle) -> list[tuple[RelayPoint, int]]:
    """Relay points with baskets to prepare in the cycle, with how many orders each."""
    relays = (
        RelayPoint.objects.filter(orders__cycle=cycle, orders__status__in=HANDED_OVER)
        .annotate(order_count=Count("orders"))
        .order_by("name", "pk")
    )
    return [(relay, relay.order_count) for relay in relays]


def producers_for_cycle(*, cycle: OrderCycle, user: User) -> list[Producer]:
    """The producers with offers in the cycle whose pick lists the user may open."""
    producers = Producer.objects.filter(products__offers__cycle=cycle).distinct()
    if not user_is_coordinator(user=user):
        visible = producers_for_user(user=user).values("pk")
        producers = Producer.objects.filter(
            Q(pk__in=visible)
            & (Q(products__offers__cycle=cycle) | Q(member_farms__products__offers__cycle=cycle))
        ).distinct()
    return list(producers.order_by("name", "pk"))


# --- households ------------------------------------------------------------------------------


def order_list_for_customer(*, customer: User) -> QuerySet[Order]:
    """A household's orders, newest first, with what their lists show (one query)."""
    return (
        Order.objects.filter(customer=customer)
        .select_related("cycle", "relay_point", "pickup_slot")
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True, slots=True)
class OrderPaymentParts:
    """How an order is paid: its local currency part and its euro rest, never added.

    ``mannes`` is what the household pays (or has held) in the territory's local currency,
    ``mannes_refunded`` what a cancellation gave back; ``euros`` is the order total less the
    value of ``mannes`` at the territory's rate (``marche.money.tender_split``): what is left
    to pay at pickup, or what the card pays; ``card_refunded`` is the card payment of a
    cancelled order, refunded in full.
    """

    method: str
    currency_name: str
    mannes: Decimal
    mannes_refunded: Decimal
    euros: Decimal
    card_refunded: Decimal

    @property
    def due_at_pickup(self) -> Decimal | None:
        """The euros the household hands over at the relay point (None when paid by card)."""
        return self.euros if self.method == "pickup" else None


def order_payment_parts(*, order: Order) -> OrderPaymentParts:
    """The manne part and the euro rest of an order, from its payments (no extra query
    when ``payments`` and ``cycle__territory`` are loaded)."""
    territory = order.cycle.territory
    payments = list(order.payments.all())
    local = [p for p in payments if p.currency != EUR]
    live = {PaymentStatus.PENDING, PaymentStatus.SUCCEEDED}
    mannes = sum((p.amount for p in local if p.status in live), ZERO)
    refunded = sum((p.amount for p in local if p.status == PaymentStatus.REFUNDED), ZERO)
    euros, _value = tender_split(order.total, mannes, territory.local_currency_euro_rate)
    cancelled = order.status == OrderStatus.CANCELLED
    card_refunded = sum(
        (
            p.amount
            for p in payments
            if cancelled
            and p.method == "card"
            and p.status in {PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED}
        ),
        ZERO,
    )
    return OrderPaymentParts(
        method=order.payment_method,
        currency_name=territory.local_currency_plural or territory.local_currency_code,
        mannes=mannes,
        mannes_refunded=refunded,
        euros=ZERO if cancelled else euros,
        card_refunded=card_refunded,
    )
