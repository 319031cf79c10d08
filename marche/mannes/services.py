"""Commands of the manne ledger. Every write is a balanced, immutable, idempotent posting.

Accounts
    ``manne_account_for_user(*, user, territory, kind="household")``,
    ``manne_account_for_producer(*, producer)``, ``manne_issuer_account(*, territory)``:
    get or create (on demand) the account of an owner.

Transfers
    ``manne_transfer(*, kind, from_account, to_account, amount, key, by, memo="")`` applies
    the rule of ``kind`` (rules.py): who may send to whom, minimum, daily maximum, fee to the
    issuer; a kind that needs a coordinator creates a pending :class:`TransferRequest`
    instead of a posting. ``manne_reward_declare`` / ``manne_reward_validate`` /
    ``manne_reward_reject`` are the reward flow (``manne_time_declare`` declares hours of
    one of the territory's rewarded activities, priced at its rate per hour);
    ``manne_reverse`` writes a correction.

Split tender (the orders app calls these; the signatures are a contract)
    ``manne_hold(*, account, amount, key, expires_at) -> ManneHold`` sets mannes aside when
    the order is placed (refused with ``InsufficientBalance`` if not available).
    ``manne_hold_capture(*, hold_id, to_account, key, kind="order_payment") -> Transaction``
    turns the hold into a payment; it opens a savepoint, so call it inside the
    ``transaction.atomic`` block that confirms the order: both commit or neither does.
    One hold pays one recipient: for an order from several producers, split the amount
    with ``selectors.manne_order_allocation(order=..., amount=...)`` and take one hold per
    producer (e.g. key ``f"order:{order.pk}:mannes:{producer_id}"``), each captured to
    ``manne_account_for_producer(producer=...)``. How many mannes the household may use:
    ``selectors.manne_usable_for_order(user=..., order=...)``.
    ``manne_hold_release(*, hold_id) -> ManneHold`` gives the mannes back (payment failed,
    order cancelled or expired); idempotent, and a no-op on a captured hold.
    ``manne_holds_expire(*, now) -> int`` releases holds past ``expires_at`` (periodic task
    ``mannes.expire_holds``).
    ``manne_order_payment_refund(*, transaction_id, reason, key) -> Transaction`` reverses a
    captured order payment of a cancelled order (refused if the producer no longer has the
    mannes: ``InsufficientBalance``).

Expiry
    ``manne_expire_units(*, territory, key, now=None) -> list[Transaction]`` sends back to
    the issuer the units older than the scheme's validity (``local_currency_expiry_months``),
    the oldest units being spent first (periodic task ``mannes.expire_units``).

Reconversion
    ``manne_reconversion_batch(*, territory, by, key) -> PayoutBatch`` moves producers'
    available mannes back to the issuer and records the euros owed to each, less the fee of
    the territory's scheme.

Idempotency: every command takes a ``key``; replaying it returns the first result, and the
same key with a different command raises ``IdempotencyConflict``. A refused command raises
a :class:`~marche.errors.DomainError` and changes nothing.

Locking: a stored balance moves only through one conditional UPDATE per account whose
WHERE clause carries the limit test (``balance >= held + limit + amount``); on PostgreSQL
a concurrent writer of the same row makes the UPDATE wait, then re-evaluates that clause
on the latest row version, so two payments can never both spend the last mannes. The
UPDATEs of one posting run in account primary-key order, so two postings over the same
accounts take their row locks in the same order and cannot deadlock. A rule with a daily
maximum first locks the posting's accounts with ``select_for_update`` (primary-key order
again), so two transfers cannot both pass the same daily total. A hold row is locked
before its account moves, so capture, release and expiry of one hold exclude each other.
A CHECK constraint (``manne_account_above_limit``) backs all this up in the database.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Expression, F, Q, Sum
from django.db.models.functions import Round
from django.utils import timezone

from marche.accounts.models import Role, User
from marche.mannes.errors import (
    AlreadyReversed,
    BelowMinimum,
    CurrencyMismatch,
    DailyMaximumExceeded,
    GivenOnInvalid,
    HoldNotFound,
    HoldNotLive,
    HouseholdWithoutTerritory,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    LocalCurrencyDisabled,
    NotAccountHolder,
    NotCoordinator,
    NotReversible,
    ReasonRequired,
    ReconversionNotAllowed,
    RequestNotFound,
    RequestNotPending,
    RewardActivityNotFound,
    TransactionNotFound,
    TransferNotAllowed,
)
from marche.mannes.models import (
    Account,
    AccountKind,
    Entry,
    HoldStatus,
    ManneHold,
    PayoutBatch,
    PayoutLine,
    RequestStatus,
    RewardActivity,
    Transaction,
    TransactionStatus,
    TransferKind,
    TransferRequest,
)
from marche.mannes.rules import Rule, transfer_rule
from marche.money import round_money
from marche.producers.models import Producer, ProducerMembership
from marche.territories.models import Territory

HUNDRED = Decimal("100")
# Kinds with their own service: manne_transfer refuses them.
SYSTEM_KINDS = {TransferKind.REVERSAL, TransferKind.RECONVERSION, TransferKind.EXPIRY}
# A correction is not itself corrected; a reconversion was paid in euros.
NOT_REVERSIBLE = {TransferKind.REVERSAL, TransferKind.RECONVERSION}


# Helpers -------------------------------------------------------------------------------------


def _fingerprint(**payload: object) -> str:
    text = json.dumps({name: str(value) for name, value in payload.items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_amount(amount: Decimal) -> Decimal:
    if (
        not isinstance(amount, Decimal)
        or not amount.is_finite()
        or amount <= 0
        or amount != round_money(amount)
    ):
        raise InvalidAmount()
    return round_money(amount)  # 10, 10.0 and 10.00 are one amount, and one fingerprint


def _check_enabled(territory: Territory) -> None:
    if not territory.local_currency_enabled or not territory.local_currency_code:
        raise LocalCurrencyDisabled()


def _is_coordinator(user: User, territory: Territory) -> bool:
    if user.is_staff or user.is_superuser:
        return True
    return user.role == Role.COORDINATOR and user.territory_id in {None, territory.pk}


def _check_coordinator(user: User, territory: Territory) -> None:
    if not _is_coordinator(user, territory):
        raise NotCoordinator()


def _check_holder(user: User, account: Account) -> None:
    """The actor may debit an account they hold, or any account as a coordinator."""
    if _is_coordinator(user, account.territory):
        return
    if account.user_id is not None and account.user_id == user.pk:
        return
    if (
        account.producer_id is not None
        and ProducerMembership.objects.filter(producer_id=account.producer_id, user=user).exists()
    ):
        return
    raise NotAccountHolder()


def _same_or_conflict[T](found: T | None, fingerprint: str) -> T | None:
    if found is not None and getattr(found, "fingerprint", None) != fingerprint:
        raise IdempotencyConflict()
    return found


def _replayed[T](lookup: Callable[[], T | None], write: Callable[[], T]) -> T:
    """Run ``write``; if a concurrent replay of the same key won its insert, return the winner."""
    try:
        return write()
    except IntegrityError:
        winner = lookup()
        if winner is None:
            raise
        return winner


# Accounts -------------------------------------------------------------------------------------


def _account_get_or_create(*, territory: Territory, kind: str, **owner: object) -> Account:
    _check_enabled(territory)
    lookup = {"territory": territory, **owner} if owner else {"territory": territory, "kind": kind}
    account = Account.objects.filter(**lookup).first()
    if account is not None:
        return account

    def create() -> Account:
        with transaction.atomic():
            return Account.objects.create(
                territory=territory,
                kind=kind,
                currency=territory.local_currency_code,
                limit=None if kind == AccountKind.ISSUER else Decimal("0"),
                **owner,
            )

    return _replayed(lambda: Account.objects.filter(**lookup).first(), create)


def manne_account_for_user(
    *, user: User, territory: Territory, kind: str = AccountKind.HOUSEHOLD
) -> Account:
    """The account of a person (household, merchant or association) in a territory."""
    if kind not in {AccountKind.HOUSEHOLD, AccountKind.MERCHANT, AccountKind.ASSOCIATION}:
        raise TransferNotAllowed()
    return _account_get_or_create(territory=territory, kind=kind, user=user)


def manne_account_for_producer(*, producer: Producer) -> Account:
    """The account of a producer in its territory."""
    return _account_get_or_create(
        territory=producer.territory, kind=AccountKind.PRODUCER, producer=producer
    )


def manne_issuer_account(*, territory: Territory) -> Account:
    """The scheme's own account: mannes are issued from it and come back to it."""
    return _account_get_or_create(territory=territory, kind=AccountKind.ISSUER)


