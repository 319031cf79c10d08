from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from marche.mannes.models import Entry, TransferKind
from marche.mannes.selectors import Drift, ledger_drifts
from marche.mannes.services import manne_hold, manne_transfer
from tests.marche.mannes.conftest import make_ledger

pytestmark = pytest.mark.django_db


def busy(ledger) -> None:
    ledger.fund(ledger.alice_account, "30.00")
    manne_transfer(
        kind=TransferKind.ORDER_PAYMENT,
        from_account=ledger.alice_account,
        to_account=ledger.farm_account,
        amount=Decimal("12.00"),
        key=f"{ledger.territory.slug}-pay",
        by=ledger.alice,
    )
    manne_hold(
        account=ledger.alice_account,
        amount=Decimal("5.00"),
        key=f"{ledger.territory.slug}-hold",
        expires_at=timezone.now() + timedelta(minutes=30),
    )


def reconcile(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("reconcile_ledger", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_sound_ledger_reconciles(ledger) -> None:
    busy(ledger)
    out, err = reconcile()
    assert ledger_drifts() == []
    assert "2 opérations, 4 écritures, 4 comptes vérifiés." in out
    assert f"{ledger.territory.slug} MAN : émis 30.00, revenus 0.00, en circulation 30.00" in out
    assert "aucun écart" in out
    assert err == ""


@pytest.mark.ledger_drift_expected
def test_a_corrupted_balance_is_a_drift_and_exits_non_zero(ledger) -> None:
    busy(ledger)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mannes_account SET balance = balance + 1 WHERE id = %s",
            [ledger.farm_account.pk],
        )
    assert ledger_drifts() == [
        Drift("balance", f"compte #{ledger.farm_account.pk}", Decimal("12.00"), Decimal("13.00"))
    ]
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 écart") as failed:
        call_command("reconcile_ledger", stdout=io.StringIO(), stderr=err)
    assert failed.value.returncode == 1
    assert f"ÉCART balance : compte #{ledger.farm_account.pk}, attendu 12.00, trouvé 13.00" in (
        err.getvalue()
    )


@pytest.mark.ledger_drift_expected
def test_a_corrupted_held_part_is_a_drift(ledger) -> None:
    busy(ledger)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mannes_account SET held = 0 WHERE id = %s", [ledger.alice_account.pk]
        )
    assert ledger_drifts() == [
        Drift("held", f"compte #{ledger.alice_account.pk}", Decimal("5.00"), Decimal("0.00"))
    ]


@pytest.mark.ledger_drift_expected
def test_an_unbalanced_posting_is_a_drift(ledger) -> None:
    busy(ledger)
    posting = ledger.alice_account.entries.first().transaction
    if connection.vendor == "postgresql":
        # The deferred trigger would refuse it at commit; switched off inside this test's
        # transaction (rolled back with it) to let the reconciliation see the corruption.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE mannes_entry DISABLE TRIGGER mannes_posting_balanced")
    Entry.objects.create(
        transaction=posting, account=ledger.bob_account, amount=Decimal("2"), currency="MAN"
    )
    drifts = ledger_drifts()
    assert [d.kind for d in drifts] == ["unbalanced_posting", "balance"]
    assert drifts[0] == Drift(
        "unbalanced_posting", f"opération #{posting.pk} (MAN)", Decimal("0.00"), Decimal("2.00")
    )


@pytest.mark.ledger_drift_expected
def test_the_territory_option_limits_the_check(ledger) -> None:
    busy(ledger)
    other = make_ledger()
    busy(other)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mannes_account SET balance = balance + 1 WHERE id = %s",
            [other.farm_account.pk],
        )
    out, _ = reconcile("--territory", ledger.territory.slug)
    assert "aucun écart" in out
    with pytest.raises(CommandError):
        reconcile("--territory", other.territory.slug)
    with pytest.raises(CommandError, match="Territoire inconnu"):
        reconcile("--territory", "nulle-part")
