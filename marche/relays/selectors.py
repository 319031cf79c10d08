"""Reads of relay points: the public list, and the pickups their keepers hand over."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from marche.accounts.models import Role, User
from marche.cycles.models import OrderCycle
from marche.orders.models import LineKind, Order, OrderLine, OrderStatus
from marche.orders.selectors import HANDED_OVER
from marche.payments.methods import PayAtPickup
from marche.payments.models import Payment, PaymentStatus
from marche.relays.models import RelayOpeningHours, RelayPoint
from marche.territories.models import Territory


def relay_point_list_public(*, territory: Territory) -> QuerySet[RelayPoint]:
    """Active relay points of a territory with their opening hours (two queries in all)."""
    return (
        RelayPoint.objects.filter(territory=territory, is_active=True)
        .prefetch_related(
            Prefetch(
                "opening_hours", queryset=RelayOpeningHours.objects.order_by("weekday", "opens_at")
            )
        )
        .order_by("city", "name")
    )


# --- the relay keeper's pickup page ----------------------------------------------------------

# Baskets wait at the relay point this many days after their delivery day; past that, the
# cycle is no longer the current pickup (it can still be chosen among the recent cycles).
PICKUP_DAYS = 7
RECENT_CYCLES = 8
SEARCH_MAX_LENGTH = 100


def clean_text(text: object, limit: int) -> str:
    """Text typed or scanned into an address or form, as a lookup may use it: printable
    characters only (PostgreSQL refuses NUL), spaces collapsed, at most ``limit`` long."""
    raw = "" if text is None else str(text)[: limit * 4]
    return " ".join("".join(ch for ch in raw if ch.isprintable()).split())[:limit]


def relay_points_for_keeper(*, user: User | AnonymousUser) -> QuerySet[RelayPoint]:
    """The relay points whose pickups the user runs, by name.

    Their keepers run them (``RelayPoint.keepers``); a coordinator runs every relay point of
    their territory (all of them when bound to none); a superuser runs all.
    """
    points = RelayPoint.objects.select_related("territory").order_by("name", "pk")
    if not user.is_authenticated or not user.is_active:
        return points.none()
    if user.is_superuser or (user.role == Role.COORDINATOR and user.territory_id is None):
        return points
    kept = RelayPoint.keepers.through.objects.filter(user_id=user.pk).values("relaypoint_id")
    condition = Q(pk__in=kept)
    if user.role == Role.COORDINATOR:
        condition |= Q(territory_id=user.territory_id)
    return points.filter(condition)


def user_runs_relay_pickups(*, user: User | AnonymousUser) -> bool:
    """Whether the user runs the pickups of at least one relay point (the /relais/ pages)."""
    return relay_points_for_keeper(user=user).exists()


def relay_points_by_slug(
    *, user: User | AnonymousUser, slug: str, territory_slug: str = ""
) -> tuple[bool, list[RelayPoint]]:
    """The relay points a page address names: whether any exists here, and those the user runs.

    "Here" is the territories the user works in: their own, and those of the relay points
    they run. Another territory's relay point does not exist for them, so the page answers
    404 and tells nothing; one of their territory that they do not run is theirs to be
    refused (403). Slugs are unique per territory only; ``territory_slug`` (the
    ``territoire`` parameter) tells two apart when the user runs relay points of several
    territories.
    """
    runs = relay_points_for_keeper(user=user)
    named = RelayPoint.objects.filter(slug=clean_text(slug, 80))
    if territory_slug:
        named = named.filter(territory__slug=clean_text(territory_slug, 60))
    own = Q(territory_id__in=runs.values("territory_id"))
    if getattr(user, "territory_id", None) is not None:
        own |= Q(territory_id=user.territory_id)
    if not named.filter(own).exists():
        return False, []
    return True, list(runs.filter(pk__in=named.values("pk")))


def pickup_cycles_for_relay(*, relay_point: RelayPoint, today: date) -> list[OrderCycle]:
    """The recent cycles of the relay point's territory delivered by ``today``, latest first.

    Each carries ``order_count``: its orders to hand over at this relay point.
    """
    return list(
        OrderCycle.objects.filter(territory_id=relay_point.territory_id, delivery_date__lte=today)
        .annotate(
            order_count=Count(
                "orders",
                filter=Q(orders__relay_point=relay_point, orders__status__in=HANDED_OVER),
            )
        )
        .order_by("-delivery_date", "-closes_at", "-pk")[:RECENT_CYCLES]
    )


def pickup_cycle_current(*, cycles: list[OrderCycle], today: date) -> OrderCycle | None:
    """The current pickup: the latest cycle delivered by today, if not older than its pickup
    days (``cycles`` as :func:`pickup_cycles_for_relay` returns them)."""
    if cycles and cycles[0].delivery_date >= today - timedelta(days=PICKUP_DAYS):
        return cycles[0]
    return None


def short_name(user: User) -> str:
    """The name the relay point calls out: first name and initial ("Camille D.")."""
    first, last = user.first_name.strip(), user.last_name.strip()
    if first and last:
        return f"{first} {last[0].upper()}."
    return first or last or str(_("Nom non renseigné"))


@dataclass(frozen=True, slots=True)
class PickupOrder:
    """One household's order at the relay point, as the keeper hands it over."""

    order_id: int
    reference: str
    customer: str
    slot_date: date
    slot_starts_at: time
    slot_ends_at: time
    status: str
    status_label: str
    baskets: int
    lines: int
    is_final: bool
    pays_at_pickup: bool
    amount_due: Decimal | None
    paid_means_label: str
    # Names of the variable-weight products not weighed yet (empty once the total is final).
    to_weigh: tuple[str, ...] = ()

    @property
    def is_collected(self) -> bool:
        return self.status == OrderStatus.COLLECTED


