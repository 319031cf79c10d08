from __future__ import annotations

from decimal import Decimal

import pytest

from marche.mannes.errors import (
    BelowMinimum,
    DailyMaximumExceeded,
    HouseholdWithoutTerritory,
    IdempotencyConflict,
    InsufficientBalance,
    NotCoordinator,
    ReasonRequired,
    RequestNotFound,
    RequestNotPending,
    TransferNotAllowed,
)
from marche.mannes.models import AccountKind, RequestStatus, TransferKind, TransferRule
from marche.mannes.services import (
    manne_account_for_user,
    manne_reward_declare,
    manne_reward_reject,
    manne_reward_validate,
)
from tests.factories import TerritoryFactory, UserFactory
from tests.marche.mannes.conftest import balances, snapshot

pytestmark = pytest.mark.django_db


def declare(ledger, amount: str = "20.00", *, key: str = "garden", **kw):
    params = {
        "household": ledger.alice,
        "amount": Decimal(amount),
        "reason": "Jardin prêté",
        "hours": Decimal("8"),
        "key": key,
    }
    params.update(kw)
    return manne_reward_declare(**params)


def test_a_household_declares_time_given_and_nothing_moves_yet(ledger) -> None:
    before = snapshot()
    request = declare(ledger)
    assert (
        request.kind,
        request.status,
        request.amount,
        request.hours,
        request.reason,
        request.from_account,
        request.to_account,
        request.requested_by,
    ) == (
        TransferKind.REWARD,
        RequestStatus.PENDING,
        Decimal("20.00"),
        Decimal("8"),
        "Jardin prêté",
        ledger.issuer,
        ledger.alice_account,
        ledger.alice,
    )
    assert snapshot() == before


def test_a_coordinator_validates_and_the_issuer_pays(ledger) -> None:
    request = declare(ledger)
    posting = manne_reward_validate(request_id=request.pk, coordinator=ledger.coordinator, key="v1")
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.transaction) == (
        RequestStatus.APPROVED,
        ledger.coordinator,
        posting,
    )
    assert (posting.kind, posting.memo, posting.created_by) == (
        TransferKind.REWARD,
        "Jardin prêté",
        ledger.coordinator,
    )
    assert balances(ledger.alice_account, ledger.issuer) == [
        (Decimal("20.00"), Decimal("0")),
        (Decimal("-20.00"), Decimal("0")),
    ]


def test_validation_is_idempotent(ledger) -> None:
    request = declare(ledger)
    first = manne_reward_validate(request_id=request.pk, coordinator=ledger.coordinator, key="v1")
    before = snapshot()
    assert (
        manne_reward_validate(request_id=request.pk, coordinator=ledger.coordinator, key="v1")
        == first
    )
    # Another coordinator clicking too late gets the same posting, nothing is paid twice.
    assert (
        manne_reward_validate(request_id=request.pk, coordinator=ledger.coordinator, key="v2")
        == first
    )
    assert snapshot() == before


def test_a_declaration_replay_returns_the_first_request_and_a_conflict_is_refused(ledger) -> None:
    first = declare(ledger)
    assert declare(ledger) == first
    with pytest.raises(IdempotencyConflict):
        declare(ledger, "25.00")
    assert first.__class__.objects.count() == 1


def test_a_reason_is_required(ledger) -> None:
    with pytest.raises(ReasonRequired):
        declare(ledger, reason="  ")


def test_only_a_coordinator_validates_or_rejects(ledger) -> None:
    request = declare(ledger)
    before = snapshot()
    for user in (ledger.alice, ledger.farmer):
        with pytest.raises(NotCoordinator):
            manne_reward_validate(request_id=request.pk, coordinator=user, key="v")
        with pytest.raises(NotCoordinator):
            manne_reward_reject(request_id=request.pk, coordinator=user)
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert snapshot() == before


def test_a_coordinator_of_another_territory_may_not_validate(ledger) -> None:
    request = declare(ledger)
    stranger = UserFactory(role="coordinator", territory=TerritoryFactory())
    with pytest.raises(NotCoordinator):
        manne_reward_validate(request_id=request.pk, coordinator=stranger, key="v")


def test_a_rejected_request_pays_nothing_and_cannot_be_validated(ledger) -> None:
    request = declare(ledger)
    before = snapshot()
    rejected = manne_reward_reject(
        request_id=request.pk, coordinator=ledger.coordinator, note="Pas de justificatif"
    )
    assert (rejected.status, rejected.decision_note) == (
        RequestStatus.REJECTED,
        "Pas de justificatif",
    )
    assert manne_reward_reject(request_id=request.pk, coordinator=ledger.coordinator) == rejected
    with pytest.raises(RequestNotPending):
        manne_reward_validate(request_id=request.pk, coordinator=ledger.coordinator, key="v")
    assert snapshot() == before


def test_an_approved_request_cannot_be_rejected(ledger) -> None:
    request = declare(ledger)
    manne_reward_validate(request_id=request.pk, coordinator=ledger.coordinator, key="v")
    with pytest.raises(RequestNotPending):
        manne_reward_reject(request_id=request.pk, coordinator=ledger.coordinator)


def test_unknown_request(ledger) -> None:
    with pytest.raises(RequestNotFound):
        manne_reward_validate(request_id=999999, coordinator=ledger.coordinator, key="v")


def test_the_default_reward_rule_minimum_and_daily_maximum(ledger) -> None:
    TransferRule.objects.filter(territory=ledger.territory, kind=TransferKind.REWARD).delete()
    with pytest.raises(BelowMinimum):
        declare(ledger, "0.50")
    first = declare(ledger, "30.00", key="r1")
    second = declare(ledger, "25.00", key="r2")
    manne_reward_validate(request_id=first.pk, coordinator=ledger.coordinator, key="v1")
    before = snapshot()
    with pytest.raises(DailyMaximumExceeded):
        manne_reward_validate(request_id=second.pk, coordinator=ledger.coordinator, key="v2")
    second.refresh_from_db()
    assert second.status == RequestStatus.PENDING
    assert snapshot() == before


def test_an_association_may_fund_a_reward(ledger) -> None:
    club = UserFactory(territory=ledger.territory)
    club_account = manne_account_for_user(
        user=club, territory=ledger.territory, kind=AccountKind.ASSOCIATION
    )
    with pytest.raises(TransferNotAllowed):
        declare(ledger, funded_by=ledger.farm_account)
    request = declare(ledger, "5.00", funded_by=club_account)
    # The association has no mannes yet: validation is refused and changes nothing.
    with pytest.raises(InsufficientBalance):
        manne_reward_validate(request_id=request.pk, coordinator=ledger.coordinator, key="v")
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_a_household_without_territory(ledger) -> None:
    with pytest.raises(HouseholdWithoutTerritory):
        declare(ledger, household=UserFactory(territory=None))


def test_a_refused_first_declaration_opens_no_account(ledger) -> None:
    newcomer = UserFactory(territory=ledger.territory)
    before = snapshot()
    with pytest.raises(BelowMinimum):
        manne_reward_declare(household=newcomer, amount=Decimal("0.50"), reason="x", key="n")
    assert snapshot() == before
