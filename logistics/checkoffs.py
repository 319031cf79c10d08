"""Drivers' check-offs: a stop delivered or in trouble, the round's start and end, the e-mails.

A driver's phone may be offline when a stop is checked off: it queues the check-off with an
idempotency key and sends it again until the server acknowledges it. :func:`stop_check_off`
stores each key once (``StopCheckoff.key`` is unique): a replay finds its row and answers the
same state without changing anything, so a check-off counts once however many times it is
sent. The stop row is locked while a check-off is recorded, so two deliveries of the same key
at the same moment are serialised: the second one finds the first one's row.

A relay point may be visited by several stops (the hub's share on one round, farms' shares
on another): each household is told by e-mail that its basket is waiting only once every stop
of the published plan at that relay is checked off delivered, once per order (an outbox key).
A stop in trouble, or an order corrected to 0 crates, tells the households concerned that
their basket could not be dropped, once per order, stop and kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from logistics.models import (
    DeliveryPlan,
    PlanRoute,
    PlanStatus,
    PlanStop,
    StopCheckoff,
    StopKind,
    StopStatus,
)
from marche.accounts.models import Role, User
from marche.canteens.delivery import delivery_record
from marche.canteens.models import CanteenOrder
from marche.core.locking import locking_atomic
from marche.core.mail import email_enqueue, render_text
from marche.core.numbers import parse_decimal, parse_id
from marche.errors import DomainError, NotFound
from marche.orders.models import Order, OrderStatus
from marche.orders.selectors import user_can_see_territory, user_is_coordinator
from marche.relays.models import RelayOpeningHours
from marche.territories.selectors import territory_from_email, territory_site_url

CHECKED_KINDS = (StopKind.DELIVERY, StopKind.PICKUP)
CHECKOFF_STATUSES = (StopStatus.DELIVERED, StopStatus.PROBLEM)
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,80}$")
MAX_NOTE = 2000
MAX_CRATES = Decimal("999")
# A phone's clock may be a little ahead; a check-off dated further in the future is refused.
CLOCK_SKEW = timedelta(minutes=10)


# --- refusals ---------------------------------------------------------------------------------


class StopNotFound(NotFound):
    code = "stop_not_found"
    default_message = _("Cette étape n'existe pas.")


class RouteNotFound(NotFound):
    code = "route_not_found"
    default_message = _("Cette tournée n'existe pas.")


class PlanNotFound(NotFound):
    code = "plan_not_found"
    default_message = _("Ce plan de livraison n'existe pas.")


class RouteNotYours(DomainError):
    code = "route_not_yours"
    status = 403
    default_message = _(
        "Cette tournée n'est pas la vôtre : seul son chauffeur ou la coordination du "
        "territoire peut la pointer."
    )


class PlanProgressForbidden(DomainError):
    code = "not_allowed"
    status = 403
    default_message = _("Seule la coordination du territoire suit l'avancement des tournées.")


class PlanNotPublished(DomainError):
    code = "plan_not_published"
    status = 409
    default_message = _(
        "Ce plan de livraison n'est pas publié : ses étapes ne peuvent pas encore être pointées."
    )


class StopNotCheckable(DomainError):
    code = "stop_not_checkable"
    status = 409
    default_message = _("Le départ et le retour au dépôt ne se pointent pas.")


class InvalidCheckoffStatus(DomainError):
    code = "invalid_checkoff_status"
    status = 422
    default_message = _("Indiquez « livrée » (delivered) ou « problème » (problem).")


class InvalidCheckoffKey(DomainError):
    code = "invalid_checkoff_key"
    status = 422
    default_message = _(
        "La clé d'idempotence doit compter de 8 à 80 caractères : lettres, chiffres, - ou _."
    )


class CheckoffKeyReused(DomainError):
    code = "checkoff_key_reused"
    status = 409
    default_message = _("Cette clé d'idempotence a déjà servi pour une autre étape.")


class InvalidCheckoffNote(DomainError):
    code = "invalid_checkoff_note"
    status = 422
    default_message = _("La note est trop longue (2 000 caractères au plus).")


class InvalidDelivered(DomainError):
    code = "invalid_delivered"
    status = 422
    default_message = _(
        "Les caisses livrées se donnent par référence de commande de cette étape, "
        "en nombre entier de 0 à 999."
    )


class InvalidRecordedAt(DomainError):
    code = "invalid_recorded_at"
    status = 422
    default_message = _("L'heure du pointage est dans le futur : vérifiez l'heure du téléphone.")


class InvalidCanteenDelivery(DomainError):
    code = "invalid_canteen_delivery"
    status = 422
    default_message = _(
        "Les quantités livrées à une cantine se donnent à son étape, par ligne de sa commande."
    )


class ProblemNeedsNote(DomainError):
    code = "problem_needs_note"
    status = 422
    default_message = _("Décrivez le problème en quelques mots dans la note.")


# --- who may do what --------------------------------------------------------------------------


def user_may_follow_territory(*, user: User, territory_id: int) -> bool:
    """Coordinators of the territory (and superusers) follow and correct its rounds."""
    return bool(
        user.is_authenticated
        and user_is_coordinator(user=user)
        and user_can_see_territory(user=user, territory_id=territory_id)
    )


def check_off_refusal(*, user: User, territory_id: int, not_found: NotFound) -> DomainError:
    """Why a person who may not check off a round is refused, as the API answers it.

    Another territory's round (or stop) is not found, as if it did not exist, so its id
    tells nothing; a round of the person's own territory that is not theirs is forbidden.
    """
    if not user.is_authenticated or not user_can_see_territory(
        user=user, territory_id=territory_id
    ):
        return not_found
    return RouteNotYours()


def user_may_check_off(*, user: User, route: PlanRoute, territory_id: int) -> bool:
    """The route's own driver, or a coordinator of its territory (a stop told by phone)."""
    if not user.is_authenticated:
        return False
    if route.driver_id is not None and route.driver_id == user.pk and user.role == Role.DRIVER:
        return True
    return user_may_follow_territory(user=user, territory_id=territory_id)


