"""manage.py bench_delivery: how closing, consolidating and planning a cycle grow with its orders.

    python manage.py bench_delivery --orders 1000,10000,50000 [--time-limit 10] [--keep]

For each size, a synthetic territory (slug ``bench-delivery``) gets one cycle past its cutoff
with that many confirmed orders, bulk-created but consistent (a confirmed stock hold per
line, offers' sold quantities the sum of their lines, relay days and slots booked once per
order), over 60 relay points standing at the 60 real places of
``marche/demo/data/places-lensois.csv`` nearest to Lens (La Poste points, collèges, town
halls and stations: see that folder's SOURCE.md), and a fleet of 12 vehicles, each with its
driver every day, sized to the demand (8 of them with a cold box). It then times
``cycle_close_due``, ``cycle_consolidate`` and ``plan_compute`` and prints one CSV line per
size, ``orders,close_s,consolidate_s,plan_s``; lines starting with ``#`` give the time per
order and whether closing and consolidating grew faster than the orders.

The territory is removed before each size and at the end (``--keep`` leaves the last one,
to look at its plan). Nothing of any other territory is read or written: the bench cycle's
cutoff lies before every other cycle's, and the closing is timed at that moment, so
``cycle_close_due`` finds no other cycle due. The plan the closing queues (``plan-auto-``)
is dropped: the bench computes the plan itself, with its own time limit.
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Min

from logistics.models import (
    CycleClosing,
    DeliveryPlan,
    Depot,
    DriverShift,
    Vehicle,
    VehicleKind,
)
from logistics.selectors import cycle_consolidate
from logistics.services import cycle_close_due, plan_compute
from marche.accounts.models import Role, User
from marche.catalog.models import Category, Product, Unit
from marche.core.models import OutboxMessage
from marche.cycles.models import (
    Basket,
    BasketItem,
    HoldStatus,
    Offer,
    OrderCycle,
    StockHold,
)
from marche.demo.spec import DEFAULT_SPEC, DemoSpec
from marche.money import round_money
from marche.orders.models import LineKind, Order, OrderLine, OrderStatus
from marche.producers.models import Producer
from marche.relays.models import PickupSlot, RelayDay, RelayOpeningHours, RelayPoint
from marche.territories.models import Territory

SLUG = "bench-delivery"
DESTINATIONS = 60
VEHICLES = 12
COLD_VEHICLES = 8
FARMS = 10
BATCH = 5000
LENS = (Decimal("50.432"), Decimal("2.832"))  # Lens town hall, the bench's hub
# The bench cycle closes before every other cycle, at the latest on this day.
LATEST_CUTOFF = datetime(2001, 1, 1, 20, 0, tzinfo=ZoneInfo("Europe/Paris"))
MAX_ORDERS = 200_000
# (name, unit, price, chilled, kg of a usual order line)
PRODUCTS = (
    ("Pommes de terre", Unit.KG, "2.20", False, ("1", "2", "5")),
    ("Oignons", Unit.KG, "3.20", False, ("0.5", "1")),
    ("Carottes", Unit.KG, "2.60", False, ("1", "1.5", "2")),
    ("Poireaux", Unit.KG, "3.80", False, ("0.5", "1")),
    ("Chicons", Unit.KG, "4.90", False, ("0.5", "1")),
    ("Pommes", Unit.KG, "3.40", False, ("1", "2")),
    ("Courge butternut", Unit.KG, "3.20", False, ("1", "1.5")),
    ("Betteraves", Unit.KG, "3.00", False, ("0.5", "1")),
    ("Chou vert", Unit.PIECE, "2.80", False, ("1",)),
    ("Mâche", Unit.PIECE, "2.40", False, ("1", "2")),
    ("Persil", Unit.BUNCH, "1.50", False, ("1",)),
    ("Farine T80", Unit.PIECE, "3.40", False, ("1", "2")),
    ("Œufs", Unit.DOZEN, "4.60", True, ("1", "2")),
    ("Yaourts fermiers (4)", Unit.PIECE, "3.20", True, ("1", "2")),
    ("Soupe de légumes", Unit.LITRE, "5.50", True, ("1", "2")),
    ("Confiture", Unit.PIECE, "5.20", False, ("1",)),
    ("Jus de pomme", Unit.LITRE, "3.90", False, ("1", "2")),
    ("Lentilles", Unit.KG, "4.50", False, ("0.5", "1")),
    ("Fromage frais", Unit.PIECE, "2.90", True, ("1",)),
    ("Pain de campagne", Unit.PIECE, "3.60", False, ("1",)),
)
BASKET = (("Pommes de terre", "1.5"), ("Carottes", "1"), ("Poireaux", "1"))
BASKET_PRICE = Decimal("15.00")


def parse_sizes(raw: str) -> list[int]:
    """``1000,10000`` as ``[1000, 10000]``; a clear refusal for anything else."""
    try:
        sizes = [int(part.strip().replace("_", "")) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise CommandError(
            f"--orders : des nombres entiers séparés par des virgules, pas « {raw} »"
        ) from exc
    if not sizes or any(not 1 <= size <= MAX_ORDERS for size in sizes):
        raise CommandError(f"--orders : chaque taille entre 1 et {MAX_ORDERS}")
    return sizes


def timed[T](action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


@dataclass(frozen=True)
class Timing:
    orders: int
    close_s: float
    consolidate_s: float
    plan_s: float
    routes: int
    served: int
    unserved: int


class Command(BaseCommand):
    help = (
        "Banc d'essai : temps de clôture, de consolidation et de calcul des tournées d'un "
        "cycle selon son nombre de commandes, sur un territoire synthétique (CSV)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", default="1000,10000,50000", help="tailles, ex. 1000,10000")
        parser.add_argument(
            "--time-limit", type=float, default=10.0, help="secondes de calcul des tournées"
        )
        parser.add_argument("--seed", type=int, default=15, help="graine des tirages")
        parser.add_argument(
            "--keep", action="store_true", help="garder le dernier territoire (voir son plan)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sizes = parse_sizes(options["orders"])
        limit = options["time_limit"]
        if not 0.1 <= limit <= 600:
            raise CommandError("--time-limit : entre 0,1 et 600 secondes")
        timings: list[Timing] = []
        bench_remove()
        self.stdout.write("orders,close_s,consolidate_s,plan_s")
        try:
            for size in sizes:
                bench_remove()
                (cycle, cutoff), build_s = timed(
                    lambda size=size: bench_build(orders=size, seed=options["seed"])
                )
                timing = bench_run(cycle=cycle, cutoff=cutoff, time_limit=limit)
                timings.append(timing)
                self.stdout.write(
                    f"{size},{timing.close_s:.3f},{timing.consolidate_s:.3f},{timing.plan_s:.3f}"
                )
                self.stdout.write(
                    f"# {size} commandes (construites en {build_s:.1f} s) : clôture "
                    f"{timing.close_s / size * 1e6:.1f} µs/commande, consolidation "
                    f"{timing.consolidate_s / size * 1e6:.1f} µs/commande, calcul "
                    f"{timing.plan_s / size * 1e6:.1f} µs/commande ; {timing.routes} tournées, "
                    f"{timing.served}/{DESTINATIONS} destinations servies, "
                    f"{timing.unserved} non desservies"
                )
        finally:
            if not options["keep"]:
                bench_remove()
        for line in growth_report(timings):
            self.stdout.write(line)


def growth_report(timings: list[Timing]) -> list[str]:
    """Comment lines: per-order time of the largest size against the smallest."""
    if len(timings) < 2:
        return []
    small, large = min(timings, key=lambda t: t.orders), max(timings, key=lambda t: t.orders)
    lines = []
    for name, label in (("close_s", "clôture"), ("consolidate_s", "consolidation")):
        a = getattr(small, name) / small.orders
        b = getattr(large, name) / large.orders
        ratio = b / a if a else math.inf
        # Below 1: fixed costs spread over more orders; up to 1.5: linear within the noise.
        verdict = "linéaire ou mieux" if ratio <= 1.5 else "PLUS QUE LINÉAIRE"
        lines.append(
            f"# {label} : {a * 1e6:.1f} µs/commande à {small.orders}, {b * 1e6:.1f} à "
            f"{large.orders} (rapport {ratio:.2f}) : {verdict}"
        )
    return lines


def bench_run(*, cycle: OrderCycle, cutoff: datetime, time_limit: float) -> Timing:
    """Close, consolidate and plan the bench cycle, each timed on its own."""
    now = cutoff + timedelta(seconds=1)

    def close() -> list[int]:
        with transaction.atomic():
            closed = cycle_close_due(now=now)
            # The closing queues the cycle's plan; the bench computes it below instead.
            OutboxMessage.objects.filter(key=f"plan-auto-{cycle.pk}", sent_at__isnull=True).delete()
        return closed

    gc.collect()
    closed, close_s = timed(close)
    if closed != [cycle.pk]:
        raise CommandError(f"La clôture a fermé {closed} au lieu du seul cycle {cycle.pk}")
    # The consolidation is dropped at once: kept alive, its million objects would slow the
    # garbage collector during the plan's own consolidation, and be timed there.
    _nothing, consolidate_s = timed(lambda: cycle_consolidate(cycle=cycle) and None)
    gc.collect()
    result, plan_s = timed(lambda: plan_compute(cycle_id=cycle.pk, time_limit=time_limit, now=now))
    plan = result.plan
    served = {
        stop.place
        for route in plan.routes.prefetch_related("stops")
        for stop in route.stops.all()
        if stop.place.startswith("relay:")
    }
    return Timing(
        orders=cycle.orders.count(),
        close_s=close_s,
        consolidate_s=consolidate_s,
        plan_s=plan_s,
        routes=plan.routes.count(),
        served=len(served),
        unserved=len(plan.unserved),
    )


def bench_remove() -> None:
    """Delete the bench territory and everything in it; nothing else is touched.

    The orders, their lines and holds go by SQL (a delete through the ORM would load every
    row of a 50 000-order cycle); anything else referring to them would make it fail, not
    cascade.
    """
    territory = Territory.objects.filter(slug=SLUG).first()
    if territory is None:
        return
    cycles = list(OrderCycle.objects.filter(territory=territory).values_list("pk", flat=True))
    with transaction.atomic():
        DeliveryPlan.objects.filter(cycle_id__in=cycles).delete()
        CycleClosing.objects.filter(cycle_id__in=cycles).delete()
        OutboxMessage.objects.filter(key__in=[f"plan-auto-{pk}" for pk in cycles]).delete()
        if cycles:
            _sql_delete(OrderLine, "order_id", Order, "cycle_id", cycles)
            _sql_delete(StockHold, "offer_id", Offer, "cycle_id", cycles)
            _sql_delete_where(Order, "cycle_id", cycles)
        Basket.objects.filter(cycle_id__in=cycles).delete()  # its items protect the offers
        OrderCycle.objects.filter(pk__in=cycles).delete()
        Product.objects.filter(producer__territory=territory).delete()
        Producer.objects.filter(territory=territory).delete()
        RelayPoint.objects.filter(territory=territory).delete()
        Vehicle.objects.filter(territory=territory).delete()
        Depot.objects.filter(territory=territory).delete()
        users = User.objects.filter(territory=territory)
        _sql_delete_where(User, "id", list(users.values_list("pk", flat=True)))
        Category.objects.filter(slug=SLUG).delete()
        territory.delete()


def _in(ids: list[int]) -> str:
    """``IN (%s, …)`` placeholders: PostgreSQL and SQLite read the same SQL."""
    return "IN (" + ", ".join(["%s"] * len(ids)) + ")"


def _sql_delete(model: Any, column: str, parent: Any, parent_column: str, ids: list[int]) -> None:
    table, parent_table = model._meta.db_table, parent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {column} IN "  # noqa: S608 (table names from models)
            f"(SELECT id FROM {parent_table} WHERE {parent_column} {_in(ids)})",
            ids,
        )


def _sql_delete_where(model: Any, column: str, ids: list[int]) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE {column} {_in(batch)}",  # noqa: S608
                batch,
            )


@transaction.atomic
def bench_build(*, orders: int, seed: int) -> tuple[OrderCycle, datetime]:
    """The bench territory with one cycle past its cutoff holding ``orders`` orders."""
    draw = random.Random(seed)  # noqa: S311 (reproducible bench data, no secret)
    earliest = OrderCycle.objects.aggregate(first=Min("closes_at"))["first"]
    cutoff = min(LATEST_CUTOFF, earliest - timedelta(days=1)) if earliest else LATEST_CUTOFF
    cutoff = cutoff.replace(microsecond=0)
    delivery = cutoff.astimezone(ZoneInfo("Europe/Paris")).date() + timedelta(days=2)
    territory = Territory.objects.create(
        slug=SLUG,
        name="Banc d'essai des tournées",
        timezone="Europe/Paris",
        latitude=LENS[0],
        longitude=LENS[1],
        city="Lens",
    )
    depot = Depot.objects.create(
        territory=territory,
        slug="plateforme-lens",
        name="Plateforme de Lens",
        latitude=LENS[0],
        longitude=LENS[1],
        city="Lens",
    )
    relays = _relays(territory=territory, delivery=delivery, orders=orders)
    cycle = OrderCycle.objects.create(
        territory=territory,
        name=f"Banc d'essai : {orders} commandes",
        opens_at=cutoff - timedelta(days=7),
        closes_at=cutoff,
        delivery_date=delivery,
    )
    offers, basket, components = _catalogue(territory=territory, cycle=cycle)
    households = User.objects.bulk_create(
        (
            User(
                email=f"foyer{number:06d}@{SLUG}.test",
                first_name=draw.choice(("Camille", "Léa", "Thomas", "Nadia", "Julien", "Marie")),
                last_name=draw.choice(("Dubois", "Leroy", "Caron", "Nowak", "Benali", "Petit")),
                role=Role.HOUSEHOLD,
                territory=territory,
                password="!",  # noqa: S106 (an unusable password: nobody logs in)
            )
            for number in range(1, orders + 1)
        ),
        batch_size=BATCH,
    )
    totals = _orders(
        draw=draw,
        cycle=cycle,
        cutoff=cutoff,
        relays=relays,
        households=households,
        offers=offers,
        basket=basket,
        components=components,
    )
    _fleet(territory=territory, depot=depot, totals=totals)
    return cycle, cutoff


def _relays(
    *, territory: Territory, delivery: date, orders: int
) -> list[tuple[RelayPoint, PickupSlot]]:
    """The 60 real places nearest to Lens as relay points, open 16:00-19:00 on the day."""
    places = DemoSpec.load(DEFAULT_SPEC).places.values()
    nearest = sorted(
        places,
        key=lambda row: (
            (float(row["lat"]) - float(LENS[0])) ** 2
            + ((float(row["lon"]) - float(LENS[1])) * 0.64) ** 2
        ),
    )[:DESTINATIONS]
    room = orders  # every order may pick up anywhere: capacity is not what is measured
    relays = RelayPoint.objects.bulk_create(
        RelayPoint(
            territory=territory,
            slug=f"banc-{row['place_id'].lower()}",
            name=row["name"][:150],
            kind="post_office",
            capacity_per_day=room,
            slot_minutes=180,
            slot_capacity=room,
            latitude=Decimal(row["lat"]),
            longitude=Decimal(row["lon"]),
            source_ref=row["source_ref"][:40],
        )
        for row in nearest
    )
    RelayOpeningHours.objects.bulk_create(
        RelayOpeningHours(
            relay_point=relay, weekday=delivery.weekday(), opens_at=clock(16), closes_at=clock(19)
        )
        for relay in relays
    )
    slots = PickupSlot.objects.bulk_create(
        PickupSlot(
            relay_point=relay, date=delivery, starts_at=clock(16), ends_at=clock(19), capacity=room
        )
        for relay in relays
    )
    return list(zip(relays, slots, strict=True))


def _catalogue(
    *, territory: Territory, cycle: OrderCycle
) -> tuple[list[Offer], Basket, list[tuple[Offer, Decimal]]]:
    category, _created = Category.objects.get_or_create(
        slug=SLUG, defaults={"name": "Banc d'essai (tournées)"}
    )
    places = list(DemoSpec.load(DEFAULT_SPEC).communes.values())[1 : FARMS + 1]
    farms = Producer.objects.bulk_create(
        Producer(
            territory=territory,
            slug=f"banc-ferme-{number:02d}",
            name=f"Ferme {row['name']} (banc d'essai)",
            kind="farm",
            latitude=Decimal(row["lat"]),
            longitude=Decimal(row["lon"]),
            city=row["name"],
        )
        for number, row in enumerate(places, start=1)
    )
    products = Product.objects.bulk_create(
        Product(
            producer=farms[index % FARMS],
            category=category,
            slug=f"banc-produit-{index:02d}",
            name=name,
            family="AUTRES",
            unit=unit,
            unit_price=Decimal(price),
            is_chilled=chilled,
        )
        for index, (name, unit, price, chilled, _counts) in enumerate(PRODUCTS)
    )
    offers = Offer.objects.bulk_create(
        Offer(cycle=cycle, product=product, unit_price=product.unit_price, quantity_available=0)
        for product in products
    )
    basket = Basket.objects.create(cycle=cycle, name="Panier de la semaine", price=BASKET_PRICE)
    by_name = {offer.product.name: offer for offer in offers}
    components = [(by_name[name], Decimal(quantity)) for name, quantity in BASKET]
    BasketItem.objects.bulk_create(
        BasketItem(basket=basket, offer=offer, quantity=quantity) for offer, quantity in components
    )
    return offers, basket, components


@dataclass
class Totals:
    kg: Decimal
    crates: int
    cold_items: int
    max_kg: Decimal
    max_crates: int
    max_cold: int


def _orders(
    *,
    draw: random.Random,
    cycle: OrderCycle,
    cutoff: datetime,
    relays: list[tuple[RelayPoint, PickupSlot]],
    households: list[User],
    offers: list[Offer],
    basket: Basket,
    components: list[tuple[Offer, Decimal]],
) -> Totals:
    """Confirmed orders with their lines and confirmed holds; counters moved to match."""
    weights = [draw.uniform(0.5, 1.5) for _ in relays]
    placed_from = cycle.opens_at
    span = (cutoff - placed_from).total_seconds() - 60
    order_rows: list[Order] = []
    plans: list[list[tuple[Offer, Decimal]]] = []
    with_basket: list[bool] = []
    sold: dict[int, Decimal] = {offer.pk: Decimal(0) for offer in offers}
    per_relay_kg: dict[int, Decimal] = {}
    per_relay_crates: dict[int, int] = {}
    per_relay_cold: dict[int, int] = {}
    unit_kg = {key: Decimal(str(value)) for key, value in settings.LOGISTICS_UNIT_WEIGHT_KG.items()}
    for index, household in enumerate(households):
        relay, slot = draw.choices(relays, weights)[0]
        basket_too = draw.random() < 0.4
        items = [
            (offer, Decimal(draw.choice(PRODUCTS[offers.index(offer)][4])))
            for offer in draw.sample(
                offers, draw.randint(1, 4) if basket_too else draw.randint(2, 5)
            )
        ]
        total = sum((round_money(q * o.unit_price) for o, q in items), Decimal(0))
        total += BASKET_PRICE if basket_too else Decimal(0)
        moment = placed_from + timedelta(seconds=draw.uniform(0, span))
        order_rows.append(
            Order(
                reference=f"BANC-{index + 1:06d}",
                cycle=cycle,
                customer=household,
                relay_point=relay,
                pickup_slot=slot,
                status=OrderStatus.CONFIRMED,
                payment_method="pickup",
                idempotency_key=f"{SLUG}:{cycle.pk}:{index}",
                total=total,
                is_final=True,
                expires_at=moment + timedelta(minutes=35),
                confirmed_at=moment,
            )
        )
        plans.append(items)
        with_basket.append(basket_too)
        held = items + (components if basket_too else [])
        kg = Decimal(0)
        cold = 0
        for offer, quantity in held:
            sold[offer.pk] += quantity
            unit = offer.product.unit
            kg += quantity if unit == Unit.KG else quantity * unit_kg.get(unit, Decimal(0))
            cold += offer.product.is_chilled
        per_relay_kg[relay.pk] = per_relay_kg.get(relay.pk, Decimal(0)) + kg
        per_relay_crates[relay.pk] = per_relay_crates.get(relay.pk, 0) + 1
        per_relay_cold[relay.pk] = per_relay_cold.get(relay.pk, 0) + cold
    orders = Order.objects.bulk_create(order_rows, batch_size=BATCH)
    # One confirmed hold per line holding stock, then the lines pointing at them.
    holds: list[StockHold] = []
    lines: list[OrderLine] = []
    parents: list[int] = []  # index in ``lines`` of each order's basket line, else -1
    for order, items, basket_too in zip(orders, plans, with_basket, strict=True):
        for offer, quantity in items:
            holds.append(_hold(order, offer, quantity, len(holds)))
            lines.append(_line(order, offer, quantity, LineKind.ITEM))
        if basket_too:
            parents.append(len(lines))
            lines.append(
                OrderLine(
                    order=order,
                    kind=LineKind.BASKET,
                    basket=basket,
                    name=basket.name,
                    count=Decimal(1),
                    quantity=Decimal(1),
                    unit_price=BASKET_PRICE,
                    vat_rate=basket.vat_rate,
                    total=BASKET_PRICE,
                )
            )
    holds = StockHold.objects.bulk_create(holds, batch_size=BATCH)
    item_holds = iter(holds)
    for line in lines:
        if line.kind == LineKind.ITEM:
            line.hold = next(item_holds)
    lines = OrderLine.objects.bulk_create(lines, batch_size=BATCH)
    children: list[OrderLine] = []
    child_holds: list[StockHold] = []
    for position in parents:
        parent = lines[position]
        for offer, quantity in components:
            child_holds.append(_hold(parent.order, offer, quantity, len(holds) + len(child_holds)))
            child = _line(parent.order, offer, quantity, LineKind.COMPONENT)
            child.parent = parent
            children.append(child)
    child_holds = StockHold.objects.bulk_create(child_holds, batch_size=BATCH)
    for child, hold in zip(children, child_holds, strict=True):
        child.hold = hold
    OrderLine.objects.bulk_create(children, batch_size=BATCH)
    for offer in offers:
        offer.quantity_sold = sold[offer.pk]
        offer.quantity_available = sold[offer.pk]  # sold out: every unit offered was bought
    Offer.objects.bulk_update(offers, ["quantity_sold", "quantity_available"])
    counts: dict[int, int] = {}
    for order in orders:
        counts[order.relay_point_id] = counts.get(order.relay_point_id, 0) + 1
    for relay, slot in relays:
        slot.booked = counts.get(relay.pk, 0)
    PickupSlot.objects.bulk_update([slot for _relay, slot in relays], ["booked"])
    RelayDay.objects.bulk_create(
        RelayDay(
            relay_point=relay,
            date=cycle.delivery_date,
            capacity=relay.capacity_per_day,
            booked=counts.get(relay.pk, 0),
        )
        for relay, _slot in relays
    )
    return Totals(
        kg=sum(per_relay_kg.values(), Decimal(0)),
        crates=sum(per_relay_crates.values()),
        cold_items=sum(per_relay_cold.values()),
        max_kg=max(per_relay_kg.values()),
        max_crates=max(per_relay_crates.values()),
        max_cold=max(per_relay_cold.values()),
    )


def _hold(order: Order, offer: Offer, quantity: Decimal, number: int) -> StockHold:
    return StockHold(
        offer=offer,
        key=f"{SLUG}:{order.cycle_id}:{number}",
        quantity=quantity,
        status=HoldStatus.CONFIRMED,
        expires_at=order.expires_at,
    )


def _line(order: Order, offer: Offer, quantity: Decimal, kind: str) -> OrderLine:
    product = offer.product
    component = kind == LineKind.COMPONENT
    price = Decimal(0) if component else offer.unit_price
    return OrderLine(
        order=order,
        kind=kind,
        offer=offer,
        producer_id=product.producer_id,
        name=product.name,
        unit=product.unit,
        count=quantity,
        quantity=quantity,
        unit_price=price,
        vat_rate=product.vat_rate,
        total=round_money(quantity * price),
    )


def _fleet(*, territory: Territory, depot: Depot, totals: Totals) -> None:
    """12 vehicles, 8 with a cold box, that together carry the demand with room to spare.

    Each carries a sixth of it, and at least the largest destination's share: a delivery is
    not split between vehicles. Each vehicle has its driver every day, 06:00-15:00.
    """
    cold_l = totals.cold_items * settings.LOGISTICS_COLD_LITRES_PER_ITEM
    max_cold_l = totals.max_cold * settings.LOGISTICS_COLD_LITRES_PER_ITEM
    kg = math.ceil(max(totals.kg / 6, totals.max_kg * Decimal("1.1"), Decimal(100)))
    crates = math.ceil(max(totals.crates / 6, totals.max_crates * 1.1, 8))
    cold = math.ceil(max(cold_l / 6, max_cold_l * 1.1, 50))
    vehicles = Vehicle.objects.bulk_create(
        Vehicle(
            territory=territory,
            depot=depot,
            slug=f"banc-vehicule-{number:02d}",
            name=f"Véhicule {number:02d} (banc d'essai)",
            kind=VehicleKind.VAN,
            capacity_kg=kg,
            capacity_crates=crates,
            cold_volume_litres=cold if number <= COLD_VEHICLES else 0,
            average_speed_kmh=Decimal(35),
            cost_per_km=Decimal("0.300"),
            cost_per_hour=Decimal("24.00"),
            shift_start=clock(6),
            shift_end=clock(15),
        )
        for number in range(1, VEHICLES + 1)
    )
    drivers = User.objects.bulk_create(
        User(
            email=f"livreur{number:02d}@{SLUG}.test",
            first_name="Livreur",
            last_name=f"{number:02d}",
            role=Role.DRIVER,
            territory=territory,
            password="!",  # noqa: S106 (an unusable password)
        )
        for number in range(1, VEHICLES + 1)
    )
    DriverShift.objects.bulk_create(
        DriverShift(
            vehicle=vehicle, driver=driver, weekday=day, starts_at=clock(6), ends_at=clock(15)
        )
        for vehicle, driver in zip(vehicles, drivers, strict=True)
        for day in range(7)
    )
