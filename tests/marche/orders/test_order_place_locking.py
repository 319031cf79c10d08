"""Checkouts lock in one order and never wait long: reversed carts, lock timeouts (PostgreSQL).

Two households check out at the same instant, at two relay points, with the same two
offers in opposite cart orders, {X, Y} and {Y, X}. Each thread has its own connection;
after its first line's stock is held it waits for the other to reach the same point,
unless the other is already waiting for one of its locks. Without one lock order (the
control, where the offers are not locked up front), both get there, each holding the offer
the other needs: PostgreSQL detects the deadlock and aborts one of them. With the offers
locked up front in primary-key order, the second checkout waits for the first as a whole
and both orders are placed.

A checkout that meets a lock held longer than the lock timeout is refused with
``service_busy`` (a French message on the page, 409 in the API), never a 500, and changes
nothing.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from marche.accounts.models import User
from marche.accounts.tokens import api_token_create
from marche.core.locking import DEADLOCK_DETECTED, LOCK_NOT_AVAILABLE, ServiceBusy
from marche.cycles.models import HoldStatus, Offer, StockHold
from marche.orders import services as order_services
from marche.orders.models import CartItem, Order, OrderStatus
from marche.orders.services import cart_set_item, order_cancel, order_place
from marche.relays.models import PickupSlot, RelayDay
from marche.relays.services import pickup_slots_ensure
from tests.factories import OfferFactory, OrderCycleFactory, RelayPointFactory, UserFactory
from tests.locking import RowHeld, someone_waits_for_a_lock

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


class Shop:
    def __init__(self) -> None:
        self.cycle = OrderCycleFactory()
        # Two relay points: checkouts at the same one already queue on its day's row.
        self.relays, self.slots = [], []
        for _ in range(2):
            relay = RelayPointFactory(territory=self.cycle.territory, capacity_per_day=50)
            self.relays.append(relay.pk)
            self.slots.append(
                pickup_slots_ensure(relay_point=relay, on=self.cycle.delivery_date)[0].pk
            )
        self.relay_id, self.slot_id = self.relays[0], self.slots[0]
        self.x = OfferFactory(cycle=self.cycle, quantity_available=Decimal("10"))
        self.y = OfferFactory(cycle=self.cycle, quantity_available=Decimal("10"))
        assert self.x.pk < self.y.pk

    def household_with_cart(self, *offers: Offer) -> User:
        household = UserFactory()
        for offer in offers:  # cart order is insertion order
            cart_set_item(
                customer=household, cycle_id=self.cycle.pk, offer_id=offer.pk, count=Decimal("1")
            )
        return household

    def place(self, household: User, key: str = "checkout", relay: int = 0) -> Order:
        order, _start = order_place(
            customer=household,
            cycle_id=self.cycle.pk,
            relay_point_id=self.relays[relay],
            pickup_slot_id=self.slots[relay],
            payment_method="pickup",
            idempotency_key=key,
        )
        return order

    def counters(self) -> list[tuple[Decimal, Decimal]]:
        return [
            tuple(Offer.objects.values_list("quantity_held", "quantity_sold").get(pk=offer.pk))
            for offer in (self.x, self.y)
        ]

    def state(self) -> tuple[object, ...]:
        return (
            self.counters(),
            Order.objects.count(),
            StockHold.objects.count(),
            list(PickupSlot.objects.filter(pk__in=self.slots).values_list("booked", flat=True)),
            list(RelayDay.objects.values_list("booked", flat=True)),
            CartItem.objects.count(),
        )


def reversed_carts_race(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Households with carts {X, Y} and {Y, X} check out together; returns who got what.

    Each checkout, once its first line's stock is held, waits until the other one has done
    the same, or is waiting for one of its locks (then there is nothing to wait for).
    """
    households = [
        shop.household_with_cart(shop.x, shop.y),
        shop.household_with_cart(shop.y, shop.x),
    ]
    start = threading.Barrier(2)
    arrived = [False, False]
    local = threading.local()
    real_stock_hold = order_services.stock_hold

    def stock_hold_then_meet(**kwargs):  # type: ignore[no-untyped-def]
        hold = real_stock_hold(**kwargs)
        if not getattr(local, "met", False):
            local.met = True
            arrived[local.index] = True
            deadline = time.monotonic() + 30
            while not arrived[1 - local.index] and not someone_waits_for_a_lock():
                assert time.monotonic() < deadline
                time.sleep(0.02)
        return hold

    monkeypatch.setattr(order_services, "stock_hold", stock_hold_then_meet)
    outcome: dict[str, list[str]] = {"placed": [], "service_busy": [], "other": []}
    lock = threading.Lock()

    def checks_out(index: int) -> None:
        local.index = index
        try:
            start.wait(timeout=30)
            shop.place(households[index], relay=index)
            result, detail = "placed", ""
        except ServiceBusy as error:
            result, detail = "service_busy", getattr(error.__cause__.__cause__, "sqlstate", "")
        except Exception as error:  # pragma: no cover - shown in the assertion
            result, detail = "other", repr(error)
        finally:
            connections.close_all()
        with lock:
            outcome[result].append(detail)

    threads = [threading.Thread(target=checks_out, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcome


def test_reversed_carts_check_out_together_without_deadlock(settings, monkeypatch) -> None:
    assert connection.vendor == "postgresql"
    settings.MARCHE_LOCK_TIMEOUT_MS = 20_000  # this test is about the order, not the timeout
    shop = Shop()
    outcome = reversed_carts_race(shop, monkeypatch)
    assert outcome == {"placed": ["", ""], "service_busy": [], "other": []}
    assert Order.objects.filter(status=OrderStatus.CONFIRMED).count() == 2
    assert shop.counters() == [(Decimal("0"), Decimal("2")), (Decimal("0"), Decimal("2"))]
    assert StockHold.objects.filter(status=HoldStatus.CONFIRMED).count() == 4
    assert list(PickupSlot.objects.filter(pk__in=shop.slots).values_list("booked", flat=True)) == [
        1,
        1,
    ]


def test_control_locking_in_cart_order_deadlocks(settings, monkeypatch) -> None:
    """Without the up-front lock in primary-key order, the same race is a deadlock."""
    settings.MARCHE_LOCK_TIMEOUT_MS = 20_000  # the deadlock detector answers first (1 s)
    monkeypatch.setattr(order_services, "offers_lock", lambda *, offer_ids: [])
    shop = Shop()
    outcome = reversed_carts_race(shop, monkeypatch)
    assert outcome == {"placed": [""], "service_busy": [DEADLOCK_DETECTED], "other": []}
    # The victim's transaction was rolled back whole: one order, its two holds.
    assert Order.objects.count() == 1
    assert StockHold.objects.count() == 2
    assert shop.counters() == [(Decimal("0"), Decimal("1")), (Decimal("0"), Decimal("1"))]
    assert sum(PickupSlot.objects.values_list("booked", flat=True)) == 1
    assert sum(RelayDay.objects.values_list("booked", flat=True)) == 1
    assert CartItem.objects.count() == 2  # the refused household keeps its cart


# Lock timeout ---------------------------------------------------------------------------------


def test_a_checkout_waiting_past_the_lock_timeout_is_refused_and_changes_nothing(
    settings,
) -> None:
    settings.MARCHE_LOCK_TIMEOUT_MS = 300
    shop = Shop()
    household = shop.household_with_cart(shop.y, shop.x)
    before = shop.state()
    with RowHeld(shop.x), pytest.raises(ServiceBusy) as refused:
        shop.place(household)
    assert refused.value.code == "service_busy"
    assert refused.value.status == 409
    assert refused.value.message.startswith("Le service est très demandé, réessayez")
    assert refused.value.__cause__.__cause__.sqlstate == LOCK_NOT_AVAILABLE
    assert shop.state() == before
    # Once the lock is gone the same checkout (same key) goes through.
    assert shop.place(household).status == OrderStatus.CONFIRMED


def test_a_cancellation_waiting_past_the_lock_timeout_is_refused_and_changes_nothing(
    settings,
) -> None:
    settings.MARCHE_LOCK_TIMEOUT_MS = 300
    shop = Shop()
    household = shop.household_with_cart(shop.x)
    order = shop.place(household)
    before = (shop.state(), Order.objects.get(pk=order.pk).status)
    with RowHeld(shop.x), pytest.raises(ServiceBusy):
        order_cancel(order_id=order.pk, by=household)
    assert (shop.state(), Order.objects.get(pk=order.pk).status) == before
    assert order_cancel(order_id=order.pk, by=household).status == OrderStatus.CANCELLED
    assert shop.counters()[0] == (Decimal("0"), Decimal("0"))


def test_the_web_checkout_answers_busy_in_french_not_500(settings) -> None:
    settings.MARCHE_LOCK_TIMEOUT_MS = 300
    shop = Shop()
    household = shop.household_with_cart(shop.x)
    client = Client()
    client.force_login(household)
    before = shop.state()
    with RowHeld(shop.x):
        response = client.post(
            reverse("orders:checkout", args=[shop.cycle.pk]),
            {
                "relay": shop.relay_id,
                "slot": shop.slot_id,
                "payment_method": "pickup",
                "idempotency_key": "web-busy",
            },
        )
    assert response.status_code == 302
    errors = [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert len(errors) == 1 and errors[0].startswith("Le service est très demandé, réessayez")
    assert shop.state() == before


def test_the_api_checkout_answers_409_service_busy(settings) -> None:
    settings.MARCHE_LOCK_TIMEOUT_MS = 300
    shop = Shop()
    household = shop.household_with_cart(shop.x)
    token = api_token_create(user=household, name="test")[1]
    before = shop.state()
    with RowHeld(shop.x):
        response = Client().post(
            "/api/v1/me/orders",
            {
                "cycle_id": shop.cycle.pk,
                "relay_point_id": shop.relay_id,
                "pickup_slot_id": shop.slot_id,
                "payment_method": "pickup",
            },
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "api-busy"},
        )
    assert response.status_code == 409
    assert response.json()["code"] == "service_busy"
    assert shop.state() == before
