from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marche.cycles.models import Offer, StockHold
from marche.orders.models import CartItem, Order, OrderLine, OrderStatus
from marche.payments.methods import PaymentMethod, PaymentStart
from marche.payments.models import Payment
from marche.relays.models import PickupSlot, RelayDay
from tests.factories import OrderCycleFactory, RelayPointFactory, UserFactory

pytestmark = pytest.mark.django_db


def cart_put(api, market, **body):
    return api.send("put", f"/me/cart?cycle={market.cycle.pk}", body)


def fill(api, market) -> None:
    assert cart_put(api, market, basket_id=market.basket.pk, count="1").status_code == 200
    assert cart_put(api, market, offer_id=market.carrots.pk, count="1.5").status_code == 200
    variant = market.carrots.product.variants.get()
    assert (
        cart_put(api, market, offer_id=market.carrots.pk, variant_id=variant.pk, count="1")
    ).status_code == 200


def place(api, market, key: str | None = "cle-1", slot=None, **changes):
    body = {
        "cycle_id": market.cycle.pk,
        "relay_point_id": market.relay.pk,
        "pickup_slot_id": (slot or market.slots[0]).pk,
        "payment_method": "pickup",
        **changes,
    }
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.send("post", "/me/orders", body, headers=headers)


def snapshot(market) -> dict[str, object]:
    """Everything a refused order must leave unchanged."""
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "holds": StockHold.objects.count(),
        "payments": Payment.objects.count(),
        "stock": list(Offer.objects.order_by("pk").values_list("quantity_held", "quantity_sold")),
        "slots": list(PickupSlot.objects.order_by("pk").values_list("booked", flat=True)),
        "days": list(RelayDay.objects.order_by("pk").values_list("booked", flat=True)),
        "cart": list(CartItem.objects.order_by("pk").values_list("pk", "count")),
    }


def test_cart_is_set_item_by_item_and_priced(as_household, api_market) -> None:
    fill(as_household, api_market)
    cart = as_household.get("/me/cart", cycle=api_market.cycle.pk).json()
    # basket 15.00 + 1.5 kg × 2.50 + one 5 kg bag at 11.25
    assert cart["total"] == "30.00"
    assert [(line["name"], line["count"], line["total"]) for line in cart["lines"]] == [
        ("Panier de saison", "1.000", "15.00"),
        ("Carottes", "1.500", "3.75"),
        ("Carottes — Sac de 5 kg", "1.000", "11.25"),
    ]
    removed = cart_put(as_household, api_market, offer_id=api_market.carrots.pk, count="0")
    assert [line["name"] for line in removed.json()["lines"]] == [
        "Panier de saison",
        "Carottes — Sac de 5 kg",
    ]


@pytest.mark.parametrize(
    ("count", "status", "code"),
    [
        ("-1", 400, "invalid_number"),
        ("NaN", 400, "invalid_number"),
        ("1e400", 400, "invalid_number"),
        ("0.0001", 400, "invalid_number"),
        (True, 400, "invalid_number"),
        ([1], 400, "invalid_number"),
        (None, 422, "invalid_input"),
    ],
)
def test_bad_count_is_refused_and_changes_nothing(
    as_household, api_market, count, status, code
) -> None:
    fill(as_household, api_market)
    Offer.objects.filter(pk=api_market.carrots.pk).update(quantity_available=None)
    before = snapshot(api_market)
    response = cart_put(as_household, api_market, offer_id=api_market.carrots.pk, count=count)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert snapshot(api_market) == before


def test_negative_count_message_is_french(as_household, api_market) -> None:
    response = cart_put(as_household, api_market, offer_id=api_market.carrots.pk, count="-1")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_number",
        "message": "Un nombre négatif n'est pas accepté ici.",
        "params": {"example": "1,5", "minimum": "0", "field": "count"},
    }
    assert not CartItem.objects.exists()


def test_more_than_what_is_left_is_refused(as_household, api_market) -> None:
    response = cart_put(as_household, api_market, offer_id=api_market.eggs.pk, count="6")
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert not CartItem.objects.exists()


def test_unknown_offer_in_cart_is_404(as_household, api_market) -> None:
    response = cart_put(as_household, api_market, offer_id=999999, count="1")
    assert response.status_code == 404
    assert response.json()["code"] == "offer_not_found"


