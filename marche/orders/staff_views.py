"""Preparation pages after the cutoff: pick lists, packing lists, weighing and pickup.

Who sees what: coordinators see everything of their territory; a farmer sees the pick lists
of their producers (a collective's members also see its member farms) and weighs their
lines there; drivers see packing lists and record pickups. Views only parse, check the
permission, call one selector or service and render.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marche.core.middleware import back_url
from marche.core.numbers import InvalidNumber, parse_decimal
from marche.cycles.models import OrderCycle
from marche.errors import DomainError
from marche.orders import exports
from marche.orders.packing import (
    MAX_WEIGHT_KG,
    InvalidWeight,
    order_line_mark_missing,
    order_line_weigh,
    user_may_weigh,
)
from marche.orders.selectors import (
    cycles_for_preparation,
    packing_list_for_relay,
    pick_list_for_producer,
    producers_for_cycle,
    producers_for_user,
    relay_points_for_cycle,
    user_can_see_packing_lists,
    user_can_see_pick_list,
    user_can_see_territory,
    user_is_coordinator,
    weighing_lines_for_producer,
)
from marche.payments.models import PickupMeans
from marche.payments.services import order_collect, user_can_record_pickup
from marche.producers.models import Producer
from marche.relays.models import RelayPoint

PDF = "application/pdf"
CSV = "text/csv; charset=utf-8"


def _staff_cycle(request: HttpRequest, cycle_id: int) -> OrderCycle:
    cycle = get_object_or_404(OrderCycle, pk=cycle_id)
    if not user_can_see_territory(user=request.user, territory_id=cycle.territory_id):
        raise Http404
    return cycle


def _can_prepare(request: HttpRequest) -> bool:
    user = request.user
    return user_can_see_packing_lists(user=user) or producers_for_user(user=user).exists()


def _download(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def preparation_index(request: HttpRequest) -> HttpResponse:
    """The latest cycles, to open their preparation."""
    if not _can_prepare(request):
        raise PermissionDenied
    return render(
        request,
        "orders/staff/index.html",
        {"cycles": cycles_for_preparation(user=request.user)},
    )


@login_required
def preparation_cycle(request: HttpRequest, cycle_id: int) -> HttpResponse:
    """A cycle's pick lists and packing lists that the user may open.

    Each section shows only to who works with it: pick lists to coordinators and farmers,
    packing lists to coordinators and drivers. A driver sees no pick list section at all,
    rather than one saying the cycle has no offers.
    """
    if not _can_prepare(request):
        raise PermissionDenied
    user = request.user
    cycle = _staff_cycle(request, cycle_id)
    sees_packing = user_can_see_packing_lists(user=user)
    coordinator = user_is_coordinator(user=user)
    sees_picking = coordinator or producers_for_user(user=user).exists()
    return render(
        request,
        "orders/staff/cycle.html",
        {
            "cycle": cycle,
            "still_open": timezone.now() < cycle.closes_at,
            "sees_picking": sees_picking,
            "sees_packing": sees_packing,
            "is_coordinator": coordinator,
            "producers": producers_for_cycle(cycle=cycle, user=user) if sees_picking else [],
            "relays": relay_points_for_cycle(cycle=cycle) if sees_packing else [],
        },
    )


def _pick_list(request: HttpRequest, cycle_id: int, producer_id: int):
    cycle = _staff_cycle(request, cycle_id)
    producer = get_object_or_404(Producer, pk=producer_id, territory_id=cycle.territory_id)
    if not user_can_see_pick_list(user=request.user, producer=producer):
        raise PermissionDenied
    return pick_list_for_producer(producer=producer, cycle=cycle)


@login_required
def pick_list_page(request: HttpRequest, cycle_id: int, producer_id: int) -> HttpResponse:
    """A producer's pick list, and its variable-weight lines to weigh."""
    pick_list = _pick_list(request, cycle_id, producer_id)
    return render(
        request,
        "orders/staff/pick_list.html",
        {
            "pick_list": pick_list,
            "cycle": pick_list.cycle,
            "still_open": timezone.now() < pick_list.cycle.closes_at,
            "producer": pick_list.producer,
            "weighing": weighing_lines_for_producer(
                producer=pick_list.producer, cycle=pick_list.cycle
            ),
        },
    )


@login_required
def pick_list_csv(request: HttpRequest, cycle_id: int, producer_id: int) -> HttpResponse:
    pick_list = _pick_list(request, cycle_id, producer_id)
    name = f"cueillette-{pick_list.cycle.delivery_date:%Y%m%d}-{pick_list.producer.slug}.csv"
    return _download(exports.pick_list_csv(pick_list), content_type=CSV, filename=name)


