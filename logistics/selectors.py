"""Reads of delivery planning: what goes where in a cycle, and the routing problem it makes.

The marketplace is read through its models and selectors only; nothing here writes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from logistics.errors import MissingCoordinates, NoVehicle
from logistics.models import DeliveryPlan, PlanStop, Vehicle, VehicleKind
from logistics.vrp import model as vrp
from logistics.vrp.providers import GreatCircleProvider
from marche.catalog.models import Unit
from marche.core.models import LocatedModel
from marche.cycles.models import OrderCycle
from marche.orders.models import LineKind, Order, OrderLine
from marche.orders.selectors import HANDED_OVER
from marche.relays.models import RelayOpeningHours, RelayPoint

# --- consolidation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderManifest:
    """One household order dropped at a destination."""

    reference: str
    baskets: int
    lines: int
    kg: Decimal


@dataclass(frozen=True)
class DestinationManifest:
    """What arrives at one destination (a relay point for now) in a cycle."""

    place: str
    relay_point: RelayPoint
    orders: tuple[OrderManifest, ...]
    kg: Decimal
    cold_items: int
    pickup_opens: time | None

    @property
    def baskets(self) -> int:
        return sum(order.baskets for order in self.orders)

    @property
    def lines(self) -> int:
        return sum(order.lines for order in self.orders)

    @property
    def crates(self) -> int:
        """One crate per household order: orders are packed one to a crate."""
        return len(self.orders)

    def as_dict(self) -> dict[str, Any]:
        return {
            "place": self.place,
            "name": self.relay_point.name,
            "orders": [
                {
                    "reference": o.reference,
                    "baskets": o.baskets,
                    "lines": o.lines,
                    "kg": float(o.kg),
                }
                for o in self.orders
            ],
            "order_count": len(self.orders),
            "baskets": self.baskets,
            "lines": self.lines,
            "crates": self.crates,
            "kg": float(self.kg),
            "cold_items": self.cold_items,
        }


@dataclass(frozen=True)
class FarmCollection:
    """What is collected at one farm, in kg per destination place key."""

    place: str
    name: str
    kg_by_destination: dict[str, Decimal] = field(default_factory=dict)

    @property
    def kg(self) -> Decimal:
        return sum(self.kg_by_destination.values(), Decimal("0"))


@dataclass(frozen=True)
class Consolidation:
    cycle: OrderCycle
    destinations: tuple[DestinationManifest, ...]
    farms: tuple[FarmCollection, ...]


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
    per_unit = settings.LOGISTICS_UNIT_WEIGHT_KG.get(line.unit, "0")
    return line.quantity * Decimal(str(per_unit))


def cycle_consolidate(*, cycle: OrderCycle) -> Consolidation:
    """Per relay point, the confirmed orders of the cycle; per farm, kg per destination.

    Weights are estimates until weighed. The catalogue does not mark cold items yet, so
    ``cold_items`` is 0. Two queries for the orders, one for the opening hours.
    """
    orders = (
        Order.objects.filter(cycle=cycle, status__in=HANDED_OVER)
        .select_related("relay_point", "pickup_slot")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.filter(is_missing=False)
                .select_related("producer")
                .order_by("pk"),
            )
        )
        .order_by("relay_point__slug", "reference")
    )
    by_relay: dict[int, list[OrderManifest]] = defaultdict(list)
    relays: dict[int, RelayPoint] = {}
    slot_starts: dict[int, list[time]] = defaultdict(list)
    farms: dict[str, FarmCollection] = {}
    for order in orders:
        relay = order.relay_point
        relays[relay.pk] = relay
        slot_starts[relay.pk].append(order.pickup_slot.starts_at)
        place = f"relay:{relay.slug}"
        kg = Decimal("0")
        baskets = 0
        top_lines = 0
        for line in order.lines.all():
            if line.parent_id is None:
                top_lines += 1
            if line.kind == LineKind.BASKET:
                baskets += int(line.count)
                continue  # its weight is that of its component lines
            weight = line_weight_kg(line)
            kg += weight
            if line.producer is not None:
                farm_place = f"farm:{line.producer.slug}"
                farm = farms.setdefault(
                    farm_place, FarmCollection(place=farm_place, name=line.producer.name)
                )
                farm.kg_by_destination[place] = (
                    farm.kg_by_destination.get(place, Decimal("0")) + weight
                )
        by_relay[relay.pk].append(
            OrderManifest(reference=order.reference, baskets=baskets, lines=top_lines, kg=kg)
        )
    weekday = cycle.delivery_date.weekday()
    opens: dict[int, time] = {}
    for hours in RelayOpeningHours.objects.filter(
        relay_point_id__in=relays, weekday=weekday
    ).order_by("opens_at"):
        opens.setdefault(hours.relay_point_id, hours.opens_at)
    destinations = tuple(
        DestinationManifest(
            place=f"relay:{relay.slug}",
            relay_point=relay,
            orders=tuple(by_relay[pk]),
            kg=sum((o.kg for o in by_relay[pk]), Decimal("0")),
            cold_items=0,
            pickup_opens=opens.get(pk) or min(slot_starts[pk], default=None),
        )
        for pk, relay in sorted(relays.items(), key=lambda item: item[1].slug)
    )
    return Consolidation(
        cycle=cycle, destinations=destinations, farms=tuple(sorted(farms.values(), key=_place))
    )


def _place(farm: FarmCollection) -> str:
    return farm.place


# --- the routing problem ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlanningProblem:
    """The routing problem of a cycle and what is needed to read its solution back."""

    problem: vrp.Problem
    provider: GreatCircleProvider
    consolidation: Consolidation
    vehicles: dict[str, Vehicle]
    origin: datetime
    """Midnight of the delivery day, territory time: second 0 of the problem."""
    windows: dict[str, vrp.TimeWindow]


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _coordinates(place: str, located: LocatedModel) -> tuple[float, float]:
    """WGS84 coordinates of a place; (0, 0), the database's placeholder, counts as missing."""
    lat, lon = located.latitude, located.longitude
    if lat == 0 and lon == 0:
        raise MissingCoordinates(
            _("%(place)s n'a pas de coordonnées : renseignez sa latitude et sa longitude.")
            % {"place": place}
        )
    return float(lat), float(lon)