def test_placing_an_order_holds_books_and_confirms(as_household, api_market) -> None:
    fill(as_household, api_market)
    response = place(as_household, api_market)
    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get()
    assert body["replayed"] is False and body["payment_redirect_url"] is None
    assert body["order"]["reference"] == order.reference
    assert (body["order"]["status"], body["order"]["total"]) == ("confirmed", "30.00")
    basket_line = body["order"]["lines"][0]
    assert basket_line["components"] == [{"name": "Carottes", "unit": "kg", "quantity": "2.000"}]
    api_market.carrots.refresh_from_db()
    assert api_market.carrots.quantity_sold == Decimal("8.5")  # 2 + 1.5 + 5
    assert list(PickupSlot.objects.order_by("pk").values_list("booked", flat=True)) == [1, 0, 0]


def test_replaying_the_idempotency_key_returns_the_same_order(as_household, api_market) -> None:
    fill(as_household, api_market)
    first = place(as_household, api_market, key="meme-cle")
    after_first = snapshot(api_market)
    # the cart is empty now: a second, new order would be refused; the replay is not
    second = place(as_household, api_market, key="meme-cle")
    assert second.status_code == 200
    assert second.json()["replayed"] is True
    assert second.json()["order"] == first.json()["order"]
    assert snapshot(api_market) == after_first
    assert Order.objects.count() == 1


def test_idempotency_key_is_required(as_household, api_market) -> None:
    fill(as_household, api_market)
    before = snapshot(api_market)
    for key in (None, "", "x" * 81):
        response = place(as_household, api_market, key=key)
        assert response.status_code == 400
        assert response.json()["code"] == "idempotency_key_required"
    assert snapshot(api_market) == before


def test_full_relay_is_409_and_changes_nothing(as_household, api_market) -> None:
    fill(as_household, api_market)
    PickupSlot.objects.filter(pk=api_market.slots[0].pk).update(capacity=0)
    before = snapshot(api_market)
    response = place(as_household, api_market)
    assert response.status_code == 409
    assert response.json() == {
        "code": "pickup_slot_full",
        "message": "Ce créneau de retrait est complet : choisissez-en un autre.",
    }
    assert snapshot(api_market) == before
    assert before["orders"] == 0 and before["holds"] == 0


def test_full_relay_day_is_409_and_changes_nothing(as_household, api_market) -> None:
    fill(as_household, api_market)
    RelayDay.objects.filter(relay_point=api_market.relay).update(capacity=0)
    before = snapshot(api_market)
    response = place(as_household, api_market)
    assert response.status_code == 409
    assert response.json()["code"] == "relay_point_full"
    assert snapshot(api_market) == before


def test_ordering_in_a_closed_cycle_is_409_and_changes_nothing(as_household, api_market) -> None:
    fill(as_household, api_market)
    api_market.cycle.opens_at = timezone.now() - timedelta(days=3)
    api_market.cycle.closes_at = timezone.now() - timedelta(minutes=1)
    api_market.cycle.save()
    before = snapshot(api_market)
    response = place(as_household, api_market)
    assert response.status_code == 409
    assert response.json()["code"] == "cycle_closed"
    assert snapshot(api_market) == before


def test_orders_list_detail_and_cancel(as_household, api_market) -> None:
    fill(as_household, api_market)
    reference = place(as_household, api_market).json()["order"]["reference"]
    listed = as_household.get("/me/orders").json()
    assert listed["count"] == 1 and listed["items"][0]["reference"] == reference
    detail = as_household.get(f"/me/orders/{reference}")
    assert detail.status_code == 200 and detail.json()["status"] == "confirmed"
    cancelled = as_household.send("post", f"/me/orders/{reference}/cancel", {})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert Order.objects.get().status == OrderStatus.CANCELLED
    api_market.carrots.refresh_from_db()
    assert (api_market.carrots.quantity_held, api_market.carrots.quantity_sold) == (0, 0)
    assert list(PickupSlot.objects.order_by("pk").values_list("booked", flat=True)) == [0, 0, 0]


