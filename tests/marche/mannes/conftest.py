"""A territory running the manne, with its issuer, two households, a producer, a coordinator."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest

from marche.accounts.models import Role, User
from marche.mannes.models import Account, AccountKind, Entry, ManneHold, Transaction, TransferRule
from marche.mannes.services import (
    manne_account_for_producer,
    manne_account_for_user,
    manne_issuer_account,
    manne_reward_declare,
    manne_reward_validate,
)
from marche.producers.models import Producer
from marche.territories.models import Territory
from tests.factories import ProducerFactory, TerritoryFactory, UserFactory

_keys = itertools.count()


def new_key(prefix: str = "k") -> str:
    return f"{prefix}-{next(_keys)}"


@dataclass
class Ledger:
    territory: Territory
    issuer: Account
    alice: User
    bob: User
    alice_account: Account
    bob_account: Account
    farm: Producer
    farm_account: Account
    farmer: User
    coordinator: User

    def fund(self, account: Account, amount: str) -> Transaction:
        """Give a household mannes the real way: a declared, validated reward."""
        assert account.user is not None
        request = manne_reward_declare(
            household=account.user,
            territory=self.territory,
            amount=Decimal(amount),
            reason="Bénévolat",
            key=new_key("fund"),
        )
        return manne_reward_validate(
            request_id=request.pk, coordinator=self.coordinator, key=new_key("fund-ok")
        )


def make_ledger(**territory_fields: object) -> Ledger:
    territory = TerritoryFactory(
        local_currency_enabled=True,
        local_currency_name="manne",
        local_currency_plural="mannes",
        local_currency_code="MAN",
        **territory_fields,
    )
    # Funding in tests is not capped per day; the default reward rule is tested on its own.
    TransferRule.objects.create(
        territory=territory,
        kind="reward",
        sender_kinds=[AccountKind.ISSUER, AccountKind.ASSOCIATION],
        recipient_kinds=[AccountKind.HOUSEHOLD],
        minimum=Decimal("1.00"),
        daily_maximum=None,
        requires_approval=True,
    )
    alice = UserFactory(territory=territory, first_name="Alice")
    bob = UserFactory(territory=territory, first_name="Bob")
    farm = ProducerFactory(territory=territory, accepts_local_currency=True)
    farmer = UserFactory(territory=territory, role=Role.FARMER)
    farm.members.add(farmer)
    return Ledger(
        territory=territory,
        issuer=manne_issuer_account(territory=territory),
        alice=alice,
        bob=bob,
        alice_account=manne_account_for_user(user=alice, territory=territory),
        bob_account=manne_account_for_user(user=bob, territory=territory),
        farm=farm,
        farm_account=manne_account_for_producer(producer=farm),
        farmer=farmer,
        coordinator=UserFactory(territory=territory, role=Role.COORDINATOR),
    )


@pytest.fixture
def ledger(db: None) -> Ledger:
    return make_ledger()


def balances(*accounts: Account) -> list[tuple[Decimal, Decimal]]:
    """(balance, held) of each account, read fresh."""
    rows = dict(
        (pk, (balance, held))
        for pk, balance, held in Account.objects.filter(
            pk__in=[a.pk for a in accounts]
        ).values_list("pk", "balance", "held")
    )
    return [rows[a.pk] for a in accounts]


def snapshot() -> tuple[object, ...]:
    """Everything a refused command must leave untouched."""
    return (
        list(Account.objects.order_by("pk").values_list("pk", "balance", "held")),
        Transaction.objects.count(),
        Entry.objects.count(),
        list(ManneHold.objects.order_by("pk").values_list("pk", "status")),
    )