# Balance moves: the only code that writes Account.balance and Account.held -------------------


def _cents(expression: Expression) -> Round:
    """Sums of amounts rounded to the cent in SQL.

    Exact on PostgreSQL (numeric); on SQLite, where decimals are stored as binary floats,
    it keeps ``0.10 + 0.20`` equal to ``0.30`` so a limit test at the exact boundary holds.
    """
    return Round(expression, 2)


def _enough(amount: Decimal) -> Q:
    return Q(limit__isnull=True) | Q(balance__gte=_cents(F("held") + F("limit") + amount))


def _debit(*, account_id: int, amount: Decimal) -> bool:
    """Take ``amount`` off the available balance if the limit allows it; True when it did."""
    updated = (
        Account.objects.filter(pk=account_id)
        .filter(_enough(amount))
        .update(balance=_cents(F("balance") - amount))
    )
    return updated == 1


def _credit(*, account_id: int, amount: Decimal) -> None:
    Account.objects.filter(pk=account_id).update(balance=_cents(F("balance") + amount))


def _reserve(*, account_id: int, amount: Decimal) -> bool:
    """Add ``amount`` to the held part if the available balance allows it."""
    updated = (
        Account.objects.filter(pk=account_id)
        .filter(_enough(amount))
        .update(held=_cents(F("held") + amount))
    )
    return updated == 1


