from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from marche.cycles.errors import CycleClosed, OutOfStock
from marche.cycles.models import HoldStatus, Offer, StockHold
from marche.orders.errors import (
    CancellationTooLate,
    CartEmpty,
    MinimumOrderNotReached,
    PaymentMethodUnavailable,
    WholeNumberRequired,
)
from marche.orders.models import Cart, CartItem, LineKind, Order, OrderLine, OrderStatus
from marche.orders.services import (
    cart_get,
    cart_quote,
    cart_set_item,
    order_cancel,
    order_place,
    orders_expire_pending,
)
from marche.payments.models import Payment, PaymentStatus
from marche.relays.errors import PickupSlotFull, RelayPointFull, RelayPointNotFound
from marche.relays.models import PickupSlot, RelayDay
from tests.factories import ProductVariantFactory, RelayPointFactory, UserFactory

pytestmark = pytest.mark.django_db


def fill_cart(market, *, carrots="1.5", eggs="2", baskets="1", user=None) -> None:
    user = user or market.household
    cycle_id = market.cycle.pk
    cart_set_item(
        customer=user, cycle_id=cycle_id, basket_id=market.basket.pk, count=Decimal(baskets)
    )
    cart_set_item(
        customer=user, cycle_id=cycle_id, offer_id=market.carrots.pk, count=Decimal(carrots)
    )
    cart_set_item(customer=user, cycle_id=cycle_id, offer_id=market.eggs.pk, count=Decimal(eggs))


def place(market, *, key="k1", user=None, slot=None, **kwargs):
    return order_place(
        customer=user or market.household,
        cycle_id=market.cycle.pk,
        relay_point_id=market.relay.pk,
        pickup_slot_id=(slot or market.slots[0]).pk,
        payment_method="pickup",
        idempotency_key=key,
        **kwargs,
    )


def stock(offer: Offer) -> tuple[Decimal, Decimal]:
    offer.refresh_from_db()
    return offer.quantity_held, offer.quantity_sold


def snapshot(market) -> dict[str, object]:
    """Everything a refused checkout must leave unchanged."""
    offers = Offer.objects.filter(cycle=market.cycle).order_by("pk")
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "holds": StockHold.objects.count(),
        "payments": Payment.objects.count(),
        "stock": [(o.quantity_held, o.quantity_sold) for o in offers],
        "slots": list(PickupSlot.objects.order_by("pk").values_list("booked", flat=True)),
        "days": list(RelayDay.objects.order_by("pk").values_list("booked", flat=True)),
        "cart": list(CartItem.objects.order_by("pk").values_list("pk", "count")),
    }


def test_basket_and_two_items_are_priced_held_confirmed_and_announced(
    market, django_capture_on_commit_callbacks
) -> None:
    fill_cart(market)
    with django_capture_on_commit_callbacks(execute=True):
        order, start = place(market)

    assert start is not None and start.confirmed
    assert order.status == OrderStatus.CONFIRMED
    # 15.00 basket + 1.5 kg × 2.50 + 2 × 4.20
    assert order.total == Decimal("27.15")
    lines = {line.name: line for line in order.lines.all()}
    assert lines["Carottes"].total == Decimal("3.75")
    assert (lines["Carottes"].labels, lines["Carottes"].origin) == ([], "FRANCE")
    assert lines["Œufs"].total == Decimal("8.40")
    basket_line = lines[market.basket.name]
    assert basket_line.kind == LineKind.BASKET and basket_line.total == Decimal("15.00")
    assert sorted((c.name, c.quantity) for c in basket_line.components.all()) == [
        ("Carottes", Decimal("1.000")),
        ("Pommes de terre", Decimal("2.000")),
    ]
    # Carrots: 1.5 à la carte + 1 in the basket, all sold, nothing left held.
    assert stock(market.carrots) == (Decimal("0"), Decimal("2.5"))
    assert stock(market.eggs) == (Decimal("0"), Decimal("2"))
    assert set(StockHold.objects.values_list("status", flat=True)) == {HoldStatus.CONFIRMED}
    assert list(PickupSlot.objects.order_by("pk").values_list("booked", flat=True)) == [1, 0, 0]
    assert RelayDay.objects.get().booked == 1
    assert not CartItem.objects.exists()
    payment = Payment.objects.get()
    assert (payment.method, payment.amount, payment.status) == (
        "pickup",
        Decimal("27.15"),
        PaymentStatus.PENDING,
    )
    assert len(mail.outbox) == 1
    assert order.reference in mail.outbox[0].subject
    assert "27,15 €" in mail.outbox[0].body


