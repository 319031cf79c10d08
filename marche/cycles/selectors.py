"""Reads of order cycles and what is on sale in them."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, QuerySet

from marche.catalog.models import ProductVariant
from marche.catalog.selectors import product_labels_prefetch
from marche.cycles.models import Basket, BasketItem, Offer, OrderCycle
from marche.territories.models import Territory


def cycle_list_open(*, territory: Territory, now: datetime) -> QuerySet[OrderCycle]:
    """Cycles of a territory taking orders now, the one closing first first."""
    return OrderCycle.objects.filter(
        territory=territory, opens_at__lte=now, closes_at__gt=now
    ).order_by("closes_at", "pk")


def offer_list_for_shop(*, cycle: OrderCycle) -> QuerySet[Offer]:
    """Offers of a cycle with product, producer, active variants and labels (four queries)."""
    return (
        Offer.objects.filter(cycle=cycle, product__is_active=True)
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
