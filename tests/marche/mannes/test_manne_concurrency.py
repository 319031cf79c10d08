"""50 payments race for a balance that covers 10 on PostgreSQL: exactly 10 go through.

The control runs the same race through a read-check-write debit (what the service must not
do) to show that the race is real on this database, so the main test could fail.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.utils import timezone

from marche.errors import DomainError
from marche.mannes import services
from marche.mannes.errors import InsufficientBalance
from marche.mannes.models import Account, Entry, HoldStatus, ManneHold, Transaction, TransferKind
from marche.mannes.selectors import ledger_drifts, manne_balance
from tests.marche.mannes.conftest import make_ledger

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

PAYERS = 50
PRICE = Decimal("10.00")
FUNDS = Decimal("100.00")  # enough for 10 payments


def race(command: Callable[[int], object]) -> Counter[str]:
    """Start PAYERS threads, each with its own connection, released at the same instant."""
    barrier = threading.Barrier(PAYERS)
    outcome: Counter[str] = Counter()
    lock = threading.Lock()

    def payer(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            command(index)
            result = "paid"
        except InsufficientBalance:
            result = "refused"
        except DomainError as exc:
            result = exc.code
        finally:
            connections.close_all()
        with lock:
            outcome[result] += 1

    threads = [threading.Thread(target=payer, args=(i,)) for i in range(PAYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


@pytest.fixture
def funded():
    assert connection.vendor == "postgresql"
    ledger = make_ledger()
    ledger.fund(ledger.alice_account, str(FUNDS))
    return ledger


def payment(ledger) -> Callable[[int], object]:
    def pay(index: int) -> object:
        return services.manne_transfer(
            kind=TransferKind.ORDER_PAYMENT,
            from_account=ledger.alice_account,
            to_account=ledger.farm_account,
            amount=PRICE,
            key=f"payer-{index}",
            by=ledger.alice,
        )

    return pay


def test_fifty_payments_for_ten_go_through_exactly_ten(funded) -> None:
    outcome = race(payment(funded))
    assert outcome == Counter(paid=10, refused=40)
    alice = manne_balance(account=funded.alice_account)
    assert (alice.balance, alice.available) == (Decimal("0.00"), Decimal("0.00"))
    assert manne_balance(account=funded.farm_account).balance == FUNDS
    assert Transaction.objects.filter(kind=TransferKind.ORDER_PAYMENT).count() == 10
    assert ledger_drifts() == []


def test_fifty_holds_for_ten_hold_exactly_ten(funded) -> None:
    expires = timezone.now() + timedelta(minutes=30)

    def hold(index: int) -> object:
        return services.manne_hold(
            account=funded.alice_account, amount=PRICE, key=f"hold-{index}", expires_at=expires
        )

    assert race(hold) == Counter(paid=10, refused=40)
    alice = manne_balance(account=funded.alice_account)
    assert (alice.balance, alice.held, alice.available) == (FUNDS, FUNDS, Decimal("0.00"))
    assert ManneHold.objects.filter(status=HoldStatus.HELD).count() == 10
    assert ledger_drifts() == []


def test_fifty_replays_of_one_key_pay_once(funded) -> None:
    results: list[int] = []

    def replay(index: int) -> object:
        posting = payment(funded)(0)
        results.append(posting.pk)
        return posting

    assert race(replay) == Counter(paid=50)
    assert len(set(results)) == 1
    assert manne_balance(account=funded.alice_account).balance == FUNDS - PRICE
    assert ledger_drifts() == []


def unguarded_debit(*, account_id: int, amount: Decimal) -> bool:
    """The control: read, check in Python, then write the balance read (read-modify-write)."""
    account = Account.objects.get(pk=account_id)
    if account.balance - account.held - account.limit < amount:
        return False
    time.sleep(0.005)  # the latency between a read and a write in a real request
    Account.objects.filter(pk=account_id).update(balance=account.balance - amount)
    return True


@pytest.mark.ledger_drift_expected
def test_control_without_the_guard_the_race_is_real(
    funded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "_debit", unguarded_debit)
    outcome = race(payment(funded))
    # More payments went through than the balance covered: mannes were spent twice ...
    assert outcome["paid"] > 10
    spent = -Entry.objects.filter(account=funded.alice_account, amount__lt=0).aggregate(
        total=Sum("amount")
    )["total"]
    assert spent == PRICE * outcome["paid"] > FUNDS
    assert manne_balance(account=funded.farm_account).balance > FUNDS
    # ... and the stored balance lost updates, which the reconciliation catches.
    assert [drift.kind for drift in ledger_drifts()] == ["balance"]


def test_capture_and_release_of_one_hold_never_both_apply(funded) -> None:
    expires = timezone.now() + timedelta(minutes=30)
    holds = [
        services.manne_hold(
            account=funded.alice_account, amount=Decimal("2.00"), key=f"h{i}", expires_at=expires
        )
        for i in range(PAYERS // 2)
    ]

    def capture_or_release(index: int) -> object:
        held = holds[index // 2]
        if index % 2:
            return services.manne_hold_release(hold_id=held.pk)
        return services.manne_hold_capture(
            hold_id=held.pk, to_account=funded.farm_account, key=f"capture-{held.pk}"
        )

    outcome = race(capture_or_release)
    statuses = Counter(ManneHold.objects.values_list("status", flat=True))
    captured = statuses[HoldStatus.CAPTURED]
    assert captured + statuses[HoldStatus.RELEASED] == len(holds)
    # A capture that lost to the release is refused; one that won leaves the release a no-op.
    assert outcome == Counter(paid=len(holds) + captured, manne_hold_not_live=len(holds) - captured)
    alice = manne_balance(account=funded.alice_account)
    assert (alice.balance, alice.held) == (FUNDS - 2 * captured, Decimal("0.00"))
    assert ledger_drifts() == []
