"""Canteen managers' API, ``/api/v1/cantines/``: offers, orders, standing orders, skipped weeks.

A manager's pages may call it with the session cookie and the CSRF token header
(``X-CSRFToken``), like a form post; a program uses the manager's API token instead
(``Authorization: Bearer``). A manager only ever sees the canteens they manage: any other
canteen is answered 404, as if it did not exist. Refusals use the API's error shape, with
the services' stable codes (``below_wholesale_minimum``, ``insufficient_stock``…).
"""

from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Router, Status
from ninja.pagination import paginate
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from marche.accounts.api import TokenAuth
from marche.accounts.errors import RoleForbidden
from marche.accounts.models import Role, User
from marche.canteens import selectors, services
from marche.canteens.errors import (
    CanteenNotFound,
    CanteenOrderNotFound,
    CycleClosed,
    StandingOrderNotFound,
)
from marche.canteens.models import Canteen, CanteenOrder
from marche.canteens.schemas import (
    CanteenOfferOut,
    CanteenOrderIn,
    CanteenOrderOut,
    CanteenOut,
    CycleChoiceOut,
    SkippedWeekIn,
    SkippedWeekOut,
    StandingOrderIn,
    StandingOrderOut,
)
from marche.core.api import Pagination
from marche.core.schemas import Id
from marche.cycles.errors import CycleNotFound
from marche.cycles.models import Offer, OrderCycle
from marche.errors import DomainError


class CsrfFailed(DomainError):
    code = "csrf_failed"
    status = 403
    default_message = gettext_lazy("Jeton CSRF absent ou périmé : rechargez la page.")


def _check_role(user: User) -> None:
    if user.role != Role.CANTEEN_MANAGER and not user.is_superuser:
        raise RoleForbidden(_("Cette partie de l'API est réservée aux gestionnaires de cantine."))


class CanteenSessionAuth(APIKeyCookie):
    """The site's session of a logged-in canteen manager, with Django's CSRF check.

    A request without a logged-in session goes on to the token scheme (401 without one).
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise CsrfFailed()
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if key is None or user is None or not user.is_authenticated:
            return None
        _check_role(user)
        return user


class CanteenTokenAuth(TokenAuth):
    """An API token of a canteen manager."""

    def check(self, user: User) -> None:
        _check_role(user)


router = Router(tags=["cantines"], auth=[CanteenSessionAuth(), CanteenTokenAuth()])


def _canteen(request: HttpRequest, canteen_id: int) -> Canteen:
    canteen = selectors.canteens_managed(user=request.auth).filter(pk=canteen_id).first()
    if canteen is None:
        raise CanteenNotFound()
    return canteen


def _cycle(canteen: Canteen, cycle_id: int) -> OrderCycle:
    cycle = OrderCycle.objects.filter(pk=cycle_id, territory_id=canteen.territory_id).first()
    if cycle is None:
        raise CycleNotFound()
    return cycle


def _order(canteen: Canteen, reference: str) -> CanteenOrder:
    order = selectors.canteen_orders(canteen=canteen).filter(reference=reference).first()
    if order is None:
        raise CanteenOrderNotFound()
    return order


@router.get("/", response=list[CanteenOut])
def canteen_list(request: HttpRequest) -> QuerySet[Canteen]:
    """The canteens you manage."""
    return selectors.canteens_managed(user=request.auth)


@router.get("/{canteen_id}/cycles", response=list[CycleChoiceOut])
def canteen_cycle_list(request: HttpRequest, canteen_id: Id) -> list[Any]:
    """The cycles open now, each saying whether the canteen can be delivered and why not."""
    return selectors.canteen_cycles(canteen=_canteen(request, canteen_id))


@router.get("/{canteen_id}/cycles/{cycle_id}/offers", response=list[CanteenOfferOut])
def canteen_offer_list(request: HttpRequest, canteen_id: Id, cycle_id: Id) -> list[Offer]:
    """The offers of an open cycle sold to canteens, at wholesale prices excluding VAT."""
    canteen = _canteen(request, canteen_id)
    cycle = _cycle(canteen, cycle_id)
    if not cycle.is_open(timezone.now()):
        raise CycleClosed()
    return selectors.canteen_offers(canteen=canteen, cycle=cycle)


@router.get("/{canteen_id}/orders", response=list[CanteenOrderOut])
@paginate(Pagination)
def canteen_order_list(request: HttpRequest, canteen_id: Id) -> QuerySet[CanteenOrder]:
    """The canteen's orders, newest delivery first, with their lines and producers' answers."""
    return selectors.canteen_orders(canteen=_canteen(request, canteen_id))


@router.post("/{canteen_id}/orders", response={200: CanteenOrderOut, 201: CanteenOrderOut})
def canteen_order_place(
    request: HttpRequest, canteen_id: Id, payload: CanteenOrderIn
) -> Status[CanteenOrder]:
    """Create the cycle's order, or change its lines (0 removes one) while the cycle is open.

    Sending the same quantities again changes nothing: a canteen has one order per cycle.
    Answers 201 when the order was created, 200 when it existed.
    """
    canteen = _canteen(request, canteen_id)
    cycle = _cycle(canteen, payload.cycle_id)
    existed = CanteenOrder.objects.filter(canteen=canteen, cycle=cycle).exists()
    order = services.order_place(
        canteen=canteen,
        cycle=cycle,
        quantities=payload.offers,
        user=request.auth,
        note=payload.note,
    )
    return Status(200 if existed else 201, _order(canteen, order.reference))


@router.get("/{canteen_id}/orders/{reference}", response=CanteenOrderOut)
def canteen_order_detail(request: HttpRequest, canteen_id: Id, reference: str) -> CanteenOrder:
    """One of the canteen's orders."""
    return _order(_canteen(request, canteen_id), reference)


