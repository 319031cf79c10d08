"""Reads of delivery planning: what goes where in a cycle, and the routing problem it makes.

The marketplace is read through its models and selectors only; nothing here writes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import FilteredRelation, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from logistics.errors import (
    DriverShiftOutsideService,
    MissingCoordinates,
    NoVehicle,
    VehicleWithoutDriver,
    WindowUnreachable,
)
from logistics.models import (
    DeliveryPlan,
    Depot,
    DriverShift,
    PlanStop,
    Vehicle,
    VehicleKind,
)
from logistics.vrp import model as vrp
from logistics.vrp.providers import (
    UNREACHABLE,
    GreatCircleProvider,
    OsrmHttpProvider,
    Point,
    TravelProvider,
)
from marche.accounts.models import User
from marche.canteens.models import Canteen, CanteenOrderLine, CanteenOrderStatus
from marche.catalog.models import Unit
from marche.core.models import LocatedModel
from marche.cycles.models import OrderCycle
from marche.orders.display import format_quantity, quantity_label
from marche.orders.models import LineKind, Order, OrderLine
from marche.orders.selectors import HANDED_OVER
from marche.producers.models import Producer
from marche.relays.models import RelayOpeningHours, RelayPoint, Weekday
from marche.territories.models import Territory
from marche.territories.selectors import territory_emission_factors

# Engine stop ids of a farm's share: "<farm place>#<destination place>" for the pickup at
# the farm, "<destination place>#<farm place>" for its drop at the destination. The part
# before "#" is always the place the vehicle goes to.
SHARE = "#"

# --- consolidation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderItem:
    """A top-level line of an order as the driver reads it: "Carottes, 3 kg, froid"."""

    name: str
    quantity: str
    cold: bool


@dataclass(frozen=True)
class OrderManifest:
    """One household order dropped at a destination."""

    reference: str
    customer: str
    baskets: int
    lines: int
    kg: Decimal
    cold_items: int = 0
    items: tuple[OrderItem, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "customer": self.customer,
            "baskets": self.baskets,
            "lines": self.lines,
            "kg": float(self.kg),
            "cold_items": self.cold_items,
            "items": [
                {"name": item.name, "quantity": item.quantity, "cold": item.cold}
                for item in self.items
            ],
        }


@dataclass(frozen=True)
class CanteenLineManifest:
    """One line of a canteen order as the driver drops it: what, how much, allergens."""

    id: int
    producer: str
    name: str
    quantity: Decimal
    unit: str
    quantity_label: str
    kg: Decimal
    cold: bool
    allergens: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "producer": self.producer,
            "name": self.name,
            "quantity": str(self.quantity),
            "quantity_label": self.quantity_label,
            "unit": self.unit,
            "kg": float(self.kg),
            "cold": self.cold,
            "allergens": list(self.allergens),
        }


@dataclass(frozen=True)
class CanteenOrderManifest:
    """A canteen's order delivered at its stop, within its reception window."""

    id: int
    reference: str
    canteen: str
    window_starts_at: time
    window_ends_at: time
    lines: tuple[CanteenLineManifest, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "canteen": self.canteen,
            "window": [
                self.window_starts_at.strftime("%H:%M"),
                self.window_ends_at.strftime("%H:%M"),
            ],
            "lines": [line.as_dict() for line in self.lines],
        }


@dataclass(frozen=True)
class DestinationManifest:
    """What arrives at one destination (a relay point or a canteen) in a cycle.

    ``kg`` and ``cold_items`` count every line; ``hub_kg`` and ``hub_cold_items`` only the
    lines loaded at the hub (the others ride from the farms collected on the round). A relay
    point receives household ``orders`` and must be delivered before ``pickup_opens``; a
    canteen receives its ``canteen_order`` within the order's reception window.
    """

    place: str
    relay_point: RelayPoint | None
    orders: tuple[OrderManifest, ...]
    kg: Decimal
    cold_items: int
    pickup_opens: time | None
    hub_kg: Decimal = Decimal("0")
    hub_cold_items: int = 0
    canteen: Canteen | None = None
    canteen_order: CanteenOrderManifest | None = None

    @property
    def located(self) -> RelayPoint | Canteen:
        """The relay point or the canteen: its name, address and coordinates."""
        located = self.relay_point if self.relay_point is not None else self.canteen
        assert located is not None  # one of the two, by construction
        return located

    @property
    def name(self) -> str:
        return self.located.name

    @property
    def baskets(self) -> int:
        return sum(order.baskets for order in self.orders)

    @property
    def lines(self) -> int:
        if self.canteen_order is not None:
            return len(self.canteen_order.lines)
        return sum(order.lines for order in self.orders)

    @property
    def crates(self) -> int:
        """One crate per household order (orders are packed one to a crate), and one per
        canteen line (a canteen's bulk goods are packed line by line)."""
        if self.canteen_order is not None:
            return len(self.canteen_order.lines)
        return len(self.orders)

    def window(self) -> tuple[int, int] | None:
        """Seconds of the delivery day within which to arrive; None: any time."""
        if self.canteen_order is not None:
            return (
                _seconds(self.canteen_order.window_starts_at),
                _seconds(self.canteen_order.window_ends_at),
            )
        if self.pickup_opens is not None:
            return 0, _seconds(self.pickup_opens)
        return None

    def as_dict(self) -> dict[str, Any]:
        data = {
            "place": self.place,
            "name": self.name,
            "orders": [order.as_dict() for order in self.orders],
            "order_count": len(self.orders),
            "baskets": self.baskets,
            "lines": self.lines,
            "crates": self.crates,
            "kg": float(self.kg),
            "cold_items": self.cold_items,
        }
        if self.canteen_order is not None:
            data["canteen_order"] = self.canteen_order.as_dict()
        return data

    def summary(self) -> dict[str, Any]:
        """The destination without its items, for the plan's list of destinations."""
        data = {
            "place": self.place,
            "name": self.name,
            "orders": [order.reference for order in self.orders],
            "order_count": len(self.orders),
            "baskets": self.baskets,
            "crates": self.crates,
            "kg": float(self.kg),
            "cold_items": self.cold_items,
        }
        if self.canteen_order is not None:
            data["canteen_order"] = self.canteen_order.reference
        return data


