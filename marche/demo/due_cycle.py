"""A demo cycle to plan: past its cutoff, delivered tomorrow, full of confirmed orders.

The weekly demo cycle is open and empty; delivery planning needs a cycle whose orders are in.
This one is made of the territory's products in season with a larger stock, and of orders
of invented households (``foyer001@demo.test``… by default; each territory's file names its
own addresses, unique on the instance, with ``household_email``) placed and confirmed
through the marketplace
services (``cart_set_item``, ``order_place``: stock held then sold, pickup slots booked,
mannes held then captured where the territory has a local currency), at moments spread
over its opening, with a fixed random seed.
The territory's canteens order in it too (the nursery school's order made from its standing
order, the residence's placed by its manager), so the plan has canteen stops with their
reception windows. Nobody has closed it or planned it: the coordination does. It is
delivered the next day (``delivery_in_days``, moved to the next day the relay points open):
planned on the day of its delivery, no round may leave before the moment of planning, so a
cycle delivered the day of the load could not be planned in the afternoon or the evening.

Idempotent: the cycle is keyed by its delivery day; when it exists it is left as it is (its
orders, and whatever the coordination did with it), so a second load changes nothing.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from marche.accounts.models import Role, User
from marche.canteens.demo import demo_order_canteens_in_cycle
from marche.canteens.notifications import canteen_notification_key
from marche.catalog.models import Product, Unit
from marche.core.models import OutboxMessage
from marche.cycles.models import Basket, Offer, OrderCycle
from marche.demo.loaders import DEMO_PASSWORD, _load_basket, accounts_refuse_taken, add_months
from marche.demo.spec import DemoSpec, DemoSpecError
from marche.errors import DomainError
from marche.mannes.services import manne_reward_declare, manne_reward_validate
from marche.orders.models import Cart
from marche.orders.notifications import order_notification_key
from marche.orders.services import Quote, cart_quote, cart_set_item, order_place
from marche.payments.mannes_tender import HOLD_MARGIN, manne_usable_for_quote
from marche.relays.models import PickupSlot, RelayPoint
from marche.relays.services import pickup_slots_ensure
from marche.territories.models import Territory

HOUSEHOLD_EMAIL = "foyer{number:03d}@demo.test"
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
# A lent garden earns 2.50 mannes an hour in the demo (marche/mannes/demo.py).
GARDEN_RATE = Decimal("2.50")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class DueCycleSpec:
    """The ``[due_cycle]`` section of the demo description, with its defaults."""

    orders: int
    seed: int
    opened_days_before: int
    closes_minutes_after_load: int
    delivery_in_days: int
    stock_factor: Decimal
    basket_share: float
    manne_share: float
    solidarity_share: float
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    household_email: str = HOUSEHOLD_EMAIL

    def email(self, number: int) -> str:
        """The address of the ``number``-th invented household (from 1)."""
        return self.household_email.format(number=number)

    @classmethod
    def read(cls, data: dict[str, Any]) -> DueCycleSpec:
        try:
            spec = cls(
                orders=int(data["orders"]),
                seed=int(data.get("seed", 15)),
                opened_days_before=int(data.get("opened_days_before", 6)),
                closes_minutes_after_load=int(data.get("closes_minutes_after_load", -60)),
                delivery_in_days=int(data.get("delivery_in_days", 1)),
                stock_factor=Decimal(str(data.get("stock_factor", "1"))),
                basket_share=float(data.get("basket_share", 0.5)),
                manne_share=float(data.get("manne_share", 0)),
                solidarity_share=float(data.get("solidarity_share", 0)),
                first_names=tuple(data["first_names"]),
                last_names=tuple(data["last_names"]),
                household_email=str(data.get("household_email", HOUSEHOLD_EMAIL)),
            )
            first, second = spec.email(1), spec.email(2)
        except (
            KeyError,
            IndexError,
            AttributeError,
            TypeError,
            ValueError,
            ArithmeticError,
        ) as exc:
            raise DemoSpecError(f"Cycle à planifier (due_cycle) illisible : {exc}") from exc
        if not 0 <= spec.orders <= 999 or spec.opened_days_before < 1:
            raise DemoSpecError("Cycle à planifier : 0 à 999 commandes, ouvert au moins un jour")
        if spec.closes_minutes_after_load <= 2 - spec.opened_days_before * 24 * 60:
            raise DemoSpecError("Cycle à planifier : la clôture doit suivre l'ouverture")
        if not spec.first_names or not spec.last_names or spec.stock_factor <= 0:
            raise DemoSpecError("Cycle à planifier : prénoms, noms et stock_factor > 0 requis")
        if first == second or "@" not in first:
            raise DemoSpecError(
                "Cycle à planifier : household_email doit être une adresse contenant "
                "{number}, par exemple « foyer{number:03d}@demo.test »"
            )
        return spec


def demo_load_due_cycle(
    *, spec: DemoSpec, territory: Territory, now: datetime | None = None
) -> OrderCycle | None:
    """Create the demo cycle to plan and its orders once; None without a ``[due_cycle]``."""
    data = spec.data.get("due_cycle")
    if not data:
        return None
    due = DueCycleSpec.read(data)
    if due.manne_share and not territory.local_currency_enabled:
        raise DemoSpecError(
            f"Cycle à planifier : manne_share demande une monnaie locale, "
            f"que {territory.name} n'a pas"
        )
    now = now or timezone.now()
    zone = ZoneInfo(territory.timezone)
    relays = list(
        RelayPoint.objects.filter(territory=territory, is_active=True)
        .prefetch_related("opening_hours")
        .order_by("slug")
    )
    delivery = _delivery_day(relays, now.astimezone(zone).date() + timedelta(due.delivery_in_days))
    existing = OrderCycle.objects.filter(
        territory=territory, schedule__isnull=True, delivery_date=delivery
    ).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        cycle = _cycle_create(spec=spec, due=due, territory=territory, now=now, on=delivery)
        for relay in relays:
            pickup_slots_ensure(relay_point=relay, on=delivery)
        _canteen_orders(spec=spec, cycle=cycle, now=now)
        households = _households(due=due, territory=territory, today=now.astimezone(zone).date())
        _DueOrders(due=due, cycle=cycle, relays=relays, households=households, now=now).place()
    return cycle


def _canteen_orders(*, spec: DemoSpec, cycle: OrderCycle, now: datetime) -> None:
    """The canteens' orders, an hour after the opening (before the households' ones, as the
    beat task makes standing orders as soon as a cycle opens), so the plan has their stops."""
    at = min(cycle.opens_at + timedelta(hours=1), cycle.closes_at - timedelta(minutes=1), now)
    orders = demo_order_canteens_in_cycle(spec=spec, cycle=cycle, at=at, now=now)
    # Written at load time about moments gone (the order made, then confirmed at the
    # cutoff), the managers' e-mails would all arrive at once and late: they are not sent.
    OutboxMessage.objects.filter(
        key__in=[
            canteen_notification_key(canteen_id=order.canteen_id, event=event, ref=ref)
            for order in orders
            for event, ref in (
                ("confirmed", f"order-{order.pk}"),
                ("left_out", f"cycle-{cycle.pk}"),
            )
        ]
    ).delete()


def _delivery_day(relays: list[RelayPoint], start: date) -> date:
    """The first day from ``start`` on which the relay points open for pickups."""
    open_days = {hours.weekday for relay in relays for hours in relay.opening_hours.all()}
    for offset in range(7):
        day = start + timedelta(days=offset)
        if day.weekday() in open_days:
            return day
    raise DemoSpecError("Cycle à planifier : aucun point relais n'a d'heures de retrait")


def _cycle_create(
    *, spec: DemoSpec, due: DueCycleSpec, territory: Territory, now: datetime, on: date
) -> OrderCycle:
    schedule = spec.data.get("schedule", {})
    cycle = OrderCycle.objects.create(
        territory=territory,
        schedule=None,
        name=f"Livraison du {WEEKDAYS_FR[on.weekday()]} {on:%d/%m/%Y} (cycle à planifier)",
        opens_at=now - timedelta(days=due.opened_days_before),
        closes_at=now + timedelta(minutes=due.closes_minutes_after_load),
        delivery_date=on,
        minimum_order_amount=Decimal(schedule.get("minimum_order_amount", "0")),
    )
    stocks = {item["slug"]: item.get("stock") for item in spec.section("products")}
    products = Product.objects.filter(producer__territory=territory, slug__in=stocks).order_by("pk")
    offers: dict[str, Offer] = {}
    for product in products:
        if product.season_months and on.month not in product.season_months:
            continue
        stock = stocks[product.slug]
        offers[product.slug] = Offer.objects.create(
            cycle=cycle,
            product=product,
            unit_price=product.unit_price,
            quantity_available=Decimal(stock) * due.stock_factor if stock else None,
        )
    for item in spec.section("baskets"):
        _load_basket(item=item, cycle=cycle, offers=offers)
    return cycle


def _households(*, due: DueCycleSpec, territory: Territory, today: date) -> list[User]:
    """The invented households, created once (one password hash for all: it is public).

    Their addresses are unique on the instance: a file naming another territory's
    households is refused, so that no household orders in two territories' cycles.
    """
    draw = random.Random(due.seed)  # noqa: S311 (reproducible demo data, no secret)
    names = [(draw.choice(due.first_names), draw.choice(due.last_names)) for _ in range(due.orders)]
    solidarity = set(draw.sample(range(due.orders), round(due.orders * due.solidarity_share)))
    emails = [due.email(number) for number in range(1, due.orders + 1)]
    accounts_refuse_taken(emails=emails, territory=territory)
    existing = {user.email: user for user in User.objects.filter(email__in=emails)}
    password = make_password(DEMO_PASSWORD)
    User.objects.bulk_create(
        User(
            email=email,
            first_name=first,
            last_name=last,
            role=Role.HOUSEHOLD,
            territory=territory,
            password=password,
            solidarity_until=add_months(today, 12) if index in solidarity else None,
        )
        for index, (email, (first, last)) in enumerate(zip(emails, names, strict=True))
        if email not in existing
    )
    by_email = {user.email: user for user in User.objects.filter(email__in=emails)}
    return [by_email[email] for email in emails]


class _DueOrders:
    """Places the cycle's orders, one per household, through the marketplace services."""

    def __init__(
        self,
        *,
        due: DueCycleSpec,
        cycle: OrderCycle,
        relays: list[RelayPoint],
        households: list[User],
        now: datetime,
    ) -> None:
        self.due = due
        self.cycle = cycle
        self.households = households
        self.draw = random.Random(due.seed + 1)  # noqa: S311 (reproducible demo data)
        self.offers = list(
            Offer.objects.filter(cycle=cycle)
            .select_related("product")
            .prefetch_related("product__variants")
            .order_by("pk")
        )
        self.baskets = list(Basket.objects.filter(cycle=cycle, is_active=True).order_by("pk"))
        self.relay_of_order = self._spread(relays)
        self.slots: dict[int, list[PickupSlot]] = {relay.pk: [] for relay in relays}
        for slot in PickupSlot.objects.filter(
            relay_point__in=relays, date=cycle.delivery_date
        ).order_by("starts_at"):
            self.slots[slot.relay_point_id].append(slot)
        self.booked: dict[int, int] = {}
        last = min(cycle.closes_at, now) - timedelta(minutes=1)
        # A manne hold is captured at the real time of the load (the ledger takes no other
        # clock) and lives MARCHE_ORDER_HOLD_MINUTES + HOLD_MARGIN from its order's moment:
        # orders paid in mannes are placed in the last part of that life before the cutoff.
        # With a cutoff further in the past there is no such moment, and no manne payment.
        live = timedelta(minutes=settings.MARCHE_ORDER_HOLD_MINUTES) + HOLD_MARGIN
        manne_from = max(cycle.opens_at, now - live / 2)
        manne_count = round(due.orders * due.manne_share) if manne_from < last else 0
        self.manne_households = set(self.draw.sample(range(due.orders), manne_count))
        self.moments = [
            _between(
                self.draw, manne_from if index in self.manne_households else cycle.opens_at, last
            )
            for index in range(due.orders)
        ]

    def _spread(self, relays: list[RelayPoint]) -> list[RelayPoint]:
        """Each order's relay point: shares in proportion to their daily room, shuffled."""
        if not relays:
            raise DemoSpecError("Cycle à planifier : aucun point relais actif")
        room = sum(relay.capacity_per_day for relay in relays)
        if room < self.due.orders:
            raise DemoSpecError(f"Cycle à planifier : {room} places de retrait seulement")
        exact = [self.due.orders * relay.capacity_per_day / room for relay in relays]
        counts = [int(share) for share in exact]
        by_remainder = sorted(range(len(relays)), key=lambda i: counts[i] - exact[i])
        for index in by_remainder[: self.due.orders - sum(counts)]:
            counts[index] += 1
        spread = [relay for relay, count in zip(relays, counts, strict=True) for _ in range(count)]
        self.draw.shuffle(spread)
        return spread

    def place(self) -> None:
        placed: list[int] = []
        coordinator = None
        # In the order they were placed, so stock runs out for the late ones.
        for index in sorted(range(len(self.households)), key=self.moments.__getitem__):
            household, moment = self.households[index], self.moments[index]
            if index in self.manne_households:
                coordinator = coordinator or _coordinator(self.cycle.territory)
                _reward(
                    household=household,
                    territory=self.cycle.territory,
                    by=coordinator,
                    hours=Decimal(self.draw.choice((4, 6, 8, 10))),
                    on=self.cycle.delivery_date,
                )
            quote = self._fill_cart(household, moment)
            relay = self.relay_of_order[index]
            slot = self._slot(relay)
            order, _start = order_place(
                customer=household,
                cycle_id=self.cycle.pk,
                relay_point_id=relay.pk,
                pickup_slot_id=slot.pk,
                payment_method="pickup",
                idempotency_key=f"demo-due-{self.cycle.delivery_date:%Y%m%d}",
                payment_options=self._manne_option(household, index, quote),
                now=moment,
            )
            placed.append(order.pk)
        # The households are invented (.test addresses): their confirmations are not mailed.
        OutboxMessage.objects.filter(
            key__in=[order_notification_key(order_id=pk, event="confirmed") for pk in placed]
        ).delete()

    def _fill_cart(self, household: User, moment: datetime) -> Quote:
        """A basket for some, then à la carte items until the minimum order is reached."""
        draw = self.draw
        basket = self.baskets and draw.random() < self.due.basket_share
        if basket:
            self._add(household, moment, basket_id=draw.choice(self.baskets).pk)
        for _ in range(draw.randint(1, 3) if basket else draw.randint(2, 5)):
            self._add_offer(household, moment)
        for _ in range(20):
            cart = Cart.objects.select_related("customer").filter(
                customer=household, cycle=self.cycle
            )
            quote = cart_quote(cart=cart[0]) if cart else Quote()
            if quote.lines and quote.total >= self.cycle.minimum_order_amount:
                return quote
            self._add_offer(household, moment)
        raise DemoSpecError("Cycle à planifier : stock trop faible pour le minimum de commande")

    def _add_offer(self, household: User, moment: datetime) -> None:
        draw = self.draw
        offer = draw.choice(self.offers)
        product = offer.product
        variants = list(product.variants.all())
        if variants and draw.random() < 0.3:
            self._add(
                household,
                moment,
                offer_id=offer.pk,
                variant_id=draw.choice(variants).pk,
                count=Decimal(1),
            )
        elif product.unit in (Unit.KG, Unit.LITRE) and not product.is_variable_weight:
            count = Decimal(draw.choice(("0.5", "1", "1", "1.5", "2")))
            if product.unit == Unit.LITRE:
                count = count.to_integral_value() or Decimal(1)
            self._add(household, moment, offer_id=offer.pk, count=count)
        else:
            self._add(household, moment, offer_id=offer.pk, count=Decimal(draw.choice((1, 1, 2))))

    def _add(
        self, household: User, moment: datetime, count: Decimal = Decimal(1), **target: int
    ) -> None:
        # Sold out or refused: this household simply goes without it.
        with contextlib.suppress(DomainError):
            cart_set_item(
                customer=household, cycle_id=self.cycle.pk, count=count, now=moment, **target
            )

    def _slot(self, relay: RelayPoint) -> PickupSlot:
        free = [s for s in self.slots[relay.pk] if self.booked.get(s.pk, 0) < s.capacity]
        if not free:
            raise DemoSpecError(f"Cycle à planifier : plus de créneau libre à {relay.name}")
        slot = self.draw.choice(free)
        self.booked[slot.pk] = self.booked.get(slot.pk, 0) + 1
        return slot

    def _manne_option(self, household: User, index: int, quote: Quote) -> dict[str, str]:
        """Half the manne households pay all they may in mannes, the others about half."""
        if index not in self.manne_households:
            return {}
        usable = manne_usable_for_quote(customer=household, cycle=self.cycle, quote=quote)
        if self.draw.random() >= 0.5:
            usable = (usable / 2).quantize(CENT, rounding=ROUND_DOWN)
        return {"mannes": str(usable)} if usable > 0 else {}


def _between(draw: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment drawn between two others, to the second."""
    return start + timedelta(seconds=round(draw.uniform(0, (end - start).total_seconds())))


def _coordinator(territory: Territory) -> User:
    coordinator = (
        User.objects.filter(role=Role.COORDINATOR, territory=territory).order_by("pk").first()
    )
    if coordinator is None:
        raise DemoSpecError(
            "Cycle à planifier : pas de compte coordinateur pour valider les mannes"
        )
    return coordinator


def _reward(*, household: User, territory: Territory, by: User, hours: Decimal, on: date) -> None:
    """Mannes earned for a lent garden, declared and validated through the ledger services.

    Keyed by the cycle's delivery day: a demo loaded again another day makes a new cycle
    whose households earn again (the same key with other hours would be a conflict).
    """
    if not territory.local_currency_enabled:
        return
    key = f"demo:{territory.slug}:mannes:due:{on:%Y%m%d}:{household.email}"
    request = manne_reward_declare(
        household=household,
        territory=territory,
        amount=hours * GARDEN_RATE,
        hours=hours,
        reason="Jardin prêté",
        key=key,
    )
    manne_reward_validate(request_id=request.pk, coordinator=by, key=f"{key}:validate")
