"""A coordinator refunds a household's order: card euros, mannes, a reason, once per form."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection

from marche.accounts.models import Role
from marche.mannes.models import Account, Transaction, TransferKind
from marche.mannes.services import manne_transfer
from marche.payments.models import Payment, PaymentStatus, Refund
from marche.payments.refunds import (
    MannesAlreadyReturned,
    MannesNotReturnable,
    NoCardPayment,
    NothingToRefund,
    OrderRefundNotFound,
    RefundReasonRequired,
    order_refund,
)
from marche.payments.stripe_services import RefundTooLarge, stripe_event_process
from tests.factories import TerritoryFactory, UserFactory
from tests.marche.orders.conftest import Market
from tests.marche.payments.test_split_tender import (
    egg_farm_account,
    household_account,
    order_eggs_and_carrots,
)

pytestmark = pytest.mark.django_db


def coordinator_of(market: Market):  # type: ignore[no-untyped-def]
    return UserFactory(role=Role.COORDINATOR, territory=market.cycle.territory)


def paid_by_card(market: Market, fake_stripe, *, mannes: str = "0", key: str = "o1"):  # type: ignore[no-untyped-def]
    order, _start = order_eggs_and_carrots(market, method="card", mannes=mannes, key=key)
    card = Payment.objects.get(order=order, method="card")
    stripe_event_process(event=fake_stripe.pay(card.reference))
    order.refresh_from_db()
    return order, card


def state() -> tuple[object, ...]:
    return (
        list(Refund.objects.values_list("amount", "status").order_by("pk")),
        list(Payment.objects.values_list("status", flat=True).order_by("pk")),
        list(Account.objects.values_list("balance", "held").order_by("pk")),
        Transaction.objects.count(),
    )


def test_part_of_a_card_payment_goes_back_with_the_reason_in_the_households_email(
    manne_market, fake_stripe, django_capture_on_commit_callbacks
) -> None:
    order, card = paid_by_card(manne_market, fake_stripe)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = order_refund(
            order_id=order.pk,
            by=coordinator_of(manne_market),
            amount=Decimal("4.50"),
            mannes=False,
            reason="Œufs cassés au relais",
            key="form-1",
        )
    assert result.card_refund is not None
    assert (result.card_refund.amount, result.card_refund.status) == (Decimal("4.50"), "succeeded")
    [stripe_refund] = fake_stripe.refunds.values()
    assert stripe_refund["amount"] == 450
    [message] = mail.outbox
    assert order.reference in message.subject
    assert "Œufs cassés au relais" in message.body
    assert "4,50 €" in message.body
    card.refresh_from_db()
    assert card.status == PaymentStatus.SUCCEEDED  # 13.40 paid, 4.50 back: not all


def test_the_same_form_sent_twice_refunds_once(manne_market, fake_stripe) -> None:
    order, _card = paid_by_card(manne_market, fake_stripe)
    coordinator = coordinator_of(manne_market)
    for _ in range(2):
        order_refund(
            order_id=order.pk,
            by=coordinator,
            amount=Decimal("3.00"),
            mannes=False,
            reason="Poireaux abîmés",
            key="form-twice",
        )
    assert Refund.objects.count() == 1
    assert len(fake_stripe.refunds) == 1


@pytest.mark.parametrize(
    ("amount", "mannes", "reason", "error"),
    [
        (Decimal("13.41"), False, "Trop", RefundTooLarge),
        (Decimal("-1"), False, "Négatif", RefundTooLarge),
        (Decimal("2.00"), False, "   ", RefundReasonRequired),
        (Decimal("0"), False, "Rien", NothingToRefund),
        (Decimal("0"), True, "Pas de mannes", NothingToRefund),
    ],
)
def test_a_refused_refund_changes_nothing(
    manne_market, fake_stripe, amount, mannes, reason, error
) -> None:
    order, _card = paid_by_card(manne_market, fake_stripe)
    before = state()
    with pytest.raises(error):
        order_refund(
            order_id=order.pk,
            by=coordinator_of(manne_market),
            amount=amount,
            mannes=mannes,
            reason=reason,
            key="form-refused",
        )
    assert state() == before
    assert fake_stripe.refunds == {}


def test_a_second_refund_counts_what_the_first_gave_back(manne_market, fake_stripe) -> None:
    order, card = paid_by_card(manne_market, fake_stripe)
    coordinator = coordinator_of(manne_market)
    order_refund(
        order_id=order.pk,
        by=coordinator,
        amount=Decimal("10.00"),
        mannes=False,
        reason="a",
        key="k1",
    )
    with pytest.raises(RefundTooLarge):
        order_refund(
            order_id=order.pk,
            by=coordinator,
            amount=Decimal("3.41"),
            mannes=False,
            reason="b",
            key="k2",
        )
    order_refund(
        order_id=order.pk,
        by=coordinator,
        amount=Decimal("3.40"),
        mannes=False,
        reason="c",
        key="k3",
    )
    card.refresh_from_db()
    assert card.status == PaymentStatus.REFUNDED
    assert sum(Refund.objects.values_list("amount", flat=True)) == Decimal("13.40")


def test_mannes_go_back_whole_and_only_once(manne_market, fake_stripe) -> None:
    market = manne_market
    order, _card = paid_by_card(market, fake_stripe, mannes="5")
    account = household_account(market)
    assert account.balance == Decimal("15.00")
    coordinator = coordinator_of(market)
    result = order_refund(
        order_id=order.pk,
        by=coordinator,
        amount=Decimal("0"),
        mannes=True,
        reason="Relais fermé",
        key="m1",
    )
    assert result.mannes_returned == Decimal("5.00")
    assert result.card_refund is None
    account.refresh_from_db()
    assert account.balance == Decimal("20.00")
    assert egg_farm_account(market).balance == Decimal("0.00")
    assert Payment.objects.get(order=order, method="mannes").status == PaymentStatus.REFUNDED
    before = state()
    with pytest.raises(MannesAlreadyReturned):
        order_refund(
            order_id=order.pk,
            by=coordinator,
            amount=Decimal("1"),
            mannes=True,
            reason="x",
            key="m2",
        )
    assert state() == before


def test_mannes_the_farm_has_spent_are_refused_and_the_card_is_not_refunded(
    manne_market, fake_stripe
) -> None:
    market = manne_market
    order, _card = paid_by_card(market, fake_stripe, mannes="5")
    farm = egg_farm_account(market)
    farmer = UserFactory(role=Role.FARMER, territory=market.cycle.territory)
    market.eggs.product.producer.members.add(farmer)
    manne_transfer(
        kind=TransferKind.REFUND,
        from_account=farm,
        to_account=household_account(market),
        amount=Decimal("4.00"),
        key="farm-spends",
        by=farmer,
    )
    before = state()
    with pytest.raises(MannesNotReturnable):
        order_refund(
            order_id=order.pk,
            by=coordinator_of(market),
            amount=Decimal("2.00"),
            mannes=True,
            reason="Relais fermé",
            key="m-spent",
        )
    assert state() == before
    assert fake_stripe.refunds == {}


def test_an_order_paid_at_pickup_has_no_card_to_refund(manne_market) -> None:
    order, _start = order_eggs_and_carrots(manne_market, method="pickup", mannes="0")
    with pytest.raises(NoCardPayment):
        order_refund(
            order_id=order.pk,
            by=coordinator_of(manne_market),
            amount=Decimal("1.00"),
            mannes=False,
            reason="x",
            key="pickup",
        )


def test_a_coordinator_of_another_territory_or_a_household_cannot_refund(
    manne_market, fake_stripe
) -> None:
    order, _card = paid_by_card(manne_market, fake_stripe)
    other = TerritoryFactory()
    before = state()
    for user in (
        UserFactory(role=Role.COORDINATOR, territory=other),
        manne_market.household,
        UserFactory(role=Role.FARMER),
    ):
        with pytest.raises(OrderRefundNotFound):
            order_refund(
                order_id=order.pk,
                by=user,
                amount=Decimal("1.00"),
                mannes=False,
                reason="x",
                key=f"other-{user.pk}",
            )
    assert state() == before


@pytest.mark.django_db(transaction=True)
def test_two_tabs_racing_never_refund_more_than_the_card_paid(manne_market, fake_stripe) -> None:
    """Two coordinators (two tabs, two keys) each refund 8 € of a 13.40 € card payment at
    the same instant, on PostgreSQL: one wins, the other is refused, 8 € go back in all."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    order, card = paid_by_card(manne_market, fake_stripe)
    coordinators = [coordinator_of(manne_market), coordinator_of(manne_market)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def refund(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            order_refund(
                order_id=order.pk,
                by=coordinators[index],
                amount=Decimal("8.00"),
                mannes=False,
                reason=f"onglet {index}",
                key=f"tab-{index}",
            )
            outcomes.append("refunded")
        except RefundTooLarge:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=refund, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refunded", "refused"]
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("8.00")]
    assert len(fake_stripe.refunds) == 1
    card.refresh_from_db()
    assert card.amount - Decimal("8.00") == Decimal("5.40")
