"""A stateful property test of the ledger: random commands, every invariant after each step.

The machine keeps its own model of what every balance and held part should be and
predicts, before each command, whether the ledger must accept or refuse it. After every
step: each posting sums to zero, each stored balance equals its entries, no member is
below its limit, the model matches the database, and the money in circulation equals
what the issuer sent out less what came back.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from marche.errors import DomainError
from marche.mannes.errors import (
    AlreadyReversed,
    BelowMinimum,
    DailyMaximumExceeded,
    HoldNotLive,
    IdempotencyConflict,
    InsufficientBalance,
    NotReversible,
    TransferNotAllowed,
)
from marche.mannes.models import (
    Account,
    AccountKind,
    HoldStatus,
    ManneHold,
    Transaction,
    TransferKind,
    TransferRule,
)
from marche.mannes.selectors import ledger_drifts, ledger_supply
from marche.mannes.services import (
    manne_expire_units,
    manne_hold,
    manne_hold_capture,
    manne_hold_release,
    manne_holds_expire,
    manne_reconversion_batch,
    manne_reverse,
    manne_reward_declare,
    manne_reward_reject,
    manne_reward_validate,
    manne_transfer,
)
from marche.money import round_money
from tests.marche.mannes.conftest import make_ledger, snapshot

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.00")
SEEN: Counter[str] = Counter()  # outcomes met during the run, to prove the run went places


def event(outcome: str) -> None:
    SEEN[outcome] += 1


FEE_PERCENT = Decimal("2")
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("30"), places=2)
rewards = st.decimals(min_value=Decimal("1.00"), max_value=Decimal("40"), places=2)
who = st.integers(min_value=0, max_value=1)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown: a clean ledger each time.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.ledger = make_ledger(
            local_currency_reconversion_allowed=True,
            local_currency_reconversion_fee_percent=Decimal("5"),
            local_currency_expiry_months=1,
        )
        TransferRule.objects.create(
            territory=self.ledger.territory,
            kind=TransferKind.ORDER_PAYMENT,
            sender_kinds=[AccountKind.HOUSEHOLD],
            recipient_kinds=[AccountKind.PRODUCER],
            minimum=Decimal("0.01"),
            fee_percent=FEE_PERCENT,
        )
        led = self.ledger
        self.households = [(led.alice, led.alice_account), (led.bob, led.bob_account)]
        self.issuer = led.issuer
        self.farm = led.farm_account
        self.balance: dict[int, Decimal] = defaultdict(Decimal)
        self.held: dict[int, Decimal] = defaultdict(Decimal)
        self.exchanged_today: dict[int, Decimal] = defaultdict(Decimal)
        self.postings: list[Transaction] = []
        self.reversed: set[int] = set()
        self.holds: list[ManneHold] = []
        self.keys = itertools.count()
        self.last: tuple[dict[str, object], int] | None = None

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # Model helpers ---------------------------------------------------------------------------

    def key(self) -> str:
        return f"step-{next(self.keys)}"

    def available(self, account: Account) -> Decimal:
        return self.balance[account.pk] - self.held[account.pk]

    def move(self, posting: Transaction) -> None:
        for account_id, amount in posting.entries.values_list("account_id", "amount"):
            self.balance[account_id] += amount

    def refused(self, error: type[DomainError], command, *args, **kwargs) -> None:
        event(f"refused: {error.code}")
        before = snapshot()
        with pytest.raises(error):
            command(*args, **kwargs)
        assert snapshot() == before

    # Commands ----------------------------------------------------------------------------

    @initialize(
        first=st.decimals(min_value=Decimal("1.00"), max_value=Decimal("80"), places=2),
        second=st.decimals(min_value=Decimal("1.00"), max_value=Decimal("80"), places=2),
    )
    def earn_some_first(self, first: Decimal, second: Decimal) -> None:
        self.reward(0, first)
        self.reward(1, second)

    @rule(index=who, amount=rewards)
    def reward(self, index: int, amount: Decimal) -> None:
        user, account = self.households[index]
        request = manne_reward_declare(
            household=user, amount=amount, reason="Bénévolat", key=self.key()
        )
        posting = manne_reward_validate(
            request_id=request.pk, coordinator=self.ledger.coordinator, key=self.key()
        )
        self.balance[account.pk] += amount
        self.balance[self.issuer.pk] -= amount
        self.postings.append(posting)

    @rule(
        index=who,
        amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=2),
    )
    def reward_below_minimum(self, index: int, amount: Decimal) -> None:
        user, _ = self.households[index]
        self.refused(
            BelowMinimum,
            manne_reward_declare,
            household=user,
            amount=amount,
            reason="x",
            key=self.key(),
        )

    @rule(index=who, amount=rewards)
    def reward_rejected(self, index: int, amount: Decimal) -> None:
        user, _ = self.households[index]
        request = manne_reward_declare(household=user, amount=amount, reason="x", key=self.key())
        manne_reward_reject(request_id=request.pk, coordinator=self.ledger.coordinator)

    @rule(index=who, amount=amounts)
    def pay_producer(self, index: int, amount: Decimal) -> None:
        user, account = self.households[index]
        command = {
            "kind": TransferKind.ORDER_PAYMENT,
            "from_account": account,
            "to_account": self.farm,
            "amount": amount,
            "key": self.key(),
            "by": user,
        }
        if self.available(account) < amount:
            self.refused(InsufficientBalance, manne_transfer, **command)
            return
        posting = manne_transfer(**command)
        fee = round_money(amount * FEE_PERCENT / 100)
        assert sorted(posting.entries.values_list("account_id", "amount")) == sorted(
            (pk, value)
            for pk, value in [
                (account.pk, -amount),
                (self.farm.pk, amount - fee),
                (self.issuer.pk, fee),
            ]
            if value
        )
        self.move(posting)
        self.postings.append(posting)
        self.last = (command, posting.pk)
        event("paid a producer")

    @rule(src=who, dst=who, amount=amounts)
    def exchange_services(self, src: int, dst: int, amount: Decimal) -> None:
        user, account = self.households[src]
        command = {
            "kind": TransferKind.SERVICE_EXCHANGE,
            "from_account": account,
            "to_account": self.households[dst][1],
            "amount": amount,
            "key": self.key(),
            "by": user,
        }
        if src == dst:
            self.refused(TransferNotAllowed, manne_transfer, **command)
        elif amount < Decimal("1.00"):
            self.refused(BelowMinimum, manne_transfer, **command)
        elif self.exchanged_today[account.pk] + amount > Decimal("100.00"):
            self.refused(DailyMaximumExceeded, manne_transfer, **command)
        elif self.available(account) < amount:
            self.refused(InsufficientBalance, manne_transfer, **command)
        else:
            posting = manne_transfer(**command)
            self.exchanged_today[account.pk] += amount
            event("exchanged services")
            self.move(posting)
            self.postings.append(posting)
            self.last = (command, posting.pk)

    @rule(index=who, amount=amounts)
    def refund(self, index: int, amount: Decimal) -> None:
        command = {
            "kind": TransferKind.REFUND,
            "from_account": self.farm,
            "to_account": self.households[index][1],
            "amount": amount,
            "key": self.key(),
            "by": self.ledger.farmer,
        }
        if self.available(self.farm) < amount:
            self.refused(InsufficientBalance, manne_transfer, **command)
            return
        posting = manne_transfer(**command)
        self.move(posting)
        self.postings.append(posting)

    @rule(index=who, amount=amounts, minutes=st.integers(min_value=1, max_value=60))
    def hold(self, index: int, amount: Decimal, minutes: int) -> None:
        _, account = self.households[index]
        command = {
            "account": account,
            "amount": amount,
            "key": self.key(),
            "expires_at": timezone.now() + timedelta(minutes=minutes),
        }
        if self.available(account) < amount:
            self.refused(InsufficientBalance, manne_hold, **command)
            return
        held = manne_hold(**command)
        self.held[account.pk] += amount
        self.holds.append(held)

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def capture(self, data: st.DataObject) -> None:
        held = data.draw(st.sampled_from(self.holds))
        held.refresh_from_db()
        command = {"hold_id": held.pk, "to_account": self.farm, "key": self.key()}
        if held.status != HoldStatus.HELD:
            self.refused(HoldNotLive, manne_hold_capture, **command)
            return
        posting = manne_hold_capture(**command)
        self.held[held.account_id] -= held.amount
        self.move(posting)
        self.postings.append(posting)
        event("captured a hold")

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        held = data.draw(st.sampled_from(self.holds))
        was = ManneHold.objects.get(pk=held.pk).status
        after = manne_hold_release(hold_id=held.pk)
        if was == HoldStatus.HELD:
            assert after.status == HoldStatus.RELEASED
            self.held[held.account_id] -= held.amount
        else:
            assert after.status == was

    @rule(minutes=st.integers(min_value=0, max_value=60))
    def expire(self, minutes: int) -> None:
        now = timezone.now() + timedelta(minutes=minutes)
        due = list(ManneHold.objects.filter(status=HoldStatus.HELD, expires_at__lte=now))
        assert manne_holds_expire(now=now) == len(due)
        for held in due:
            self.held[held.account_id] -= held.amount

    @precondition(lambda self: self.postings)
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        original = data.draw(st.sampled_from(self.postings))
        command = {
            "transaction_id": original.pk,
            "by": self.ledger.coordinator,
            "reason": "Correction",
            "key": self.key(),
        }
        if original.pk in self.reversed:
            self.refused(AlreadyReversed, manne_reverse, **command)
            return
        if original.kind in {TransferKind.REVERSAL, TransferKind.RECONVERSION}:
            self.refused(NotReversible, manne_reverse, **command)
            return
        takes_back = list(original.entries.filter(amount__gt=0).values_list("account_id", "amount"))
        covered = all(
            account_id == self.issuer.pk
            or self.balance[account_id] - self.held[account_id] >= amount
            for account_id, amount in takes_back
        )
        if not covered:
            self.refused(InsufficientBalance, manne_reverse, **command)
            return
        posting = manne_reverse(**command)
        assert posting.reverses_id == original.pk
        self.reversed.add(original.pk)
        event("reversed a posting")
        self.move(posting)
        self.postings.append(posting)

    @rule()
    def reconvert(self) -> None:
        batch = manne_reconversion_batch(
            territory=self.ledger.territory, by=self.ledger.coordinator, key=self.key()
        )
        available = self.available(self.farm)
        lines = list(batch.lines.all())
        if available >= Decimal("1.00"):
            [line] = lines
            assert line.mannes == available
            assert line.euros_net == line.euros_gross - round_money(line.euros_gross / 20)
            self.balance[self.farm.pk] -= available
            self.balance[self.issuer.pk] += available
            self.postings.append(line.transaction)
            event("reconverted")
        else:
            assert lines == []

    @rule()
    def expire_every_unit(self) -> None:
        # Two months on, every unit received so far is past its validity: what is available
        # goes back to the issuer, held units stay.
        postings = manne_expire_units(
            territory=self.ledger.territory,
            key=self.key(),
            now=timezone.now() + timedelta(days=62),
        )
        members = [account for _, account in self.households] + [self.farm]
        expiring = {a.pk: self.available(a) for a in members if self.available(a) > 0}
        assert {p.entries.get(amount__lt=0).account_id for p in postings} == set(expiring)
        for posting in postings:
            self.move(posting)
            self.postings.append(posting)
        if postings:
            event("expired units")

    @precondition(lambda self: self.last is not None)
    @rule()
    def replay(self) -> None:
        assert self.last is not None
        command, posting_pk = self.last
        before = snapshot()
        assert manne_transfer(**command).pk == posting_pk
        assert snapshot() == before
        other = {**command, "amount": command["amount"] + Decimal("0.01")}
        self.refused(IdempotencyConflict, manne_transfer, **other)

    # Invariants ------------------------------------------------------------------------------

    @invariant()
    def ledger_is_sound(self) -> None:
        assert ledger_drifts(territory=self.ledger.territory) == []

    @invariant()
    def database_matches_the_model(self) -> None:
        for pk, balance, held, limit in Account.objects.filter(
            territory=self.ledger.territory
        ).values_list("pk", "balance", "held", "limit"):
            assert (balance, held) == (self.balance[pk], self.held[pk])
            if limit is not None:
                assert balance - held >= limit

    @invariant()
    def circulation_is_issued_less_redeemed(self) -> None:
        members = Account.objects.filter(territory=self.ledger.territory).exclude(
            kind=AccountKind.ISSUER
        )
        circulating = members.aggregate(total=Sum("balance"))["total"] or ZERO
        supplies = ledger_supply(territory=self.ledger.territory)
        expected = supplies[0].circulating if supplies else ZERO
        assert circulating == expected == -self.balance[self.issuer.pk]


def test_the_ledger_keeps_its_invariants_under_random_commands(db: None) -> None:
    SEEN.clear()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=30, stateful_step_count=20, deadline=None),
    )
    print(dict(SEEN))
