"""Shares, Connect transfers and the payout report add up exactly."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from marche.orders.models import OrderStatus
from marche.orders.services import cart_set_item, order_place
from marche.payments.allocation import order_producer_shares, split_proportionally
from marche.payments.models import ConnectedAccount, Payment, Transfer
from marche.payments.payouts import payout_report
from marche.payments.stripe_services import (
    TransferNotDue,
    order_transfers_create,
    producer_onboarding_link,
    stripe_event_process,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_split_proportionally_always_adds_up() -> None:
    parts = split_proportionally(
        Decimal("10.00"), {1: Decimal("1"), 2: Decimal("1"), 3: Decimal("1")}
    )
    assert parts == {1: Decimal("3.34"), 2: Decimal("3.33"), 3: Decimal("3.33")}
    assert split_proportionally(Decimal("5"), {}) == {}


def order_for(market, user, *, method, key, fake=None):
    for kwargs in ({"basket_id": market.basket.pk}, {"offer_id": market.eggs.pk}):
        cart_set_item(customer=user, cycle_id=market.cycle.pk, count=Decimal("1"), **kwargs)
    order, _ = order_place(
        customer=user,
        cycle_id=market.cycle.pk,
        relay_point_id=market.relay.pk,
        pickup_slot_id=market.slots[0].pk,
        payment_method=method,
        idempotency_key=key,
    )
    if fake is not None:
        payment = Payment.objects.get(order=order)
        stripe_event_process(event=fake.pay(payment.reference))
        order.refresh_from_db()
    return order


def test_basket_price_is_shared_by_component_value(market) -> None:
    order = order_for(market, market.household, method="pickup", key="a")
    shares = order_producer_shares(order=order)
    # Basket 15.00: potatoes 2 kg × 1.80 = 3.60 and carrots 1 kg × 2.50 = 2.50 (weights).
    potatoes = market.basket.items.get(offer__product__name="Pommes de terre").offer.product
    assert shares[potatoes.producer_id] == Decimal("8.85")
    assert shares[market.carrots.product.producer_id] == Decimal("6.15")
    assert shares[market.eggs.product.producer_id] == Decimal("4.20")
    assert sum(shares.values()) == order.total


def test_connect_onboarding_and_one_transfer_per_producer_after_pickup(market, fake_stripe):
    producers = {
        market.eggs.product.producer,
        market.carrots.product.producer,
    }
    for producer in producers:
        link = producer_onboarding_link(
            producer=producer, refresh_url="http://x/r", return_url="http://x/ok"
        )
        assert link.startswith(fake_stripe.url + "/onboarding/acct_")
    assert ConnectedAccount.objects.count() == 2
    order = order_for(market, market.household, method="card", key="c", fake=fake_stripe)
    assert order.status == OrderStatus.CONFIRMED
    with pytest.raises(TransferNotDue):
        order_transfers_create(order_id=order.pk)
    assert Transfer.objects.count() == 0
    order.status = OrderStatus.COLLECTED
    order.save()
    first = order_transfers_create(order_id=order.pk)
    again = order_transfers_create(order_id=order.pk)
    assert [t.pk for t in first] == [t.pk for t in again]
    assert len(fake_stripe.transfers) == 2  # the potato farm has no connected account
    sent = sorted(t["amount"] for t in fake_stripe.transfers.values())
    assert sent == [420, 615]
    assert all(t["transfer_group"] == order.reference for t in fake_stripe.transfers.values())


def test_payout_report_adds_up_to_the_orders(market, fake_stripe):
    order_for(market, market.household, method="pickup", key="p")
    order_for(market, UserFactory(), method="card", key="k", fake=fake_stripe)
    report = payout_report(cycle=market.cycle)
    assert report.orders_total == Decimal("38.40")
    assert report.column("total") == Decimal("38.40")
    assert report.column("card") == Decimal("19.20")
    assert report.column("pickup") == Decimal("19.20")
    assert report.column("local_currency") == Decimal("0")
    out = io.StringIO()
    call_command("payout_report", market.cycle.pk, stdout=out)
    assert out.getvalue().splitlines()[-1] == "TOTAL;38.40;19.20;19.20;0;0;0"


def test_connect_onboarding_view_is_for_members_only(client, market, fake_stripe):
    from django.urls import reverse

    from marche.accounts.models import Role
    from marche.producers.models import ProducerMembership

    producer = market.eggs.product.producer
    farmer = UserFactory(role=Role.FARMER)
    client.force_login(farmer)
    url = reverse("payments:connect_onboarding", args=[producer.pk])
    assert client.get(url).status_code == 403
    assert ConnectedAccount.objects.count() == 0
    ProducerMembership.objects.create(producer=producer, user=farmer)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(fake_stripe.url + "/onboarding/acct_")
    assert ConnectedAccount.objects.get().producer == producer


def test_collecting_a_card_order_pays_the_producers(
    market, fake_stripe, django_capture_on_commit_callbacks
):
    from marche.accounts.models import Role
    from marche.payments.models import PickupMeans
    from marche.payments.services import order_collect

    for producer in {market.eggs.product.producer, market.carrots.product.producer}:
        producer_onboarding_link(producer=producer, refresh_url="http://x", return_url="http://x")
    order = order_for(market, market.household, method="card", key="c2", fake=fake_stripe)
    market.cycle.closes_at = timezone.now() - timedelta(minutes=1)  # after the cutoff
    market.cycle.save()
    staff = UserFactory(role=Role.COORDINATOR)
    with django_capture_on_commit_callbacks(execute=True):
        order_collect(order_id=order.pk, means=PickupMeans.CASH, by=staff)
    assert sorted(t["amount"] for t in fake_stripe.transfers.values()) == [420, 615]
    assert Transfer.objects.filter(order=order).count() == 2
