"""API of order cycles: public cycles, offers and baskets; farmers' own offers (token)."""

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status
from ninja.pagination import paginate

from marche.accounts.api import api_territory, farmer_auth
from marche.catalog.models import ProductVariant
from marche.catalog.selectors import product_labels_prefetch
from marche.core.api import Pagination
from marche.core.schemas import Id
from marche.cycles.errors import CycleNotFound
from marche.cycles.models import Basket, Offer, OrderCycle
from marche.cycles.schemas import (
    BasketOut,
    CycleOut,
    FarmerOfferOut,
    OfferCreateIn,
    OfferOut,
    OfferUpdateIn,
)
from marche.cycles.selectors import basket_list_for_shop, offer_list_for_shop
from marche.cycles.services import offer_publish, offer_update

router = Router(tags=["cycles"])
farmer_router = Router(tags=["producteurs"], auth=farmer_auth)


def _offers() -> QuerySet[Offer]:
    """Offers with their product, producer, category and active variants (two queries)."""
    variants = ProductVariant.objects.filter(is_active=True).order_by("position", "content")
    return Offer.objects.select_related("product__producer", "product__category").prefetch_related(
        Prefetch("product__variants", queryset=variants, to_attr="active_variants"),
        product_labels_prefetch(on=timezone.localdate(), lookup="product__certifications"),
    )


def _cycle(request: HttpRequest, cycle_id: int) -> OrderCycle:
    """A cycle of the request's territory; another territory's is not found."""
    cycle = OrderCycle.objects.filter(pk=cycle_id, territory=api_territory(request)).first()
    if cycle is None:
        raise CycleNotFound()
    return cycle


@router.get("/cycles", response=list[CycleOut], auth=None)
@paginate(Pagination)
def cycle_list(
    request: HttpRequest, territory: str | None = None, open: bool = False
) -> QuerySet[OrderCycle]:
    """The site's territory's cycles not delivered yet (``open=true``: only those taking orders
    now), soonest first."""
    now = timezone.now()
    cycles = OrderCycle.objects.filter(
        delivery_date__gte=timezone.localdate(now), territory=api_territory(request)
    )
    if territory:
        cycles = cycles.filter(territory__slug=territory)
    if open:
        cycles = cycles.filter(opens_at__lte=now, closes_at__gt=now)
    return cycles.select_related("territory").order_by("opens_at", "pk")


@router.get("/cycles/{cycle_id}/offers", response=list[OfferOut], auth=None)
@paginate(Pagination)
def cycle_offer_list(request: HttpRequest, cycle_id: Id) -> QuerySet[Offer]:
    """What a cycle offers: price, what is left, and each variant's item price."""
    return offer_list_for_shop(cycle=_cycle(request, cycle_id)).filter(
        product__producer__is_active=True
    )


@router.get("/cycles/{cycle_id}/baskets", response=list[BasketOut], auth=None)
@paginate(Pagination)
def cycle_basket_list(request: HttpRequest, cycle_id: Id) -> QuerySet[Basket]:
    """A cycle's composed baskets with their content."""
    return basket_list_for_shop(cycle=_cycle(request, cycle_id))


@farmer_router.get("/offers", response=list[FarmerOfferOut])
@paginate(Pagination)
def my_offer_list(request: HttpRequest, cycle: Id | None = None) -> QuerySet[Offer]:
    """The offers of the producers the farmer belongs to (``cycle``: of one cycle)."""
    offers = _offers().filter(product__producer__memberships__user=request.auth)
    if cycle is not None:
        offers = offers.filter(cycle_id=cycle)
    return offers.order_by("-cycle__opens_at", "product__name", "pk")


def _one(offer_id: int) -> Offer:
    return _offers().get(pk=offer_id)


@farmer_router.post("/offers", response={201: FarmerOfferOut})
def my_offer_create(request: HttpRequest, payload: OfferCreateIn) -> Status[Offer]:
    """Offer one of your products in an open cycle (no quantity: on demand).

    Publishing the same product twice in a cycle is refused (``offer_exists``), so a replayed
    request creates nothing more. A price far from the product's usual price is refused
    (``price_unusual``) unless ``confirm_price`` is true.
    """
    offer = offer_publish(
        user=request.auth,
        product_id=payload.product_id,
        cycle_id=payload.cycle_id,
        unit_price=payload.unit_price,
        quantity_available=payload.quantity_available,
        max_per_order=payload.max_per_order,
        confirm_price=payload.confirm_price,
    )
    return Status(201, _one(offer.pk))


@farmer_router.patch("/offers/{offer_id}", response=FarmerOfferOut)
def my_offer_update(request: HttpRequest, offer_id: Id, payload: OfferUpdateIn) -> Offer:
    """Change the price and/or quantity of your offer (``quantity_available: null``: on demand).

    The quantity cannot go below what is already held or sold (``quantity_below_committed``);
    a price far from the product's usual price needs ``confirm_price`` (``price_unusual``).
    """
    sent = payload.model_fields_set
    offer = offer_update(
        user=request.auth,
        offer_id=offer_id,
        unit_price=payload.unit_price,
        quantity_available=payload.quantity_available,
        on_demand="quantity_available" in sent and payload.quantity_available is None,
        max_per_order=payload.max_per_order,
        confirm_price=payload.confirm_price,
    )
    return _one(offer.pk)