@login_required
def pick_list_pdf(request: HttpRequest, cycle_id: int, producer_id: int) -> HttpResponse:
    pick_list = _pick_list(request, cycle_id, producer_id)
    name = f"cueillette-{pick_list.cycle.delivery_date:%Y%m%d}-{pick_list.producer.slug}.pdf"
    return _download(exports.pick_list_pdf(pick_list), content_type=PDF, filename=name)


def _packing_list(request: HttpRequest, cycle_id: int, relay_id: int):
    if not user_can_see_packing_lists(user=request.user):
        raise PermissionDenied
    cycle = _staff_cycle(request, cycle_id)
    relay = get_object_or_404(RelayPoint, pk=relay_id, territory_id=cycle.territory_id)
    return packing_list_for_relay(relay_point=relay, cycle=cycle)


@login_required
def packing_list_page(request: HttpRequest, cycle_id: int, relay_id: int) -> HttpResponse:
    """A relay point's baskets: weigh what is left, record pickups."""
    packing_list = _packing_list(request, cycle_id, relay_id)
    return render(
        request,
        "orders/staff/packing_list.html",
        {
            "packing_list": packing_list,
            "cycle": packing_list.cycle,
            "still_open": timezone.now() < packing_list.cycle.closes_at,
            "relay": packing_list.relay_point,
            "can_weigh": user_is_coordinator(user=request.user),
            "can_collect": user_can_record_pickup(user=request.user),
            "means_choices": PickupMeans.choices,
        },
    )


@login_required
def packing_list_csv(request: HttpRequest, cycle_id: int, relay_id: int) -> HttpResponse:
    packing_list = _packing_list(request, cycle_id, relay_id)
    cycle, relay = packing_list.cycle, packing_list.relay_point
    name = f"colisage-{cycle.delivery_date:%Y%m%d}-{relay.slug}.csv"
    return _download(exports.packing_list_csv(packing_list), content_type=CSV, filename=name)


@login_required
def packing_list_pdf(request: HttpRequest, cycle_id: int, relay_id: int) -> HttpResponse:
    packing_list = _packing_list(request, cycle_id, relay_id)
    cycle, relay = packing_list.cycle, packing_list.relay_point
    name = f"colisage-{cycle.delivery_date:%Y%m%d}-{relay.slug}.pdf"
    return _download(exports.packing_list_pdf(packing_list), content_type=PDF, filename=name)


def _refusals_as_pages(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Not allowed (403) and not found (404) answer with the error page and that status.

    Going back to the list cannot fix those, and a 403 for a line that is not one's own
    must look like the 403 for a line that does not exist. Other refusals (a weight to
    correct, a pickup too early) go back to the list with their message, through
    DomainErrorMiddleware.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            if error.status == 403:
                raise PermissionDenied from error
            if error.status == 404:
                raise Http404 from error
            raise

    return wrapped


def _back(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(back_url(request, default=reverse("preparation:index")))


def _parse_weight(raw: str) -> Decimal:
    """A weighed weight in kg, as typed (comma or dot, to the gram), by the one parser."""
    try:
        return parse_decimal(raw, "weight", maximum=MAX_WEIGHT_KG)
    except InvalidNumber:
        raise InvalidWeight() from None


@login_required
@require_POST
@_refusals_as_pages
def line_weigh(request: HttpRequest, line_id: int) -> HttpResponse:
    """Enter a weighed weight (kg, comma or point) for a variable-weight line.

    Who may weigh is checked first: someone who weighs nothing gets 403 before the line is
    looked up or its order locked; a line one may not weigh and a line that does not exist
    get the same 403 page.
    """
    if not user_may_weigh(user=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    weight = _parse_weight(request.POST.get("weight_kg", ""))
    line = order_line_weigh(line_id=line_id, weight_kg=weight, by=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        _("%(name)s : %(weight)s kg, %(total)s €.")
        % {
            "name": line.name,
            "weight": exports.fr_quantity(line.weight_kg),
            "total": exports.fr_money(line.total),
        },
    )
    return _back(request)


@login_required
@require_POST
@_refusals_as_pages
def line_missing(request: HttpRequest, line_id: int) -> HttpResponse:
    """Declare an à la carte line missing at packing: off the order, refunded if paid."""
    if not user_may_weigh(user=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    line = order_line_mark_missing(line_id=line_id, by=request.user)  # type: ignore[arg-type]
    messages.success(request, _("%(name)s : retiré de la commande.") % {"name": line.name})
    return _back(request)


@login_required
@require_POST
@_refusals_as_pages
def order_pickup(request: HttpRequest, order_id: int) -> HttpResponse:
    """Record that a basket was collected and, if due, paid cash or by cheque."""
    if not user_can_record_pickup(user=request.user):  # type: ignore[arg-type]
        raise PermissionDenied
    order = order_collect(
        order_id=order_id,
        means=request.POST.get("means") or None,
        by=request.user,  # type: ignore[arg-type]
    )
    messages.success(request, _("Commande %(ref)s retirée.") % {"ref": order.reference})
    return _back(request)