def test_replaying_the_key_returns_the_first_order_and_takes_nothing_more(market) -> None:
    fill_cart(market)
    first, _ = place(market, key="same")
    fill_cart(market)
    again, start = place(market, key="same")
    assert again.pk == first.pk and start is None
    assert Order.objects.count() == 1
    assert stock(market.eggs) == (Decimal("0"), Decimal("2"))


def test_solidarity_price_for_an_eligible_household(market) -> None:
    market.household.solidarity_until = market.cycle.delivery_date
    market.household.save()
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        basket_id=market.basket.pk,
        count=Decimal("1"),
    )
    order, _ = place(market)
    line = order.lines.get(kind=LineKind.BASKET)
    assert (line.total, line.is_solidarity_price) == (Decimal("7.50"), True)


def test_variant_and_variable_weight_pricing(market) -> None:
    crate = ProductVariantFactory(
        product=market.carrots.product,
        name="Cagette 5 kg",
        content=Decimal("5"),
        discount_percent=Decimal("10"),
    )
    from tests.factories import OfferFactory, ProductFactory

    squash = OfferFactory(
        cycle=market.cycle,
        product=ProductFactory(
            name="Potimarron",
            unit="piece",
            is_variable_weight=True,
            estimated_weight_kg=Decimal("1.200"),
        ),
        unit_price=Decimal("2.90"),
        quantity_available=Decimal("20"),
    )
    user, cycle_id = market.household, market.cycle.pk
    cart_set_item(
        customer=user,
        cycle_id=cycle_id,
        offer_id=market.carrots.pk,
        variant_id=crate.pk,
        count=Decimal("1"),
    )
    cart_set_item(customer=user, cycle_id=cycle_id, offer_id=squash.pk, count=Decimal("3"))
    quote = cart_quote(cart=cart_get(customer=user, cycle=market.cycle))
    totals = {line.name: (line.quantity, line.total) for line in quote.lines}
    # 5 kg × 2.50 less 10 % ; 3 × 1.2 kg × 2.90 €/kg
    assert totals == {
        "Carottes — Cagette 5 kg": (Decimal("5"), Decimal("11.25")),
        "Potimarron": (Decimal("3"), Decimal("10.44")),
    }
    order, _ = place(market)
    assert order.is_final is False
    assert stock(market.carrots) == (Decimal("0"), Decimal("5"))
    with pytest.raises(WholeNumberRequired):
        cart_set_item(customer=user, cycle_id=cycle_id, offer_id=squash.pk, count=Decimal("1.5"))


def test_out_of_stock_on_one_line_refuses_the_whole_order_and_changes_nothing(market) -> None:
    fill_cart(market, eggs="5")
    other = UserFactory()
    cart_set_item(
        customer=other, cycle_id=market.cycle.pk, offer_id=market.eggs.pk, count=Decimal("1")
    )
    place(market, user=other, key="other")
    before = snapshot(market)
    with pytest.raises(OutOfStock):
        place(market)
    assert snapshot(market) == before


def test_full_slot_and_full_relay_day_are_refused_and_change_nothing(market) -> None:
    PickupSlot.objects.filter(pk=market.slots[0].pk).update(capacity=0)
    fill_cart(market)
    before = snapshot(market)
    with pytest.raises(PickupSlotFull):
        place(market)
    assert snapshot(market) == before

    RelayDay.objects.update(capacity=0)
    with pytest.raises(RelayPointFull) as refused:
        place(market, slot=market.slots[1])
    assert refused.value.code == "relay_point_full"
    assert "complet" in refused.value.message
    assert snapshot(market) == before


def test_other_refusals_change_nothing(market) -> None:
    foreign_relay = RelayPointFactory()  # another territory
    with pytest.raises(CartEmpty):
        place(market)
    fill_cart(market, baskets="0", eggs="0", carrots="1")
    market.cycle.minimum_order_amount = Decimal("10")
    market.cycle.save()
    before = snapshot(market)
    with pytest.raises(MinimumOrderNotReached):
        place(market)
    with pytest.raises(RelayPointNotFound):
        order_place(
            customer=market.household,
            cycle_id=market.cycle.pk,
            relay_point_id=foreign_relay.pk,
            pickup_slot_id=market.slots[0].pk,
            payment_method="pickup",
            idempotency_key="x",
        )
    with pytest.raises(PaymentMethodUnavailable):
        order_place(
            customer=market.household,
            cycle_id=market.cycle.pk,
            relay_point_id=market.relay.pk,
            pickup_slot_id=market.slots[0].pk,
            payment_method="bitcoin",
            idempotency_key="y",
        )
    with pytest.raises(CycleClosed):
        place(market, now=market.cycle.closes_at)
    assert snapshot(market) == before