def _profile(vehicle: Vehicle) -> vrp.SpeedProfile:
    name = "car" if vehicle.kind == VehicleKind.VAN else "bike"
    return vrp.SpeedProfile(name, float(vehicle.average_speed_kmh))


def plan_problem_build(*, consolidation: Consolidation) -> PlanningProblem:
    """The routing problem of a consolidated cycle: its territory's depots and active vehicles.

    Each relay point with orders is a delivery that must arrive before its pickup hours open
    on the delivery day. Refuses (``NoVehicle``, ``MissingCoordinates``) before anything is
    stored. Farms are not stops yet: they bring their goods to the hub.
    """
    cycle = consolidation.cycle
    territory = cycle.territory
    vehicles = list(
        Vehicle.objects.filter(territory=territory, is_active=True)
        .select_related("depot")
        .order_by("slug")
    )
    if not vehicles:
        raise NoVehicle()
    depots: dict[str, vrp.Depot] = {}
    for vehicle in vehicles:
        key = f"depot:{vehicle.depot.slug}"
        if key not in depots:
            lat, lon = _coordinates(key, vehicle.depot)
            depots[key] = vrp.Depot(key, lat, lon)
    stops = []
    windows: dict[str, vrp.TimeWindow] = {}
    service_s = int(settings.LOGISTICS_STOP_SERVICE_S)
    for destination in consolidation.destinations:
        lat, lon = _coordinates(destination.place, destination.relay_point)
        stop_windows: tuple[vrp.TimeWindow, ...] = ()
        if destination.pickup_opens is not None:
            window = vrp.TimeWindow(0, _seconds(destination.pickup_opens))
            windows[destination.place] = window
            stop_windows = (window,)
        stops.append(
            vrp.Stop(
                destination.place,
                lat,
                lon,
                demand={
                    "kg": math.ceil(destination.kg),
                    "crates": destination.crates,
                },
                windows=stop_windows,
                service_s=service_s,
            )
        )
    by_id = {vehicle.slug: vehicle for vehicle in vehicles}
    problem = vrp.Problem(
        depots=tuple(depots.values()),
        vehicles=tuple(
            vrp.Vehicle(
                vehicle.slug,
                f"depot:{vehicle.depot.slug}",
                _capacity(vehicle),
                shift=vrp.TimeWindow(_seconds(vehicle.shift_start), _seconds(vehicle.shift_end)),
                profile=_profile(vehicle),
                cost_per_km=float(vehicle.cost_per_km),
                cost_per_hour=float(vehicle.cost_per_hour),
                max_distance_m=vehicle.max_range_km * 1000 if vehicle.max_range_km else None,
                features=frozenset({"cold"}) if vehicle.cold_volume_litres else frozenset(),
            )
            for vehicle in vehicles
        ),
        stops=tuple(stops),
    )
    zone = ZoneInfo(territory.timezone)
    return PlanningProblem(
        problem=problem,
        provider=GreatCircleProvider(detour_factor=float(territory.routing_detour_factor)),
        consolidation=consolidation,
        vehicles=by_id,
        origin=datetime.combine(cycle.delivery_date, time(0), tzinfo=zone),
        windows=windows,
    )


