"""The logistics part of a demo territory: its depots and fleet. Idempotent."""

from __future__ import annotations

from decimal import Decimal

from logistics.models import Depot, Vehicle
from marche.demo.loaders import parse_time
from marche.demo.spec import DemoSpec, DemoSpecError
from marche.territories.models import Territory


def demo_load_fleet(*, spec: DemoSpec, territory: Territory) -> None:
    """Create or update the demo depots and vehicles of a territory."""
    depots: dict[str, Depot] = {}
    for item in spec.section("depots"):
        depots[item["slug"]], _ = Depot.objects.update_or_create(
            territory=territory,
            slug=item["slug"],
            defaults={"name": item["name"], **spec.locate(item).as_fields()},
        )
    for item in spec.section("vehicles"):
        if item["depot"] not in depots:
            raise DemoSpecError(f"Véhicule {item['slug']} : dépôt inconnu {item['depot']}")
        start, end = item["shift"]
        Vehicle.objects.update_or_create(
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