def test_someone_elses_order_is_404(client, as_household, api_market) -> None:
    from marche.accounts.tokens import api_token_create
    from tests.marche.api.conftest import Api

    fill(as_household, api_market)
    reference = place(as_household, api_market).json()["order"]["reference"]
    other = Api(client, api_token_create(user=UserFactory())[1])
    assert other.get(f"/me/orders/{reference}").status_code == 404
    response = other.send("post", f"/me/orders/{reference}/cancel", {})
    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"
    assert Order.objects.get().status == OrderStatus.CONFIRMED


def test_orders_list_runs_a_constant_number_of_queries(
    as_household, api_market, django_assert_num_queries
) -> None:
    relay = api_market.relay
    relay.capacity_per_day = 100
    relay.save()
    RelayDay.objects.filter(relay_point=relay).update(capacity=100)
    PickupSlot.objects.filter(relay_point=relay).update(capacity=100)
    placed = 0
    for rows in (2, 20):
        while placed < rows:
            fill(as_household, api_market)
            Offer.objects.filter(pk=api_market.carrots.pk).update(quantity_available=None)
            assert place(as_household, api_market, key=f"k{placed}").status_code == 201
            placed += 1
        # token lookup + last use, count, orders, lines, components
        with django_assert_num_queries(6):
            response = as_household.get("/me/orders", page_size=50)
        assert len(response.json()["items"]) == rows


def test_relay_slots_of_a_delivery_day_with_room_left(public, api_market) -> None:
    PickupSlot.objects.filter(pk=api_market.slots[1].pk).update(booked=4)
    response = public.get(
        f"/relay-points/{api_market.relay.pk}/slots", date=api_market.cycle.delivery_date
    )
    assert response.status_code == 200
    body = response.json()
    assert body["day_remaining"] == 30
    assert [(s["starts_at"], s["remaining"]) for s in body["slots"]] == [
        ("16:00:00", 10),
        ("17:00:00", 6),
        ("18:00:00", 10),
    ]


def test_relay_slots_are_made_once_for_a_new_delivery_day(public, api_market) -> None:
    relay = RelayPointFactory(territory=api_market.cycle.territory)
    url = f"/relay-points/{relay.pk}/slots"
    day = api_market.cycle.delivery_date
    assert len(public.get(url, date=day).json()["slots"]) == 3
    assert len(public.get(url, date=day).json()["slots"]) == 3
    assert PickupSlot.objects.filter(relay_point=relay).count() == 3


def test_relay_slots_refuse_a_day_without_delivery(public, api_market) -> None:
    OrderCycleFactory()  # another territory's delivery the same day does not count
    day = api_market.cycle.delivery_date + timedelta(days=1)
    before = PickupSlot.objects.count()
    response = public.get(f"/relay-points/{api_market.relay.pk}/slots", date=day)
    assert response.status_code == 404
    assert response.json()["code"] == "no_delivery_on_date"
    assert PickupSlot.objects.count() == before
    assert public.get("/relay-points/999999/slots", date=day).json()["code"] == (
        "relay_point_not_found"
    )


class RedirectingMethod(PaymentMethod):
    """A card-like payment method: the household is sent to a payment page."""

    code = "card-test"
    label = "Carte (test)"

    def start(self, *, order, options) -> PaymentStart:
        return PaymentStart(confirmed=False, redirect_url=f"https://pay.example.test/{order.pk}")


@pytest.fixture
def redirecting_method(settings):
    from marche.payments.methods import _registry

    settings.MARCHE_PAYMENT_METHODS = [f"{__name__}.RedirectingMethod"]
    _registry.cache_clear()
    yield
    _registry.cache_clear()


def test_a_redirecting_payment_returns_its_url_and_a_pending_order(
    as_household, api_market, redirecting_method
) -> None:
    fill(as_household, api_market)
    response = place(as_household, api_market, payment_method="card-test")
    assert response.status_code == 201
    order = Order.objects.get()
    assert response.json()["payment_redirect_url"] == f"https://pay.example.test/{order.pk}"
    assert response.json()["order"]["status"] == "pending"


def test_unknown_payment_method_is_refused_and_changes_nothing(as_household, api_market) -> None:
    fill(as_household, api_market)
    before = snapshot(api_market)
    response = place(as_household, api_market, payment_method="bitcoin")
    assert response.status_code == 400
    assert response.json()["code"] == "payment_method_unavailable"
    assert snapshot(api_market) == before