# --- the state answered -----------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoffResult:
    """A stop's state after a check-off; ``replay`` when the key had already been recorded."""

    stop: PlanStop
    route: PlanRoute
    key: str
    replay: bool
    applied: bool
    stops_done: int
    stops_total: int


def _route_counts(route_id: int) -> tuple[int, int]:
    stops = PlanStop.objects.filter(route_id=route_id, kind__in=CHECKED_KINDS)
    total = stops.count()
    done = stops.exclude(status=StopStatus.PLANNED).count()
    return done, total


# --- input -----------------------------------------------------------------------------------


def _clean_key(key: object) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InvalidCheckoffKey()
    return key


def _clean_status(status: object) -> str:
    if status not in CHECKOFF_STATUSES:
        raise InvalidCheckoffStatus(status=str(status)[:40])
    return str(status)


def _clean_note(note: object) -> str:
    text = "" if note is None else str(note)
    if len(text) > MAX_NOTE:
        raise InvalidCheckoffNote()
    return text.strip()


def _clean_recorded_at(recorded_at: datetime | None, now: datetime) -> datetime:
    if recorded_at is None:
        return now
    if timezone.is_naive(recorded_at):
        recorded_at = timezone.make_aware(recorded_at)
    if recorded_at > now + CLOCK_SKEW:
        raise InvalidRecordedAt()
    # In UTC, as the database gives it back: a replay answers exactly the same instant.
    return recorded_at.astimezone(UTC)


def manifest_references(manifest: object) -> list[str]:
    """The order references a stored delivery manifest lists, in order; [] if it has none."""
    if not isinstance(manifest, dict):
        return []
    orders = manifest.get("orders")
    if not isinstance(orders, list):
        return []
    return [
        str(order["reference"])
        for order in orders
        if isinstance(order, dict) and isinstance(order.get("reference"), str | int)
    ]


def _clean_delivered(delivered: object, stop: PlanStop) -> dict[str, int]:
    """Crates actually dropped per order reference of this stop, read by the number parser."""
    if delivered in (None, "", {}):
        return {}
    if not isinstance(delivered, dict):
        raise InvalidDelivered()
    known = set(manifest_references(stop.manifest))
    cleaned: dict[str, int] = {}
    for reference, count in delivered.items():
        if reference not in known:
            raise InvalidDelivered(reference=str(reference)[:40])
        if count in (None, ""):
            continue
        cleaned[reference] = int(parse_decimal(count, "count", maximum=MAX_CRATES))
    return cleaned