@dataclass(frozen=True)
class FarmCollection:
    """What one farm supplies, in kg and cold items per destination place key.

    ``collected`` says whether a vehicle fetches it at the farm on the round
    (``Producer.collected_on_round``); otherwise the farm brings it to the hub itself.
    """

    place: str
    name: str
    producer: Producer | None = None
    kg_by_destination: dict[str, Decimal] = field(default_factory=dict)
    cold_by_destination: dict[str, int] = field(default_factory=dict)

    @property
    def kg(self) -> Decimal:
        return sum(self.kg_by_destination.values(), Decimal("0"))

    @property
    def collected(self) -> bool:
        return self.producer is not None and self.producer.collected_on_round


@dataclass(frozen=True)
class Consolidation:
    cycle: OrderCycle
    destinations: tuple[DestinationManifest, ...]
    farms: tuple[FarmCollection, ...]

    @property
    def order_count(self) -> int:
        """Household orders delivered (canteen orders are counted apart)."""
        return sum(len(d.orders) for d in self.destinations)

    @property
    def canteen_order_count(self) -> int:
        return sum(1 for d in self.destinations if d.canteen_order is not None)


def line_weight_kg(line: OrderLine) -> Decimal:
    """The line's weight: weighed, else estimated, else its quantity times a per-unit weight.

    Products sold by the kilogram weigh their quantity; other units use the estimates of the
    ``LOGISTICS_UNIT_WEIGHT_KG`` setting (the catalogue holds no weight for them).
    """
    if line.weight_kg is not None:
        return line.weight_kg
    if line.estimated_weight_kg is not None:
        return line.estimated_weight_kg
    if line.unit == Unit.KG:
        return line.quantity
    return line.quantity * _kg_per_unit(line.unit)


def _kg_per_unit(unit: str) -> Decimal:
    """The estimated weight of one unit other than the kilogram (0 for an unknown unit)."""
    return Decimal(str(settings.LOGISTICS_UNIT_WEIGHT_KG.get(unit, "0")))


def customer_short_name(user: User) -> str:
    """The household's name as a driver reads it: first name and initial ("Camille D.")."""
    return _short_name(user.first_name, user.last_name)


def _short_name(first_name: str, last_name: str) -> str:
    first, last = first_name.strip(), last_name.strip()
    if first and last:
        return f"{first} {last[0].upper()}."
    return first or (f"{last[0].upper()}." if last else _("Nom non renseigné"))


def _quantity_label(kind: str, count: Decimal, unit: str, variant_quantity: Decimal | None) -> str:
    """How much of a line, as the driver reads it; ``variant_quantity`` is the line's quantity
    when it is sold by variant (None otherwise)."""
    if kind == LineKind.BASKET:
        baskets = int(count)
        return ngettext("%(count)s panier", "%(count)s paniers", baskets) % {"count": baskets}
    if not unit:
        return format_quantity(count)
    if variant_quantity is not None:  # "2 (10 kg)": two items of a 5 kg crate
        return f"{format_quantity(count)} ({quantity_label(variant_quantity, unit)})"
    return quantity_label(count, unit)


# Rows of the consolidation read at a time: the orders of a cycle stream from the database.
CONSOLIDATION_CHUNK = 5000
# One row per order and line: the order's columns, then those of the line (all None for an
# order without lines). The weight is the weighed one, else the estimated one.
_ROW_COLUMNS = (
    "pk",
    "reference",
    "relay_point_id",
    "customer__first_name",
    "customer__last_name",
    "line__id",
    "line__parent_id",
    "line__kind",
    "line__name",
    "line__count",
    "line__quantity",
    "line__unit",
    "line__variant_id",
    "line_weight",
    "line__producer_id",
    "line__offer__product__is_chilled",
)