@dataclass(frozen=True, slots=True)
class RelayPickup:
    relay_point: RelayPoint
    cycle: OrderCycle
    orders: tuple[PickupOrder, ...]
    search: str
    total: int
    collected: int


def relay_pickup_orders(
    *, relay_point: RelayPoint, cycle: OrderCycle, search: str = ""
) -> RelayPickup:
    """The cycle's orders to hand over at the relay point, by slot then name; three queries.

    ``search`` keeps the orders whose reference, first or last name contains each of its
    words, whatever the accents and the case ("ines" finds Inès). ``total`` and
    ``collected`` count the whole pickup, whatever the search.

    The search runs in Python on the fetched pickup (one relay point's orders of one cycle,
    a few dozen): the same on SQLite and PostgreSQL, without an unaccent extension.
    """
    search = clean_text(search, SEARCH_MAX_LENGTH)
    words = [folded(word) for word in search.split(" ")] if search else []
    pickup = Order.objects.filter(cycle=cycle, relay_point=relay_point, status__in=HANDED_OVER)
    counts = pickup.aggregate(
        total=Count("pk"), collected=Count("pk", filter=Q(status=OrderStatus.COLLECTED))
    )
    orders = (
        pickup.select_related("customer", "pickup_slot")
        .annotate(
            basket_count=Sum(
                "lines__count",
                filter=Q(lines__kind=LineKind.BASKET, lines__parent__isnull=True),
            ),
            line_count=Count(
                "lines", filter=Q(lines__parent__isnull=True, lines__is_missing=False)
            ),
        )
        .prefetch_related(
            Prefetch(
                "payments",
                queryset=Payment.objects.filter(method=PayAtPickup.code).order_by("pk"),
                to_attr="pickup_payments",
            ),
            Prefetch(
                "lines",
                queryset=OrderLine.objects.filter(
                    price_per_kg__isnull=False, weight_kg__isnull=True, is_missing=False
                ).order_by("pk"),
                to_attr="lines_to_weigh",
            ),
        )
        .order_by(
            "pickup_slot__date",
            "pickup_slot__starts_at",
            "customer__first_name",
            "customer__last_name",
            "reference",
        )
    )
    rows = []
    for order in orders:
        if words:
            haystack = folded(
                f"{order.reference} {order.customer.first_name} {order.customer.last_name}"
            )
            if not all(word in haystack for word in words):
                continue
        pays_at_pickup = order.payment_method == PayAtPickup.code
        pending = [p for p in order.pickup_payments if p.status == PaymentStatus.PENDING]
        paid = [p for p in order.pickup_payments if p.status == PaymentStatus.SUCCEEDED]
        rows.append(
            PickupOrder(
                order_id=order.pk,
                reference=order.reference,
                customer=short_name(order.customer),
                slot_date=order.pickup_slot.date,
                slot_starts_at=order.pickup_slot.starts_at,
                slot_ends_at=order.pickup_slot.ends_at,
                status=order.status,
                status_label=str(order.get_status_display()),
                baskets=int(order.basket_count or 0),
                lines=order.line_count,
                is_final=order.is_final,
                pays_at_pickup=pays_at_pickup,
                amount_due=pending[0].amount if pays_at_pickup and pending else None,
                paid_means_label=str(paid[-1].get_means_display()) if paid else "",
                to_weigh=(
                    ()
                    if order.is_final
                    else tuple(dict.fromkeys(line.name for line in order.lines_to_weigh))
                ),
            )
        )
    return RelayPickup(
        relay_point=relay_point,
        cycle=cycle,
        orders=tuple(rows),
        search=search,
        total=counts["total"],
        collected=counts["collected"],
    )


