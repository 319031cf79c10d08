"""Builds the marketplace part of a demo territory. Idempotent: rerunning updates in place."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any

from django.db import transaction

from marche.accounts.models import Role, User
from marche.canteens.models import Canteen
from marche.catalog.models import Category, Product
from marche.demo.spec import DemoSpec, DemoSpecError
from marche.producers.models import Producer, ProducerMembership
from marche.relays.models import RelayOpeningHours, RelayPoint
from marche.territories.models import Territory

DEMO_PASSWORD = "demo-loos-2026"  # noqa: S105 (printed on purpose: demo accounts only)

TERRITORY_FIELDS = (
    "name",
    "insee_code",
    "timezone",
    "contact_email",
    "local_currency_enabled",
    "local_currency_name",
    "local_currency_plural",
    "local_currency_code",
    "local_currency_euro_rate",
    "local_currency_reconversion_allowed",
    "local_currency_reconversion_fee_percent",
    "local_currency_expiry_months",
    "routing_detour_factor",
)


def parse_time(value: str) -> time:
    return time.fromisoformat(value)


@transaction.atomic
def demo_load_marketplace(*, spec: DemoSpec) -> Territory:
    """Create or update the territory, producers, catalogue, relays, canteens and accounts."""
    data = spec.data["territory"]
    territory, _ = Territory.objects.update_or_create(
        slug=data["slug"],
        defaults={
            **{name: data[name] for name in TERRITORY_FIELDS if name in data},
            **spec.locate(data).as_fields(),
        },
    )
    _load_catalogue(spec=spec, territory=territory)
    _load_relays(spec=spec, territory=territory)
    _load_canteens(spec=spec, territory=territory)
    _load_accounts(spec=spec, territory=territory)
    return territory


def _load_catalogue(*, spec: DemoSpec, territory: Territory) -> None:
    categories = {
        item["slug"]: Category.objects.update_or_create(
            slug=item["slug"], defaults={"name": item["name"], "position": position}
        )[0]
        for position, item in enumerate(spec.section("categories"))
    }
    producers: dict[str, Producer] = {}
    for item in spec.section("producers"):
        producers[item["slug"]], _ = Producer.objects.update_or_create(
            territory=territory,
            slug=item["slug"],
            defaults={
                "name": item["name"],
                "kind": item["kind"],
                "collective": producers[item["collective"]] if "collective" in item else None,
                "description": item.get("description", ""),
                "production": item.get("production", ""),
                "accepts_local_currency": item.get("accepts_local_currency", False),
                **spec.locate(item).as_fields(),
            },
        )
    for item in spec.section("products"):
        try:
            producer = producers[item["producer"]]
            category = categories[item["category"]]
        except KeyError as exc:
            raise DemoSpecError(f"Produit {item['slug']} : référence inconnue {exc}") from exc
        Product.objects.update_or_create(
            producer=producer,
            slug=item["slug"],
            defaults={
                "name": item["name"],
                "category": category,
                "family": item["family"],
                "unit": item["unit"],
                "unit_price": Decimal(item["unit_price"]),
                "vat_rate": Decimal(item.get("vat_rate", "5.50")),
                "is_organic": item.get("is_organic", True),
                "season_months": item.get("months", []),
                "description": item.get("description", ""),
            },
        )


def _load_relays(*, spec: DemoSpec, territory: Territory) -> None:
    default_hours = spec.data.get("pickup_hours", {}).get("default", [])
    for item in spec.section("relay_points"):
        location = spec.locate(item)
        relay, _ = RelayPoint.objects.update_or_create(
            territory=territory,
            slug=item["slug"],
            defaults={
                "name": item["name"],
                "kind": item["kind"],
                "capacity_per_day": item["capacity_per_day"],
                "has_fridge": item.get("has_fridge", False),
                "source_ref": location.source_ref,
                **location.as_fields(),
            },
        )
        relay.opening_hours.all().delete()
        RelayOpeningHours.objects.bulk_create(
            RelayOpeningHours(
                relay_point=relay,
                weekday=weekday,
                opens_at=parse_time(start),
                closes_at=parse_time(end),
            )
            for weekday, start, end in item.get("hours", default_hours)
        )


def _load_canteens(*, spec: DemoSpec, territory: Territory) -> None:
    for item in spec.section("canteens"):
        location = spec.locate(item)
        start, end = item["window"]
        Canteen.objects.update_or_create(
            territory=territory,
            slug=item["slug"],
            defaults={
                "name": item.get("name")
                or f"Cantine du {location.name}".replace("du Collège", "du collège"),
                "kind": item["kind"],
                "meals_per_day": item["meals_per_day"],
                "organic_target_percent": Decimal(item["organic_target_percent"]),
                "delivery_window_start": parse_time(start),
                "delivery_window_end": parse_time(end),
                "source_ref": "" if item.get("approximate") else location.source_ref,
                **location.as_fields(),
            },
        )


def _load_accounts(*, spec: DemoSpec, territory: Territory) -> None:
    for item in spec.section("accounts"):
        role = Role(item["role"])
        user, _ = User.objects.update_or_create(
            email=item["email"],
            defaults={
                "first_name": item["first_name"],
                "last_name": item["last_name"],
                "role": role,
                "territory": territory,
                "is_staff": role == Role.COORDINATOR,
                "is_superuser": role == Role.COORDINATOR,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        _link_account(user=user, item=item, territory=territory)


def _link_account(*, user: User, item: dict[str, Any], territory: Territory) -> None:
    if "producer" in item:
        producer = Producer.objects.get(territory=territory, slug=item["producer"])
        ProducerMembership.objects.update_or_create(
            producer=producer, user=user, defaults={"is_manager": True}
        )
    if "canteen" in item:
        Canteen.objects.get(territory=territory, slug=item["canteen"]).managers.add(user)
