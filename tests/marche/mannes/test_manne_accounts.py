from __future__ import annotations

from decimal import Decimal

import pytest

from marche.mannes.errors import LocalCurrencyDisabled
from marche.mannes.models import Account, AccountKind
from marche.mannes.selectors import manne_account_find, manne_balance
from marche.mannes.services import (
    manne_account_for_producer,
    manne_account_for_user,
    manne_issuer_account,
)
from tests.factories import ProducerFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_accounts_are_created_on_demand_once_per_owner(ledger) -> None:
    assert manne_account_for_user(user=ledger.alice, territory=ledger.territory) == (
        ledger.alice_account
    )
    assert manne_account_for_producer(producer=ledger.farm) == ledger.farm_account
    assert manne_issuer_account(territory=ledger.territory) == ledger.issuer
    assert Account.objects.filter(territory=ledger.territory).count() == 4
    alice = ledger.alice_account
    assert (alice.kind, alice.currency, alice.balance, alice.held, alice.limit) == (
        AccountKind.HOUSEHOLD,
        "MAN",
        Decimal("0"),
        Decimal("0"),
        Decimal("0"),
    )
    assert (ledger.issuer.kind, ledger.issuer.limit) == (AccountKind.ISSUER, None)
    assert ledger.farm_account.kind == AccountKind.PRODUCER


def test_an_association_account_is_a_user_account_of_another_kind(ledger) -> None:
    club = UserFactory(territory=ledger.territory)
    account = manne_account_for_user(
        user=club, territory=ledger.territory, kind=AccountKind.ASSOCIATION
    )
    assert (account.kind, account.user, account.limit) == (
        AccountKind.ASSOCIATION,
        club,
        Decimal("0"),
    )


def test_no_account_where_the_local_currency_is_off(db: None) -> None:
    territory = TerritoryFactory(local_currency_enabled=False)
    with pytest.raises(LocalCurrencyDisabled):
        manne_account_for_user(user=UserFactory(), territory=territory)
    with pytest.raises(LocalCurrencyDisabled):
        manne_account_for_producer(producer=ProducerFactory(territory=territory))
    with pytest.raises(LocalCurrencyDisabled):
        manne_issuer_account(territory=territory)
    assert Account.objects.count() == 0


def test_saving_an_account_never_writes_its_balance(ledger) -> None:
    ledger.fund(ledger.alice_account, "12.00")
    stale = Account.objects.get(pk=ledger.alice_account.pk)
    ledger.fund(ledger.alice_account, "3.00")
    stale.balance = Decimal("999")
    stale.limit = Decimal("-5")
    stale.save()
    assert manne_balance(account=stale).balance == Decimal("15.00")
    stale.refresh_from_db()
    assert stale.limit == Decimal("-5.00")


def test_account_find_never_creates(ledger) -> None:
    stranger = UserFactory()
    assert manne_account_find(user=stranger, territory=ledger.territory) is None
    assert manne_account_find(user=ledger.alice, territory=ledger.territory) == (
        ledger.alice_account
    )
    assert not Account.objects.filter(user=stranger).exists()


def test_balance_selector_reports_available(ledger) -> None:
    ledger.fund(ledger.alice_account, "10.00")
    assert manne_balance(account=ledger.alice_account) == (
        manne_balance(account=ledger.alice_account)
    )
    balance = manne_balance(account=ledger.alice_account)
    assert (balance.balance, balance.held, balance.available) == (
        Decimal("10.00"),
        Decimal("0.00"),
        Decimal("10.00"),
    )
    issuer = manne_balance(account=ledger.issuer)
    assert (issuer.balance, issuer.available) == (Decimal("-10.00"), None)
