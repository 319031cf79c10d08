"""Public API of producers."""

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from marche.accounts.api import api_territory
from marche.core.api import Pagination
from marche.producers.models import Producer
from marche.producers.schemas import ProducerOut

router = Router(tags=["catalogue"])


@router.get("/producers", response=list[ProducerOut], auth=None)
@paginate(Pagination)
def producer_list(request: HttpRequest, territory: str | None = None) -> QuerySet[Producer]:
    """The site's territory's active producers, with how many active products each has
    (``territory``: its slug, another's gives none)."""
    producers = Producer.objects.filter(is_active=True, territory=api_territory(request))
    if territory:
        producers = producers.filter(territory__slug=territory)
    return (
        producers.select_related("territory")
        .annotate(product_count=Count("products", filter=Q(products__is_active=True)))
        .order_by("name", "pk")
    )