# --- services --------------------------------------------------------------------------------


def stop_check_off(
    *,
    stop_id: int,
    key: str,
    status: str,
    note: str = "",
    delivered: dict[str, Any] | None = None,
    recorded_at: datetime | None = None,
    by: User,
    now: datetime | None = None,
    canteen: dict[str, Any] | None = None,
) -> CheckoffResult:
    """Record that a stop was delivered or had a problem, once per idempotency key.

    One transaction locks the stop row (and then its route row, always in that order), so
    check-offs of one stop are serialised: of two requests carrying the same key, the second
    finds the first one's row and answers the same state, changing nothing (a replay). A new
    key updates the stop unless a later check-off (by the phone's clock) already did: an
    offline queue may arrive out of order, and the latest word wins. The route is marked
    started at its first check-off and finished once every delivery and pickup is checked.
    A relay point's stop that becomes delivered queues one e-mail per order dropped there.
    A canteen's stop checked off delivered with ``canteen`` (``quantities`` and ``reasons``
    per line id, ``received_by``) records the canteen's delivery
    (:func:`marche.canteens.delivery.delivery_record`) in the same transaction.
    Every refusal comes before any write.
    """
    now = now or timezone.now()
    key = _clean_key(key)
    status = _clean_status(status)
    note = _clean_note(note)
    recorded_at = _clean_recorded_at(recorded_at, now)
    for attempt in (1, 2):
        try:
            with locking_atomic():
                return _check_off_locked(
                    stop_id=stop_id,
                    key=key,
                    status=status,
                    note=note,
                    delivered=delivered,
                    recorded_at=recorded_at,
                    by=by,
                    canteen=canteen,
                )
        except IntegrityError:
            # The same key inserted for another stop at the same moment: the unique key
            # refused ours once the other transaction committed. Read again: it is a reused
            # key, which the second attempt finds and refuses.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _locked_stop(stop_id: int) -> PlanStop:
    stop = (
        PlanStop.objects.select_for_update(of=("self",))
        .select_related("route__plan__cycle__territory")
        .filter(pk=stop_id)
        .first()
    )
    if stop is None:
        raise StopNotFound()
    return stop


def _check_off_locked(
    *,
    stop_id: int,
    key: str,
    status: str,
    note: str,
    delivered: dict[str, Any] | None,
    recorded_at: datetime,
    by: User,
    canteen: dict[str, Any] | None = None,
) -> CheckoffResult:
    stop = _locked_stop(stop_id)
    route = stop.route
    plan = route.plan
    territory_id = plan.cycle.territory_id
    if not user_may_check_off(user=by, route=route, territory_id=territory_id):
        raise check_off_refusal(user=by, territory_id=territory_id, not_found=StopNotFound())
    existing = StopCheckoff.objects.filter(key=key).first()
    if existing is not None:
        if existing.stop_id != stop.pk:
            raise CheckoffKeyReused()
        done, total = _route_counts(route.pk)
        return CheckoffResult(
            stop=stop,
            route=route,
            key=key,
            replay=True,
            applied=stop.checked_at == existing.recorded_at and stop.status == existing.status,
            stops_done=done,
            stops_total=total,
        )
    if plan.status != PlanStatus.PUBLISHED:
        raise PlanNotPublished()
    if stop.kind not in CHECKED_KINDS:
        raise StopNotCheckable()
    if status == StopStatus.PROBLEM and not note:
        raise ProblemNeedsNote()
    crates = _clean_delivered(delivered, stop)
    relay_drop = stop.kind == StopKind.DELIVERY and stop.place.startswith("relay:")
    canteen_drop = stop.kind == StopKind.DELIVERY and stop.place.startswith("canteen:")
    if canteen and not canteen_drop:
        raise InvalidCanteenDelivery()
    if relay_drop:
        relay_drops_serialise(plan_id=plan.pk)
    if (
        canteen
        and status == StopStatus.DELIVERED
        and (stop.checked_at is None or recorded_at >= stop.checked_at)
    ):
        canteen_delivery_record(
            stop=stop, plan=plan, canteen=canteen, by=by, key=key, at=recorded_at
        )
    StopCheckoff.objects.create(
        stop=stop,
        key=key,
        status=status,
        note=note,
        delivered=crates,
        recorded_by=by,
        recorded_at=recorded_at,
    )
    applied = stop.checked_at is None or recorded_at >= stop.checked_at
    newly_delivered = applied and status == StopStatus.DELIVERED
    if applied:
        stop.status = status
        stop.checked_at = recorded_at
        stop.note = note
        stop.delivered = crates
        stop.save(update_fields=["status", "checked_at", "note", "delivered"])
    route = _route_progress_update(route_id=route.pk, at=recorded_at)
    if applied and relay_drop:
        relay_drop_notify(stop=stop, newly_delivered=newly_delivered)
    done, total = _route_counts(route.pk)
    return CheckoffResult(
        stop=stop,
        route=route,
        key=key,
        replay=False,
        applied=applied,
        stops_done=done,
        stops_total=total,
    )