def cycle_consolidate(*, cycle: OrderCycle) -> Consolidation:
    """Per relay point, the confirmed orders of the cycle; per canteen, its order still to
    deliver; per farm, kg per destination.

    Weights are estimates until weighed. A line counts as a cold item when its product is
    chilled (``Product.is_chilled``, copied onto a canteen line). Lines of farms collected on
    the round are not loaded at the hub. Four queries whatever the orders: the orders with
    their lines as plain rows (streamed), the relay points with their opening hour, the
    canteen orders' lines, the farms.
    """
    rows = (
        Order.objects.filter(cycle=cycle, status__in=HANDED_OVER)
        .annotate(
            line=FilteredRelation("lines", condition=Q(lines__is_missing=False)),
            line_weight=Coalesce("line__weight_kg", "line__estimated_weight_kg"),
        )
        # By relay point id rather than slug: no join on the relay points, whose order is
        # restored below (the slug order of the database, as when the orders were sorted so).
        .order_by("relay_point_id", "reference", "line__id")
        .values_list(*_ROW_COLUMNS)
        .iterator(chunk_size=CONSOLIDATION_CHUNK)
    )
    by_relay: dict[int, list[OrderManifest]] = {}
    # Per relay point, per farm id (or None), in order of first appearance: [kg, cold items].
    shares: dict[int, dict[int | None, list[Any]]] = {}
    factors: dict[str, Decimal] = {}  # per unit other than kg, the kg of one
    # The same label, item and name come back often: each is made once.
    labels: dict[tuple[str, Decimal, str, Decimal | None], str] = {}
    items_made: dict[tuple[str, str, bool], OrderItem] = {}
    names: dict[tuple[str, str], str] = {}
    basket, kilogram = LineKind.BASKET, Unit.KG
    with translation.override(settings.LANGUAGE_CODE):
        for _order_id, group in groupby(rows, key=itemgetter(0)):
            lines = list(group)
            head = lines[0]
            relay_id = head[2]
            if head[5] is None:  # an order without lines: one row of its own, line columns empty
                lines = []
            cold_parents = {row[6] for row in lines if row[15]}
            kg = Decimal("0")
            cold = 0
            baskets = 0
            items = []
            relay_shares = shares.setdefault(relay_id, {})
            for row in lines:
                (pk, parent_id, kind, name, count, quantity, unit, variant_id, weight) = row[5:14]
                chilled = bool(row[15])
                if parent_id is None:
                    key = (kind, count, unit, quantity if variant_id is not None else None)
                    label = labels.get(key)
                    if label is None:
                        label = labels[key] = _quantity_label(*key)
                    item_key = (name, label, chilled or pk in cold_parents)
                    item = items_made.get(item_key)
                    if item is None:
                        item = items_made[item_key] = OrderItem(*item_key)
                    items.append(item)
                if kind == basket:
                    baskets += int(count)
                    continue  # its weight is that of its component lines
                if weight is None:
                    if unit == kilogram:
                        weight = quantity
                    else:
                        factor = factors.get(unit)
                        if factor is None:
                            factor = factors[unit] = _kg_per_unit(unit)
                        weight = quantity * factor
                kg += weight
                share = relay_shares.get(row[14])
                if share is None:
                    share = relay_shares[row[14]] = [Decimal("0"), 0]
                share[0] += weight
                if chilled:
                    cold += 1
                    share[1] += 1
            name_key = (head[3], head[4])
            customer = names.get(name_key)
            if customer is None:
                customer = names[name_key] = _short_name(*name_key)
            by_relay.setdefault(relay_id, []).append(
                OrderManifest(
                    reference=head[1],
                    customer=customer,
                    baskets=baskets,
                    lines=len(items),
                    kg=kg,
                    cold_items=cold,
                    items=tuple(items),
                )
            )
    relays = _consolidated_relays(cycle=cycle, relay_ids=list(by_relay))
    places = {pk: f"relay:{relay.slug}" for pk, (relay, _opens) in relays.items()}
    canteens = _consolidated_canteens(cycle=cycle)
    producers = Producer.objects.in_bulk(
        {farm for per_farm in shares.values() for farm in per_farm if farm is not None}
        | {farm for canteen in canteens for farm in canteen.shares if farm is not None}
    )
    hub_kg: dict[str, Decimal] = defaultdict(Decimal)
    hub_cold: dict[str, int] = defaultdict(int)
    farms: dict[str, FarmCollection] = {}
    # Relay points in slug order, then canteens in slug order, then farms as they first
    # appear: each farm's destinations come in the order of the orders sorted by relay point
    # slug and reference, then of the canteens.
    per_place = [(place, shares[relay_id]) for relay_id, place in places.items()]
    per_place += [(canteen.place, canteen.shares) for canteen in canteens]
    for place, place_shares in per_place:
        for producer_id, (weight, chilled_items) in place_shares.items():
            producer = producers[producer_id] if producer_id is not None else None
            if producer is None or not producer.collected_on_round:
                hub_kg[place] += weight
                hub_cold[place] += chilled_items
            if producer is not None:
                farm_place = f"farm:{producer.slug}"
                farm = farms.setdefault(
                    farm_place,
                    FarmCollection(place=farm_place, name=producer.name, producer=producer),
                )
                farm.kg_by_destination[place] = (
                    farm.kg_by_destination.get(place, Decimal("0")) + weight
                )
                farm.cold_by_destination[place] = (
                    farm.cold_by_destination.get(place, 0) + chilled_items
                )
    destinations = tuple(
        DestinationManifest(
            place=places[pk],
            relay_point=relay,
            orders=tuple(by_relay[pk]),
            kg=sum((o.kg for o in by_relay[pk]), Decimal("0")),
            cold_items=sum(o.cold_items for o in by_relay[pk]),
            pickup_opens=opens,
            hub_kg=hub_kg[places[pk]],
            hub_cold_items=hub_cold[places[pk]],
        )
        for pk, (relay, opens) in sorted(relays.items(), key=lambda item: item[1][0].slug)
    ) + tuple(
        DestinationManifest(
            place=canteen.place,
            relay_point=None,
            orders=(),
            kg=canteen.kg,
            cold_items=canteen.cold_items,
            pickup_opens=None,
            hub_kg=hub_kg[canteen.place],
            hub_cold_items=hub_cold[canteen.place],
            canteen=canteen.canteen,
            canteen_order=canteen.order,
        )
        for canteen in canteens
    )
    return Consolidation(
        cycle=cycle, destinations=destinations, farms=tuple(sorted(farms.values(), key=_place))
    )


