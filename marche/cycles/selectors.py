"""Reads of order cycles and what is on sale in them."""

from __future__ import annotations

import statistics
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from marche.catalog.models import Product, ProductVariant
from marche.catalog.selectors import product_labels_prefetch
from marche.cycles.models import Basket, BasketItem, Offer, OrderCycle
from marche.territories.models import Territory


def cycle_for_customer(*, customer: Any, cycle_id: int) -> OrderCycle | None:
    """The cycle a household may shop in: one of its own territory (any, for one bound to none).

    Another territory's cycle is as if it did not exist, for the cart, checkout and the API.
    """
    cycles = OrderCycle.objects.filter(pk=cycle_id).select_related("territory")
    territory_id = getattr(customer, "territory_id", None)
    if territory_id is not None:
        cycles = cycles.filter(territory_id=territory_id)
    return cycles.first()


def cycle_list_open(*, territory: Territory, now: datetime) -> QuerySet[OrderCycle]:
    """Cycles of a territory taking orders now, the one closing first first."""
    return OrderCycle.objects.filter(
        territory=territory, opens_at__lte=now, closes_at__gt=now
    ).order_by("closes_at", "pk")


def offer_list_for_shop(*, cycle: OrderCycle) -> QuerySet[Offer]:
    """Offers on sale in a cycle with product, producer, active variants and labels (4 queries).

    A withdrawn offer is not on sale: it is left out, not shown as sold out.
    """
    return (
        Offer.objects.filter(cycle=cycle, product__is_active=True, withdrawn_at__isnull=True)
        .select_related("product__producer", "product__category")
        .prefetch_related(
            Prefetch(
                "product__variants",
                queryset=ProductVariant.objects.filter(is_active=True).order_by(
                    "position", "content"
                ),
                to_attr="active_variants",
            ),
            product_labels_prefetch(on=cycle.delivery_date, lookup="product__certifications"),
        )
        .order_by("product__category__position", "product__name")
    )


def basket_list_for_shop(*, cycle: OrderCycle) -> QuerySet[Basket]:
    """The active composed baskets of a cycle with their content (two queries)."""
    return (
        Basket.objects.filter(cycle=cycle, is_active=True)
        .prefetch_related(
            Prefetch(
                "items",
                queryset=BasketItem.objects.select_related("offer__product__producer").order_by(
                    "offer__product__name"
                ),
            )
        )
        .order_by("price", "name")
    )


# How many of a product's latest offers make its usual price.
USUAL_PRICE_OFFERS = 5


def offer_usual_price(*, product: Product, exclude_cycle_id: int | None = None) -> Decimal:
    """The price a product usually sells at: the median of its latest offers, else its price.

    The latest offers are the product's last five in other cycles than ``exclude_cycle_id``
    (the one being edited), by opening date; without any, the catalogue price. A median, so
    that one mistaken price does not move it.
    """
    offers = Offer.objects.filter(product=product)
    if exclude_cycle_id is not None:
        offers = offers.exclude(cycle_id=exclude_cycle_id)
    prices = list(
        offers.order_by("-cycle__opens_at", "-pk").values_list("unit_price", flat=True)[
            :USUAL_PRICE_OFFERS
        ]
    )
    if not prices:
        return product.unit_price
    return Decimal(statistics.median(prices)).quantize(Decimal("0.01"))


def product_exclude_withdrawn(
    *, products: QuerySet[Product], territory: Territory, now: datetime
) -> QuerySet[Product]:
    """Leave out the products their producer withdrew from the cycles open now.

    A product withdrawn from an open cycle is not for sale, so listings leave it out; one
    still on sale in another open cycle stays.
    """
    open_offers = Offer.objects.filter(
        product=OuterRef("pk"),
        cycle__territory=territory,
        cycle__opens_at__lte=now,
        cycle__closes_at__gt=now,
    )
    return products.exclude(
        Exists(open_offers.filter(withdrawn_at__isnull=False))
        & ~Exists(open_offers.filter(withdrawn_at__isnull=True))
    )
