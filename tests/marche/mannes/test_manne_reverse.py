from __future__ import annotations

from decimal import Decimal

import pytest

from marche.mannes.errors import (
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientBalance,
    NotCoordinator,
    NotReversible,
    ReasonRequired,
    TransactionNotFound,
)
from marche.mannes.models import Transaction, TransactionStatus, TransferKind
from marche.mannes.services import manne_order_payment_refund, manne_reverse, manne_transfer
from tests.marche.mannes.conftest import balances, snapshot

pytestmark = pytest.mark.django_db


def payment(ledger, amount: str = "8.00", key: str = "pay"):
    return manne_transfer(
        kind=TransferKind.ORDER_PAYMENT,
        from_account=ledger.alice_account,
        to_account=ledger.farm_account,
        amount=Decimal(amount),
        key=key,
        by=ledger.alice,
    )


def test_a_correction_is_the_opposite_posting_referencing_the_original(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    original = payment(ledger)
    entries = list(original.entries.values_list("account_id", "amount"))
    correction = manne_reverse(
        transaction_id=original.pk, by=ledger.coordinator, reason="Erreur de saisie", key="rev"
    )
    assert (correction.kind, correction.reverses, correction.memo, correction.created_by) == (
        TransferKind.REVERSAL,
        original,
        "Erreur de saisie",
        ledger.coordinator,
    )
    assert sorted(correction.entries.values_list("account_id", "amount")) == sorted(
        (account, -amount) for account, amount in entries
    )
    original.refresh_from_db()
    # The original is kept as it was, only marked as reversed.
    assert original.status == TransactionStatus.REVERSED
    assert sorted(original.entries.values_list("account_id", "amount")) == sorted(entries)
    assert balances(ledger.alice_account, ledger.farm_account) == [
        (Decimal("20.00"), Decimal("0")),
        (Decimal("0.00"), Decimal("0")),
    ]


def test_a_reversal_replays_and_refuses_a_second_correction(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    original = payment(ledger)
    first = manne_reverse(transaction_id=original.pk, by=ledger.coordinator, reason="x", key="r1")
    before = snapshot()
    assert (
        manne_reverse(transaction_id=original.pk, by=ledger.coordinator, reason="x", key="r1")
        == first
    )
    with pytest.raises(IdempotencyConflict):
        manne_reverse(transaction_id=original.pk, by=ledger.coordinator, reason="y", key="r1")
    with pytest.raises(AlreadyReversed):
        manne_reverse(transaction_id=original.pk, by=ledger.coordinator, reason="x", key="r2")
    with pytest.raises(NotReversible):
        manne_reverse(transaction_id=first.pk, by=ledger.coordinator, reason="x", key="r3")
    assert snapshot() == before


def test_a_correction_never_takes_a_member_below_its_limit(ledger) -> None:
    reward = ledger.fund(ledger.alice_account, "10.00")
    payment(ledger, "6.00")
    before = snapshot()
    with pytest.raises(InsufficientBalance):
        manne_reverse(transaction_id=reward.pk, by=ledger.coordinator, reason="x", key="r")
    assert snapshot() == before
    assert Transaction.objects.get(pk=reward.pk).status == TransactionStatus.POSTED


def test_only_a_coordinator_corrects_with_a_reason(ledger) -> None:
    ledger.fund(ledger.alice_account, "10.00")
    original = payment(ledger)
    before = snapshot()
    with pytest.raises(NotCoordinator):
        manne_reverse(transaction_id=original.pk, by=ledger.alice, reason="x", key="r")
    with pytest.raises(ReasonRequired):
        manne_reverse(transaction_id=original.pk, by=ledger.coordinator, reason="", key="r")
    with pytest.raises(TransactionNotFound):
        manne_reverse(transaction_id=999999, by=ledger.coordinator, reason="x", key="r")
    assert snapshot() == before


def test_an_order_payment_refund_gives_the_household_its_mannes_back(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    original = payment(ledger)
    refund = manne_order_payment_refund(
        transaction_id=original.pk, reason="Commande annulée", key="refund"
    )
    assert (refund.kind, refund.reverses, refund.created_by) == (
        TransferKind.REVERSAL,
        original,
        None,
    )
    assert balances(ledger.alice_account, ledger.farm_account) == [
        (Decimal("20.00"), Decimal("0")),
        (Decimal("0.00"), Decimal("0")),
    ]
    before = snapshot()
    assert (
        manne_order_payment_refund(
            transaction_id=original.pk, reason="Commande annulée", key="refund"
        )
        == refund
    )
    with pytest.raises(AlreadyReversed):
        manne_order_payment_refund(transaction_id=original.pk, reason="x", key="refund-2")
    assert snapshot() == before


def test_an_order_payment_refund_reverses_order_payments_only(ledger) -> None:
    reward = ledger.fund(ledger.alice_account, "20.00")
    before = snapshot()
    with pytest.raises(NotReversible):
        manne_order_payment_refund(transaction_id=reward.pk, reason="x", key="r")
    assert snapshot() == before


def test_an_order_payment_refund_waits_for_the_producer_to_have_the_mannes(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    original = payment(ledger, "8.00")
    manne_transfer(
        kind=TransferKind.REFUND,
        from_account=ledger.farm_account,
        to_account=ledger.bob_account,
        amount=Decimal("5.00"),
        key="spent",
        by=ledger.farmer,
    )
    before = snapshot()
    with pytest.raises(InsufficientBalance):
        manne_order_payment_refund(transaction_id=original.pk, reason="x", key="r")
    assert snapshot() == before