@dataclass
class _CanteenDrop:
    place: str
    canteen: Canteen
    order: CanteenOrderManifest
    kg: Decimal
    cold_items: int
    # Per producer id: [kg, cold items], in the order of the lines.
    shares: dict[int | None, list[Any]]


def _consolidated_canteens(*, cycle: OrderCycle) -> list[_CanteenDrop]:
    """The cycle's canteen orders still to deliver, one destination each, in slug order.

    An order counts unless cancelled, with its lines whose quantity due (confirmed, else
    ordered) is above zero; an order left without such a line is not delivered. A line
    weighs its quantity due times its weight per unit; a chilled line is one cold item.
    One query.
    """
    lines = (
        CanteenOrderLine.objects.filter(order__cycle=cycle)
        .exclude(order__status=CanteenOrderStatus.CANCELLED)
        .annotate(due=Coalesce("quantity_confirmed", "quantity_ordered"))
        .filter(due__gt=0)
        .select_related("order__canteen", "producer")
        .order_by("order__canteen__slug", "order_id", "producer__name", "name", "pk")
    )
    drops: list[_CanteenDrop] = []
    with translation.override(settings.LANGUAGE_CODE):
        for _order_id, group in groupby(lines, key=lambda line: line.order_id):
            rows = list(group)
            order = rows[0].order
            canteen = order.canteen
            items = []
            shares: dict[int | None, list[Any]] = {}
            kg, cold = Decimal("0"), 0
            for line in rows:
                due = line.quantity_due
                weight = due * line.weight_per_unit_kg
                items.append(
                    CanteenLineManifest(
                        id=line.pk,
                        producer=line.producer.name,
                        name=line.name,
                        quantity=due,
                        unit=line.unit,
                        quantity_label=quantity_label(due, line.unit),
                        kg=weight,
                        cold=line.is_chilled,
                        allergens=tuple(str(code) for code in line.allergens or ()),
                    )
                )
                kg += weight
                cold += int(line.is_chilled)
                share = shares.setdefault(line.producer_id, [Decimal("0"), 0])
                share[0] += weight
                share[1] += int(line.is_chilled)
            drops.append(
                _CanteenDrop(
                    place=f"canteen:{canteen.slug}",
                    canteen=canteen,
                    order=CanteenOrderManifest(
                        id=order.pk,
                        reference=order.reference,
                        canteen=canteen.name,
                        window_starts_at=order.window_starts_at,
                        window_ends_at=order.window_ends_at,
                        lines=tuple(items),
                    ),
                    kg=kg,
                    cold_items=cold,
                    shares=shares,
                )
            )
    return drops


def _consolidated_relays(
    *, cycle: OrderCycle, relay_ids: list[int]
) -> dict[int, tuple[RelayPoint, time | None]]:
    """The relay points of the cycle's orders in slug order, each with the time its
    pickup opens on the delivery day: its first opening hour that weekday, else the start of
    the earliest pickup slot of the cycle's orders there. One query."""
    if not relay_ids:
        return {}
    hours = RelayOpeningHours.objects.filter(
        relay_point_id=OuterRef("pk"), weekday=cycle.delivery_date.weekday()
    ).order_by("opens_at")
    slots = Order.objects.filter(
        relay_point_id=OuterRef("pk"), cycle=cycle, status__in=HANDED_OVER
    ).order_by("pickup_slot__starts_at")
    relays = {}
    for relay in (
        RelayPoint.objects.filter(pk__in=relay_ids)
        .order_by("slug")
        .annotate(
            consolidation_opens=Subquery(hours.values("opens_at")[:1]),
            consolidation_slot=Subquery(slots.values("pickup_slot__starts_at")[:1]),
        )
    ):
        # Read, then dropped: the relay point is the same as any other read of it.
        opens = relay.__dict__.pop("consolidation_opens")
        first_slot = relay.__dict__.pop("consolidation_slot")
        relays[relay.pk] = (relay, opens or first_slot)
    return relays


def _place(farm: FarmCollection) -> str:
    return farm.place


# --- places: coordinates and snapshots -------------------------------------------------------


@dataclass(frozen=True)
class PlaceSnapshot:
    """What a stored stop copies of its place: the driver's route does not change later."""

    name: str
    address: str
    contact: str
    latitude: Decimal
    longitude: Decimal


def _snapshot(located: Depot | RelayPoint | Producer | Canteen) -> PlaceSnapshot:
    return PlaceSnapshot(
        name=located.name,
        address=located.full_address,
        contact=located.contact,
        latitude=located.latitude,
        longitude=located.longitude,
    )


def _coordinates(place: str, located: LocatedModel) -> tuple[float, float]:
    """WGS84 coordinates of a place; (0, 0), the database's placeholder, counts as missing."""
    lat, lon = located.latitude, located.longitude
    if lat == 0 and lon == 0:
        raise MissingCoordinates(
            _("%(place)s n'a pas de coordonnées : renseignez sa latitude et sa longitude.")
            % {"place": place}
        )
    return float(lat), float(lon)


