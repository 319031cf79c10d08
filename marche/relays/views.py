"""The relay keeper's pages: the orders to hand over at their relay point, and "Remis".

Who may open them: the relay point's keepers (``RelayPoint.keepers``), the coordinators of
its territory, superusers; anyone else gets 403, except that another territory's relay point
is not found (404), as if it did not exist. Views parse, check, call one selector or
service and render; a refused handover goes back to the page with its French message
(``DomainErrorMiddleware``) and changes nothing.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from marche.core.middleware import back_url
from marche.core.numbers import InvalidId, parse_id
from marche.money import format_money
from marche.orders.models import Order, OrderStatus
from marche.orders.selectors import user_is_coordinator
from marche.payments.models import PickupMeans
from marche.relays.errors import BasketPresenceUnconfirmed, PickupCycleNotFound
from marche.relays.models import RelayPoint
from marche.relays.selectors import (
    SEARCH_MAX_LENGTH,
    clean_text,
    pickup_cycle_current,
    pickup_cycles_for_relay,
    relay_delivery_status,
    relay_pickup_orders,
    relay_points_by_slug,
    relay_points_for_keeper,
    user_runs_relay_pickups,
)
from marche.relays.services import relay_order_hand_over


def pickup_url(relay_point: RelayPoint, *, qualified: bool = False, **params: object) -> str:
    """The address of a relay point's pickup page, with its query parameters.

    ``qualified`` adds the territory, for a user who runs two relay points of the same slug.
    """
    query = {key: value for key, value in params.items() if value not in (None, "")}
    if qualified:
        query = {"territoire": relay_point.territory.slug, **query}
    url = reverse("relays:pickup", kwargs={"slug": relay_point.slug})
    return f"{url}?{urlencode(query)}" if query else url


def _relay_or_refusal(request: HttpRequest, slug: str) -> RelayPoint | HttpResponse:
    """The relay point the address names, a page to choose between two, or 403/404."""
    if not user_runs_relay_pickups(user=request.user):
        raise PermissionDenied
    territory = clean_text(request.POST.get("territoire") or request.GET.get("territoire"), 60)
    exists, runs = relay_points_by_slug(user=request.user, slug=slug, territory_slug=territory)
    if not exists:
        raise Http404
    if not runs:
        raise PermissionDenied
    if len(runs) == 1:
        return runs[0]
    if request.method != "GET":
        raise Http404
    choices = [(relay, pickup_url(relay, qualified=True)) for relay in runs]
    return render(request, "relays/choose.html", {"choices": choices})


@login_required
@require_GET
def relay_index(request: HttpRequest) -> HttpResponse:
    """The relay points whose pickups the user runs; a keeper of only one goes straight there."""
    relays = list(relay_points_for_keeper(user=request.user))
    if not relays:
        raise PermissionDenied
    slugs = [relay.slug for relay in relays]
    if len(relays) == 1 and not request.user.is_superuser:  # type: ignore[union-attr]
        return redirect(pickup_url(relays[0]))
    rows = [(relay, pickup_url(relay, qualified=slugs.count(relay.slug) > 1)) for relay in relays]
    return render(request, "relays/index.html", {"rows": rows})


@login_required
@require_GET
def relay_pickup(request: HttpRequest, slug: str) -> HttpResponse:
    """The orders of the current pickup (or a chosen recent cycle), searchable, to hand over.

    ``commande`` (from a scanned QR code) highlights one order and opens its cycle.
    """
    relay = _relay_or_refusal(request, slug)
    if isinstance(relay, HttpResponse):
        return relay
    today = timezone.localdate()
    cycles = pickup_cycles_for_relay(relay_point=relay, today=today)
    highlight = clean_text(request.GET.get("commande"), 20)
    cycle = None
    if request.GET.get("cycle"):
        try:
            cycle_id = parse_id(request.GET["cycle"])
        except InvalidId:
            raise PickupCycleNotFound() from None
        cycle = next((c for c in cycles if c.pk == cycle_id), None)
        if cycle is None:
            raise PickupCycleNotFound()
    elif highlight:
        order_cycle = (
            Order.objects.filter(relay_point=relay, reference=highlight)
            .values_list("cycle_id", flat=True)
            .first()
        )
        cycle = next((c for c in cycles if c.pk == order_cycle), None)
    current = pickup_cycle_current(cycles=cycles, today=today)
    if cycle is None:
        cycle = current
    search = request.GET.get("q", "")
    pickup = (
        relay_pickup_orders(relay_point=relay, cycle=cycle, search=search)
        if cycle is not None
        else None
    )
    orders = list(pickup.orders) if pickup else []
    scanned = next((order for order in orders if order.reference == highlight), None)
    if scanned is not None:  # the scanned order first, whatever the sort
        orders = [scanned, *(order for order in orders if order is not scanned)]
    # the territory the address named, carried by the page's forms; ``territory`` in a
    # template is the header's Territory, not this slug
    territory_slug = clean_text(request.GET.get("territoire"), 60)
    return render(
        request,
        "relays/pickup.html",
        {
            "relay": relay,
            "cycles": cycles,
            "cycle": cycle,
            "is_current": cycle is not None and cycle == current,
            "pickup": pickup,
            "orders": orders,
            "scanned": scanned,
            "search": pickup.search if pickup else "",
            "search_max_length": SEARCH_MAX_LENGTH,
            "highlight": highlight,
            "territory_slug": territory_slug,
            "means_choices": PickupMeans.choices,
            "still_open": cycle is not None and timezone.now() < cycle.closes_at,
            "delivery_pending": cycle is not None
            and relay_delivery_status(relay_point=relay, cycle=cycle) == "planned",
            "weigh_url": (
                reverse("preparation:packing_list", args=[cycle.pk, relay.pk])
                if cycle is not None and user_is_coordinator(user=request.user)
                else ""
            ),
        },
    )


@login_required
@require_POST
def relay_hand_over(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Remis": record that the household took its order (and paid, if paying at pickup)."""
    relay = _relay_or_refusal(request, slug)
    assert isinstance(relay, RelayPoint)  # a POST never gets the choice page
    _check_basket_presence(request, relay)
    done = relay_order_hand_over(
        relay_point=relay,
        reference=request.POST.get("order", ""),
        means=request.POST.get("means"),
        by=request.user,  # type: ignore[arg-type]
    )
    reference = done.order.reference
    if done.already:
        messages.info(request, _("Commande %(ref)s : déjà remise.") % {"ref": reference})
    elif done.cashed is not None:
        messages.success(
            request,
            _("Commande %(ref)s remise ; %(amount)s encaissés en %(means)s.")
            % {
                "ref": reference,
                "amount": format_money(done.cashed.amount),
                "means": done.cashed.get_means_display(),
            },
        )
    else:
        messages.success(request, _("Commande %(ref)s remise.") % {"ref": reference})
    default = pickup_url(relay, qualified=bool(request.POST.get("territoire")))
    return HttpResponseRedirect(back_url(request, default=default))


