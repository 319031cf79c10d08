"""Public API of the catalogue."""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router
from ninja.pagination import paginate

from marche.accounts.api import api_territory
from marche.catalog.models import Product
from marche.catalog.schemas import ProductFilters, ProductOut
from marche.catalog.selectors import product_labels_prefetch
from marche.core.api import Pagination

router = Router(tags=["catalogue"])


@router.get("/products", response=list[ProductOut], auth=None)
@paginate(Pagination)
def product_list(request: HttpRequest, filters: Query[ProductFilters]) -> QuerySet[Product]:
    """The site's territory's active products of active producers, filtered by producer,
    category or family."""
    products = Product.objects.filter(
        is_active=True, producer__is_active=True, producer__territory=api_territory(request)
    )
    if filters.producer is not None:
        products = products.filter(producer_id=filters.producer)
    if filters.category:
        products = products.filter(category__slug=filters.category)
    if filters.family:
        products = products.filter(family=filters.family)
    return (
        products.select_related("producer", "category")
        .prefetch_related(product_labels_prefetch(on=timezone.localdate()))
        .order_by("name", "pk")
    )