# --- the routing problem ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlanningProblem:
    """The routing problem of a cycle and what is needed to read its solution back."""

    problem: vrp.Problem
    provider: TravelProvider
    consolidation: Consolidation
    vehicles: dict[str, Vehicle]
    origin: datetime
    """Midnight of the delivery day, territory time: second 0 of the problem."""
    windows: dict[str, vrp.TimeWindow]
    """Per engine stop id, its time window (a destination's ends when its pickup opens)."""
    drivers: dict[str, User] = field(default_factory=dict)
    """Per vehicle slug, the driver of its shift on the delivery day."""
    places: dict[str, PlaceSnapshot] = field(default_factory=dict)
    """Per place key (relay, farm, depot), its snapshot."""
    shares: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Per engine stop id of a farm's share (pickup or drop), its (farm, destination)."""
    excluded_places: frozenset[str] = frozenset()
    emission_factors: dict[str, Decimal] = field(
        default_factory=lambda: territory_emission_factors(territory=None)
    )
    """kg CO2e per km by vehicle kind, the territory's (``territory_emission_factors``)."""

    def co2_kg(self, *, kind: str, km: Decimal) -> Decimal:
        """The emissions of ``km`` driven by a vehicle of ``kind``, to the gram."""
        factor = self.emission_factors.get(kind, Decimal("0"))
        return (km * factor).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def stop_place(stop_id: str) -> str:
    """The place an engine stop id goes to (a share's id carries its partner after "#")."""
    return stop_id.split(SHARE, 1)[0]


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _profile(vehicle: Vehicle) -> vrp.SpeedProfile:
    name = "car" if vehicle.kind == VehicleKind.VAN else "bike"
    return vrp.SpeedProfile(name, float(vehicle.average_speed_kmh))


def plan_provider(*, territory: Territory) -> TravelProvider:
    """Road distances from the OSRM server of ``LOGISTICS_OSRM_URL`` when set, else
    great-circle distances times the territory's detour factor."""
    if settings.LOGISTICS_OSRM_URL:
        return OsrmHttpProvider(
            settings.LOGISTICS_OSRM_URL, profiles={"car": "driving", "bike": "cycling"}
        )
    return GreatCircleProvider(detour_factor=float(territory.routing_detour_factor))


def cold_litres(cold_items: int) -> int:
    """Litres of cold box that ``cold_items`` chilled lines take."""
    return cold_items * int(settings.LOGISTICS_COLD_LITRES_PER_ITEM)


def _demand(kg: Decimal, crates: int, cold_items: int) -> dict[str, int]:
    demand = {"kg": math.ceil(kg), "crates": crates}
    if cold_items:
        demand["cold_l"] = cold_litres(cold_items)
    return demand


def _requires(cold_items: int) -> frozenset[str]:
    return frozenset({"cold"}) if cold_items else frozenset()


def _vehicle_shifts(
    vehicles: list[Vehicle], delivery_date: date
) -> tuple[dict[str, vrp.TimeWindow], dict[str, User]]:
    """Per vehicle slug, its hours on the delivery day (its service hours within its
    driver's shift) and its driver; refuses a vehicle without a driver that day."""
    weekday = delivery_date.weekday()
    shifts = {
        shift.vehicle_id: shift
        for shift in DriverShift.objects.filter(
            vehicle__in=vehicles, weekday=weekday
        ).select_related("driver")
    }
    day = str(Weekday(weekday).label)
    hours: dict[str, vrp.TimeWindow] = {}
    drivers: dict[str, User] = {}
    for vehicle in vehicles:
        shift = shifts.get(vehicle.pk)
        if shift is None:
            raise VehicleWithoutDriver(
                _(
                    "Le véhicule « %(vehicle)s » n'a pas de chauffeur le %(day)s : "
                    "affectez-lui un chauffeur ou désactivez-le."
                )
                % {"vehicle": vehicle.name, "day": day}
            )
        start = max(_seconds(vehicle.shift_start), _seconds(shift.starts_at))
        end = min(_seconds(vehicle.shift_end), _seconds(shift.ends_at))
        if end <= start:
            raise DriverShiftOutsideService(
                _(
                    "Le chauffeur du véhicule « %(vehicle)s » le %(day)s travaille en dehors "
                    "des heures de service du véhicule : accordez leurs horaires."
                )
                % {"vehicle": vehicle.name, "day": day}
            )
        hours[vehicle.slug] = vrp.TimeWindow(start, end)
        drivers[vehicle.slug] = shift.driver
    return hours, drivers