def _debit_held(*, account_id: int, amount: Decimal) -> bool:
    """Spend a held amount: it leaves the balance and the held part together."""
    updated = Account.objects.filter(pk=account_id, held__gte=amount).update(
        balance=_cents(F("balance") - amount), held=_cents(F("held") - amount)
    )
    return updated == 1


def _unreserve(*, account_id: int, amount: Decimal) -> None:
    Account.objects.filter(pk=account_id, held__gte=amount).update(held=_cents(F("held") - amount))


def _post(
    *,
    territory: Territory,
    kind: str,
    key: str,
    fingerprint: str,
    legs: list[tuple[Account, Decimal]],
    by: User | None,
    memo: str = "",
    reverses: Transaction | None = None,
    from_hold: ManneHold | None = None,
) -> Transaction:
    """Write one posting and move the stored balances; the caller holds a transaction.

    Legs on the same account are merged, zero legs dropped; the legs must sum to zero per
    currency (a bug otherwise, hence an assertion). Debits and credits are applied in account
    primary-key order; a refused debit raises ``InsufficientBalance`` and the caller's
    atomic block rolls the whole posting back.
    """
    merged: dict[int, Decimal] = defaultdict(Decimal)
    accounts: dict[int, Account] = {}
    for account, amount in legs:
        merged[account.pk] += amount
        accounts[account.pk] = account
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for account_id, amount in merged.items():
        totals[accounts[account_id].currency] += amount
    assert all(total == 0 for total in totals.values()), f"unbalanced posting {totals}"
    posting = Transaction.objects.create(
        territory=territory,
        kind=kind,
        key=key,
        fingerprint=fingerprint,
        memo=memo[:255],
        created_by=by,
        reverses=reverses,
    )
    Entry.objects.bulk_create(
        Entry(
            transaction=posting,
            account_id=account_id,
            amount=amount,
            currency=accounts[account_id].currency,
        )
        for account_id, amount in sorted(merged.items())
        if amount != 0
    )
    for account_id, amount in sorted(merged.items()):
        if amount > 0:
            _credit(account_id=account_id, amount=amount)
        elif amount < 0:
            if from_hold is not None and account_id == from_hold.account_id:
                moved = _debit_held(account_id=account_id, amount=-amount)
            else:
                moved = _debit(account_id=account_id, amount=-amount)
            if not moved:
                raise InsufficientBalance()
    return posting


# Transfer rules ----------------------------------------------------------------------------


def _rule(territory: Territory, kind: str) -> Rule:
    rule = transfer_rule(territory=territory, kind=kind)
    if rule is None or not rule.is_enabled:
        raise TransferNotAllowed()
    return rule


def _check_parties(rule: Rule, from_account: Account, to_account: Account) -> None:
    if from_account.territory_id != to_account.territory_id:
        raise TransferNotAllowed()
    if from_account.currency != to_account.currency:
        raise CurrencyMismatch()
    if (
        from_account.pk == to_account.pk
        or from_account.kind not in rule.sender_kinds
        or to_account.kind not in rule.recipient_kinds
    ):
        raise TransferNotAllowed()


