"""The rush before the cutoff: prepare the demo's open cycle, then check what the rush left.

``rush_prepare`` is idempotent: it creates (once) the simulated households with one password,
gives every offer of the open cycle a finite stock (scarce for a third of them, so that they
sell out during the run) and ensures the pickup slots of every relay point on the delivery
day. The checks read the database only and return what is wrong, empty when all is well.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from marche.accounts.models import Role, User
from marche.cycles.models import Offer, OrderCycle
from marche.cycles.selectors import cycle_list_open
from marche.mannes.selectors import ledger_drifts
from marche.mannes.services import manne_reward_declare, manne_reward_validate
from marche.orders.models import Order, OrderLine, OrderStatus
from marche.orders.selectors import HANDED_OVER
from marche.relays.selectors import relay_point_list_public
from marche.relays.services import pickup_slots_ensure
from marche.territories.selectors import territory_get_default

EMAIL = "foyer-rush-{:04d}@bench.example.test"
PASSWORD = "rush-bench-2026"  # noqa: S105 (simulated households of a bench database only)
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# A quarter of the households earn mannes for a lent garden, then pay this part in mannes.
MANNE_REWARD = Decimal("10.00")
MANNE_PART = "2.00"
UNIT = Decimal("0.001")  # quantities are stored to the gram or the thousandth of a piece
# Orders that hold or took stock: everything but the cancelled and expired ones.
LIVE = (OrderStatus.PENDING, *HANDED_OVER)


@dataclass(frozen=True)
class RushOffer:
    id: int
    name: str
    unit_price: str
    count: int  # what one household adds of it, enough to pass the cycle's minimum
    scarce: bool


@dataclass(frozen=True)
class RushConfig:
    """What the locustfile needs, written as JSON for it."""

    cycle_id: int
    emails: list[str]
    password: str
    browse_paths: list[str]
    offers: list[RushOffer]
    relay_slots: list[tuple[int, int]]
    manne_emails: list[str]
    # Households already logged in (a session kept from an earlier visit): address -> cookie.
    sessions: dict[str, str]
    session_cookie: str
    manne_part: str = MANNE_PART
    replay_share: float = 0.2

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def rush_open_cycle() -> OrderCycle | None:
    territory = territory_get_default()
    if territory is None:
        return None
    return cycle_list_open(territory=territory, now=timezone.now()).order_by("closes_at").first()


def _count_for(offer: Offer, minimum: Decimal) -> int:
    """Whole units of an offer that pass the cycle's minimum alone, within its per-order cap."""
    wanted = max(1, math.ceil(minimum / offer.unit_price)) if minimum > 0 else 1
    return int(min(Decimal(wanted), offer.max_per_order.to_integral_value(rounding="ROUND_FLOOR")))


