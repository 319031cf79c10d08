"""Reads of producers."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

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