def _day_start(territory: Territory) -> datetime:
    local = timezone.now().astimezone(zoneinfo.ZoneInfo(territory.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _transfer_legs(
    *, rule: Rule, from_account: Account, to_account: Account, amount: Decimal
) -> list[tuple[Account, Decimal]]:
    """The legs of a transfer under its rule, after its minimum and daily maximum.

    Call inside the posting's transaction. With a daily maximum, every account of the
    posting (the issuer too, when a fee goes to it) is first locked in primary-key order,
    so two transfers cannot both pass the same daily total, and the later UPDATEs of the
    posting only touch rows this transaction already holds.
    """
    if amount < rule.minimum:
        raise BelowMinimum(minimum=str(rule.minimum))
    fee = round_money(amount * rule.fee_percent / HUNDRED)
    legs = [(from_account, -amount), (to_account, amount - fee)]
    if fee:
        legs.append((manne_issuer_account(territory=from_account.territory), fee))
    if rule.daily_maximum is None:
        return legs
    list(
        Account.objects.select_for_update()
        .filter(pk__in=[account.pk for account, _ in legs])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    sending = from_account.kind != AccountKind.ISSUER
    member = from_account if sending else to_account
    entries = Entry.objects.filter(
        account=member,
        transaction__kind=rule.kind,
        transaction__created_at__gte=_day_start(member.territory),
    )
    entries = entries.filter(amount__lt=0) if sending else entries.filter(amount__gt=0)
    used = round_money(abs(entries.aggregate(total=Sum("amount"))["total"] or Decimal("0")))
    if used + amount > rule.daily_maximum:
        raise DailyMaximumExceeded(maximum=str(rule.daily_maximum), used=str(used))
    return legs


# Transfers ---------------------------------------------------------------------------------


def _transfer_replay(key: str, fingerprint: str) -> Transaction | TransferRequest | None:
    posting = _same_or_conflict(Transaction.objects.filter(key=key).first(), fingerprint)
    if posting is not None:
        return posting
    return _same_or_conflict(TransferRequest.objects.filter(key=key).first(), fingerprint)


def manne_transfer(
    *,
    kind: str,
    from_account: Account,
    to_account: Account,
    amount: Decimal,
    key: str,
    by: User,
    memo: str = "",
) -> Transaction | TransferRequest:
    """Move mannes between two accounts under the rule of ``kind`` (or ask for approval)."""
    amount = _check_amount(amount)
    fingerprint = _fingerprint(
        op="transfer", kind=kind, src=from_account.pk, dst=to_account.pk, amount=amount, memo=memo
    )
    replay = _transfer_replay(key, fingerprint)
    if replay is not None:
        return replay
    territory = from_account.territory
    _check_enabled(territory)
    if kind in SYSTEM_KINDS:
        raise TransferNotAllowed()
    rule = _rule(territory, kind)
    _check_parties(rule, from_account, to_account)
    _check_holder(by, from_account)
    if rule.requires_approval:
        if amount < rule.minimum:
            raise BelowMinimum(minimum=str(rule.minimum))
        return _request_create(
            kind=kind,
            from_account=from_account,
            to_account=to_account,
            amount=amount,
            reason=memo,
            hours=None,
            key=key,
            fingerprint=fingerprint,
            by=by,
        )

    def write() -> Transaction:
        with transaction.atomic():
            return _post(
                territory=territory,
                kind=kind,
                key=key,
                fingerprint=fingerprint,
                legs=_transfer_legs(
                    rule=rule, from_account=from_account, to_account=to_account, amount=amount
                ),
                by=by,
                memo=memo,
            )

    return _replayed(
        lambda: _same_or_conflict(Transaction.objects.filter(key=key).first(), fingerprint),
        write,
    )


def _request_create(
    *,
    kind: str,
    from_account: Account,
    to_account: Account,
    amount: Decimal,
    reason: str,
    hours: Decimal | None,
    key: str,
    fingerprint: str,
    by: User | None,
    activity: RewardActivity | None = None,
    given_on: date | None = None,
) -> TransferRequest:
    def write() -> TransferRequest:
        with transaction.atomic():
            return TransferRequest.objects.create(
                territory=from_account.territory,
                kind=kind,
                from_account=from_account,
                to_account=to_account,
                amount=amount,
                hours=hours,
                activity=activity,
                given_on=given_on,
                reason=reason[:255],
                key=key,
                fingerprint=fingerprint,
                requested_by=by,
            )

    return _replayed(
        lambda: _same_or_conflict(TransferRequest.objects.filter(key=key).first(), fingerprint),
        write,
    )


# Rewards for time given ------------------------------------------------------------------------


def manne_reward_declare(
    *,
    household: User,
    amount: Decimal,
    reason: str,
    key: str,
    hours: Decimal | None = None,
    territory: Territory | None = None,
    funded_by: Account | None = None,
    activity: RewardActivity | None = None,
    given_on: date | None = None,
) -> TransferRequest:
    """A household declares time given (volunteering, a lent garden); a coordinator validates."""
    amount = _check_amount(amount)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    if hours is not None and (not isinstance(hours, Decimal) or hours <= 0):
        raise InvalidAmount()
    described = {"activity": activity.pk, "given_on": given_on} if activity or given_on else {}
    fingerprint = _fingerprint(
        op="reward",
        household=household.pk,
        amount=amount,
        reason=reason,
        hours=hours,
        funded_by=funded_by.pk if funded_by else None,
        **described,
    )
    existing = _same_or_conflict(TransferRequest.objects.filter(key=key).first(), fingerprint)
    if existing is not None:
        return existing
    territory = territory or household.territory
    if territory is None:
        raise HouseholdWithoutTerritory()
    # Atomic: an account opened for this declaration goes away with a refusal.
    with transaction.atomic():
        to_account = manne_account_for_user(user=household, territory=territory)
        from_account = funded_by or manne_issuer_account(territory=territory)
        rule = _rule(territory, TransferKind.REWARD)
        _check_parties(rule, from_account, to_account)
        if amount < rule.minimum:
            raise BelowMinimum(minimum=str(rule.minimum))
        return _request_create(
            kind=TransferKind.REWARD,
            from_account=from_account,
            to_account=to_account,
            amount=amount,
            reason=reason,
            hours=hours,
            key=key,
            fingerprint=fingerprint,
            by=household,
            activity=activity,
            given_on=given_on,
        )


# The oldest day a declaration may name: time given is declared within the year.
DECLARATION_WINDOW = timedelta(days=366)


def manne_time_declare(
    *,
    household: User,
    territory: Territory,
    activity_id: int,
    hours: Decimal,
    given_on: date,
    description: str,
    key: str,
) -> TransferRequest:
    """A household declares hours given to one of the territory's rewarded activities.

    The reward asked is the hours times the activity's rate, rounded to the cent; it goes
    to the coordination as a pending request (``manne_reward_declare``).
    """
    activity = RewardActivity.objects.filter(
        pk=activity_id, territory=territory, is_active=True
    ).first()
    if activity is None:
        raise RewardActivityNotFound()
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(territory.timezone)).date()
    if not isinstance(given_on, date) or not today - DECLARATION_WINDOW <= given_on <= today:
        raise GivenOnInvalid()
    if not isinstance(hours, Decimal) or not hours.is_finite() or hours <= 0:
        raise InvalidAmount()
    description = " ".join((description or "").split())
    reason = f"{activity.name} : {description}" if description else activity.name
    return manne_reward_declare(
        household=household,
        territory=territory,
        amount=round_money(hours * activity.mannes_per_hour),
        reason=reason,
        hours=hours,
        key=key,
        activity=activity,
        given_on=given_on,
    )


def manne_reward_validate(*, request_id: int, coordinator: User, key: str) -> Transaction:
    """A coordinator validates a pending request (a reward, or any kind needing approval).

    The request row is locked first, so two coordinators cannot both pay it; an approved
    request returns its posting.
    """
    fingerprint = _fingerprint(op="approve", request=request_id)
    replay = _same_or_conflict(Transaction.objects.filter(key=key).first(), fingerprint)
    if replay is not None:
        return replay

    def write() -> Transaction:
        with transaction.atomic():
            request = (
                TransferRequest.objects.select_for_update(of=("self",))
                .select_related("from_account__territory", "to_account", "transaction")
                .filter(pk=request_id)
                .first()
            )
            if request is None:
                raise RequestNotFound()
            _check_coordinator(coordinator, request.from_account.territory)
            if request.status == RequestStatus.APPROVED:
                assert request.transaction is not None
                return request.transaction
            if request.status != RequestStatus.PENDING:
                raise RequestNotPending()
            territory = request.from_account.territory
            _check_enabled(territory)
            rule = _rule(territory, request.kind)
            _check_parties(rule, request.from_account, request.to_account)
            posting = _post(
                territory=territory,
                kind=request.kind,
                key=key,
                fingerprint=fingerprint,
                legs=_transfer_legs(
                    rule=rule,
                    from_account=request.from_account,
                    to_account=request.to_account,
                    amount=request.amount,
                ),
                by=coordinator,
                memo=request.reason,
            )
            request.status = RequestStatus.APPROVED
            request.decided_by = coordinator
            request.decided_at = timezone.now()
            request.transaction = posting
            request.save(update_fields=["status", "decided_by", "decided_at", "transaction"])
            return posting

    return _replayed(
        lambda: _same_or_conflict(Transaction.objects.filter(key=key).first(), fingerprint),
        write,
    )


@transaction.atomic
def manne_reward_reject(*, request_id: int, coordinator: User, note: str = "") -> TransferRequest:
    """A coordinator turns a pending request down. Idempotent."""
    request = (
        TransferRequest.objects.select_for_update(of=("self",))
        .select_related("territory")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise RequestNotFound()
    _check_coordinator(coordinator, request.territory)
    if request.status == RequestStatus.REJECTED:
        return request
    if request.status != RequestStatus.PENDING:
        raise RequestNotPending()
    request.status = RequestStatus.REJECTED
    request.decided_by = coordinator
    request.decided_at = timezone.now()
    request.decision_note = note[:255]
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return request


# Corrections ------------------------------------------------------------------------------------


def manne_reverse(*, transaction_id: int, by: User, reason: str, key: str) -> Transaction:
    """Correct a posting with the opposite one, which references it; the original stays.

    Refused if a recipient has already spent what the correction would take back: no member
    goes below its limit, corrections included. Reversals and reconversions (already paid
    in euros) cannot be reversed.
    """
    return _reverse(transaction_id=transaction_id, by=by, reason=reason, key=key)


def manne_order_payment_refund(*, transaction_id: int, reason: str, key: str) -> Transaction:
    """Give a household back the mannes of an order payment (an order cancelled in time).

    The order services call it, not a person: only an ``order_payment`` posting may be
    reversed this way, with the same guarantees as :func:`manne_reverse`.
    """
    return _reverse(transaction_id=transaction_id, by=None, reason=reason, key=key)


def _reverse(*, transaction_id: int, by: User | None, reason: str, key: str) -> Transaction:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    fingerprint = _fingerprint(op="reverse", transaction=transaction_id, reason=reason)
    replay = _same_or_conflict(Transaction.objects.filter(key=key).first(), fingerprint)
    if replay is not None:
        return replay

    def write() -> Transaction:
        with transaction.atomic():
            original = (
                Transaction.objects.select_for_update(of=("self",))
                .select_related("territory")
                .filter(pk=transaction_id)
                .first()
            )
            if original is None:
                raise TransactionNotFound()
            if by is not None:
                _check_coordinator(by, original.territory)
            elif original.kind != TransferKind.ORDER_PAYMENT:
                raise NotReversible()
            if original.kind in NOT_REVERSIBLE:
                raise NotReversible()
            if original.status == TransactionStatus.REVERSED:
                raise AlreadyReversed()
            legs = [
                (entry.account, -entry.amount)
                for entry in original.entries.select_related("account").order_by("pk")
            ]
            posting = _post(
                territory=original.territory,
                kind=TransferKind.REVERSAL,
                key=key,
                fingerprint=fingerprint,
                legs=legs,
                by=by,
                memo=reason,
                reverses=original,
            )
            Transaction.objects.filter(pk=original.pk).mark_reversed()
            return posting

    return _replayed(
        lambda: _same_or_conflict(Transaction.objects.filter(key=key).first(), fingerprint),
        write,
    )


# Holds (split tender) ----------------------------------------------------------------------------


def manne_hold(*, account: Account, amount: Decimal, key: str, expires_at: datetime) -> ManneHold:
    """Set mannes aside on an account until ``expires_at`` (the manne part of an order)."""
    amount = _check_amount(amount)
    fingerprint = _fingerprint(op="hold", account=account.pk, amount=amount)
    existing = _same_or_conflict(ManneHold.objects.filter(key=key).first(), fingerprint)
    if existing is not None:
        return existing
    _check_enabled(account.territory)

    def write() -> ManneHold:
        with transaction.atomic():
            if not _reserve(account_id=account.pk, amount=amount):
                raise InsufficientBalance()
            return ManneHold.objects.create(
                account=account,
                amount=amount,
                key=key,
                fingerprint=fingerprint,
                expires_at=expires_at,
            )

    return _replayed(
        lambda: _same_or_conflict(ManneHold.objects.filter(key=key).first(), fingerprint), write
    )


def manne_hold_capture(
    *,
    hold_id: int,
    to_account: Account,
    key: str,
    kind: str = TransferKind.ORDER_PAYMENT,
    now: datetime | None = None,
) -> Transaction:
    """Pay a live hold to ``to_account``; runs in a savepoint of the caller's transaction."""
    now = now or timezone.now()
    fingerprint = _fingerprint(op="capture", hold=hold_id, dst=to_account.pk, kind=kind)
    replay = _same_or_conflict(Transaction.objects.filter(key=key).first(), fingerprint)
    if replay is not None:
        return replay

    def write() -> Transaction:
        with transaction.atomic():
            hold = (
                ManneHold.objects.select_for_update(of=("self",))
                .select_related("account__territory")
                .filter(pk=hold_id)
                .first()
            )
            if hold is None:
                raise HoldNotFound()
            if hold.status != HoldStatus.HELD or hold.expires_at <= now:
                raise HoldNotLive()
            territory = hold.account.territory
            _check_enabled(territory)
            if kind in SYSTEM_KINDS:
                raise TransferNotAllowed()
            rule = _rule(territory, kind)
            _check_parties(rule, hold.account, to_account)
            posting = _post(
                territory=territory,
                kind=kind,
                key=key,
                fingerprint=fingerprint,
                legs=_transfer_legs(
                    rule=rule, from_account=hold.account, to_account=to_account, amount=hold.amount
                ),
                by=None,
                from_hold=hold,
            )
            hold.status = HoldStatus.CAPTURED
            hold.transaction = posting
            hold.save(update_fields=["status", "transaction", "updated_at"])
            return posting

    return _replayed(
        lambda: _same_or_conflict(Transaction.objects.filter(key=key).first(), fingerprint),
        write,
    )


@transaction.atomic
def manne_hold_release(*, hold_id: int) -> ManneHold:
    """Give held mannes back to the account. Idempotent; a captured hold is left as it is."""
    hold = ManneHold.objects.select_for_update().filter(pk=hold_id).first()
    if hold is None:
        raise HoldNotFound()
    if hold.status != HoldStatus.HELD:
        return hold
    _unreserve(account_id=hold.account_id, amount=hold.amount)
    hold.status = HoldStatus.RELEASED
    hold.save(update_fields=["status", "updated_at"])
    return hold


def manne_holds_expire(*, now: datetime | None = None) -> int:
    """Release every hold past its expiry; returns how many were released."""
    now = now or timezone.now()
    due = ManneHold.objects.filter(status=HoldStatus.HELD, expires_at__lte=now)
    released = 0
    for hold_id in due.order_by("pk").values_list("pk", flat=True):
        if manne_hold_release(hold_id=hold_id).status == HoldStatus.RELEASED:
            released += 1
    return released


# Reconversion to euros ----------------------------------------------------------------------------


def manne_reconversion_batch(*, territory: Territory, by: User, key: str) -> PayoutBatch:
    """Bring producers' available mannes back to the issuer and list the euros owed to each.

    Rate and fee are the territory's scheme settings at the time of the batch, copied onto
    it. The issuer and producer accounts are locked (primary-key order) for the batch, so
    each producer's available amount is exact; held mannes stay. The batch records the
    euros to pay; the payouts themselves are made outside the ledger.
    """
    _check_coordinator(by, territory)
    fingerprint = _fingerprint(op="reconversion", territory=territory.pk)
    existing = _same_or_conflict(PayoutBatch.objects.filter(key=key).first(), fingerprint)
    if existing is not None:
        return existing
    _check_enabled(territory)
    if not territory.local_currency_reconversion_allowed:
        raise ReconversionNotAllowed()
    rule = _rule(territory, TransferKind.RECONVERSION)
    issuer = manne_issuer_account(territory=territory)
    rate = territory.local_currency_euro_rate
    fee_percent = territory.local_currency_reconversion_fee_percent

    def write() -> PayoutBatch:
        with transaction.atomic():
            batch = PayoutBatch.objects.create(
                territory=territory,
                key=key,
                fingerprint=fingerprint,
                created_by=by,
                euro_rate=rate,
                fee_percent=fee_percent,
            )
            # Lock the issuer and every producer account in primary-key order: the amounts
            # read are then exact, and the batch's UPDATEs cannot deadlock with payments.
            locked = list(
                Account.objects.select_for_update()
                .filter(
                    Q(pk=issuer.pk)
                    | Q(territory=territory, kind__in=rule.sender_kinds, producer__isnull=False)
                )
                .order_by("pk")
            )
            for account in locked:
                if account.pk == issuer.pk:
                    continue
                assert account.limit is not None and account.producer_id is not None
                mannes = account.balance - account.held - account.limit
                if mannes < max(rule.minimum, Decimal("0.01")):
                    continue
                posting = _post(
                    territory=territory,
                    kind=TransferKind.RECONVERSION,
                    key=f"{key}:reconversion:{account.pk}",
                    fingerprint=_fingerprint(op="reconversion_line", batch=key),
                    legs=[(account, -mannes), (issuer, mannes)],
                    by=by,
                    memo=f"Reconversion {key}",
                )
                gross = round_money(mannes * rate)
                fee = round_money(gross * fee_percent / HUNDRED)
                PayoutLine.objects.create(
                    batch=batch,
                    account=account,
                    producer_id=account.producer_id,
                    mannes=mannes,
                    euros_gross=gross,
                    euros_fee=fee,
                    euros_net=gross - fee,
                    transaction=posting,
                )
            return batch

    return _replayed(
        lambda: _same_or_conflict(PayoutBatch.objects.filter(key=key).first(), fingerprint),
        write,
    )


# Expiry of units ------------------------------------------------------------------------------


def _months_before(moment: datetime, months: int, tz: zoneinfo.ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    month_index = local.year * 12 + local.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def manne_expire_units(
    *, territory: Territory, key: str, now: datetime | None = None
) -> list[Transaction]:
    """Send back to the issuer the units older than the scheme's validity; oldest spent first.

    Units are valid ``local_currency_expiry_months`` months from when an account received
    them, and spending uses the oldest units first (first in, first out). So what expires
    now is what the account received before the cut-off less everything it ever sent
    (earlier expiries included), never more than its available balance: held mannes stay
    until their hold ends, and the next run takes them if they are still there. Each
    account is handled in its own short transaction that first locks it and the issuer in
    primary-key order. Replaying ``key`` returns the postings already written.
    """
    months = territory.local_currency_expiry_months
    if not months:
        return []
    _check_enabled(territory)
    now = now or timezone.now()
    cutoff = _months_before(now, months, zoneinfo.ZoneInfo(territory.timezone))
    issuer = manne_issuer_account(territory=territory)
    members = (
        Account.objects.filter(territory=territory)
        .exclude(kind=AccountKind.ISSUER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    fingerprint = _fingerprint(op="expiry", territory=territory.pk)
    postings: list[Transaction] = []
    for account_id in members:
        line_key = f"{key}:expiry:{account_id}"
        done = _same_or_conflict(Transaction.objects.filter(key=line_key).first(), fingerprint)
        if done is not None:
            postings.append(done)
            continue
        with transaction.atomic():
            locked = {
                account.pk: account
                for account in Account.objects.select_for_update()
                .filter(pk__in=[account_id, issuer.pk])
                .order_by("pk")
            }
            account = locked[account_id]
            assert account.limit is not None
            entries = Entry.objects.filter(account=account)
            received_before = entries.filter(
                amount__gt=0, transaction__created_at__lt=cutoff
            ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
            sent = -(
                entries.filter(amount__lt=0).aggregate(total=Sum("amount"))["total"] or Decimal("0")
            )
            expired = min(
                round_money(received_before - sent),
                account.balance - account.held - account.limit,
            )
            if expired <= 0:
                continue
            postings.append(
                _post(
                    territory=territory,
                    kind=TransferKind.EXPIRY,
                    key=line_key,
                    fingerprint=fingerprint,
                    legs=[(account, -expired), (issuer, expired)],
                    by=None,
                    memo=f"Unités reçues avant le {cutoff:%d/%m/%Y}",
                )
            )
    return postings