@transaction.atomic
def rush_prepare(
    *,
    cycle: OrderCycle,
    households: int,
    browse_paths: list[str],
    scarce_units: int,
    login_every: int = 10,
) -> RushConfig:
    """Households, finite stock and pickup slots for the rush on ``cycle``; safe to rerun.

    A third of the offers (at least one) get ``scarce_units`` more than they already hold or
    sold, the others ``households`` × 3 units more: finite everywhere, sold out on the first.
    One household in ``login_every`` logs in through the login form during the rush; the
    others arrive with a session of their own (made here, as a login would, with no password
    hashed): in the last minutes before the cutoff most households are logged in already.
    """
    password = make_password(PASSWORD)
    emails = [EMAIL.format(n) for n in range(1, households + 1)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    now = timezone.now()
    User.objects.bulk_create(
        [
            User(
                email=email,
                role=Role.HOUSEHOLD,
                first_name="Foyer",
                last_name=f"Rush {n:04d}",
                territory=cycle.territory,
                is_active=True,
                email_verified_at=now,
                terms_accepted_at=now,
            )
            for n, email in enumerate(emails, start=1)
            if email not in existing
        ]
    )
    User.objects.filter(email__in=emails).update(password=password, is_active=True)
    offers = list(
        Offer.objects.filter(cycle=cycle, withdrawn_at__isnull=True)
        .exclude(product__variants__is_active=True)
        .select_related("product")
        .order_by("pk")
        .distinct()
    )
    scarce = {offer.pk for offer in offers[: max(1, len(offers) // 3)]}
    chosen: list[RushOffer] = []
    for offer in offers:
        extra = Decimal(scarce_units if offer.pk in scarce else households * 3)
        Offer.objects.filter(pk=offer.pk).update(
            quantity_available=offer.quantity_held + offer.quantity_sold + extra
        )
        chosen.append(
            RushOffer(
                id=offer.pk,
                name=offer.product.name,
                unit_price=str(offer.unit_price),
                count=1 if offer.pk in scarce else _count_for(offer, cycle.minimum_order_amount),
                scarce=offer.pk in scarce,
            )
        )
    relay_slots = [
        (relay.pk, slot.pk)
        for relay in relay_point_list_public(territory=cycle.territory)
        for slot in pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)
    ]
    return RushConfig(
        cycle_id=cycle.pk,
        emails=emails,
        password=PASSWORD,
        browse_paths=browse_paths,
        offers=chosen,
        relay_slots=relay_slots,
        manne_emails=_manne_households(cycle=cycle, emails=emails[::4]),
        sessions=_sessions(
            [email for n, email in enumerate(emails) if login_every < 1 or n % login_every]
        ),
        session_cookie=settings.SESSION_COOKIE_NAME,
    )


def _sessions(emails: list[str]) -> dict[str, str]:
    """A logged-in session per household, as ``Client.force_login`` makes one."""
    sessions = {}
    for user in User.objects.filter(email__in=emails).order_by("pk"):
        client = Client()
        client.force_login(user, backend=MODEL_BACKEND)
        sessions[user.email] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return sessions


def _manne_households(*, cycle: OrderCycle, emails: list[str]) -> list[str]:
    """Reward these households once (keyed by cycle and address) through the ledger's own
    services; none when the territory has no local currency or no coordinator."""
    territory = cycle.territory
    coordinator = (
        User.objects.filter(role=Role.COORDINATOR, territory=territory).order_by("pk").first()
    )
    if not territory.local_currency_enabled or coordinator is None:
        return []
    for household in User.objects.filter(email__in=emails).order_by("pk"):
        key = f"bench-rush:{cycle.pk}:{household.email}"
        request = manne_reward_declare(
            household=household,
            territory=territory,
            amount=MANNE_REWARD,
            hours=Decimal("4"),
            reason="Jardin prêté (banc d'essai)",
            key=key,
        )
        manne_reward_validate(request_id=request.pk, coordinator=coordinator, key=f"{key}:validate")
    return emails


# Checks ----------------------------------------------------------------------------------------


def check_oversold(*, cycle: OrderCycle) -> list[str]:
    """Offers of the cycle whose live order lines took more units than were available."""
    sold = dict(
        OrderLine.objects.filter(order__cycle=cycle, order__status__in=LIVE, offer__isnull=False)
        .values_list("offer_id")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    problems = []
    for offer in Offer.objects.filter(cycle=cycle, quantity_available__isnull=False).order_by("pk"):
        units = Decimal(sold.get(offer.pk, 0)).quantize(UNIT)
        if units > offer.quantity_available:
            available = offer.quantity_available.quantize(UNIT)
            problems.append(f"offer #{offer.pk}: {units} units sold, {available} available")
    return problems


def check_ledger(*, cycle: OrderCycle) -> list[str]:
    """The manne ledger's own proofs (``ledger_drifts``) on the cycle's territory."""
    return [str(drift) for drift in ledger_drifts(territory=cycle.territory)]


def check_plan_coverage(*, cycle: OrderCycle) -> list[str]:
    """Accepted orders whose relay point is neither a stop of the plan nor listed unserved
    with a reason."""
    from logistics.models import DeliveryPlan, PlanStop  # marche reads logistics here only

    orders = list(
        Order.objects.filter(cycle=cycle, status__in=HANDED_OVER)
        .select_related("relay_point")
        .order_by("pk")
    )
    if not orders:
        return []
    plan = DeliveryPlan.objects.filter(cycle=cycle).first()
    if plan is None:
        return [f"no plan for cycle #{cycle.pk} ({len(orders)} accepted orders)"]
    stops = {
        place.split("#", 1)[0]
        for place in PlanStop.objects.filter(route__plan=plan).values_list("place", flat=True)
    }
    unserved = {
        str(entry.get("place")): str(entry.get("reason_fr") or "")
        for entry in plan.unserved or []
        if isinstance(entry, dict)
    }
    problems = []
    for order in orders:
        place = f"relay:{order.relay_point.slug}"
        if place in stops or unserved.get(place):
            continue
        problems.append(f"order {order.reference}: {place} neither on a route nor unserved")
    return problems