def plan_problem_build(
    *,
    consolidation: Consolidation,
    exclude_vehicles: frozenset[str] = frozenset(),
    exclude_places: frozenset[str] = frozenset(),
    exclude_stops: frozenset[str] = frozenset(),
    earliest_start: int | None = None,
    provider: TravelProvider | None = None,
) -> PlanningProblem:
    """The routing problem of a consolidated cycle: its territory's depots and active vehicles.

    Each relay point with orders is a delivery of what is loaded at the hub, to arrive before
    its pickup hours open on the delivery day; each canteen order still to deliver, one to
    arrive within the order's reception window (its lines' weight, one crate per line, cold
    litres for chilled lines). Each farm collected on the round gives, per
    destination it supplies, a pickup at the farm (within its collection window) paired with
    the drop of that share at the destination. Chilled goods require a vehicle with a cold
    box. Vehicles run within their service hours and their driver's shift that day.

    ``exclude_vehicles`` (slugs), ``exclude_places`` (place keys) and ``exclude_stops``
    (engine stop ids: the shares locked routes carry) are left out. ``earliest_start``
    (seconds of the delivery day) is the moment before which no vehicle may leave: planned
    on the delivery day, a round cannot have left already. Refuses (``NoVehicle``,
    ``VehicleWithoutDriver``, ``MissingCoordinates``, ``WindowUnreachable``) before anything
    is stored.
    """
    cycle = consolidation.cycle
    territory = cycle.territory
    vehicles = [
        vehicle
        for vehicle in Vehicle.objects.filter(territory=territory, is_active=True)
        .select_related("depot")
        .order_by("slug")
        if vehicle.slug not in exclude_vehicles
    ]
    if not vehicles and not exclude_vehicles:
        raise NoVehicle()
    hours, drivers = _vehicle_shifts(vehicles, cycle.delivery_date)
    if earliest_start is not None:
        hours = {
            slug: vrp.TimeWindow(min(max(window.start, earliest_start), window.end), window.end)
            for slug, window in hours.items()
        }
    places: dict[str, PlaceSnapshot] = {}
    depots: dict[str, vrp.Depot] = {}
    for vehicle in vehicles:
        key = f"depot:{vehicle.depot.slug}"
        if key not in depots:
            lat, lon = _coordinates(key, vehicle.depot)
            depots[key] = vrp.Depot(key, lat, lon)
            places[key] = _snapshot(vehicle.depot)
    stops: list[vrp.Stop] = []
    pairs: list[vrp.PickupDelivery] = []
    windows: dict[str, vrp.TimeWindow] = {}
    shares: dict[str, tuple[str, str]] = {}
    service_s = int(settings.LOGISTICS_STOP_SERVICE_S)
    located: dict[str, tuple[float, float]] = {}
    for destination in consolidation.destinations:
        if destination.place in exclude_places:
            continue
        lat, lon = _coordinates(destination.place, destination.located)
        located[destination.place] = (lat, lon)
        places[destination.place] = _snapshot(destination.located)
        window = destination.window()
        if window is not None:
            windows[destination.place] = vrp.TimeWindow(*window)
        if destination.place in exclude_stops:
            continue  # its hub share rides on a locked route; its farms' shares may not
        stops.append(
            vrp.Stop(
                destination.place,
                lat,
                lon,
                demand=_demand(destination.hub_kg, destination.crates, destination.hub_cold_items),
                windows=_windows(windows, destination.place),
                service_s=service_s,
                requires=_requires(destination.hub_cold_items),
            )
        )
    for farm in consolidation.farms:
        if not farm.collected or farm.place in exclude_places or farm.producer is None:
            continue
        producer = farm.producer
        lat, lon = _coordinates(farm.place, producer)
        located[farm.place] = (lat, lon)
        places[farm.place] = _snapshot(producer)
        assert producer.collection_opens and producer.collection_closes  # a DB constraint
        window = vrp.TimeWindow(
            _seconds(producer.collection_opens), _seconds(producer.collection_closes)
        )
        first = True
        for target, kg in sorted(farm.kg_by_destination.items()):
            if target not in located:
                continue  # left out (a locked route serves it)
            cold = farm.cold_by_destination.get(target, 0)
            demand = _demand(kg, 0, cold)
            pickup_id = f"{farm.place}{SHARE}{target}"
            drop_id = f"{target}{SHARE}{farm.place}"
            if pickup_id in exclude_stops or drop_id in exclude_stops:
                continue  # a locked route carries this share
            windows[pickup_id] = window
            if target in windows:
                windows[drop_id] = windows[target]
            # One service time per place: the first share at the farm pays it, and the
            # drops come on top of the destination's own stop.
            stops.append(
                vrp.Stop(
                    pickup_id,
                    lat,
                    lon,
                    demand=demand,
                    windows=(window,),
                    service_s=service_s if first else 0,
                    kind="pickup",
                    requires=_requires(cold),
                )
            )
            d_lat, d_lon = located[target]
            stops.append(
                vrp.Stop(
                    drop_id,
                    d_lat,
                    d_lon,
                    demand=demand,
                    windows=_windows(windows, drop_id),
                    kind="delivery",
                    requires=_requires(cold),
                )
            )
            pairs.append(vrp.PickupDelivery(pickup_id, drop_id))
            shares[pickup_id] = shares[drop_id] = (farm.place, target)
            first = False
    problem = vrp.Problem(
        depots=tuple(depots.values()),
        vehicles=tuple(
            vrp.Vehicle(
                vehicle.slug,
                f"depot:{vehicle.depot.slug}",
                _capacity(vehicle),
                shift=hours[vehicle.slug],
                profile=_profile(vehicle),
                cost_per_km=float(vehicle.cost_per_km),
                cost_per_hour=float(vehicle.cost_per_hour),
                max_distance_m=vehicle.max_range_km * 1000 if vehicle.max_range_km else None,
                features=frozenset({"cold"}) if vehicle.cold_volume_litres else frozenset(),
            )
            for vehicle in vehicles
        ),
        stops=tuple(stops),
        pairs=tuple(pairs),
    )
    provider = provider or plan_provider(territory=territory)
    if problem.vehicles and problem.stops:
        _check_reachable(problem, provider, windows, places, earliest_start)
    zone = ZoneInfo(territory.timezone)
    return PlanningProblem(
        problem=problem,
        provider=provider,
        consolidation=consolidation,
        vehicles={vehicle.slug: vehicle for vehicle in vehicles},
        origin=datetime.combine(cycle.delivery_date, time(0), tzinfo=zone),
        windows=windows,
        drivers=drivers,
        places=places,
        shares=shares,
        excluded_places=exclude_places,
        emission_factors=territory_emission_factors(territory=territory),
    )