@router.post("/{canteen_id}/orders/{reference}/cancel", response=CanteenOrderOut)
def canteen_order_cancel(request: HttpRequest, canteen_id: Id, reference: str) -> CanteenOrder:
    """Cancel an order before the cycle's cutoff: its stock goes back on sale."""
    canteen = _canteen(request, canteen_id)
    services.order_cancel(order=_order(canteen, reference), user=request.auth)
    return _order(canteen, reference)


@router.get("/{canteen_id}/standing-order", response=StandingOrderOut)
def canteen_standing_order_detail(request: HttpRequest, canteen_id: Id) -> Any:
    """The canteen's running standing order (404 when there is none)."""
    standing = selectors.canteen_standing_order(canteen=_canteen(request, canteen_id))
    if standing is None:
        raise StandingOrderNotFound()
    return standing


@router.put("/{canteen_id}/standing-order", response=StandingOrderOut)
def canteen_standing_order_save(
    request: HttpRequest, canteen_id: Id, payload: StandingOrderIn
) -> Any:
    """Replace the standing order's weekly quantities (product id → quantity) and dates."""
    canteen = _canteen(request, canteen_id)
    services.standing_order_save(
        canteen=canteen,
        quantities=payload.products,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        user=request.auth,
    )
    return selectors.canteen_standing_order(canteen=canteen)


@router.get("/{canteen_id}/skipped-weeks", response=list[SkippedWeekOut])
def canteen_skipped_week_list(request: HttpRequest, canteen_id: Id) -> Any:
    """The weeks skipped from this week on."""
    return selectors.canteen_skipped_weeks(
        canteen=_canteen(request, canteen_id), since=timezone.localdate()
    )


@router.put("/{canteen_id}/skipped-weeks/{week_start}", response=SkippedWeekOut)
def canteen_week_skip(
    request: HttpRequest, canteen_id: Id, week_start: date, payload: SkippedWeekIn
) -> Any:
    """Skip the week holding ``week_start`` (any day names its Monday). Idempotent."""
    return services.week_skip(
        canteen=_canteen(request, canteen_id),
        week_start=week_start,
        reason=payload.reason,
        user=request.auth,
    )


@router.delete("/{canteen_id}/skipped-weeks/{week_start}", response={204: None})
def canteen_week_unskip(request: HttpRequest, canteen_id: Id, week_start: date) -> Status[None]:
    """Deliver that week again. Idempotent."""
    services.week_unskip(
        canteen=_canteen(request, canteen_id), week_start=week_start, user=request.auth
    )
    return Status(204, None)
