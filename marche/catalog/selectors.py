"""Reads of the catalogue."""

from __future__ import annotations

from django.db.models import QuerySet

from marche.catalog.models import Product
from marche.territories.models import Territory


def product_list_in_season(*, territory: Territory, month: int) -> list[Product]:
    """Active products of a territory's active producers available in the given month."""
    products: QuerySet[Product] = Product.objects.filter(
        producer__territory=territory, producer__is_active=True, is_active=True
    ).select_related("producer", "category")
    return [product for product in products if product.in_season(month)]
