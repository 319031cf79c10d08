"""Builds the marketplace part of a demo territory. Idempotent: rerunning updates in place.

The demo always has an order cycle open at load time: the next cycle of the weekly schedule
still taking orders, opened early when the load falls between a cutoff and the next opening.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from marche.accounts.models import Role, User
from marche.canteens.demo import demo_load_canteens
from marche.canteens.models import Canteen, DeliveryWindow
from marche.catalog.models import (
    Category,
    Product,
    ProductCertification,
    ProductVariant,
    validate_allergens,
)
from marche.cycles.models import Basket, BasketItem, CycleSchedule, Offer, OrderCycle
from marche.demo.spec import DemoSpec, DemoSpecError
from marche.producers.models import Producer, ProducerMembership
from marche.relays.models import RelayOpeningHours, RelayPoint
from marche.relays.services import pickup_slots_ensure
from marche.territories.models import (
    LEGAL_FIELDS,
    LOCAL_CURRENCY_FIELDS,
    Territory,
    emission_factors_parse,
)

DEMO_PASSWORD = "demo-loos-2026"  # noqa: S105 (printed on purpose: demo accounts only)

TERRITORY_FIELDS = (
    "name",
    "insee_code",
    "timezone",
    "contact_email",
    *LOCAL_CURRENCY_FIELDS,
    "routing_detour_factor",
    "email_sender",
    "emission_factors",
    *LEGAL_FIELDS,
)
# Other keys of [territory]: where it stands (DemoSpec.locate) and its site (cms.demo).
TERRITORY_OTHER_KEYS = (
    "slug",
    "place",
    "commune",
    "address",
    "postcode",
    "city",
    "site_hostname",
    "default_site",
)


def territory_fields(*, spec: DemoSpec) -> dict[str, Any]:
    """The values of the spec's ``[territory]`` for its Territory row, each checked as the
    admin checks it (sender, emission factors, time zone...); an unknown key is refused, so
    that a misspelt one does not silently leave the default in place."""
    data = spec.data.get("territory")
    if not isinstance(data, dict) or not isinstance(data.get("slug"), str):
        raise DemoSpecError("Table [territory] absente ou sans identifiant (slug)")
    unknown = sorted(set(data) - set(TERRITORY_FIELDS) - set(TERRITORY_OTHER_KEYS))
    if unknown:
        raise DemoSpecError(
            f"Territoire {data['slug']} : clé inconnue dans [territory] : " + ", ".join(unknown)
        )
    values: dict[str, Any] = {}
    for name in TERRITORY_FIELDS:
        if name not in data:
            continue
        field = Territory._meta.get_field(name)
        try:
            values[name] = field.clean(data[name], None)
        except ValidationError as exc:
            raise DemoSpecError(
                f"Territoire {data['slug']} : {field.verbose_name} : {' '.join(exc.messages)}"
            ) from exc
    if "emission_factors" in values:
        # Stored as text, as the defaults are: never a float.
        factors = emission_factors_parse(values["emission_factors"])
        values["emission_factors"] = {
            kind: format(factor.normalize(), "f") for kind, factor in factors.items()
        }
    return values


# The cycles' names are data, in French whatever the language of the load.
WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

# Invoicing and "ma cantine" details a canteen of the demo file may give.
CANTEEN_OPTIONAL_FIELDS = (
    "legal_name",
    "siret",
    "buyer_name",
    "buyer_siret",
    "buyer_address",
    "buyer_service_code",
    "invoice_email",
)


def contact_fields(item: dict[str, Any]) -> dict[str, str]:
    """The contact on site and phone of a place of the file (empty when it gives none)."""
    return {"contact_name": item.get("contact_name", ""), "phone": item.get("phone", "")}


def parse_time(value: str) -> time:
    return time.fromisoformat(value)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def _last_weekday_before(day: date, weekday: int) -> date:
    """The closest date strictly before ``day`` falling on ``weekday`` (0 is Monday)."""
    return day - timedelta(days=(day.weekday() - weekday) % 7 or 7)


def demo_cycle_dates(
    *, schedule: CycleSchedule, now: datetime, zone: ZoneInfo
) -> tuple[datetime, datetime, date]:
    """Opening, cutoff and delivery day of the schedule's next cycle still open at ``now``.

    Between a cutoff and the next scheduled opening no cycle takes orders; a demo must show
    one, so that cycle opens at the start of the load day instead.
    """
    today = now.astimezone(zone).date()
    delivery = today + timedelta(days=(schedule.delivery_weekday - today.weekday()) % 7)
    while True:
        closes_at = datetime.combine(
            _last_weekday_before(delivery, schedule.closes_weekday),
            schedule.closes_time,
            tzinfo=zone,
        )
        if closes_at > now:
            break
        delivery += timedelta(days=7)
    opens_at = datetime.combine(
        _last_weekday_before(delivery, schedule.opens_weekday), schedule.opens_time, tzinfo=zone
    )
    if opens_at > now:
        opens_at = datetime.combine(today, time(0), tzinfo=zone)
    return opens_at, closes_at, delivery


@transaction.atomic
def demo_load_marketplace(*, spec: DemoSpec, now: datetime | None = None) -> Territory:
    """Create or update the territory, catalogue, relays, canteens, accounts and open cycle,
    then the canteens' standing orders and delivered history."""
    now = now or timezone.now()
    fields = territory_fields(spec=spec)
    data = spec.data["territory"]
    territory, _ = Territory.objects.update_or_create(
        slug=data["slug"], defaults={**fields, **spec.locate(data).as_fields()}
    )
    today = now.astimezone(ZoneInfo(territory.timezone)).date()
    products = _load_catalogue(spec=spec, territory=territory)
    _load_certifications(spec=spec, products=products, today=today)
    _load_relays(spec=spec, territory=territory)
    _load_canteens(spec=spec, territory=territory)
    _load_accounts(spec=spec, territory=territory, today=today)
    _load_cycle(spec=spec, territory=territory, products=products, now=now)
    demo_load_canteens(spec=spec, territory=territory, now=now)
    return territory