def canteen_stop_order(*, stop: PlanStop, cycle_id: int) -> CanteenOrder | None:
    """The canteen order a canteen stop drops (its manifest's), if it is of the plan's cycle."""
    manifest = stop.manifest if isinstance(stop.manifest, dict) else {}
    entry = manifest.get("canteen_order")
    order_id = entry.get("id") if isinstance(entry, dict) else None
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        return None
    return (
        CanteenOrder.objects.select_related("canteen", "cycle")
        .filter(pk=order_id, cycle_id=cycle_id)
        .first()
    )


def _line_map(value: object) -> dict[int, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise InvalidCanteenDelivery()
    try:
        return {parse_id(key): item for key, item in value.items()}
    except DomainError as error:
        raise InvalidCanteenDelivery() from error


def canteen_delivery_record(
    *,
    stop: PlanStop,
    plan: DeliveryPlan,
    canteen: dict[str, Any],
    by: User,
    key: str,
    at: datetime,
) -> CanteenOrder:
    """Record the canteen's delivery sent with a check-off (same transaction, key derived)."""
    order = canteen_stop_order(stop=stop, cycle_id=plan.cycle_id)
    if order is None or not isinstance(canteen, dict):
        raise InvalidCanteenDelivery()
    reasons = {k: "" if v is None else str(v) for k, v in _line_map(canteen.get("reasons")).items()}
    return delivery_record(
        order=order,
        quantities=_line_map(canteen.get("quantities")),
        reasons=reasons,
        received_by=str(canteen.get("received_by") or ""),
        user=by,
        key=f"checkoff:{key}",
        at=at,
    )


def relay_drops_serialise(*, plan_id: int) -> None:
    """Lock the plan row until the end of the transaction (after the stop's, never before).

    Check-offs of one relay's stops on different routes lock different stop rows: the plan
    row serialises them, so the last one to commit reads every other one's status and sends
    the arrival e-mails (without it, two last stops checked at once each see the other still
    planned, and nobody is told). A published plan is no longer edited, so nothing else
    locks its row and then a stop's.
    """
    list(DeliveryPlan.objects.select_for_update().filter(pk=plan_id).values_list("pk"))


def _route_progress_update(*, route_id: int, at: datetime) -> PlanRoute:
    """Mark the route started (first check-off) and finished (nothing left planned)."""
    route = PlanRoute.objects.select_for_update().get(pk=route_id)
    fields = []
    if route.started_at is None or at < route.started_at:
        route.started_at = at
        fields.append("started_at")
    stops = PlanStop.objects.filter(route_id=route_id, kind__in=CHECKED_KINDS)
    if not stops.filter(status=StopStatus.PLANNED).exists():
        last = max((s for s in stops.values_list("checked_at", flat=True) if s), default=at)
        if route.finished_at != last:
            route.finished_at = last
            fields.append("finished_at")
    if fields:
        route.save(update_fields=fields)
    return route


def route_start(*, route_id: int, by: User, at: datetime | None = None) -> PlanRoute:
    """Record that the driver left the depot (idempotent: the earliest start is kept)."""
    now = timezone.now()
    at = _clean_recorded_at(at, now)
    with locking_atomic():
        route = (
            PlanRoute.objects.select_for_update(of=("self",))
            .select_related("plan__cycle")
            .filter(pk=route_id)
            .first()
        )
        if route is None:
            raise RouteNotFound()
        territory_id = route.plan.cycle.territory_id
        if not user_may_check_off(user=by, route=route, territory_id=territory_id):
            raise check_off_refusal(user=by, territory_id=territory_id, not_found=RouteNotFound())
        if route.plan.status != PlanStatus.PUBLISHED:
            raise PlanNotPublished()
        if route.started_at is None or at < route.started_at:
            route.started_at = at
            route.save(update_fields=["started_at"])
    return route


# --- e-mails to households -------------------------------------------------------------------

# Orders still to pick up: an order already collected is told nothing more.
AWAITED = (OrderStatus.CONFIRMED, OrderStatus.PACKED)


def relay_arrival_key(*, order_id: int, stop_id: int) -> str:
    """The outbox key of one "your basket is waiting" e-mail: one per order and stop.

    The stop is the relay's first stop of the plan (by id), whichever stop's check-off
    completed the relay: one e-mail per order and plan.
    """
    return f"relay-arrival-order-{order_id}-stop-{stop_id}"


def relay_undelivered_key(*, order_id: int, stop_id: int, kind: str) -> str:
    """The outbox key of one "your basket could not be dropped" e-mail (problem or missing)."""
    return f"relay-undelivered-order-{order_id}-stop-{stop_id}-{kind}"


def relay_pickup_hours(*, relay_point_id: int, on: date) -> list[tuple[Any, Any]]:
    """The relay point's opening hours on a day, as (opens, closes) pairs in order."""
    return list(
        RelayOpeningHours.objects.filter(relay_point_id=relay_point_id, weekday=on.weekday())
        .order_by("opens_at")
        .values_list("opens_at", "closes_at")
    )


def missing_references(delivered: object) -> set[str]:
    """The order references a stored crates correction sets to 0 (their basket is missing)."""
    if not isinstance(delivered, dict):
        return set()
    missing = set()
    for reference, crates in delivered.items():
        try:
            if Decimal(str(crates)) == 0:
                missing.add(str(reference))
        except (ArithmeticError, ValueError):
            continue
    return missing


def _relay_slug(stop: PlanStop) -> str:
    return stop.place.split("#", 1)[0].removeprefix("relay:")


def _relay_orders(stop: PlanStop) -> Any:
    """The cycle's orders still to collect at the stop's relay point."""
    plan = stop.route.plan
    return Order.objects.filter(
        cycle_id=plan.cycle_id,
        relay_point__slug=_relay_slug(stop),
        relay_point__territory_id=plan.cycle.territory_id,
        status__in=AWAITED,
    )


def _stop_orders(stop: PlanStop) -> Any:
    """The orders a relay stop drops: those its manifest lists, and those holding goods of the
    farms whose shares it drops (``from_farms``)."""
    manifest = stop.manifest if isinstance(stop.manifest, dict) else {}
    references = manifest_references(manifest)
    listed = manifest.get("from_farms")
    farms = [
        str(entry.get("farm") or "").removeprefix("farm:")
        for entry in (listed if isinstance(listed, list) else [])
        if isinstance(entry, dict)
    ]
    orders = _relay_orders(stop)
    wanted = Q(reference__in=references)
    if farms:
        wanted |= Q(lines__producer__slug__in=[f for f in farms if f])
    return orders.filter(wanted).distinct()


def relay_drop_notify(*, stop: PlanStop, newly_delivered: bool) -> list[str]:
    """Queue, in the current transaction, the e-mails a relay stop's check-off calls for.

    A stop marked in trouble: each order it drops is told its basket could not be dropped.
    A delivered stop: each order corrected to 0 crates is told so; and once every delivery
    stop of the plan at this relay is delivered (the caller holds the plan row, so of two
    last stops checked at once the second sees the first), each order still to collect at
    the relay, whose basket is not missing, is told it is waiting. Returns the outbox keys.
    """
    if stop.status not in (StopStatus.PROBLEM, StopStatus.DELIVERED):
        return []
    site_url = territory_site_url(territory=stop.route.plan.cycle.territory)
    if stop.status == StopStatus.PROBLEM:
        orders = _stop_orders(stop).select_related("customer", "relay_point")
        return [
            _undelivered_enqueue(order, stop, "problem", site_url=site_url)
            for order in orders.order_by("pk")
        ]
    missing = missing_references(stop.delivered)
    keys = [
        _undelivered_enqueue(order, stop, "missing", site_url=site_url)
        for order in _relay_orders(stop)
        .filter(reference__in=missing)
        .select_related("customer", "relay_point")
        .order_by("pk")
    ]
    if newly_delivered:
        keys += relay_arrival_notify(stop=stop)
    return keys


def relay_arrival_notify(*, stop: PlanStop) -> list[str]:
    """Queue the "your basket is waiting" e-mails of a relay once all its stops are delivered.

    Nothing while another stop of the published plan at this relay (on any route) is not
    delivered. Orders corrected to 0 crates on any of these stops, and orders already
    collected, get nothing. The key per order and the relay's first stop makes a second
    completion (a stop checked again) send nothing more. Returns the keys.
    """
    plan = stop.route.plan
    slug = _relay_slug(stop)
    place_stops = [
        s
        for s in PlanStop.objects.filter(
            route__plan_id=plan.pk, kind=StopKind.DELIVERY, place__startswith=f"relay:{slug}"
        ).order_by("pk")
        if _relay_slug(s) == slug
    ]
    if any(s.status != StopStatus.DELIVERED for s in place_stops):
        return []
    missing: set[str] = set()
    for s in place_stops:
        missing |= missing_references(s.delivered)
    first = place_stops[0].pk if place_stops else stop.pk
    delivery_date = plan.cycle.delivery_date
    orders = (
        _relay_orders(stop)
        .exclude(reference__in=missing)
        .select_related("customer", "relay_point", "pickup_slot")
        .order_by("reference")
    )
    keys = []
    sender = territory_from_email(territory=plan.cycle.territory)
    site_url = territory_site_url(territory=plan.cycle.territory)
    hours_by_relay: dict[int, list[tuple[Any, Any]]] = {}
    for order in orders:
        relay_id = order.relay_point_id
        if relay_id not in hours_by_relay:
            hours_by_relay[relay_id] = relay_pickup_hours(relay_point_id=relay_id, on=delivery_date)
        key = relay_arrival_key(order_id=order.pk, stop_id=first)
        subject, body = _relay_email(
            "relay_arrival",
            order=order,
            site_url=site_url,
            relay_name=stop.name or order.relay_point.name,
            hours=hours_by_relay[relay_id],
            delivery_date=delivery_date,
        )
        keys.append(
            email_enqueue(
                subject=subject, body=body, to=order.customer.email, from_email=sender, key=key
            )
        )
    return keys


def _undelivered_enqueue(order: Order, stop: PlanStop, kind: str, *, site_url: str) -> str:
    territory = stop.route.plan.cycle.territory
    subject, body = _relay_email(
        "relay_undelivered",
        order=order,
        site_url=site_url,
        relay_name=stop.name or order.relay_point.name,
        hours=[],
        delivery_date=stop.route.plan.cycle.delivery_date,
        kind=kind,
        contact=getattr(territory, "contact_email", "") or "",
    )
    key = relay_undelivered_key(order_id=order.pk, stop_id=stop.pk, kind=kind)
    return email_enqueue(
        subject=subject,
        body=body,
        to=order.customer.email,
        from_email=territory_from_email(territory=territory),
        key=key,
    )


def _relay_email(
    template: str,
    *,
    order: Order,
    site_url: str,
    relay_name: str,
    hours: list[tuple[Any, Any]],
    delivery_date: date,
    **extra: Any,
) -> tuple[str, str]:
    context = {
        "order": order,
        "relay_name": relay_name,
        "hours": hours,
        "delivery_date": delivery_date,
        "slot": order.pickup_slot if template == "relay_arrival" else None,
        # The order's territory's own site: a Dunkerque order links to Dunkerque's.
        "order_url": site_url + reverse("orders:detail", args=[order.reference]),
        **extra,
    }
    with translation.override(getattr(order.customer, "language", None) or "fr"):
        subject = render_text(f"logistics/email/{template}_subject.txt", context)
        body = render_text(f"logistics/email/{template}.txt", context)
    return " ".join(subject.split()), body
