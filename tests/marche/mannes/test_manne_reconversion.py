from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marche.mannes.errors import (
    IdempotencyConflict,
    NotCoordinator,
    ReconversionNotAllowed,
)
from marche.mannes.models import PayoutBatch, PayoutLine, TransferKind
from marche.mannes.selectors import ledger_supply
from marche.mannes.services import (
    manne_account_for_producer,
    manne_hold,
    manne_reconversion_batch,
    manne_transfer,
)
from tests.factories import ProducerFactory
from tests.marche.mannes.conftest import balances, make_ledger, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme(db: None):
    ledger = make_ledger(
        local_currency_reconversion_allowed=True,
        local_currency_reconversion_fee_percent=Decimal("3.00"),
        local_currency_euro_rate=Decimal("1.0000"),
    )
    ledger.fund(ledger.alice_account, "100.00")
    manne_transfer(
        kind=TransferKind.ORDER_PAYMENT,
        from_account=ledger.alice_account,
        to_account=ledger.farm_account,
        amount=Decimal("40.50"),
        key="pay",
        by=ledger.alice,
    )
    return ledger


def test_a_batch_brings_mannes_back_and_lists_euros_less_the_fee(scheme) -> None:
    idle_farm = manne_account_for_producer(
        producer=ProducerFactory(territory=scheme.territory, accepts_local_currency=True)
    )
    batch = manne_reconversion_batch(territory=scheme.territory, by=scheme.coordinator, key="b1")
    assert (batch.euro_rate, batch.fee_percent, batch.status, batch.created_by) == (
        Decimal("1.0000"),
        Decimal("3.00"),
        "to_pay",
        scheme.coordinator,
    )
    line = batch.lines.get()
    assert (line.producer, line.mannes, line.euros_gross, line.euros_fee, line.euros_net) == (
        scheme.farm,
        Decimal("40.50"),
        Decimal("40.50"),
        Decimal("1.22"),
        Decimal("39.28"),
    )
    assert line.transaction.kind == TransferKind.RECONVERSION
    assert balances(scheme.farm_account, scheme.issuer, idle_farm) == [
        (Decimal("0.00"), Decimal("0")),
        (Decimal("-59.50"), Decimal("0")),
        (Decimal("0"), Decimal("0")),
    ]
    [supply] = ledger_supply(territory=scheme.territory)
    assert (supply.issued, supply.redeemed, supply.circulating) == (
        Decimal("100.00"),
        Decimal("40.50"),
        Decimal("59.50"),
    )


def test_the_rate_of_the_scheme_converts_to_euros(scheme) -> None:
    scheme.territory.local_currency_euro_rate = Decimal("0.9000")
    scheme.territory.save()
    batch = manne_reconversion_batch(territory=scheme.territory, by=scheme.coordinator, key="b1")
    line = batch.lines.get()
    assert (line.mannes, line.euros_gross, line.euros_fee, line.euros_net) == (
        Decimal("40.50"),
        Decimal("36.45"),
        Decimal("1.09"),
        Decimal("35.36"),
    )


def test_a_batch_replays(scheme) -> None:
    first = manne_reconversion_batch(territory=scheme.territory, by=scheme.coordinator, key="b1")
    before = snapshot()
    assert (
        manne_reconversion_batch(territory=scheme.territory, by=scheme.coordinator, key="b1")
        == first
    )
    other = make_ledger(local_currency_reconversion_allowed=True)
    with pytest.raises(IdempotencyConflict):
        manne_reconversion_batch(territory=other.territory, by=other.coordinator, key="b1")
    assert snapshot()[1:] == before[1:]
    assert PayoutLine.objects.count() == 1


def test_held_mannes_are_not_reconverted(scheme) -> None:
    manne_hold(
        account=scheme.farm_account,
        amount=Decimal("10.00"),
        key="h",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    batch = manne_reconversion_batch(territory=scheme.territory, by=scheme.coordinator, key="b1")
    assert batch.lines.get().mannes == Decimal("30.50")
    assert balances(scheme.farm_account) == [(Decimal("10.00"), Decimal("10.00"))]


def test_only_where_the_scheme_allows_and_only_by_a_coordinator(ledger) -> None:
    before = snapshot()
    with pytest.raises(ReconversionNotAllowed):
        manne_reconversion_batch(territory=ledger.territory, by=ledger.coordinator, key="b")
    with pytest.raises(NotCoordinator):
        manne_reconversion_batch(territory=ledger.territory, by=ledger.farmer, key="b")
    assert snapshot() == before
    assert PayoutBatch.objects.count() == 0
