"""Units are valid a number of months (a scheme setting); the oldest are spent first."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from marche.mannes.errors import NotReversible
from marche.mannes.models import TransferKind
from marche.mannes.selectors import ledger_drifts
from marche.mannes.services import (
    manne_expire_units,
    manne_hold,
    manne_reverse,
    manne_transfer,
)
from marche.mannes.tasks import expire_manne_units
from tests.marche.mannes.conftest import balances, make_ledger, snapshot

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def spend(ledger, amount: str, key: str) -> None:
    manne_transfer(
        kind=TransferKind.ORDER_PAYMENT,
        from_account=ledger.alice_account,
        to_account=ledger.farm_account,
        amount=Decimal(amount),
        key=key,
        by=ledger.alice,
    )


@pytest.fixture
def history(db: None):
    """Alice earns 30 in January, spends 10 in February, earns 5 in June."""
    ledger = make_ledger(local_currency_expiry_months=6)
    with time_machine.travel(at(2026, 1, 10, 12), tick=False):
        ledger.fund(ledger.alice_account, "30.00")
    with time_machine.travel(at(2026, 2, 1, 12), tick=False):
        spend(ledger, "10.00", "feb")
    with time_machine.travel(at(2026, 6, 1, 12), tick=False):
        ledger.fund(ledger.alice_account, "5.00")
    return ledger


def test_units_older_than_the_validity_go_back_to_the_issuer(history) -> None:
    postings = manne_expire_units(territory=history.territory, key="run-1", now=at(2026, 7, 15, 3))
    [posting] = postings
    assert posting.kind == TransferKind.EXPIRY
    assert sorted(posting.entries.values_list("account_id", "amount")) == sorted(
        [(history.alice_account.pk, Decimal("-20.00")), (history.issuer.pk, Decimal("20.00"))]
    )
    # The farm received its 10 in February, within the validity: it keeps them.
    assert balances(history.alice_account, history.farm_account, history.issuer) == [
        (Decimal("5.00"), Decimal("0")),
        (Decimal("10.00"), Decimal("0")),
        (Decimal("-15.00"), Decimal("0")),
    ]
    assert ledger_drifts() == []


def test_nothing_expires_before_its_time_and_a_rerun_changes_nothing(history) -> None:
    assert manne_expire_units(territory=history.territory, key="r0", now=at(2026, 7, 9, 3)) == []
    first = manne_expire_units(territory=history.territory, key="r1", now=at(2026, 7, 15, 3))
    before = snapshot()
    assert (
        manne_expire_units(territory=history.territory, key="r1", now=at(2026, 7, 15, 3)) == first
    )
    assert manne_expire_units(territory=history.territory, key="r2", now=at(2026, 7, 20, 3)) == []
    assert snapshot() == before


def test_held_units_wait_for_their_hold(history) -> None:
    with time_machine.travel(at(2026, 7, 1, 12), tick=False):
        manne_hold(
            account=history.alice_account,
            amount=Decimal("22.00"),
            key="h",
            expires_at=at(2026, 7, 1, 13),
        )
    [posting] = manne_expire_units(territory=history.territory, key="r", now=at(2026, 7, 15, 3))
    # Available was 25 - 22 = 3: only 3 expire now, the rest at a later run.
    assert posting.entries.get(account=history.alice_account).amount == Decimal("-3.00")
    assert balances(history.alice_account) == [(Decimal("22.00"), Decimal("22.00"))]


def test_without_a_validity_units_never_expire(db: None) -> None:
    ledger = make_ledger()
    with time_machine.travel(at(2020, 1, 1, 12), tick=False):
        ledger.fund(ledger.alice_account, "30.00")
    assert manne_expire_units(territory=ledger.territory, key="r") == []
    assert expire_manne_units() == 0


def test_an_expiry_may_be_corrected_but_not_a_correction(history) -> None:
    [posting] = manne_expire_units(territory=history.territory, key="r", now=at(2026, 7, 15, 3))
    correction = manne_reverse(
        transaction_id=posting.pk, by=history.coordinator, reason="Erreur de réglage", key="c"
    )
    assert balances(history.alice_account) == [(Decimal("25.00"), Decimal("0"))]
    with pytest.raises(NotReversible):
        manne_reverse(transaction_id=correction.pk, by=history.coordinator, reason="x", key="c2")


def test_the_daily_task_runs_every_territory_with_a_validity(history) -> None:
    with time_machine.travel(at(2026, 7, 15, 3) + timedelta(minutes=1), tick=False):
        assert expire_manne_units() == 1
        assert expire_manne_units() == 1  # same day, same key: the same posting
    assert balances(history.alice_account) == [(Decimal("5.00"), Decimal("0"))]
