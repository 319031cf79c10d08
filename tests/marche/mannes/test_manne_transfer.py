from __future__ import annotations

from decimal import Decimal

import pytest

from marche.mannes.errors import (
    BelowMinimum,
    DailyMaximumExceeded,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    NotAccountHolder,
    TransferNotAllowed,
)
from marche.mannes.models import (
    Entry,
    RequestStatus,
    Transaction,
    TransferKind,
    TransferRequest,
    TransferRule,
)
from marche.mannes.services import manne_account_for_user, manne_transfer
from tests.factories import UserFactory
from tests.marche.mannes.conftest import balances, make_ledger, snapshot

pytestmark = pytest.mark.django_db


def pay(ledger, amount: str, *, key: str = "pay-1", kind: str = TransferKind.ORDER_PAYMENT, **kw):
    params = {
        "kind": kind,
        "from_account": ledger.alice_account,
        "to_account": ledger.farm_account,
        "amount": Decimal(amount),
        "key": key,
        "by": ledger.alice,
    }
    params.update(kw)
    return manne_transfer(**params)


def test_an_order_payment_moves_mannes_in_one_balanced_posting(ledger) -> None:
    ledger.fund(ledger.alice_account, "30.00")
    posting = pay(ledger, "12.50", memo="Commande C-1")
    assert (posting.kind, posting.memo, posting.created_by, posting.status) == (
        TransferKind.ORDER_PAYMENT,
        "Commande C-1",
        ledger.alice,
        "posted",
    )
    assert list(posting.entries.order_by("account_id").values_list("account_id", "amount")) == [
        (ledger.alice_account.pk, Decimal("-12.50")),
        (ledger.farm_account.pk, Decimal("12.50")),
    ]
    assert set(posting.entries.values_list("currency", flat=True)) == {"MAN"}
    assert balances(ledger.alice_account, ledger.farm_account) == [
        (Decimal("17.50"), Decimal("0")),
        (Decimal("12.50"), Decimal("0")),
    ]


def test_a_replay_returns_the_first_posting(ledger) -> None:
    ledger.fund(ledger.alice_account, "30.00")
    first = pay(ledger, "10.00")
    before = snapshot()
    assert pay(ledger, "10.00") == first
    assert snapshot() == before
    assert balances(ledger.alice_account)[0][0] == Decimal("20.00")


def test_a_replay_may_write_the_amount_differently(ledger) -> None:
    ledger.fund(ledger.alice_account, "30.00")
    first = pay(ledger, "10")
    assert pay(ledger, "10.00") == first
    assert first.entries.get(account=ledger.farm_account).amount == Decimal("10.00")


def test_the_same_key_for_another_command_is_refused(ledger) -> None:
    ledger.fund(ledger.alice_account, "30.00")
    pay(ledger, "10.00")
    before = snapshot()
    with pytest.raises(IdempotencyConflict):
        pay(ledger, "11.00")
    with pytest.raises(IdempotencyConflict):
        pay(ledger, "10.00", memo="autre")
    assert snapshot() == before


def test_spending_more_than_the_balance_is_refused_and_changes_nothing(ledger) -> None:
    ledger.fund(ledger.alice_account, "10.00")
    before = snapshot()
    with pytest.raises(InsufficientBalance) as refused:
        pay(ledger, "10.01")
    assert refused.value.code == "insufficient_balance"
    assert "Solde insuffisant" in refused.value.message
    assert snapshot() == before
    assert not Transaction.objects.filter(key="pay-1").exists()
    # The key was not used up by the refusal.
    assert pay(ledger, "10.00").kind == TransferKind.ORDER_PAYMENT


@pytest.mark.parametrize("amount", ["0", "-1.00", "1.001", "NaN"])
def test_amounts_must_be_positive_cents(ledger, amount) -> None:
    ledger.fund(ledger.alice_account, "10.00")
    before = snapshot()
    with pytest.raises(InvalidAmount):
        pay(ledger, amount)
    assert snapshot() == before


def test_floats_are_refused(ledger) -> None:
    with pytest.raises(InvalidAmount):
        manne_transfer(
            kind=TransferKind.ORDER_PAYMENT,
            from_account=ledger.alice_account,
            to_account=ledger.farm_account,
            amount=1.0,
            key="float",
            by=ledger.alice,
        )


@pytest.mark.parametrize(
    ("kind", "src", "dst"),
    [
        (TransferKind.ORDER_PAYMENT, "alice_account", "bob_account"),  # household to household
        (TransferKind.ORDER_PAYMENT, "farm_account", "alice_account"),  # producer pays back
        (TransferKind.REFUND, "alice_account", "farm_account"),  # refunds go to households
        (TransferKind.SERVICE_EXCHANGE, "alice_account", "farm_account"),  # residents only
        (TransferKind.SERVICE_EXCHANGE, "alice_account", "alice_account"),  # to oneself
        (TransferKind.RECONVERSION, "farm_account", "issuer"),  # only as a payout batch
        (TransferKind.REVERSAL, "alice_account", "bob_account"),  # only manne_reverse
        (TransferKind.ORDER_PAYMENT, "alice_account", "issuer"),
    ],
)
def test_who_may_send_to_whom(ledger, kind, src, dst) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    ledger.fund(ledger.bob_account, "20.00")
    pay(ledger, "5.00", key="farm-income")
    before = snapshot()
    by = ledger.coordinator
    with pytest.raises(TransferNotAllowed):
        pay(
            ledger,
            "2.00",
            key="x",
            kind=kind,
            from_account=getattr(ledger, src),
            to_account=getattr(ledger, dst),
            by=by,
        )
    assert snapshot() == before


