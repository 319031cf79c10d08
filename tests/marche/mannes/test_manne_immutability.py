"""Ledger rows are written once: the models refuse changes, and PostgreSQL refuses them too."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from marche.mannes.errors import ImmutableLedger
from marche.mannes.models import Entry, Transaction, TransactionStatus, TransferKind
from marche.mannes.services import manne_transfer
from tests.marche.mannes.conftest import make_ledger

pytestmark = pytest.mark.django_db


def posting(ledger):
    ledger.fund(ledger.alice_account, "10.00")
    return manne_transfer(
        kind=TransferKind.ORDER_PAYMENT,
        from_account=ledger.alice_account,
        to_account=ledger.farm_account,
        amount=Decimal("4.00"),
        key="pay",
        by=ledger.alice,
    )


def test_the_models_refuse_to_change_or_delete_ledger_rows(ledger) -> None:
    written = posting(ledger)
    entry = written.entries.first()
    entry.amount = Decimal("-400")
    with pytest.raises(ImmutableLedger):
        entry.save()
    with pytest.raises(ImmutableLedger):
        entry.delete()
    with pytest.raises(ImmutableLedger):
        Entry.objects.filter(pk=entry.pk).update(amount=Decimal("1"))
    with pytest.raises(ImmutableLedger):
        Entry.objects.all().delete()
    written.memo = "changé"
    with pytest.raises(ImmutableLedger):
        written.save()
    with pytest.raises(ImmutableLedger):
        written.delete()
    with pytest.raises(ImmutableLedger):
        Transaction.objects.filter(pk=written.pk).update(memo="changé")
    with pytest.raises(ImmutableLedger):
        Transaction.objects.all().delete()
    assert list(written.entries.values_list("amount", flat=True).order_by("amount")) == [
        Decimal("-4.00"),
        Decimal("4.00"),
    ]
    assert Transaction.objects.get(pk=written.pk).memo == ""


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE mannes_entry SET amount = amount * 2",
        "DELETE FROM mannes_entry",
        "UPDATE mannes_transaction SET memo = 'changé'",
        "DELETE FROM mannes_transaction",
        "UPDATE mannes_transaction SET status = 'reversed', memo = 'x'",
    ],
)
def test_postgresql_refuses_raw_changes_to_the_ledger(ledger, sql) -> None:
    posting(ledger)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.mark.postgres
def test_postgresql_lets_a_posting_be_marked_reversed_only(ledger) -> None:
    written = posting(ledger)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mannes_transaction SET status = 'reversed' WHERE id = %s", [written.pk]
        )
    assert Transaction.objects.get(pk=written.pk).status == TransactionStatus.REVERSED
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE mannes_transaction SET status = 'posted' WHERE id = %s", [written.pk]
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_an_unbalanced_posting_at_commit() -> None:
    ledger = make_ledger()
    written = posting(ledger)
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(
            transaction=written, account=ledger.bob_account, amount=Decimal("1"), currency="MAN"
        )
    assert written.entries.count() == 2