def _windows(windows: dict[str, vrp.TimeWindow], stop_id: str) -> tuple[vrp.TimeWindow, ...]:
    window = windows.get(stop_id)
    return (window,) if window else ()


def _check_reachable(
    problem: vrp.Problem,
    provider: TravelProvider,
    windows: dict[str, vrp.TimeWindow],
    places: dict[str, PlaceSnapshot],
    earliest_start: int | None = None,
) -> None:
    """Refuse a place no vehicle reaches before its window closes, even driving straight
    from its depot at the start of its shift (one matrix per speed profile); planned on
    the delivery day (``earliest_start``), the refusal says it is too late."""
    depots = list(problem.depots)
    targets: dict[str, vrp.Stop] = {}
    for stop in problem.stops:
        if stop.id in windows:
            targets.setdefault(stop_place(stop.id), stop)
    if not targets:
        return
    points = [Point(d.id, d.lat, d.lon) for d in depots] + [
        Point(place, stop.lat, stop.lon) for place, stop in targets.items()
    ]
    index = {point.id: i for i, point in enumerate(points)}
    earliest: dict[str, int] = {}
    profiles: dict[vrp.SpeedProfile, list[vrp.Vehicle]] = defaultdict(list)
    for vehicle in problem.vehicles:
        profiles[vehicle.profile].append(vehicle)
    for profile, fleet in profiles.items():
        durations = provider.matrix(points, profile).duration_s
        for vehicle in fleet:
            row = durations[index[vehicle.start_depot]]
            for place in targets:
                travel = row[index[place]]
                if travel >= UNREACHABLE:
                    continue
                arrival = vehicle.shift.start + travel
                earliest[place] = min(earliest.get(place, arrival), arrival)
    for place, stop in targets.items():
        window = windows[stop.id]
        if place not in earliest or earliest[place] > window.end:
            if earliest_start is not None and any(
                v.shift.start == earliest_start for v in problem.vehicles
            ):
                if place.startswith("canteen:"):
                    raise WindowUnreachable(
                        _(
                            "Il est trop tard pour livrer la cantine « %(name)s » (%(place)s) "
                            "avant %(hour)s aujourd'hui : aucune tournée ne part avant "
                            "%(start)s. Reportez sa livraison ou élargissez son créneau."
                        )
                        % {
                            "name": places[place].name,
                            "place": place,
                            "hour": _clock(window.end),
                            "start": _clock(earliest_start),
                        }
                    )
                raise WindowUnreachable(
                    _(
                        "Il est trop tard pour livrer « %(name)s » (%(place)s) avant %(hour)s "
                        "aujourd'hui : aucune tournée ne part avant %(start)s. Reportez sa "
                        "livraison ou changez l'heure d'ouverture de ses retraits."
                    )
                    % {
                        "name": places[place].name,
                        "place": place,
                        "hour": _clock(window.end),
                        "start": _clock(earliest_start),
                    }
                )
            raise WindowUnreachable(
                _(
                    "Aucun véhicule ne peut arriver à « %(name)s » (%(place)s) avant "
                    "%(hour)s, même en partant directement de son dépôt au début de son "
                    "service : avancez les horaires d'un véhicule ou de son chauffeur."
                )
                % {"name": places[place].name, "place": place, "hour": _clock(window.end)}
            )


def _clock(seconds: int) -> str:
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d}"


def _capacity(vehicle: Vehicle) -> dict[str, int]:
    capacity = {"kg": vehicle.capacity_kg, "crates": vehicle.capacity_crates}
    if vehicle.cold_volume_litres:
        capacity["cold_l"] = vehicle.cold_volume_litres
    return capacity


def moment(origin: datetime, seconds: int) -> datetime:
    """The instant ``seconds`` after the problem's origin."""
    return origin + timedelta(seconds=seconds)


def load_on_board(
    *,
    calls: list[list[str]],
    kg: dict[str, Decimal],
    pickups: set[str],
    paired: set[str],
) -> tuple[int, list[int]]:
    """The kg on board leaving the depot, then after each call of a route (its engine stop
    ids), from the goods' own weights, each in whole kg rounded half up.

    The one count of a route's load: a delivery not paired with a pickup is loaded at the
    depot (so the start is the loading list's total), a pickup adds its kg, a delivery
    drops its own. The engine's demands are whole kg rounded up per share, and their sum
    drifts from the loading list (84 kg against 81.3 on the Dunkerque demo).
    """
    on_board = sum(
        (kg[i] for call in calls for i in call if i not in pickups and i not in paired),
        Decimal("0"),
    )
    start = _whole_kg(on_board)
    after = []
    for call in calls:
        for stop_id in call:
            on_board += kg[stop_id] if stop_id in pickups else -kg[stop_id]
        after.append(_whole_kg(on_board))
    return start, after


def _whole_kg(kg: Decimal) -> int:
    return max(0, int(kg.quantize(Decimal("1"), rounding=ROUND_HALF_UP)))


# --- figures ---------------------------------------------------------------------------------


