"""Reads of producers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from marche.accounts.models import User
from marche.catalog.models import Product
from marche.cycles.models import Offer, OrderCycle
from marche.producers.models import Producer
from marche.territories.models import Territory


def producer_list_public(*, territory: Territory) -> QuerySet[Producer]:
    """Active producers of a territory with the number of active products, for listings."""
    return (
        Producer.objects.filter(territory=territory, is_active=True)
        .select_related("collective")
        .annotate(product_count=Count("products", filter=Q(products__is_active=True)))
        .order_by("kind", "name")
    )


@dataclass(frozen=True)
class OfferRow:
    """One product of a producer and its offer in a cycle (None: not offered)."""

    product: Product
    offer: Offer | None


def producer_list_for_member(*, user: User) -> list[Producer]:
    """The producers a user is a member of, with their territory."""
    return list(
        Producer.objects.filter(memberships__user=user)
        .select_related("territory")
        .order_by("name", "pk")
    )


def cycle_list_upcoming_for_producer(*, producer: Producer, now: datetime) -> list[OrderCycle]:
    """Open and upcoming cycles of the producer's territory, with its number of offers."""
    return list(
        OrderCycle.objects.filter(territory_id=producer.territory_id, closes_at__gt=now)
        .annotate(
            producer_offer_count=Count("offers", filter=Q(offers__product__producer=producer))
        )
        .order_by("opens_at", "pk")
    )


def offer_rows_for_producer(*, producer: Producer, cycle: OrderCycle) -> list[OfferRow]:
    """The producer's active products, each with its offer in the cycle, by name."""
    offers = {
        offer.product_id: offer
        for offer in Offer.objects.filter(cycle=cycle, product__producer=producer)
    }
    products = Product.objects.filter(producer=producer, is_active=True).order_by("name", "pk")
    return [OfferRow(product=product, offer=offers.get(product.pk)) for product in products]