def folded(text: str) -> str:
    """Text without accents nor case, to compare what a keeper types with names ("Inès" →
    "ines", "Œuf" → "oeuf")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.replace("œ", "oe").replace("æ", "ae")


DELIVERY_STATES = ("delivered", "planned")


def relay_delivery_status(*, relay_point: RelayPoint, cycle: OrderCycle) -> str | None:
    """Whether the driver has checked off the cycle's delivery at the relay point.

    "delivered", "planned" (a published round still has to check it off) or None (no
    delivery round is known). The answer comes from the function named by the setting
    ``MARCHE_RELAY_DELIVERY_STATUS`` (called with the relay point and the cycle): the
    delivery rounds live in another app, which marche does not import.
    """
    path = getattr(settings, "MARCHE_RELAY_DELIVERY_STATUS", "")
    if not path:
        return None
    status = import_string(path)(relay_point, cycle)
    return status if status in DELIVERY_STATES else None


UNSERVED_DECISIONS = ("other_day", "hub_pickup", "other_vehicle")
# The orders whose households are told what happens to a relay point the rounds leave out.
AWAITING_PICKUP = (OrderStatus.CONFIRMED, OrderStatus.PACKED)


def relay_unserved_decision(*, relay_point: RelayPoint, cycle: OrderCycle) -> str | None:
    """What the coordination decided for the relay point if the cycle's delivery rounds leave
    it out: "other_day", "hub_pickup", "other_vehicle", or None (served, or no rounds known).

    The answer comes from the function named by the setting ``MARCHE_RELAY_UNSERVED_DECISION``
    (called with the relay point and the cycle), as for :func:`relay_delivery_status`.
    """
    path = getattr(settings, "MARCHE_RELAY_UNSERVED_DECISION", "")
    if not path:
        return None
    decision = import_string(path)(relay_point, cycle)
    return decision if decision in UNSERVED_DECISIONS else None


def order_delivery_moved(*, order: Order) -> bool:
    """Whether the order's relay point is delivered another day than planned: the coordination
    left it out of the cycle's rounds "un autre jour", and the order still waits for pickup."""
    if order.status not in AWAITING_PICKUP:
        return False
    decision = relay_unserved_decision(relay_point=order.relay_point, cycle=order.cycle)
    return decision == "other_day"