def baseline_km(*, consolidation: Consolidation, provider: TravelProvider) -> tuple[Decimal, int]:
    """The km if each farm drove its own goods to every destination it supplies and back.

    One round trip farm -> destination -> farm per (farm, destination), by van, with the
    plan's provider. Returns the km and how many farms were left out for lack of
    coordinates (they count for nothing).
    """
    relays = {d.place: d.located for d in consolidation.destinations}
    points: dict[str, Point] = {}
    trips: list[tuple[str, str]] = []
    skipped = 0
    for farm in consolidation.farms:
        producer = farm.producer
        if producer is None or (producer.latitude == 0 and producer.longitude == 0):
            skipped += 1
            continue
        points[farm.place] = Point(farm.place, float(producer.latitude), float(producer.longitude))
        for destination in farm.kg_by_destination:
            relay = relays[destination]
            if relay.latitude == 0 and relay.longitude == 0:
                continue
            points[destination] = Point(destination, float(relay.latitude), float(relay.longitude))
            trips.append((farm.place, destination))
    if not trips:
        return Decimal("0"), skipped
    ordered = list(points.values())
    index = {point.id: i for i, point in enumerate(ordered)}
    distance = provider.matrix(ordered, vrp.VAN).distance_m
    metres = 0
    for farm_place, destination in trips:
        there = distance[index[farm_place]][index[destination]]
        back = distance[index[destination]][index[farm_place]]
        if there >= UNREACHABLE or back >= UNREACHABLE:
            continue
        metres += there + back
    return (Decimal(metres) / 1000).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP), skipped


def plan_orders_count(*, plan: DeliveryPlan) -> int:
    """How many household orders the plan delivers (stored when it was computed)."""
    return int(plan.solver_stats.get("orders", 0))


def plan_co2_per_basket(*, plan: DeliveryPlan) -> Decimal | None:
    """kg CO2 of the plan per household order; None when it delivers none."""
    orders = plan_orders_count(plan=plan)
    if not orders:
        return None
    return (plan.total_co2_kg / orders).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def plan_km_saved(*, plan: DeliveryPlan) -> Decimal:
    """km the rounds save against each farm driving its goods to each destination itself."""
    return plan.baseline_km - plan.total_km


# --- the stored plan -------------------------------------------------------------------------


def _iso(value: datetime | date | None, zone: ZoneInfo | None = None) -> str | None:
    if isinstance(value, datetime) and zone is not None:
        value = value.astimezone(zone)
    return value.isoformat() if value is not None else None


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def plan_as_dict(*, plan: DeliveryPlan) -> dict[str, Any]:
    """The stored plan as ``delivery_plan --json`` prints it, times in the territory's zone."""
    zone = ZoneInfo(plan.cycle.territory.timezone)
    routes = plan.routes.select_related("vehicle", "driver").prefetch_related(
        Prefetch("stops", queryset=PlanStop.objects.order_by("position"))
    )
    co2_per_basket = plan_co2_per_basket(plan=plan)
    return {
        "cycle": plan.cycle_id,
        "plan": plan.pk,
        "status": plan.status,
        "version": plan.version,
        "solve_state": plan.solve_state,
        "progress": plan.progress,
        "solve_error": plan.solve_error,
        "solved_at": _iso(plan.solved_at, zone),
        "total_km": float(plan.total_km),
        "total_co2_kg": float(plan.total_co2_kg),
        "baseline_km": float(plan.baseline_km),
        "km_saved": float(plan_km_saved(plan=plan)),
        "orders": plan_orders_count(plan=plan),
        "canteen_orders": int(plan.solver_stats.get("canteen_orders", 0)),
        "co2_per_basket_kg": _float(co2_per_basket),
        "stability_threshold_pct": float(plan.stability_threshold_pct),
        "destinations": plan.solver_stats.get("destinations", []),
        "routes": [
            {
                "id": route.pk,
                "position": route.position,
                "locked": route.locked,
                "vehicle": {
                    "slug": route.vehicle.slug,
                    "name": route.vehicle.name,
                    "kind": route.vehicle.kind,
                    "capacity": {
                        "kg": route.vehicle.capacity_kg,
                        "crates": route.vehicle.capacity_crates,
                        "cold_l": route.vehicle.cold_volume_litres,
                    },
                },
                "driver": (route.driver.get_full_name() or route.driver.email)
                if route.driver
                else None,
                "km": float(route.km),
                "duration_min": route.duration_min,
                "co2_kg": float(route.co2_kg),
                "stops": [
                    {
                        "id": stop.pk,
                        "position": stop.position,
                        "place": stop.place,
                        "kind": stop.kind,
                        "name": stop.name,
                        "address": stop.address,
                        "contact": stop.contact,
                        "latitude": _float(stop.latitude),
                        "longitude": _float(stop.longitude),
                        "window": {
                            "start": _iso(stop.window_start, zone),
                            "end": _iso(stop.window_end, zone),
                        },
                        "eta": _iso(stop.eta, zone),
                        "load_kg_after": stop.load_kg_after,
                        "status": stop.status,
                        "manifest": stop.manifest,
                    }
                    for stop in route.stops.all()
                ],
            }
            for route in routes
        ],
        "unserved": plan.unserved,
        "changes": plan.changes,
        "solver": {
            k: v
            for k, v in plan.solver_stats.items()
            if k not in {"destinations", "orders", "canteen_orders"}
        },
    }