def test_cancel_before_cutoff_gives_stock_and_room_back(market) -> None:
    fill_cart(market)
    order, _ = place(market)
    cancelled = order_cancel(order_id=order.pk, by=market.household)
    assert cancelled.status == OrderStatus.CANCELLED
    assert stock(market.carrots) == (Decimal("0"), Decimal("0"))
    assert stock(market.eggs) == (Decimal("0"), Decimal("0"))
    assert RelayDay.objects.get().booked == 0
    assert PickupSlot.objects.get(pk=market.slots[0].pk).booked == 0
    assert Payment.objects.get().status == PaymentStatus.CANCELLED
    # Cancelling twice changes nothing more.
    order_cancel(order_id=order.pk, by=market.household)
    assert RelayDay.objects.get().booked == 0
    assert stock(market.eggs) == (Decimal("0"), Decimal("0"))


def test_cancel_after_cutoff_is_refused(market) -> None:
    fill_cart(market)
    order, _ = place(market)
    with pytest.raises(CancellationTooLate):
        order_cancel(order_id=order.pk, by=market.household, now=market.cycle.closes_at)
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert stock(market.eggs) == (Decimal("0"), Decimal("2"))


def test_someone_else_cannot_cancel(market) -> None:
    fill_cart(market)
    order, _ = place(market)
    from marche.orders.errors import OrderNotFound

    with pytest.raises(OrderNotFound):
        order_cancel(order_id=order.pk, by=UserFactory())
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED


def test_unpaid_order_expires_and_gives_everything_back(market, settings) -> None:
    settings.MARCHE_PAYMENT_METHODS = ["tests.marche.orders.test_order_place.PayLater"]
    from marche.payments import methods

    methods._registry.cache_clear()
    try:
        fill_cart(market)
        order, start = order_place(
            customer=market.household,
            cycle_id=market.cycle.pk,
            relay_point_id=market.relay.pk,
            pickup_slot_id=market.slots[0].pk,
            payment_method="later",
            idempotency_key="k",
        )
        assert start is not None and start.redirect_url == "/payer/"
        assert order.status == OrderStatus.PENDING
        assert stock(market.eggs) == (Decimal("2"), Decimal("0"))
        assert orders_expire_pending(now=timezone.now()) == 0
        assert orders_expire_pending(now=order.expires_at + timedelta(seconds=1)) == 1
        order.refresh_from_db()
        assert order.status == OrderStatus.EXPIRED
        assert stock(market.eggs) == (Decimal("0"), Decimal("0"))
        assert RelayDay.objects.get().booked == 0
    finally:
        methods._registry.cache_clear()


from marche.payments.methods import PaymentMethod, PaymentStart  # noqa: E402


class PayLater(PaymentMethod):
    code = "later"
    label = "plus tard"

    def start(self, *, order, options):
        return PaymentStart(confirmed=False, redirect_url="/payer/")


def test_labels_valid_on_delivery_day_are_copied_onto_the_line(market) -> None:
    from datetime import timedelta as td

    from marche.catalog.models import EgalimLabel, ProductCertification

    delivery = market.cycle.delivery_date
    for label, until in (
        (EgalimLabel.FERMIER, delivery),
        (EgalimLabel.BIO, delivery + td(days=30)),
        (EgalimLabel.HVE, delivery - td(days=1)),  # expired before delivery
    ):
        ProductCertification.objects.create(
            product=market.eggs.product,
            label=label,
            certificate_reference=f"REF-{label}",
            valid_from=delivery - td(days=365),
            valid_until=until,
        )
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.eggs.pk,
        count=Decimal("1"),
    )
    order, _ = place(market)
    line = order.lines.get()
    assert line.labels == ["BIO", "FERMIER"]
    # The catalogue changing later does not change the order.
    ProductCertification.objects.all().delete()
    line.refresh_from_db()
    assert line.labels == ["BIO", "FERMIER"]


def test_an_on_demand_maximum_counts_every_line_of_the_order(market) -> None:
    from marche.cycles.errors import MaxPerOrderExceeded
    from tests.factories import ProductVariantFactory

    carrots = market.carrots
    Offer.objects.filter(pk=carrots.pk).update(quantity_available=None, max_per_order=5)
    bag = ProductVariantFactory(product=carrots.product, name="Sac de 2 kg", content="2")
    cart = Cart.objects.create(customer=market.household, cycle=market.cycle)
    # 4 kg loose and a 2 kg bag: each line is within the 5 kg maximum, the order is not.
    CartItem.objects.create(cart=cart, offer=carrots, count=Decimal("4"))
    CartItem.objects.create(cart=cart, offer=carrots, variant=bag, count=Decimal("1"))
    before = stock(carrots)
    with pytest.raises(MaxPerOrderExceeded):
        place(market)
    assert Order.objects.count() == 0
    assert stock(carrots) == before
