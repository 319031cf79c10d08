"""An à la carte item missing at packing: off the order, cheaper pickup, card refunded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from marche.orders.models import LineKind, OrderLine
from marche.orders.packing import LineNotMissable, WeighingNotAllowed, order_line_mark_missing
from marche.payments.models import Payment, PaymentStatus, Refund
from tests.marche.orders.test_pick_lists import Prep, build_prep, close

pytestmark = pytest.mark.django_db


@pytest.fixture
def prep() -> Prep:
    return build_prep()


def test_missing_item_leaves_the_order_and_lowers_the_pickup_payment(
    prep, django_capture_on_commit_callbacks
) -> None:
    carrots = OrderLine.objects.get(order=prep.bob, name="Carottes")
    assert prep.bob.total == Decimal("11.86")
    with django_capture_on_commit_callbacks(execute=True):
        line = order_line_mark_missing(line_id=carrots.pk, by=prep.coordinator)
    assert (line.is_missing, line.total) == (True, Decimal("0"))
    prep.bob.refresh_from_db()
    assert prep.bob.total == Decimal("9.36")
    assert Payment.objects.get(order=prep.bob).amount == Decimal("9.36")
    sent = [m for m in mail.outbox if "manque" in m.subject]
    assert [m.subject for m in sent] == [f"Commande {prep.bob.reference} : un article manque"]
    assert "Carottes : manquant" in sent[0].body
    # Declaring it again changes nothing and mails nobody.
    with django_capture_on_commit_callbacks(execute=True):
        order_line_mark_missing(line_id=carrots.pk, by=prep.coordinator)
    prep.bob.refresh_from_db()
    assert prep.bob.total == Decimal("9.36")
    assert len([m for m in mail.outbox if "manque" in m.subject]) == 1


def test_only_items_and_only_allowed_people(prep) -> None:
    basket = OrderLine.objects.filter(kind=LineKind.BASKET).first()
    carrots = OrderLine.objects.get(order=prep.bob, name="Carottes")
    before = (prep.bob.total, list(OrderLine.objects.values_list("total", "is_missing")))
    if basket is not None:
        with pytest.raises(LineNotMissable):
            order_line_mark_missing(line_id=basket.pk, by=prep.coordinator)
    with pytest.raises(WeighingNotAllowed):
        order_line_mark_missing(line_id=carrots.pk, by=prep.farmer_cocagne)
    prep.bob.refresh_from_db()
    assert (prep.bob.total, list(OrderLine.objects.values_list("total", "is_missing"))) == before


def test_missing_item_of_a_card_order_is_refunded_once(
    market, fake_stripe, django_capture_on_commit_callbacks
) -> None:
    from marche.accounts.models import Role
    from marche.orders.services import cart_set_item, order_place
    from marche.payments.stripe_services import stripe_event_process
    from tests.factories import UserFactory

    for offer, count in ((market.eggs, "2"), (market.carrots, "1")):
        cart_set_item(
            customer=market.household,
            cycle_id=market.cycle.pk,
            offer_id=offer.pk,
            count=Decimal(count),
        )
    order, _ = order_place(
        customer=market.household,
        cycle_id=market.cycle.pk,
        relay_point_id=market.relay.pk,
        pickup_slot_id=market.slots[0].pk,
        payment_method="card",
        idempotency_key="card-missing",
    )
    card = Payment.objects.get(order=order, method="card")
    stripe_event_process(event=fake_stripe.pay(card.reference))
    close(market.cycle)
    eggs = order.lines.get(offer=market.eggs)
    coordinator = UserFactory(role=Role.COORDINATOR)
    for _attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            order_line_mark_missing(line_id=eggs.pk, by=coordinator)
    order.refresh_from_db()
    assert order.total == Decimal("2.50")
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [840]
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.idempotency_key) == (
        Decimal("8.40"),
        "succeeded",
        f"missing-line-{eggs.pk}",
    )
    card.refresh_from_db()
    assert card.status == PaymentStatus.SUCCEEDED  # partly refunded, the carrots stay paid


def test_missing_button_on_the_packing_page(client, prep) -> None:
    from django.urls import reverse

    carrots = OrderLine.objects.get(order=prep.bob, name="Carottes")
    url = reverse("preparation:line_missing", args=[carrots.pk])
    client.force_login(prep.bob.customer)
    assert client.post(url).status_code == 403
    carrots.refresh_from_db()
    assert carrots.is_missing is False
    client.force_login(prep.coordinator)
    page = client.get(
        reverse("preparation:packing_list", args=[prep.cycle.pk, prep.bob.relay_point_id])
    )
    assert url in page.content.decode()
    assert client.post(url, {"next": "/preparation/"}).status_code == 302
    carrots.refresh_from_db()
    assert carrots.is_missing is True


def test_a_card_order_weighed_lighter_gets_the_difference_back(
    market, fake_stripe, django_capture_on_commit_callbacks
) -> None:
    from marche.accounts.models import Role
    from marche.orders.packing import order_line_weigh
    from marche.orders.services import cart_set_item, order_place
    from marche.payments.stripe_services import stripe_event_process
    from tests.factories import OfferFactory, ProductFactory, UserFactory

    squash = OfferFactory(
        cycle=market.cycle,
        product=ProductFactory(
            name="Potimarron",
            unit="piece",
            is_variable_weight=True,
            estimated_weight_kg=Decimal("1.200"),
        ),
        unit_price=Decimal("2.90"),
        quantity_available=Decimal("10"),
    )
    cart_set_item(
        customer=market.household, cycle_id=market.cycle.pk, offer_id=squash.pk, count=Decimal("2")
    )
    order, _ = order_place(
        customer=market.household,
        cycle_id=market.cycle.pk,
        relay_point_id=market.relay.pk,
        pickup_slot_id=market.slots[0].pk,
        payment_method="card",
        idempotency_key="card-weigh",
    )
    card = Payment.objects.get(order=order, method="card")
    assert card.amount == Decimal("6.96")  # 2 × 1.2 kg × 2.90 €/kg, estimated
    stripe_event_process(event=fake_stripe.pay(card.reference))
    close(market.cycle)
    line = order.lines.get()
    coordinator = UserFactory(role=Role.COORDINATOR)
    # Heavier than estimated: the card is not charged again.
    with django_capture_on_commit_callbacks(execute=True):
        order_line_weigh(line_id=line.pk, weight_kg=Decimal("2.600"), by=coordinator)
    assert fake_stripe.refunds == {}
    # Corrected to lighter: 2.000 kg × 2.90 = 5.80, so 1.16 goes back, once.
    for _attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            order_line_weigh(line_id=line.pk, weight_kg=Decimal("2.000"), by=coordinator)
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [116]
    assert Refund.objects.get().amount == Decimal("1.16")
