"""Households' API (token): cart, placing, following and cancelling orders."""

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Header, Router, Status
from ninja.pagination import paginate

from marche.accounts.api import household_auth
from marche.core.api import Pagination
from marche.core.schemas import Id
from marche.cycles.errors import CycleNotFound
from marche.cycles.selectors import cycle_for_customer
from marche.errors import DomainError
from marche.orders.errors import OrderNotFound
from marche.orders.models import Cart, Order, OrderLine
from marche.orders.schemas import CartItemIn, CartOut, OrderOut, OrderPlacedOut, OrderPlaceIn
from marche.orders.services import (
    Quote,
    cart_quote,
    cart_set_item,
    order_cancel,
    order_place,
)

router = Router(tags=["foyers"], auth=household_auth)

IDEMPOTENCY_KEY_MAX = 80


class IdempotencyKeyRequired(DomainError):
    code = "idempotency_key_required"
    default_message = _(
        "L'en-tête Idempotency-Key est obligatoire (une valeur unique par commande, "
        "80 caractères au plus) : rejouer la même requête ne créera pas deux commandes."
    )


def _cart_out(*, user: object, cycle_id: int) -> dict[str, object]:
    cart = Cart.objects.filter(customer=user, cycle_id=cycle_id).select_related("customer").first()
    quote = cart_quote(cart=cart) if cart is not None else Quote()
    return {
        "cycle_id": cycle_id,
        "lines": quote.lines,
        "total": quote.total,
        "has_estimates": quote.has_estimates,
    }


@router.get("/cart", response=CartOut)
def cart_detail(request: HttpRequest, cycle: Id) -> dict[str, object]:
    """Your cart for a cycle, priced at today's offer prices."""
    if cycle_for_customer(customer=request.auth, cycle_id=cycle) is None:
        raise CycleNotFound()
    return _cart_out(user=request.auth, cycle_id=cycle)


@router.put("/cart", response=CartOut)
def cart_item_set(request: HttpRequest, cycle: Id, payload: CartItemIn) -> dict[str, object]:
    """Set how many of an offer (or of its variant) or of a basket the cart holds; 0 removes."""
    cart_set_item(
        customer=request.auth,
        cycle_id=cycle,
        count=payload.count,
        offer_id=payload.offer_id,
        variant_id=payload.variant_id,
        basket_id=payload.basket_id,
    )
    return _cart_out(user=request.auth, cycle_id=cycle)


def _orders() -> QuerySet[Order]:
    """Orders with their relay point, slot, cycle and lines (three queries for any number)."""
    lines = OrderLine.objects.filter(parent__isnull=True).prefetch_related(
        Prefetch("components", queryset=OrderLine.objects.order_by("pk"))
    )
    return Order.objects.select_related("relay_point", "pickup_slot", "cycle").prefetch_related(
        Prefetch("lines", queryset=lines.order_by("pk"), to_attr="top_lines")
    )


def _my_order(request: HttpRequest, reference: str) -> Order:
    order = _orders().filter(customer=request.auth, reference=reference).first()
    if order is None:
        raise OrderNotFound()
    return order


@router.post("/orders", response={200: OrderPlacedOut, 201: OrderPlacedOut})
def order_create(
    request: HttpRequest,
    payload: OrderPlaceIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description=(
            "Obligatoire (sinon ``idempotency_key_required``) : une valeur unique par commande, "
            f"{IDEMPOTENCY_KEY_MAX} caractères au plus ; la rejouer renvoie la même commande."
        ),
    ),
) -> Status[dict[str, object]]:
    """Order your cart: hold the stock, book the pickup slot, start the payment.

    The ``Idempotency-Key`` header is required: replaying a request with the same key returns
    the first order (status 200, ``replayed: true``) and creates nothing.
    """
    key = (idempotency_key or "").strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise IdempotencyKeyRequired()
    order, start = order_place(
        customer=request.auth,
        cycle_id=payload.cycle_id,
        relay_point_id=payload.relay_point_id,
        pickup_slot_id=payload.pickup_slot_id,
        payment_method=payload.payment_method,
        payment_options=payload.payment_options,
        idempotency_key=key,
    )
    placed = {
        "order": _orders().get(pk=order.pk),
        "payment_redirect_url": start.redirect_url if start is not None else None,
        "replayed": start is None,
    }
    return Status(201 if start is not None else 200, placed)


@router.get("/orders", response=list[OrderOut])
@paginate(Pagination)
def order_list(request: HttpRequest) -> QuerySet[Order]:
    """Your orders, newest first."""
    return _orders().filter(customer=request.auth).order_by("-created_at", "-pk")


@router.get("/orders/{reference}", response=OrderOut)
def order_detail(request: HttpRequest, reference: str) -> Order:
    """One of your orders."""
    return _my_order(request, reference)


@router.post("/orders/{reference}/cancel", response=OrderOut)
def order_cancel_view(request: HttpRequest, reference: str) -> Order:
    """Cancel your order before the cycle closes: the stock and the pickup room go back."""
    order = _my_order(request, reference)
    order_cancel(order_id=order.pk, by=request.auth)
    return _my_order(request, reference)