def _load_catalogue(*, spec: DemoSpec, territory: Territory) -> dict[str, Product]:
    # Categories are shared by every territory of the instance: the first spec that names one
    # creates it, and a later load (of this territory or another) leaves its name and
    # position as they are, so that territories loaded in either order give the same rows.
    categories = {
        item["slug"]: Category.objects.get_or_create(
            slug=item["slug"], defaults={"name": item["name"], "position": position}
        )[0]
        for position, item in enumerate(spec.section("categories"))
    }
    producers: dict[str, Producer] = {}
    for item in spec.section("producers"):
        opens, closes = item.get("collection_window", (None, None))
        if item.get("collected_on_round") and not (
            opens and closes and parse_time(closes) > parse_time(opens)
        ):
            raise DemoSpecError(
                f"Producteur {item['slug']} : enlevé pendant la tournée sans fenêtre "
                "d'enlèvement (collection_window)"
            )
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
                "collected_on_round": item.get("collected_on_round", False),
                "collection_opens": parse_time(opens) if opens else None,
                "collection_closes": parse_time(closes) if closes else None,
                **spec.locate(item).as_fields(),
            },
        )
    products: dict[str, Product] = {}
    for item in spec.section("products"):
        try:
            producer = producers[item["producer"]]
            category = categories[item["category"]]
        except KeyError as exc:
            raise DemoSpecError(f"Produit {item['slug']} : référence inconnue {exc}") from exc
        allergens = item.get("allergens", [])
        try:
            validate_allergens(allergens)
        except ValidationError as exc:
            raise DemoSpecError(f"Produit {item['slug']} : {' '.join(exc.messages)}") from exc
        weight = item.get("estimated_weight_kg")
        product, _ = Product.objects.update_or_create(
            producer=producer,
            slug=item["slug"],
            defaults={
                "name": item["name"],
                "category": category,
                "family": item["family"],
                "unit": item["unit"],
                "unit_price": Decimal(item["unit_price"]),
                "vat_rate": Decimal(item.get("vat_rate", "5.50")),
                "season_months": item.get("months", []),
                "description": item.get("description", ""),
                "allergens": allergens,
                "origin": item.get("origin", "FRANCE"),
                "origin_detail": item.get("origin_detail", producer.city),
                "is_variable_weight": item.get("variable_weight", False),
                "estimated_weight_kg": Decimal(weight) if weight else None,
                "is_chilled": item.get("chilled", False),
            },
        )
        for position, variant in enumerate(item.get("variants", [])):
            ProductVariant.objects.update_or_create(
                product=product,
                name=variant["name"],
                defaults={
                    "content": Decimal(variant["content"]),
                    "discount_percent": Decimal(variant.get("discount_percent", "0")),
                    "position": position,
                },
            )
        products[product.slug] = product
    return products


