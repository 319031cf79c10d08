from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from marche.mannes.models import Account, RequestStatus, Transaction, TransferKind, TransferRequest
from marche.mannes.selectors import ledger_drifts, manne_balance
from marche.producers.models import Producer

pytestmark = pytest.mark.django_db


def test_the_demo_household_has_earned_twenty_mannes_once(demo) -> None:
    account = Account.objects.get(user__email="foyer@demo.test")
    balance = manne_balance(account=account)
    assert (account.currency, balance.balance, balance.available) == (
        "MAN",
        Decimal("20.00"),
        Decimal("20.00"),
    )
    request = TransferRequest.objects.get(to_account=account)
    assert (request.status, request.reason, request.hours) == (
        RequestStatus.APPROVED,
        "Jardin prêté",
        Decimal("8.00"),
    )
    assert request.transaction.kind == TransferKind.REWARD
    call_command("load_demo", stdout=io.StringIO())
    assert manne_balance(account=account).balance == Decimal("20.00")
    assert Transaction.objects.count() == 1
    # Producers accepting mannes have their account ready.
    assert set(Account.objects.filter(kind="producer").values_list("producer_id", flat=True)) == (
        set(Producer.objects.filter(accepts_local_currency=True).values_list("pk", flat=True))
    )
    assert ledger_drifts() == []
