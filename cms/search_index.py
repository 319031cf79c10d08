"""Keep Wagtail's search index of products in step with the catalogue.

The catalogue page searches ``SearchableProduct`` (a proxy of ``Product``) through Wagtail's
search backend; products are saved as ``Product``, so their entry is refreshed here.
"""

from __future__ import annotations

from typing import Any

from wagtail.search import index


def product_saved(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """Re-index a saved product (not while loading fixtures)."""
    if raw:
        return
    from cms.models import SearchableProduct

    searchable = (
        SearchableProduct.objects.filter(pk=instance.pk)
        .select_related("producer", "category")
        .first()
    )
    if searchable is not None:
        index.insert_or_update_object(searchable)


def product_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    """Drop a deleted product's entry."""
    from cms.models import SearchableProduct

    searchable = SearchableProduct(pk=instance.pk)
    index.remove_object(searchable)


def products_reindex() -> int:
    """Index every product again (the demo's load, after a bulk change); returns the count."""
    from cms.models import SearchableProduct

    count = 0
    for product in SearchableProduct.objects.select_related("producer", "category"):
        index.insert_or_update_object(product)
        count += 1
    return count
