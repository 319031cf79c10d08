"""The logistics part of a demo territory: its depots, fleet and drivers' shifts. Idempotent."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from logistics.models import CycleClosing, Depot, DriverShift, Vehicle
from marche.accounts.models import Role, User
from marche.cycles.models import OrderCycle
from marche.demo.loaders import contact_fields, parse_time
from marche.demo.spec import DemoSpec, DemoSpecError
from marche.territories.models import Territory


def demo_load_fleet(*, spec: DemoSpec, territory: Territory) -> None:
    """Create or update the demo depots, vehicles and drivers' shifts of a territory."""
    depots: dict[str, Depot] = {}
    for item in spec.section("depots"):
        depots[item["slug"]], _ = Depot.objects.update_or_create(
            territory=territory,
            slug=item["slug"],
            defaults={
                "name": item["name"],
                **contact_fields(item),
                **spec.locate(item).as_fields(),
            },
        )
    vehicles: dict[str, Vehicle] = {}
    for item in spec.section("vehicles"):
        if item["depot"] not in depots:
            raise DemoSpecError(f"Véhicule {item['slug']} : dépôt inconnu {item['depot']}")
        start, end = item["shift"]
        vehicles[item["slug"]], _ = Vehicle.objects.update_or_create(
            territory=territory,
            slug=item["slug"],
            defaults={
                "name": item["name"],
                "kind": item["kind"],
                "depot": depots[item["depot"]],
                "capacity_kg": item["capacity_kg"],
                "capacity_crates": item["capacity_crates"],
                "cold_volume_litres": item.get("cold_volume_litres", 0),
                "average_speed_kmh": Decimal(item["average_speed_kmh"]),
                "max_range_km": item.get("max_range_km"),
                "cost_per_km": Decimal(item["cost_per_km"]),
                "cost_per_hour": Decimal(item["cost_per_hour"]),
                "shift_start": parse_time(start),
                "shift_end": parse_time(end),
            },
        )
    _load_driver_shifts(spec=spec, vehicles=vehicles)
    _close_past_cycles(territory=territory)


def _close_past_cycles(*, territory: Territory) -> None:
    """Record the closing of the demo's cycles delivered before today (the canteens' history).

    They were closed and delivered in the past; without a closing the beat task would close
    them now and plan rounds for days gone by.
    """
    today = timezone.now().astimezone(ZoneInfo(territory.timezone)).date()
    past = OrderCycle.objects.filter(
        territory=territory, delivery_date__lt=today, logistics_closing__isnull=True
    )
    CycleClosing.objects.bulk_create(
        CycleClosing(cycle=cycle, closed_at=cycle.closes_at) for cycle in past
    )


def _load_driver_shifts(*, spec: DemoSpec, vehicles: dict[str, Vehicle]) -> None:
    """Each demo vehicle's driver on the weekdays the spec lists, and no other shift of theirs.

    The shifts of the demo's vehicles and drivers that the spec does not list are removed
    first: a driver moved to another vehicle in the spec would otherwise hit the rule of one
    vehicle per driver and weekday.
    """
    wanted: dict[tuple[int, int], tuple[User, str | None, str | None]] = {}
    taken: set[tuple[int, int]] = set()
    for item in spec.section("driver_shifts"):
        vehicle = vehicles.get(item["vehicle"])
        if vehicle is None:
            raise DemoSpecError(f"Créneau de chauffeur : véhicule inconnu {item['vehicle']}")
        driver = User.objects.filter(email=item["driver"], role=Role.DRIVER).first()
        if driver is None:
            raise DemoSpecError(f"Créneau de chauffeur : pas de compte livreur {item['driver']}")
        start, end = item.get("hours", (None, None))
        starts_at, ends_at = _hours(vehicle, start, end)
        if ends_at <= starts_at:
            raise DemoSpecError(f"Créneau de {item['driver']} : la fin précède le début")
        for weekday in item["weekdays"]:
            if not 0 <= weekday <= 6:
                raise DemoSpecError(f"Créneau de chauffeur : jour {weekday} hors de 0 à 6")
            if (vehicle.pk, weekday) in wanted or (driver.pk, weekday) in taken:
                raise DemoSpecError(
                    f"Créneau de {item['driver']} : un chauffeur par véhicule et par jour, "
                    f"un véhicule par chauffeur et par jour (jour {weekday})"
                )
            wanted[(vehicle.pk, weekday)] = (driver, start, end)
            taken.add((driver.pk, weekday))
    shifts = DriverShift.objects.filter(vehicle__in=vehicles.values()) | DriverShift.objects.filter(
        driver__in={driver for driver, _start, _end in wanted.values()}
    )
    by_vehicle = {vehicle.pk: vehicle for vehicle in vehicles.values()}
    kept: set[tuple[int, int]] = set()
    for shift in shifts:
        driver, start, end = wanted.get((shift.vehicle_id, shift.weekday), (None, None, None))
        vehicle = by_vehicle.get(shift.vehicle_id)
        if (
            driver is None
            or vehicle is None
            or shift.driver_id != driver.pk
            or (shift.starts_at, shift.ends_at) != _hours(vehicle, start, end)
        ):
            shift.delete()
        else:
            kept.add((shift.vehicle_id, shift.weekday))
    DriverShift.objects.bulk_create(
        DriverShift(
            vehicle=by_vehicle[vehicle_id],
            driver=driver,
            weekday=weekday,
            starts_at=_hours(by_vehicle[vehicle_id], start, end)[0],
            ends_at=_hours(by_vehicle[vehicle_id], start, end)[1],
        )
        for (vehicle_id, weekday), (driver, start, end) in sorted(wanted.items())
        if (vehicle_id, weekday) not in kept
    )


def _hours(vehicle: Vehicle, start: str | None, end: str | None) -> tuple[time, time]:
    """The shift's hours: the spec's, else the vehicle's own service hours."""
    if start and end:
        return parse_time(start), parse_time(end)
    return vehicle.shift_start, vehicle.shift_end
