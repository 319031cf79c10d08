"""The household's pages: the shop of the open cycle, the cart, checkout and order history.

Views stay thin: they parse the form with the one number parser (``marche.core.numbers``),
call one service and show its result. A refusal is a DomainError, left to
``DomainErrorMiddleware``: the household goes back to the form (its ``next`` field) with the
French message as an error, and nothing was changed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from marche.accounts.models import Role, User
from marche.accounts.selectors import request_territory
from marche.core.middleware import back_url
from marche.core.numbers import parse_decimal, parse_id, parse_id_or_none
from marche.cycles.selectors import (
    basket_list_for_shop,
    cycle_for_customer,
    cycle_list_open,
    offer_list_for_shop,
)
from marche.errors import DomainError
from marche.orders.display import format_quantity, quantity_label
from marche.orders.errors import CheckoutFormInvalid
from marche.orders.models import Cart, CartItem, Order, OrderLine
from marche.orders.selectors import order_list_for_customer, order_payment_parts
from marche.orders.services import (
    basket_unavailable_reason,
    cart_add_item,
    cart_quote,
    cart_remove_item,
    cart_set_item,
    order_cancel,
    order_place,
    variant_item_price,
)
from marche.payments.mannes_tender import manne_usable_for_quote
from marche.payments.methods import payment_method_list
from marche.payments.models import Payment
from marche.relays.selectors import order_delivery_moved, relay_point_list_public
from marche.relays.services import pickup_slots_ensure

ORDERING_ROLES = {Role.HOUSEHOLD, Role.COORDINATOR}
# Where an add made while logged out waits for the login (see pending_add_apply).
PENDING_ADD = "orders.pending_add"
# The checkout form sends a uuid4 hex; the order keeps "<customer id>:<key>" in 120 characters.
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def post_or_shop(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A form's target: a GET (a login redirecting back, a bookmark) goes to the shop, no 405."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return redirect("orders:shop")
        return view(request, *args, **kwargs)

    return wrapper


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


def _optional_id(value: object) -> int | None:
    """An id field that may be left empty; anything else must be a valid id."""
    return None if value in (None, "") else parse_id(value)


@dataclass(frozen=True, slots=True)
class CartEntry:
    """What an "Ajouter" or "Modifier" form names: a cycle, an offer or basket, a count."""

    cycle_id: int
    count: Decimal
    offer_id: int | None = None
    variant_id: int | None = None
    basket_id: int | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> CartEntry:
        """Read the form; the service then holds the count to its unit (whole for pieces)."""
        return cls(
            cycle_id=parse_id(data.get("cycle")),
            # The most lenient kind (weights, to the gram); pieces are refused 1,5 by the service.
            count=parse_decimal(data.get("count"), "weight"),
            offer_id=_optional_id(data.get("offer")),
            variant_id=_optional_id(data.get("variant")),
            basket_id=_optional_id(data.get("basket")),
        )

    def as_form(self) -> dict[str, str]:
        """The entry as the form sent it, to keep in the session and parse again later."""
        fields = {
            "cycle": self.cycle_id,
            "count": self.count,
            "offer": self.offer_id,
            "variant": self.variant_id,
            "basket": self.basket_id,
        }
        return {name: str(value) for name, value in fields.items() if value is not None}

    def service_kwargs(self) -> dict[str, Any]:
        return asdict(self)

    def shop_url(self) -> str:
        """The shop of the cycle, scrolled to the card of what was added."""
        anchor = f"panier-{self.basket_id}" if self.basket_id else f"offre-{self.offer_id}"
        return f"{reverse('orders:shop')}?cycle={self.cycle_id}#{anchor}"


def _added_message(item: CartItem, added: Decimal) -> str:
    if item.basket is not None:
        what = f"{format_quantity(added)} × {item.basket.name}"
    elif item.variant is not None:
        assert item.offer is not None
        what = f"{format_quantity(added)} × {item.offer.product.name} — {item.variant.name}"
    else:
        assert item.offer is not None
        what = f"{quantity_label(added, item.offer.product.unit)} {item.offer.product.name}"
    return _("Ajouté à votre panier : %(what)s.") % {"what": what}


# --- shop and cart --------------------------------------------------------------------------


def shop(request: HttpRequest) -> HttpResponse:
    """What can be ordered now: composed baskets and à la carte offers of the open cycle."""
    territory = request_territory(request=request)
    now = timezone.now()
    cycles = list(cycle_list_open(territory=territory, now=now)) if territory else []
    wanted = parse_id_or_none(request.GET.get("cycle"))
    cycle = next((c for c in cycles if c.pk == wanted), cycles[0] if cycles else None)
    context: dict[str, Any] = {"territory": territory, "cycles": cycles, "cycle": cycle}
    if cycle is None:
        return render(request, "orders/shop.html", context)
    in_cart: dict[tuple[str, int | None, int | None], Decimal] = {}
    if request.user.is_authenticated:
        cart = Cart.objects.filter(customer=request.user, cycle=cycle).first()
        if cart is not None:
            context["quote"] = cart_quote(cart=cart, lenient=True)
            for item in cart.items.all():
                if item.basket_id is not None:
                    in_cart[("basket", item.basket_id, None)] = item.count
                else:
                    in_cart[("offer", item.offer_id, item.variant_id)] = item.count
    baskets = list(basket_list_for_shop(cycle=cycle))
    for basket in baskets:
        basket.in_cart = in_cart.get(("basket", basket.pk, None))
        basket.unavailable = basket_unavailable_reason(basket=basket)
    offers = list(offer_list_for_shop(cycle=cycle))
    for offer in offers:
        offer.in_cart = in_cart.get(("offer", offer.pk, None))
        for variant in offer.product.active_variants:
            variant.item_price = variant_item_price(offer=offer, variant=variant)
            variant.in_cart = in_cart.get(("offer", offer.pk, variant.pk))
    context.update(baskets=baskets, offers=offers)
    return render(request, "orders/shop.html", context)


@post_or_shop
def cart_add(request: HttpRequest) -> HttpResponse:
    """Add to the cart what the card names ("Ajouter"), then back to that card.

    Logged out, the add waits in the session and the household is sent to log in; the login
    brings it back to the card, with the add applied (``pending_add_apply``). A GET (a login
    page redirecting here, a bookmark) goes to the shop instead of a blank 405.
    """
    entry = CartEntry.parse(request.POST)
    if not request.user.is_authenticated:
        request.session[PENDING_ADD] = entry.as_form()
        messages.info(
            request, _("Connectez-vous : votre article sera ajouté au panier dès la connexion.")
        )
        return redirect_to_login(entry.shop_url())
    if request.user.role not in ORDERING_ROLES:  # type: ignore[union-attr]
        messages.error(request, _("Seuls les foyers peuvent commander avec ce compte."))
        return redirect(entry.shop_url())
    item = cart_add_item(customer=request.user, **entry.service_kwargs())  # type: ignore[arg-type]
    messages.success(request, _added_message(item, entry.count))
    return redirect(entry.shop_url())


def pending_add_apply(request: HttpRequest, user: object) -> None:
    """Apply the add a household made before logging in (kept in its session), once.

    Called when a user logs in. A refusal (sold out meanwhile, cycle closed) becomes a
    message: logging in never fails because of the cart.
    """
    pending = request.session.pop(PENDING_ADD, None)
    if not isinstance(pending, dict) or not isinstance(user, User):
        return
    if user.role not in ORDERING_ROLES:
        messages.warning(
            request,
            _("Seuls les foyers peuvent commander avec ce compte."),
            fail_silently=True,
        )
        return
    try:
        entry = CartEntry.parse(pending)
        item = cart_add_item(customer=user, **entry.service_kwargs())
    except DomainError as error:
        messages.error(request, error.message, fail_silently=True)
    else:
        messages.success(request, _added_message(item, entry.count), fail_silently=True)


def pending_add_on_login(
    sender: object, request: HttpRequest | None, user: object, **kwargs: Any
) -> None:
    """``user_logged_in`` receiver: hands over to :func:`pending_add_apply`."""
    if request is not None and hasattr(request, "session"):
        pending_add_apply(request, user)


@post_or_shop
@household_required
def cart_update(request: HttpRequest) -> HttpResponse:
    """Set how many of an offer, variant or basket the cart holds ("Modifier"; 0 removes it)."""
    entry = CartEntry.parse(request.POST)
    cart_set_item(customer=request.user, **entry.service_kwargs())  # type: ignore[arg-type]
    messages.success(request, _("Panier mis à jour."))
    return redirect(back_url(request, reverse("orders:cart", args=[entry.cycle_id])))


@post_or_shop
@household_required
def cart_remove(request: HttpRequest) -> HttpResponse:
    """Take a line out of the cart ("Retirer"), even one whose stored count is refused now."""
    item_id = parse_id(request.POST.get("item"))
    if cart_remove_item(customer=request.user, item_id=item_id):  # type: ignore[arg-type]
        messages.success(request, _("Article retiré du panier."))
    return redirect(back_url(request, reverse("orders:shop")))


def _relay_error(request: HttpRequest, *, relay_found: bool) -> str:
    """Why "Voir les créneaux" shows no slots: no relay point ticked, or one not offered.

    A form sent without a ticked radio carries no ``relay`` at all, so the button's own
    ``voir`` field tells a sent form from a first visit of the cart.
    """
    if relay_found:
        return ""
    if request.GET.get("relay"):
        return _(
            "Ce point relais n'est pas proposé pour ce cycle : choisissez-en un dans la liste."
        )
    if request.GET.get("voir") == "creneaux":
        return _("Choisissez un point relais pour voir ses créneaux de retrait.")
    return ""


@household_required
def cart(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """The cart of a cycle with its total, then the choice of relay point, slot and payment.

    Another territory's cycle is not found: its relay points are not offered.
    """
    cycle = cycle_for_customer(customer=request.user, cycle_id=cycle_id)
    if cycle is None:
        raise Http404
    cart_obj = Cart.objects.filter(customer=request.user, cycle=cycle).first()
    quote = cart_quote(cart=cart_obj, lenient=True) if cart_obj else None
    relays = list(relay_point_list_public(territory=cycle.territory))
    relay_id = parse_id_or_none(request.GET.get("relay"))
    relay = next((r for r in relays if r.pk == relay_id), None)
    slots = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date) if relay else []
    context = {
        "cycle": cycle,
        "quote": quote,
        "relays": relays,
        "relay": relay,
        "relay_error": _relay_error(request, relay_found=relay is not None),
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
            if quote and quote.lines and quote.total < cycle.minimum_order_amount
            else None
        ),
    }
    return render(request, "orders/cart.html", context)


@household_required
def checkout(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """Place the order; the idempotency key of the form makes a double submit harmless.

    A GET (the login page sending back here after a session expired) shows the cart.
    """
    if request.method != "POST":
        return redirect("orders:cart", cycle_id=cycle_id)
    relay_id = _optional_id(request.POST.get("relay"))
    slot_id = _optional_id(request.POST.get("slot"))
    back = reverse("orders:cart", args=[cycle_id])
    if relay_id is None or slot_id is None:
        messages.error(request, _("Choisissez un point relais et un créneau de retrait."))
        return redirect(f"{back}?relay={relay_id or ''}")
    key = request.POST.get("idempotency_key") or uuid.uuid4().hex
    if not IDEMPOTENCY_KEY.match(key):
        raise CheckoutFormInvalid()
    order, start = order_place(
        customer=request.user,  # type: ignore[arg-type]
        cycle_id=cycle_id,
        relay_point_id=relay_id,
        pickup_slot_id=slot_id,
        payment_method=request.POST.get("payment_method", ""),
        idempotency_key=key,
        payment_options={"mannes": request.POST.get("mannes", "")},
    )
    if start is not None and start.redirect_url:
        return redirect(start.redirect_url)
    messages.success(
        request, _("Merci ! Votre commande %(ref)s est enregistrée.") % {"ref": order.reference}
    )
    return redirect("orders:detail", reference=order.reference)


# --- orders ---------------------------------------------------------------------------------


def _can_cancel(order: Order) -> bool:
    return order.status in {"pending", "confirmed"} and timezone.now() < order.cycle.closes_at


def _order_with_lines(request: HttpRequest, reference: str) -> Order:
    order = (
        order_list_for_customer(customer=request.user)  # type: ignore[arg-type]
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
    return order


@household_required
def order_list(request: HttpRequest) -> HttpResponse:
    """The household's orders, newest first."""
    orders = order_list_for_customer(customer=request.user)  # type: ignore[arg-type]
    return render(request, "orders/order_list.html", {"orders": orders})


@household_required
def order_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """One order with its lines, basket contents, pickup and payments."""
    order = _order_with_lines(request, reference)
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "can_cancel": _can_cancel(order),
            "parts": order_payment_parts(order=order),
            "delivery_moved": order_delivery_moved(order=order),
        },
    )


@household_required
def order_cancel_view(request: HttpRequest, reference: str) -> HttpResponse:
    """Cancel an order before the cutoff: GET asks for confirmation, POST cancels."""
    if request.method == "POST":
        order = order_list_for_customer(customer=request.user).filter(reference=reference).first()  # type: ignore[arg-type]
        if order is None:
            raise Http404
        order_cancel(order_id=order.pk, by=request.user)  # type: ignore[arg-type]
        messages.success(request, _("Commande annulée : les produits sont remis en vente."))
        return redirect("orders:detail", reference=reference)
    order = _order_with_lines(request, reference)
    if not _can_cancel(order):
        messages.error(request, _("Cette commande ne peut plus être annulée."))
        return redirect("orders:detail", reference=reference)
    return render(request, "orders/order_cancel.html", {"order": order})