def _load_certifications(*, spec: DemoSpec, products: dict[str, Product], today: date) -> None:
    # Without dates, a demo certificate stays valid whenever the demo is loaded.
    default_from, default_until = date(today.year, 1, 1), date(today.year + 1, 12, 31)
    for item in spec.section("certifications"):
        slugs = item.get("products") or [
            slug for slug, product in products.items() if product.producer.slug == item["producer"]
        ]
        if not slugs or any(slug not in products for slug in slugs):
            raise DemoSpecError(f"Certification {item['reference']} : produit inconnu")
        for slug in slugs:
            ProductCertification.objects.update_or_create(
                product=products[slug],
                label=item["label"],
                certificate_reference=item["reference"],
                defaults={
                    "certifier": item.get("certifier", ""),
                    "valid_from": date.fromisoformat(item["valid_from"])
                    if "valid_from" in item
                    else default_from,
                    "valid_until": date.fromisoformat(item["valid_until"])
                    if "valid_until" in item
                    else default_until,
                },
            )


def _load_relays(*, spec: DemoSpec, territory: Territory) -> None:
    pickup = spec.data.get("pickup_hours", {})
    default_hours = pickup.get("default", [])
    for item in spec.section("relay_points"):
        location = spec.locate(item)
        relay, _ = RelayPoint.objects.update_or_create(
            territory=territory,
            slug=item["slug"],
            defaults={
                "name": item["name"],
                "kind": item["kind"],
                "capacity_per_day": item["capacity_per_day"],
                "slot_minutes": item.get("slot_minutes", pickup.get("slot_minutes", 60)),
                "slot_capacity": item.get("slot_capacity", 10),
                "has_fridge": item.get("has_fridge", False),
                "source_ref": location.source_ref,
                **contact_fields(item),
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
        canteen, _ = Canteen.objects.update_or_create(
            territory=territory,
            slug=item["slug"],
            defaults={
                "name": item["name"],
                "kind": item["kind"],
                "meals_per_day": item["meals_per_day"],
                "organic_target_percent": Decimal(item["organic_target_percent"]),
                "school_zone": item.get("school_zone", ""),
                "source_ref": "" if item.get("approximate") else location.source_ref,
                **{key: item[key] for key in CANTEEN_OPTIONAL_FIELDS if key in item},
                **contact_fields(item),
                **location.as_fields(),
            },
        )
        # Delivered on school days (Monday to Friday unless the file says which).
        for weekday in item.get("days", range(5)):
            DeliveryWindow.objects.update_or_create(
                canteen=canteen,
                weekday=weekday,
                defaults={"starts_at": parse_time(start), "ends_at": parse_time(end)},
            )


def accounts_refuse_taken(*, emails: list[str], territory: Territory) -> None:
    """Refuse addresses already registered in another territory.

    E-mail addresses are unique on the instance: a demo account of one territory that
    another territory's file names too is refused rather than moved to that territory.
    """
    taken = (
        User.objects.filter(email__in=emails, territory__isnull=False)
        .exclude(territory=territory)
        .select_related("territory")
        .order_by("email")
        .first()
    )
    if taken is not None:
        raise DemoSpecError(
            f"Compte {taken.email} : déjà inscrit dans le territoire {taken.territory}"
        )


def _load_accounts(*, spec: DemoSpec, territory: Territory, today: date) -> None:
    emails = [item["email"] for item in spec.section("accounts")]
    accounts_refuse_taken(emails=emails, territory=territory)
    password = _demo_password_hash(emails)
    for item in spec.section("accounts"):
        role = Role(item["role"])
        months = item.get("solidarity_months")
        user, _ = User.objects.update_or_create(
            email=item["email"],
            defaults={
                "first_name": item["first_name"],
                "last_name": item["last_name"],
                "role": role,
                "territory": territory,
                "is_staff": role == Role.COORDINATOR,
                "is_superuser": False,
                "solidarity_until": add_months(today, months) if months else None,
            },
        )
        if user.password != password:
            user.password = password
            user.save(update_fields=["password"])
        _link_account(user=user, item=item, territory=territory)


def _demo_password_hash(emails: list[str]) -> str:
    """One hash of the demo password for every demo account: the password is public, and
    hashing it once a load instead of once an account saves a quarter of a second each.

    A reload keeps the hash the accounts already have when it still checks: a new hash
    would sign out whoever is signed in with a demo account (Django ties each session to
    the password's hash).
    """
    hashes = (
        User.objects.filter(email__in=emails)
        .exclude(password="")
        .values_list("password", flat=True)
        .order_by("pk")
    )
    for existing in hashes[:1]:
        if check_password(DEMO_PASSWORD, existing):
            return str(existing)
    return make_password(DEMO_PASSWORD)


def _link_account(*, user: User, item: dict[str, Any], territory: Territory) -> None:
    if "producer" in item:
        producer = Producer.objects.get(territory=territory, slug=item["producer"])
        ProducerMembership.objects.update_or_create(
            producer=producer, user=user, defaults={"is_manager": True}
        )
    if "canteen" in item:
        Canteen.objects.get(territory=territory, slug=item["canteen"]).managers.add(user)
    if "relay_point" in item:
        relay = RelayPoint.objects.filter(territory=territory, slug=item["relay_point"]).first()
        if relay is None:
            raise DemoSpecError(f"Compte {item['email']} : point relais inconnu")
        relay.keepers.add(user)


def _load_cycle(
    *, spec: DemoSpec, territory: Territory, products: dict[str, Product], now: datetime
) -> None:
    data = spec.data.get("schedule")
    if data is None:
        return
    schedule, _ = CycleSchedule.objects.update_or_create(
        territory=territory,
        name=data["name"],
        defaults={
            "delivery_weekday": data["delivery_weekday"],
            "opens_weekday": data["opens_weekday"],
            "opens_time": parse_time(data["opens_time"]),
            "closes_weekday": data["closes_weekday"],
            "closes_time": parse_time(data["closes_time"]),
            "minimum_order_amount": Decimal(data.get("minimum_order_amount", "0")),
            "weeks_ahead": data.get("weeks_ahead", 2),
        },
    )
    opens_at, closes_at, delivery = demo_cycle_dates(
        schedule=schedule, now=now, zone=ZoneInfo(territory.timezone)
    )
    cycle, _ = OrderCycle.objects.update_or_create(
        schedule=schedule,
        delivery_date=delivery,
        defaults={
            "territory": territory,
            "name": f"Livraison du {WEEKDAY_NAMES[delivery.weekday()]} {delivery:%d/%m/%Y}",
            "opens_at": opens_at,
            "closes_at": closes_at,
            "minimum_order_amount": schedule.minimum_order_amount,
        },
    )
    stocks = {item["slug"]: item.get("stock") for item in spec.section("products")}
    offers: dict[str, Offer] = {}
    for slug, product in products.items():
        if product.season_months and delivery.month not in product.season_months:
            continue
        # Existing offers keep their stock: orders may already hold or have bought some.
        offers[slug], _ = Offer.objects.get_or_create(
            cycle=cycle,
            product=product,
            defaults={
                "unit_price": product.unit_price,
                "quantity_available": Decimal(stocks[slug]) if stocks.get(slug) else None,
            },
        )
    for item in spec.section("baskets"):
        _load_basket(item=item, cycle=cycle, offers=offers)
    for relay in territory.relay_points.filter(is_active=True):
        pickup_slots_ensure(relay_point=relay, on=delivery)


def _load_basket(*, item: dict[str, Any], cycle: OrderCycle, offers: dict[str, Offer]) -> None:
    """A composed basket made of the first ``max_items`` of its components on offer."""
    solidarity = item.get("solidarity_price")
    basket, _ = Basket.objects.update_or_create(
        cycle=cycle,
        name=item["name"],
        defaults={
            "description": item.get("description", ""),
            "price": Decimal(item["price"]),
            "solidarity_price": Decimal(solidarity) if solidarity else None,
        },
    )
    chosen = [
        (offers[slug], Decimal(quantity)) for slug, quantity in item["items"] if slug in offers
    ]
    chosen = chosen[: item.get("max_items", len(chosen))]
    if not chosen:
        raise DemoSpecError(f"Panier {item['name']} : aucun de ses produits n'est de saison")
    basket.items.exclude(offer__in=[offer for offer, _ in chosen]).delete()
    for offer, quantity in chosen:
        BasketItem.objects.update_or_create(
            basket=basket, offer=offer, defaults={"quantity": quantity}
        )
