"""The consolidation of a large cycle: a fixed number of queries, and the same result as a
plain reading of the orders through their models.

``cycle_consolidate`` reads the orders and their lines as plain rows streamed from the
database; ``reference_consolidate`` below is the straightforward reading it replaced (model
instances, one order after the other), kept here as the oracle.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import time
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db.models import Prefetch
from django.utils import translation
from django.utils.translation import ngettext

from logistics.management.commands.bench_delivery import bench_build, bench_remove
from logistics.selectors import (
    Consolidation,
    DestinationManifest,
    FarmCollection,
    OrderItem,
    OrderManifest,
    customer_short_name,
    cycle_consolidate,
    line_weight_kg,
)
from marche.cycles.models import OrderCycle
from marche.orders.display import format_quantity, quantity_label
from marche.orders.models import LineKind, Order, OrderLine, OrderStatus
from marche.orders.selectors import HANDED_OVER
from marche.producers.models import Producer
from marche.relays.models import RelayOpeningHours, RelayPoint
from tests.factories import OrderCycleFactory, ProductVariantFactory

pytestmark = pytest.mark.django_db


def _chilled(line: OrderLine) -> bool:
    return line.offer is not None and line.offer.product.is_chilled


def _quantity(line: OrderLine) -> str:
    if line.kind == LineKind.BASKET:
        count = int(line.count)
        return ngettext("%(count)s panier", "%(count)s paniers", count) % {"count": count}
    if not line.unit:
        return format_quantity(line.count)
    if line.variant_id is not None:
        return f"{format_quantity(line.count)} ({quantity_label(line.quantity, line.unit)})"
    return quantity_label(line.count, line.unit)


def reference_consolidate(cycle: OrderCycle) -> Consolidation:
    """The consolidation read order by order through the models (slow, obviously right)."""
    orders = (
        Order.objects.filter(cycle=cycle, status__in=HANDED_OVER)
        .select_related("relay_point", "pickup_slot", "customer")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.filter(is_missing=False)
                .select_related("producer", "offer__product")
                .order_by("pk"),
            )
        )
        .order_by("relay_point__slug", "reference")
    )
    by_relay: dict[int, list[OrderManifest]] = defaultdict(list)
    relays: dict[int, RelayPoint] = {}
    slot_starts: dict[int, list[time]] = defaultdict(list)
    hub_kg: dict[int, Decimal] = defaultdict(Decimal)
    hub_cold: dict[int, int] = defaultdict(int)
    farms: dict[str, FarmCollection] = {}
    with translation.override(settings.LANGUAGE_CODE):
        for order in orders:
            relay = order.relay_point
            relays[relay.pk] = relay
            slot_starts[relay.pk].append(order.pickup_slot.starts_at)
            place = f"relay:{relay.slug}"
            lines = list(order.lines.all())
            cold_parents = {line.parent_id for line in lines if _chilled(line)}
            kg, cold, baskets, items = Decimal("0"), 0, 0, []
            for line in lines:
                if line.parent_id is None:
                    items.append(
                        OrderItem(
                            line.name, _quantity(line), _chilled(line) or line.pk in cold_parents
                        )
                    )
                if line.kind == LineKind.BASKET:
                    baskets += int(line.count)
                    continue
                weight, chilled = line_weight_kg(line), _chilled(line)
                kg += weight
                cold += int(chilled)
                producer = line.producer
                if producer is None or not producer.collected_on_round:
                    hub_kg[relay.pk] += weight
                    hub_cold[relay.pk] += int(chilled)
                if producer is not None:
                    farm_place = f"farm:{producer.slug}"
                    farm = farms.setdefault(
                        farm_place, FarmCollection(farm_place, producer.name, producer)
                    )
                    farm.kg_by_destination[place] = (
                        farm.kg_by_destination.get(place, Decimal("0")) + weight
                    )
                    farm.cold_by_destination[place] = farm.cold_by_destination.get(place, 0) + int(
                        chilled
                    )
            by_relay[relay.pk].append(
                OrderManifest(
                    order.reference,
                    customer_short_name(order.customer),
                    baskets,
                    len(items),
                    kg,
                    cold,
                    tuple(items),
                )
            )
    opens: dict[int, time] = {}
    for hours in RelayOpeningHours.objects.filter(
        relay_point_id__in=relays, weekday=cycle.delivery_date.weekday()
    ).order_by("opens_at"):
        opens.setdefault(hours.relay_point_id, hours.opens_at)
    destinations = tuple(
        DestinationManifest(
            place=f"relay:{relay.slug}",
            relay_point=relay,
            orders=tuple(by_relay[pk]),
            kg=sum((o.kg for o in by_relay[pk]), Decimal("0")),
            cold_items=sum(o.cold_items for o in by_relay[pk]),
            pickup_opens=opens.get(pk) or min(slot_starts[pk], default=None),
            hub_kg=hub_kg[pk],
            hub_cold_items=hub_cold[pk],
        )
        for pk, relay in sorted(relays.items(), key=lambda item: item[1].slug)
    )
    return Consolidation(
        cycle=cycle,
        destinations=destinations,
        farms=tuple(sorted(farms.values(), key=lambda farm: farm.place)),
    )


def _fields(instance: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(instance).items() if k != "_state"}


def exactly(consolidation: Consolidation) -> Any:
    """Everything the consolidation holds, Decimals by their digits, dicts in their order."""
    return (
        [
            (
                d.place,
                _fields(d.relay_point),
                [
                    (o.reference, o.customer, o.baskets, o.lines, repr(o.kg), o.cold_items, o.items)
                    for o in d.orders
                ],
                repr(d.kg),
                d.cold_items,
                d.pickup_opens,
                repr(d.hub_kg),
                d.hub_cold_items,
                d.as_dict(),
                d.summary(),
            )
            for d in consolidation.destinations
        ],
        [
            (
                f.place,
                f.name,
                {k: v for k, v in vars(f.producer).items() if k != "_state"}
                if f.producer
                else None,
                [(k, repr(v)) for k, v in f.kg_by_destination.items()],
                list(f.cold_by_destination.items()),
                f.collected,
                repr(f.kg),
            )
            for f in consolidation.farms
        ],
    )


@pytest.fixture
def bench_cycle() -> Any:
    def build(orders: int) -> OrderCycle:
        bench_remove()
        cycle, _cutoff = bench_build(orders=orders, seed=15)
        return cycle

    return build


@pytest.mark.parametrize("orders", [20, 300])
def test_the_consolidation_reads_four_queries_whatever_the_orders(
    orders: int, bench_cycle: Any, django_assert_num_queries: Any
) -> None:
    cycle = bench_cycle(orders)
    # The orders with their lines (one stream), the relay points with their opening hour,
    # the canteen orders' lines, the farms.
    with django_assert_num_queries(4):
        consolidation = cycle_consolidate(cycle=cycle)
    assert consolidation.order_count == orders


def test_a_cycle_without_orders_reads_two_queries(django_assert_num_queries: Any) -> None:
    cycle = OrderCycleFactory()
    # The household orders, the canteen orders.
    with django_assert_num_queries(2):
        consolidation = cycle_consolidate(cycle=cycle)
    assert consolidation.destinations == () and consolidation.farms == ()


def test_the_streamed_consolidation_is_the_plain_reading_to_the_digit(bench_cycle: Any) -> None:
    cycle = bench_cycle(400)
    lines = OrderLine.objects.filter(order__cycle=cycle).order_by("pk")
    items = lines.filter(kind=LineKind.ITEM)
    # Weighed lines, estimated ones, missing ones, lines without unit or sold by variant.
    for line in items[0:40:3]:
        OrderLine.objects.filter(pk=line.pk).update(weight_kg=line.quantity + Decimal("0.125"))
    for line in items[1:40:3]:
        OrderLine.objects.filter(pk=line.pk).update(estimated_weight_kg=Decimal("2.5"))
    OrderLine.objects.filter(pk__in=[line.pk for line in items[50:90:4]]).update(is_missing=True)
    OrderLine.objects.filter(pk__in=[line.pk for line in items[100:110]]).update(unit="")
    for line in items.select_related("offer")[120:130]:
        variant = ProductVariantFactory(product=line.offer.product, content=Decimal("5"))
        OrderLine.objects.filter(pk=line.pk).update(
            variant=variant, count=Decimal(2), quantity=Decimal(10)
        )
    # A basket of two, an order whose lines all went missing, one cancelled.
    basket_line = lines.filter(kind=LineKind.BASKET).first()
    assert basket_line is not None
    OrderLine.objects.filter(pk=basket_line.pk).update(count=Decimal(2))
    orders = list(Order.objects.filter(cycle=cycle).order_by("pk"))
    OrderLine.objects.filter(order=orders[7]).update(is_missing=True)
    Order.objects.filter(pk=orders[8].pk).update(status=OrderStatus.CANCELLED)
    # Households without a name; a farm collected on the round; a relay point closed that day.
    orders[9].customer.__class__.objects.filter(pk=orders[9].customer_id).update(
        first_name="", last_name="  "
    )
    orders[10].customer.__class__.objects.filter(pk=orders[10].customer_id).update(
        first_name="", last_name="nowak"
    )
    farm = Producer.objects.filter(order_lines__order__cycle=cycle).order_by("slug").first()
    assert farm is not None
    Producer.objects.filter(pk=farm.pk).update(
        collected_on_round=True, collection_opens=time(7), collection_closes=time(11)
    )
    RelayOpeningHours.objects.filter(relay_point=orders[0].relay_point).delete()

    expected = reference_consolidate(cycle)
    got = cycle_consolidate(cycle=cycle)

    assert got == expected
    assert exactly(got) == exactly(expected)
    assert got.order_count == 399
    assert any(f.collected for f in got.farms)
    assert any(d.hub_kg != d.kg for d in got.destinations)
