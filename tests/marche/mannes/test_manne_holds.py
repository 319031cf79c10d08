"""The manne part of a split-tender order: hold at checkout, capture at confirmation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from marche.mannes.errors import (
    HoldNotFound,
    HoldNotLive,
    IdempotencyConflict,
    InsufficientBalance,
    TransferNotAllowed,
)
from marche.mannes.models import HoldStatus, ManneHold, TransferKind
from marche.mannes.selectors import manne_balance
from marche.mannes.services import (
    manne_hold,
    manne_hold_capture,
    manne_hold_release,
    manne_holds_expire,
    manne_transfer,
)
from tests.marche.mannes.conftest import balances, snapshot

pytestmark = pytest.mark.django_db


def hold(ledger, amount: str = "12.00", key: str = "order-1:mannes", minutes: int = 30):
    return manne_hold(
        account=ledger.alice_account,
        amount=Decimal(amount),
        key=key,
        expires_at=timezone.now() + timedelta(minutes=minutes),
    )


def capture(ledger, held, key: str = "order-1:mannes:capture", **kw):
    return manne_hold_capture(hold_id=held.pk, to_account=ledger.farm_account, key=key, **kw)


def test_a_hold_sets_mannes_aside(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    held = hold(ledger)
    assert (held.status, held.amount, held.account) == (
        HoldStatus.HELD,
        Decimal("12.00"),
        ledger.alice_account,
    )
    balance = manne_balance(account=ledger.alice_account)
    assert (balance.balance, balance.held, balance.available) == (
        Decimal("20.00"),
        Decimal("12.00"),
        Decimal("8.00"),
    )
    # Held mannes cannot be spent elsewhere.
    before = snapshot()
    with pytest.raises(InsufficientBalance):
        manne_transfer(
            kind=TransferKind.SERVICE_EXCHANGE,
            from_account=ledger.alice_account,
            to_account=ledger.bob_account,
            amount=Decimal("8.01"),
            key="x",
            by=ledger.alice,
        )
    with pytest.raises(InsufficientBalance):
        hold(ledger, "8.01", key="order-2:mannes")
    assert snapshot() == before


def test_a_hold_replays_and_refuses_a_conflict(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    first = hold(ledger)
    before = snapshot()
    assert hold(ledger, minutes=45) == first
    with pytest.raises(IdempotencyConflict):
        hold(ledger, "11.00")
    assert snapshot() == before


def test_capture_pays_the_producer_from_the_held_part(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    held = hold(ledger)
    posting = capture(ledger, held)
    held.refresh_from_db()
    assert (held.status, held.transaction) == (HoldStatus.CAPTURED, posting)
    assert posting.kind == TransferKind.ORDER_PAYMENT
    assert sorted(posting.entries.values_list("account_id", "amount")) == sorted(
        [(ledger.alice_account.pk, Decimal("-12.00")), (ledger.farm_account.pk, Decimal("12.00"))]
    )
    assert balances(ledger.alice_account, ledger.farm_account) == [
        (Decimal("8.00"), Decimal("0.00")),
        (Decimal("12.00"), Decimal("0")),
    ]
    before = snapshot()
    assert capture(ledger, held) == posting
    with pytest.raises(HoldNotLive):
        capture(ledger, held, key="another-capture")
    # Releasing a captured hold leaves it captured.
    assert manne_hold_release(hold_id=held.pk).status == HoldStatus.CAPTURED
    assert snapshot() == before


def test_capture_commits_or_rolls_back_with_the_order_confirmation(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    held = hold(ledger)
    before = snapshot()

    class PaymentFailed(Exception):
        pass

    with pytest.raises(PaymentFailed), transaction.atomic():
        capture(ledger, held)
        raise PaymentFailed()
    assert snapshot() == before
    held.refresh_from_db()
    assert held.status == HoldStatus.HELD
    with transaction.atomic():
        posting = capture(ledger, held)
    assert posting.pk is not None
    assert balances(ledger.alice_account)[0] == (Decimal("8.00"), Decimal("0.00"))


def test_a_released_or_expired_hold_cannot_be_captured(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    released = hold(ledger, "5.00", key="h1")
    manne_hold_release(hold_id=released.pk)
    expired = hold(ledger, "5.00", key="h2", minutes=1)
    before = snapshot()
    with pytest.raises(HoldNotLive):
        capture(ledger, released, key="c1")
    with pytest.raises(HoldNotLive):
        capture(ledger, expired, key="c2", now=timezone.now() + timedelta(minutes=2))
    with pytest.raises(HoldNotFound):
        manne_hold_capture(hold_id=999999, to_account=ledger.farm_account, key="c3")
    assert snapshot() == before


def test_capture_follows_the_transfer_rules(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    held = hold(ledger)
    before = snapshot()
    with pytest.raises(TransferNotAllowed):
        manne_hold_capture(hold_id=held.pk, to_account=ledger.bob_account, key="c")
    with pytest.raises(TransferNotAllowed):
        manne_hold_capture(
            hold_id=held.pk, to_account=ledger.issuer, key="c", kind=TransferKind.RECONVERSION
        )
    assert snapshot() == before


def test_release_gives_the_mannes_back_once(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    held = hold(ledger)
    released = manne_hold_release(hold_id=held.pk)
    assert released.status == HoldStatus.RELEASED
    assert balances(ledger.alice_account)[0] == (Decimal("20.00"), Decimal("0.00"))
    assert manne_hold_release(hold_id=held.pk).status == HoldStatus.RELEASED
    assert balances(ledger.alice_account)[0] == (Decimal("20.00"), Decimal("0.00"))
    with pytest.raises(HoldNotFound):
        manne_hold_release(hold_id=999999)


def test_expiry_releases_only_holds_past_their_time(ledger) -> None:
    ledger.fund(ledger.alice_account, "20.00")
    soon = hold(ledger, "3.00", key="soon", minutes=5)
    later = hold(ledger, "4.00", key="later", minutes=60)
    captured = hold(ledger, "2.00", key="captured", minutes=5)
    capture(ledger, captured, key="captured:capture")
    now = timezone.now() + timedelta(minutes=10)
    assert manne_holds_expire(now=now) == 1
    assert manne_holds_expire(now=now) == 0
    statuses = dict(ManneHold.objects.values_list("pk", "status"))
    assert (statuses[soon.pk], statuses[later.pk], statuses[captured.pk]) == (
        HoldStatus.RELEASED,
        HoldStatus.HELD,
        HoldStatus.CAPTURED,
    )
    assert balances(ledger.alice_account)[0] == (Decimal("18.00"), Decimal("4.00"))
