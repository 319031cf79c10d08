"""What the public pages read, composed from marche's selectors (the shop's own definitions).

The open cycle is the shop's (``cycle_list_open``: the one closing first), its live offers
the shop's (``offer_list_for_shop``: active products, never withdrawn offers), and every
price shown is the offer's price, every stock the offer's counters. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import F, Prefetch, Q, QuerySet

from marche.catalog.models import Category, EgalimLabel, Product, ProductPhoto
from marche.catalog.selectors import product_filter_organic, product_list_public
from marche.cycles.models import Basket, Offer, OrderCycle
from marche.cycles.selectors import (
    basket_list_for_shop,
    cycle_list_open,
    offer_list_for_shop,
    product_exclude_withdrawn,
)
from marche.producers.models import Producer
from marche.relays.models import PickupSlot, RelayPoint
from marche.territories.models import Territory


def photos_prefetch(lookup: str = "photos") -> Prefetch:
    """A product's photos in their order (one query for a whole list)."""
    return Prefetch(lookup, queryset=ProductPhoto.objects.order_by("position", "pk"))


@dataclass(frozen=True)
class Week:
    """The cycle taking orders now, or, when none is, the next one to open."""

    cycle: OrderCycle | None
    next_cycle: OrderCycle | None


def week_get(*, territory: Territory, now: datetime) -> Week:
    """This week's open cycle (as the shop picks it), else the next cycle to open."""
    cycle = cycle_list_open(territory=territory, now=now).first()
    if cycle is not None:
        return Week(cycle=cycle, next_cycle=None)
    upcoming = (
        OrderCycle.objects.filter(territory=territory, opens_at__gt=now)
        .order_by("opens_at", "pk")
        .first()
    )
    return Week(cycle=None, next_cycle=upcoming)


def offer_list_live(
    *,
    cycle: OrderCycle,
    producer: Producer | None = None,
    category: Category | None = None,
) -> QuerySet[Offer]:
    """The shop's offers of a cycle (optionally one producer's or one category's), with photos."""
    offers = offer_list_for_shop(cycle=cycle).prefetch_related(photos_prefetch("product__photos"))
    if producer is not None:
        offers = offers.filter(product__producer=producer)
    if category is not None:
        offers = offers.filter(product__category=category)
    return offers


def basket_featured(*, cycle: OrderCycle) -> Basket | None:
    """The basket the home page puts forward: the cycle's cheapest active composed basket."""
    return next(iter(basket_list_for_shop(cycle=cycle)[:1]), None)


def offer_in_stock(offer: Offer) -> bool:
    """Whether some of the offer can still be ordered (on demand counts as in stock)."""
    remaining = offer.quantity_remaining
    return remaining is None or remaining > 0


def offer_by_product(*, cycle: OrderCycle | None, product_ids: list[int]) -> dict[int, Offer]:
    """The live (not withdrawn) offer of each product in the cycle, by product id (one query)."""
    if cycle is None or not product_ids:
        return {}
    offers = Offer.objects.filter(
        cycle=cycle, product_id__in=product_ids, withdrawn_at__isnull=True
    )
    return {offer.product_id: offer for offer in offers}


def product_list_listed(*, territory: Territory, now: datetime) -> QuerySet[Product]:
    """The products the public pages list: the catalogue's, less those withdrawn this week."""
    return product_exclude_withdrawn(
        products=product_list_public(territory=territory, on=now.date()),
        territory=territory,
        now=now,
    )


@dataclass(frozen=True)
class CatalogueFilters:
    """The catalogue's filters, already checked (an unknown value filters nothing)."""

    category: Category | None = None
    producer: Producer | None = None
    organic: bool = False
    in_stock: bool = False
    ids: list[int] | None = field(default=None)


def product_list_catalogue(
    *,
    territory: Territory,
    now: datetime,
    cycle: OrderCycle | None,
    filters: CatalogueFilters,
) -> QuerySet[Product]:
    """The listed products narrowed by the catalogue's filters.

    ``in_stock`` keeps the products with a live offer in the open cycle that still has some
    to sell (or is on demand); ``ids`` keeps the hits of a full-text search.
    """
    products = product_list_listed(territory=territory, now=now)
    if filters.category is not None:
        products = products.filter(category=filters.category)
    if filters.producer is not None:
        products = products.filter(producer=filters.producer)
    if filters.organic:
        products = product_filter_organic(queryset=products, on=now.date())
    if filters.ids is not None:
        products = products.filter(pk__in=filters.ids)
    if filters.in_stock:
        if cycle is None:
            return products.none()
        live = Offer.objects.filter(
            cycle=cycle, withdrawn_at__isnull=True, product__is_active=True
        ).filter(
            Q(quantity_available__isnull=True)
            | Q(quantity_available__gt=F("quantity_held") + F("quantity_sold"))
        )
        products = products.filter(pk__in=live.values("product_id"))
    return products


def labels_of(products: list[Product]) -> list[EgalimLabel]:
    """The labels held by any of the products (as prefetched), highest first, each once."""
    labels = {label for product in products for label in product.valid_labels}
    return sorted(labels, key=lambda label: label.rank)


@dataclass(frozen=True)
class PickupDay:
    """A delivery day at a relay point: its opening hours that day and its slots if made."""

    cycle: OrderCycle
    day: date
    hours: list[tuple[time, time]]
    slots: list[PickupSlot]


def relay_pickup_days(
    *, relay_point: RelayPoint, territory: Territory, today: date, limit: int = 3
) -> list[PickupDay]:
    """The next delivery days of the territory's cycles at a relay point (two queries).

    Baskets are picked up on the cycle's delivery day during the relay's opening hours of
    that weekday; the slots are listed when the shop has already made them for that day.
    """
    cycles = list(
        OrderCycle.objects.filter(territory=territory, delivery_date__gte=today).order_by(
            "delivery_date", "pk"
        )[:limit]
    )
    days = [cycle.delivery_date for cycle in cycles]
    slots: dict[date, list[PickupSlot]] = {}
    for slot in PickupSlot.objects.filter(relay_point=relay_point, date__in=days).order_by(
        "date", "starts_at"
    ):
        slots.setdefault(slot.date, []).append(slot)
    hours = list(relay_point.opening_hours.all())
    return [
        PickupDay(
            cycle=cycle,
            day=cycle.delivery_date,
            hours=[
                (h.opens_at, h.closes_at)
                for h in hours
                if h.weekday == cycle.delivery_date.weekday()
            ],
            slots=slots.get(cycle.delivery_date, []),
        )
        for cycle in cycles
    ]


def quantity_text(value: Decimal) -> Decimal:
    """A quantity without trailing zeros (12.000 shows as 12)."""
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def site_root_territories(root_page_id: int) -> QuerySet[Territory]:
    """The territory a site's root page names, when that page is a home page (one query)."""
    from cms.models import HomePage

    return Territory.objects.filter(
        pk__in=HomePage.objects.filter(pk=root_page_id).values("territory_id")
    )
