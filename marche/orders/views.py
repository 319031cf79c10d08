"""The household's pages: the shop of the open cycle, the cart, checkout and order history.

Views stay thin: they parse the form, call one service and show its result; every refusal
of a service is a DomainError whose French message is shown as is.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marche.accounts.models import Role
from marche.cycles.models import OrderCycle
from marche.cycles.selectors import basket_list_for_shop, cycle_list_open, offer_list_for_shop
from marche.errors import DomainError
from marche.orders.models import Cart, Order, OrderLine
from marche.orders.services import (
    cart_quote,
    cart_set_item,
    order_cancel,
    order_place,
    variant_item_price,
)
from marche.payments.mannes_tender import manne_usable_for_quote
from marche.payments.methods import payment_method_list
from marche.payments.models import Payment
from marche.relays.selectors import relay_point_list_public
from marche.relays.services import pickup_slots_ensure
from marche.territories.selectors import territory_get_default

ORDERING_ROLES = {Role.HOUSEHOLD, Role.COORDINATOR}


def household_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged-in households (and coordinators, who may order for tests) only."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.role not in ORDERING_ROLES:  # type: ignore[union-attr]
            messages.error(request, _("Seuls les foyers peuvent commander avec ce compte."))
            return redirect("accounts:dashboard")
        return view(request, *args, **kwargs)

    return wrapper


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = default
    return HttpResponseRedirect(target or default)


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal((value or "").replace(",", ".").strip())
    except InvalidOperation:
        return None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def shop(request: HttpRequest) -> HttpResponse:
    """What can be ordered now: composed baskets and à la carte offers of the open cycle."""
    territory = territory_get_default()
    now = timezone.now()
    cycles = list(cycle_list_open(territory=territory, now=now)) if territory else []
    wanted = _int(request.GET.get("cycle"))
    cycle = next((c for c in cycles if c.pk == wanted), cycles[0] if cycles else None)
    context: dict[str, Any] = {"territory": territory, "cycles": cycles, "cycle": cycle}
    if cycle is not None:
        context["baskets"] = basket_list_for_shop(cycle=cycle)
        offers = list(offer_list_for_shop(cycle=cycle))
        for offer in offers:
            for variant in offer.product.active_variants:
                variant.item_price = variant_item_price(offer=offer, variant=variant)
        context["offers"] = offers
        if request.user.is_authenticated:
            cart = Cart.objects.filter(customer=request.user, cycle=cycle).first()
            context["quote"] = cart_quote(cart=cart) if cart else None
    return render(request, "orders/shop.html", context)


@require_POST
@household_required
def cart_update(request: HttpRequest) -> HttpResponse:
    """Set how many of an offer, variant or basket the cart holds (0 removes it)."""
    cycle_id = _int(request.POST.get("cycle"))
    count = _decimal(request.POST.get("count"))
    default = reverse("orders:cart", args=[cycle_id]) if cycle_id else reverse("orders:shop")
    if cycle_id is None or count is None:
        messages.error(request, _("Indiquez une quantité valide."))
        return _back(request, default)
    try:
        cart_set_item(
            customer=request.user,  # type: ignore[arg-type]
            cycle_id=cycle_id,
            count=count,
            offer_id=_int(request.POST.get("offer")),
            variant_id=_int(request.POST.get("variant")),
            basket_id=_int(request.POST.get("basket")),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Panier mis à jour."))
    return _back(request, default)


@household_required
def cart(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """The cart of a cycle with its total, then the choice of relay point, slot and payment."""
    cycle = get_object_or_404(OrderCycle, pk=cycle_id)
    cart_obj = Cart.objects.filter(customer=request.user, cycle=cycle).first()
    quote = cart_quote(cart=cart_obj) if cart_obj else None
    relays = list(relay_point_list_public(territory=cycle.territory))
    relay = next((r for r in relays if r.pk == _int(request.GET.get("relay"))), None)
    slots = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date) if relay else []
    context = {
        "cycle": cycle,
        "quote": quote,
        "relays": relays,
        "relay": relay,
        "slots": slots,
        "methods": payment_method_list(),
        "idempotency_key": uuid.uuid4().hex,
        "mannes_usable": (
            manne_usable_for_quote(customer=request.user, cycle=cycle, quote=quote)  # type: ignore[arg-type]
            if quote and quote.lines
            else None
        ),
        "missing": (
            cycle.minimum_order_amount - quote.total
            if quote and quote.total < cycle.minimum_order_amount
            else None
        ),
    }
    return render(request, "orders/cart.html", context)


@require_POST
@household_required
def checkout(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """Place the order; the idempotency key of the form makes a double submit harmless."""
    relay_id = _int(request.POST.get("relay"))
    slot_id = _int(request.POST.get("slot"))
    back = reverse("orders:cart", args=[cycle_id])
    if relay_id is None or slot_id is None:
        messages.error(request, _("Choisissez un point relais et un créneau de retrait."))
        return redirect(f"{back}?relay={relay_id or ''}")
    try:
        order, start = order_place(
            customer=request.user,  # type: ignore[arg-type]
            cycle_id=cycle_id,
            relay_point_id=relay_id,
            pickup_slot_id=slot_id,
            payment_method=request.POST.get("payment_method", ""),
            idempotency_key=request.POST.get("idempotency_key") or uuid.uuid4().hex,
            payment_options={"mannes": request.POST.get("mannes", "")},
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(f"{back}?relay={relay_id}")
    if start is not None and start.redirect_url:
        return redirect(start.redirect_url)
    messages.success(
        request, _("Merci ! Votre commande %(ref)s est enregistrée.") % {"ref": order.reference}
    )
    return redirect("orders:detail", reference=order.reference)


def _customer_orders(request: HttpRequest):  # type: ignore[no-untyped-def]
    return Order.objects.filter(customer=request.user).select_related(
        "cycle", "relay_point", "pickup_slot"
    )


@household_required
def order_list(request: HttpRequest) -> HttpResponse:
    """The household's orders, newest first."""
    return render(request, "orders/order_list.html", {"orders": _customer_orders(request)})


@household_required
def order_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """One order with its lines, basket contents, pickup and payments."""
    order = (
        _customer_orders(request)
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.filter(parent__isnull=True).prefetch_related(
                    "components"
                ),
                to_attr="top_lines",
            ),
            Prefetch("payments", queryset=Payment.objects.select_related("producer")),
        )
        .filter(reference=reference)
        .first()
    )
    if order is None:
        raise Http404
    can_cancel = order.status in {"pending", "confirmed"} and timezone.now() < order.cycle.closes_at
    manne_total = sum(
        (
            p.amount
            for p in order.payments.all()
            if p.method == "mannes" and p.status != "cancelled"
        ),
        Decimal("0"),
    )
    return render(
        request,
        "orders/order_detail.html",
        {"order": order, "can_cancel": can_cancel, "manne_total": manne_total},
    )


@require_POST
@household_required
def order_cancel_view(request: HttpRequest, reference: str) -> HttpResponse:
    """Cancel an order before the cutoff."""
    order = _customer_orders(request).filter(reference=reference).first()
    if order is None:
        raise Http404
    try:
        order_cancel(order_id=order.pk, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Commande annulée : les produits sont remis en vente."))
    return redirect("orders:detail", reference=reference)