def _check_basket_presence(request: HttpRequest, relay: RelayPoint) -> None:
    """Refuse a handover, changing nothing, while a published round has not checked the
    relay point's delivery off, unless the keeper ticked "Le panier est bien là"."""
    if request.POST.get("present") == "1":
        return
    order = (
        Order.objects.select_related("cycle")
        .filter(relay_point=relay, reference=clean_text(request.POST.get("order"), 20))
        .first()
    )
    # An unknown or already handed-over order gets the service's own answer.
    if order is None or order.status == OrderStatus.COLLECTED:
        return
    if relay_delivery_status(relay_point=relay, cycle=order.cycle) == "planned":
        raise BasketPresenceUnconfirmed()


@login_required
@require_GET
def order_qr_open(request: HttpRequest, reference: str) -> HttpResponse:
    """Where an order's QR code leads: the order on its relay point's page for who runs it.

    The household that placed it goes to its own order page; anyone else gets the same 404
    whether the order exists or not, so the address reveals nothing.
    """
    order = (
        Order.objects.select_related("relay_point__territory")
        .filter(reference=clean_text(reference, 20))
        .first()
    )
    if order is None:
        raise Http404
    relay = order.relay_point
    runs = relay_points_for_keeper(user=request.user)
    if runs.filter(pk=relay.pk).exists():
        qualified = runs.filter(slug=relay.slug).count() > 1
        url = pickup_url(relay, qualified=qualified, commande=order.reference)
        return redirect(f"{url}#commande-{order.reference}")
    if order.customer_id == request.user.pk:
        return redirect("orders:detail", reference=order.reference)
    raise Http404