def test_only_the_holder_or_a_coordinator_may_debit_an_account(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    before = snapshot()
    with pytest.raises(NotAccountHolder):
        pay(ledger, "2.00", by=ledger.bob)
    assert snapshot() == before
    pay(ledger, "2.00", key="by-coordinator", by=ledger.coordinator)
    refund = pay(
        ledger,
        "1.00",
        key="refund",
        kind=TransferKind.REFUND,
        from_account=ledger.farm_account,
        to_account=ledger.alice_account,
        by=ledger.farmer,
    )
    assert refund.kind == TransferKind.REFUND
    assert balances(ledger.alice_account, ledger.farm_account) == [
        (Decimal("19.00"), Decimal("0")),
        (Decimal("1.00"), Decimal("0")),
    ]


def test_a_service_exchange_between_residents(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    pay(ledger, "7.00", kind=TransferKind.SERVICE_EXCHANGE, to_account=ledger.bob_account)
    assert balances(ledger.alice_account, ledger.bob_account) == [
        (Decimal("13.00"), Decimal("0")),
        (Decimal("7.00"), Decimal("0")),
    ]


def test_the_minimum_of_a_kind(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    before = snapshot()
    with pytest.raises(BelowMinimum) as refused:
        pay(ledger, "0.99", kind=TransferKind.SERVICE_EXCHANGE, to_account=ledger.bob_account)
    assert refused.value.params == {"minimum": "1.00"}
    assert snapshot() == before


def test_the_daily_maximum_counts_what_the_member_sent_today(ledger) -> None:
    ledger.fund(ledger.alice_account, "200.00")
    exchange = {"kind": TransferKind.SERVICE_EXCHANGE, "to_account": ledger.bob_account}
    pay(ledger, "60.00", key="a", **exchange)
    pay(ledger, "40.00", key="b", **exchange)
    # Order payments are another kind: they do not count.
    pay(ledger, "30.00", key="c")
    before = snapshot()
    with pytest.raises(DailyMaximumExceeded) as refused:
        pay(ledger, "1.00", key="d", **exchange)
    assert refused.value.params == {"maximum": "100.00", "used": "100.00"}
    assert snapshot() == before


def test_a_fee_goes_to_the_issuer(ledger) -> None:
    TransferRule.objects.create(
        territory=ledger.territory,
        kind=TransferKind.ORDER_PAYMENT,
        sender_kinds=["household"],
        recipient_kinds=["producer"],
        minimum=Decimal("0.01"),
        fee_percent=Decimal("2.5"),
    )
    ledger.fund(ledger.alice_account, "50.00")
    posting = pay(ledger, "10.10")
    assert sorted(posting.entries.values_list("account_id", "amount")) == sorted(
        [
            (ledger.alice_account.pk, Decimal("-10.10")),
            (ledger.farm_account.pk, Decimal("9.85")),
            (ledger.issuer.pk, Decimal("0.25")),
        ]
    )
    assert balances(ledger.alice_account, ledger.farm_account, ledger.issuer) == [
        (Decimal("39.90"), Decimal("0")),
        (Decimal("9.85"), Decimal("0")),
        (Decimal("-49.75"), Decimal("0")),
    ]


def test_a_disabled_kind_is_refused(ledger) -> None:
    TransferRule.objects.create(
        territory=ledger.territory,
        kind=TransferKind.SERVICE_EXCHANGE,
        sender_kinds=["household"],
        recipient_kinds=["household"],
        is_enabled=False,
    )
    ledger.fund(ledger.alice_account, "20.00")
    with pytest.raises(TransferNotAllowed):
        pay(ledger, "2.00", kind=TransferKind.SERVICE_EXCHANGE, to_account=ledger.bob_account)


def test_a_kind_needing_approval_creates_a_pending_request(ledger) -> None:
    TransferRule.objects.create(
        territory=ledger.territory,
        kind=TransferKind.SERVICE_EXCHANGE,
        sender_kinds=["household"],
        recipient_kinds=["household"],
        minimum=Decimal("1.00"),
        requires_approval=True,
    )
    ledger.fund(ledger.alice_account, "20.00")
    entries = Entry.objects.count()
    request = pay(ledger, "5.00", kind=TransferKind.SERVICE_EXCHANGE, to_account=ledger.bob_account)
    assert isinstance(request, TransferRequest)
    assert (request.status, request.amount, request.requested_by) == (
        RequestStatus.PENDING,
        Decimal("5.00"),
        ledger.alice,
    )
    assert Entry.objects.count() == entries
    again = pay(ledger, "5.00", kind=TransferKind.SERVICE_EXCHANGE, to_account=ledger.bob_account)
    assert again == request


def test_accounts_of_two_territories_never_meet(ledger) -> None:
    other = make_ledger()
    ledger.fund(ledger.alice_account, "20.00")
    before = snapshot()
    with pytest.raises(TransferNotAllowed):
        pay(ledger, "2.00", to_account=other.farm_account)
    assert snapshot() == before


def test_a_new_member_starts_at_zero_and_cannot_spend(ledger) -> None:
    newcomer = UserFactory(territory=ledger.territory)
    account = manne_account_for_user(user=newcomer, territory=ledger.territory)
    with pytest.raises(InsufficientBalance):
        pay(ledger, "0.01", from_account=account, by=newcomer)
    assert balances(account) == [(Decimal("0"), Decimal("0"))]
