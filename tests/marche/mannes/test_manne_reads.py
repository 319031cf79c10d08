"""Statements, pending requests and the admin pages of the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from marche.mannes.models import (
    Account,
    ManneHold,
    PayoutBatch,
    Transaction,
    TransferKind,
    TransferRequest,
    TransferRule,
)
from marche.mannes.selectors import manne_requests_pending, manne_statement
from marche.mannes.services import manne_reward_declare, manne_transfer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_statement_lists_entries_newest_first_page_by_page(
    ledger, django_assert_num_queries
) -> None:
    ledger.fund(ledger.alice_account, "30.00")
    for index in range(4):
        manne_transfer(
            kind=TransferKind.ORDER_PAYMENT,
            from_account=ledger.alice_account,
            to_account=ledger.farm_account,
            amount=Decimal(f"{index + 1}.00"),
            key=f"p{index}",
            by=ledger.alice,
        )
    with django_assert_num_queries(2):  # count, then one page with its postings
        page = manne_statement(account=ledger.alice_account, page=1, per_page=3)
        rows = [(entry.amount, entry.transaction.kind) for entry in page]
    assert rows == [
        (Decimal("-4.00"), TransferKind.ORDER_PAYMENT),
        (Decimal("-3.00"), TransferKind.ORDER_PAYMENT),
        (Decimal("-2.00"), TransferKind.ORDER_PAYMENT),
    ]
    last = manne_statement(account=ledger.alice_account, page=2, per_page=3)
    assert [(e.amount, e.transaction.kind) for e in last] == [
        (Decimal("-1.00"), TransferKind.ORDER_PAYMENT),
        (Decimal("30.00"), TransferKind.REWARD),
    ]
    assert page.paginator.num_pages == 2


def test_pending_requests_oldest_first(ledger, django_assert_num_queries) -> None:
    first = manne_reward_declare(household=ledger.alice, amount=Decimal("5"), reason="a", key="1")
    second = manne_reward_declare(household=ledger.bob, amount=Decimal("6"), reason="b", key="2")
    with django_assert_num_queries(1):
        pending = [
            (r.pk, r.to_account.user.email)
            for r in manne_requests_pending(territory=ledger.territory)
        ]
    assert pending == [(first.pk, ledger.alice.email), (second.pk, ledger.bob.email)]


@pytest.mark.parametrize(
    "model", [Account, Transaction, TransferRequest, ManneHold, PayoutBatch, TransferRule]
)
def test_admin_pages_open_and_ledger_rows_cannot_be_changed(ledger, client, model) -> None:
    ledger.fund(ledger.alice_account, "10.00")
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    opts = model._meta
    assert (
        client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code
        == 200
    )
    if model is Transaction:
        posting = Transaction.objects.first()
        url = reverse("admin:mannes_transaction_change", args=[posting.pk])
        assert client.get(url).status_code == 200
        assert client.post(url, {"memo": "changé"}).status_code == 403
        assert client.get(reverse("admin:mannes_transaction_add")).status_code == 403