def _capacity(vehicle: Vehicle) -> dict[str, int]:
    capacity = {"kg": vehicle.capacity_kg, "crates": vehicle.capacity_crates}
    if vehicle.cold_volume_litres:
        capacity["cold_l"] = vehicle.cold_volume_litres
    return capacity


def moment(origin: datetime, seconds: int) -> datetime:
    """The instant ``seconds`` after the problem's origin."""
    return origin + timedelta(seconds=seconds)


# --- the stored plan -------------------------------------------------------------------------


def _iso(value: datetime | date | None, zone: ZoneInfo | None = None) -> str | None:
    if isinstance(value, datetime) and zone is not None:
        value = value.astimezone(zone)
    return value.isoformat() if value is not None else None


def plan_as_dict(*, plan: DeliveryPlan) -> dict[str, Any]:
    """The stored plan as ``delivery_plan --json`` prints it, times in the territory's zone."""
    zone = ZoneInfo(plan.cycle.territory.timezone)
    routes = plan.routes.select_related("vehicle", "driver").prefetch_related(
        Prefetch("stops", queryset=PlanStop.objects.order_by("position"))
    )
    return {
        "cycle": plan.cycle_id,
        "plan": plan.pk,
        "status": plan.status,
        "version": plan.version,
        "solved_at": _iso(plan.solved_at, zone),
        "total_km": float(plan.total_km),
        "total_co2_kg": float(plan.total_co2_kg),
        "destinations": plan.solver_stats.get("destinations", []),
        "routes": [
            {
                "position": route.position,
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
                "driver": route.driver.get_full_name() if route.driver else None,
                "km": float(route.km),
                "duration_min": route.duration_min,
                "co2_kg": float(route.co2_kg),
                "stops": [
                    {
                        "position": stop.position,
                        "place": stop.place,
                        "kind": stop.kind,
                        "window": {
                            "start": _iso(stop.window_start, zone),
                            "end": _iso(stop.window_end, zone),
                        },
                        "eta": _iso(stop.eta, zone),
                        "load_kg_after": stop.load_kg_after,
                        "manifest": stop.manifest,
                    }
                    for stop in route.stops.all()
                ],
            }
            for route in routes
        ],
        "unserved": plan.unserved,
        "solver": {k: v for k, v in plan.solver_stats.items() if k != "destinations"},
    }
