"""Reads of the manne ledger: balances, statements, what an order may take, ledger proofs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Round
from django.utils.translation import gettext as _

from marche.accounts.models import User
from marche.mannes.models import (
    Account,
    AccountKind,
    Entry,
    HoldStatus,
    ManneHold,
    RequestStatus,
    RewardActivity,
    Transaction,
    TransferKind,
    TransferRequest,
)
from marche.money import local_currency_for, round_money
from marche.orders.models import LineKind, Order, OrderLine
from marche.territories.models import Territory

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Balance:
    balance: Decimal
    held: Decimal
    available: Decimal | None  # None: no lower limit (the issuer)


def manne_balance(*, account: Account) -> Balance:
    """An account's balance, held part and available amount, read fresh from the database."""
    balance, held, limit = Account.objects.filter(pk=account.pk).values_list(
        "balance", "held", "limit"
    )[0]
    return Balance(
        balance=balance, held=held, available=None if limit is None else balance - held - limit
    )


def manne_account_find(*, user: User, territory: Territory) -> Account | None:
    """A person's account in a territory, if one was ever opened (never creates one)."""
    return Account.objects.filter(territory=territory, user=user).first()


def manne_available_for_user(*, user: User, territory: Territory) -> Decimal:
    """What a person may spend now: 0 without an account."""
    account = manne_account_find(user=user, territory=territory)
    if account is None:
        return ZERO
    return manne_balance(account=account).available or ZERO


def manne_statement(*, account: Account, page: int = 1, per_page: int = 25) -> Page:
    """An account's entries, newest first, with their posting (one query per page)."""
    entries = (
        Entry.objects.filter(account=account)
        .select_related("transaction")
        .order_by("-transaction__created_at", "-pk")
    )
    return Paginator(entries, per_page).get_page(page)


def manne_requests_pending(*, territory: Territory) -> QuerySet[TransferRequest]:
    """Requests waiting for a coordinator, oldest first."""
    return (
        TransferRequest.objects.filter(territory=territory, status=RequestStatus.PENDING)
        .select_related("to_account__user", "from_account", "requested_by")
        .order_by("created_at", "pk")
    )


def _eligible_weights(order: Order) -> dict[int, Decimal]:
    """Euros of the order per producer accepting mannes (see manne_order_eligible_total)."""
    lines = list(order.lines.select_related("producer", "offer").order_by("pk"))
    components: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines:
        if line.kind == LineKind.COMPONENT and line.parent_id is not None:
            components[line.parent_id].append(line)
    weights: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.kind == LineKind.ITEM:
            if line.producer is not None and line.producer.accepts_local_currency:
                weights[line.producer.pk] += line.total
        elif line.kind == LineKind.BASKET:
            parts = components.get(line.pk, [])
            if not parts or not all(
                part.producer is not None and part.producer.accepts_local_currency for part in parts
            ):
                continue
            # The basket price is shared by its producers in proportion to the catalogue
            # value of their components (equally if the components have no price).
            values = {
                part.pk: (part.offer.unit_price * part.quantity if part.offer else ZERO)
                for part in parts
            }
            whole = sum(values.values(), ZERO)
            for part in parts:
                assert part.producer is not None
                share = values[part.pk] / whole if whole else Decimal(1) / len(parts)
                weights[part.producer.pk] += line.total * share
    return weights


def manne_order_eligible_total(*, order: Order) -> Decimal:
    """The euros of an order that producers accepting mannes will receive.

    An à la carte line counts when its producer accepts mannes. A composed basket is one
    priced line whose components (zero-priced child lines) may come from several
    producers: it counts only when every component's producer accepts mannes; its price
    is then shared among them in proportion to the catalogue value of their components.
    """
    return round_money(sum(_eligible_weights(order).values(), ZERO))


def manne_order_allocation(*, order: Order, amount: Decimal) -> list[tuple[int, Decimal]]:
    """Split a manne amount of an order among its accepting producers: (producer id, amount).

    Shares follow each producer's eligible euros; cents are rounded down and the cents
    left go to the largest remainders (then the lowest producer id), so the shares always
    add up to ``amount`` exactly. For the split tender: one hold per producer, each
    captured to that producer's account when the order is confirmed.
    """
    weights = _eligible_weights(order)
    whole = sum(weights.values(), ZERO)
    if amount <= 0 or not whole:
        return []
    cents = int(round_money(amount) * 100)
    exact = {pid: Decimal(cents) * weight / whole for pid, weight in weights.items()}
    shares = {pid: int(value) for pid, value in exact.items()}
    left = cents - sum(shares.values())
    for pid in sorted(exact, key=lambda pid: (-(exact[pid] - shares[pid]), pid))[:left]:
        shares[pid] += 1
    return [(pid, Decimal(share) / 100) for pid, share in sorted(shares.items()) if share]


def manne_usable_for_order(*, user: User, order: Order) -> Decimal:
    """How many mannes a household may put on an order: min(available, eligible part).

    The eligible part is in euros (manne_order_eligible_total); it is converted at the
    territory's rate for pricing (1 manne = 1 € in the demo) and rounded down to the cent,
    by the same helper as the cart (``marche.money.local_currency_for``).
    """
    territory = order.cycle.territory
    if not territory.local_currency_enabled:
        return ZERO
    eligible = local_currency_for(
        manne_order_eligible_total(order=order), territory.local_currency_euro_rate
    )
    available = manne_available_for_user(user=user, territory=territory)
    return max(ZERO, min(available, eligible))


# Ledger proofs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Drift:
    kind: str  # unbalanced_posting, empty_posting, currency, balance, held
    subject: str
    expected: object
    found: object

    def __str__(self) -> str:
        if self.expected is None:
            return f"{self.kind} : {self.subject}"
        return f"{self.kind} : {self.subject}, attendu {self.expected}, trouvé {self.found}"


@dataclass(frozen=True, slots=True)
class Supply:
    currency: str
    issued: Decimal  # everything the issuer ever sent
    redeemed: Decimal  # everything that came back to it (fees, reconversions, corrections)

    @property
    def circulating(self) -> Decimal:
        return self.issued - self.redeemed


def ledger_drifts(*, territory: Territory | None = None) -> list[Drift]:
    """Every way the stored ledger disagrees with itself; empty when it is sound.

    Postings must sum to zero per currency, each entry must be in its account's currency,
    each stored balance must equal the sum of its entries and each held part the sum of
    the account's live holds.
    """
    drifts: list[Drift] = []
    postings = Transaction.objects.all()
    accounts = Account.objects.all()
    if territory is not None:
        postings = postings.filter(territory=territory)
        accounts = accounts.filter(territory=territory)
    unbalanced = (
        Entry.objects.filter(transaction__in=postings)
        .values("transaction_id", "currency")
        .annotate(total=Round(Sum("amount"), 2))  # exact on PostgreSQL; floats on SQLite
        .exclude(total=0)
        .order_by("transaction_id", "currency")
    )
    drifts += [
        Drift(
            "unbalanced_posting",
            f"opération #{row['transaction_id']} ({row['currency']})",
            ZERO,
            round_money(row["total"]),
        )
        for row in unbalanced
    ]
    empty = postings.filter(entries__isnull=True).values_list("pk", flat=True)
    drifts += [Drift("empty_posting", f"opération #{pk} sans écriture", None, None) for pk in empty]
    foreign = (
        Entry.objects.filter(account__in=accounts)
        .exclude(currency=F("account__currency"))
        .values_list("pk", "currency", "account__currency")
        .order_by("pk")
    )
    drifts += [
        Drift("currency", f"écriture #{pk}", expected, found) for pk, found, expected in foreign
    ]
    money = DecimalField(max_digits=14, decimal_places=2)
    entries_sum = (
        Entry.objects.filter(account=OuterRef("pk"))
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    holds_sum = (
        ManneHold.objects.filter(account=OuterRef("pk"), status=HoldStatus.HELD)
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    checked = accounts.annotate(
        entries_total=Coalesce(Subquery(entries_sum, output_field=money), Value(ZERO)),
        holds_total=Coalesce(Subquery(holds_sum, output_field=money), Value(ZERO)),
    ).order_by("pk")
    for account in checked:
        entries_total = round_money(account.entries_total)
        holds_total = round_money(account.holds_total)
        if account.balance != entries_total:
            drifts.append(Drift("balance", f"compte #{account.pk}", entries_total, account.balance))
        if account.held != holds_total:
            drifts.append(Drift("held", f"compte #{account.pk}", holds_total, account.held))
    return drifts


def ledger_supply(*, territory: Territory) -> list[Supply]:
    """Per currency, what the issuer account sent out and what came back to it."""
    rows = (
        Entry.objects.filter(account__territory=territory, account__kind=AccountKind.ISSUER)
        .values("currency")
        .annotate(
            out=Coalesce(Sum("amount", filter=Q(amount__lt=0)), Value(ZERO)),
            back=Coalesce(Sum("amount", filter=Q(amount__gt=0)), Value(ZERO)),
        )
        .order_by("currency")
    )
    return [
        Supply(
            currency=row["currency"],
            issued=round_money(-row["out"]),
            redeemed=round_money(row["back"]),
        )
        for row in rows
    ]


# A household's own pages ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One posting as a member sees it on their account."""

    created_at: object
    kind: str
    kind_label: str
    amount: Decimal
    counterpart: str
    memo: str
    reversed: bool

    @property
    def magnitude(self) -> Decimal:
        return abs(self.amount)


def _counterpart_label(account: Account) -> str:
    if account.kind == AccountKind.ISSUER:
        return str(_("La coordination (dispositif de la monnaie locale)"))
    if account.producer is not None:
        return account.producer.name
    if account.user is not None:
        # Another member: first name and initial only, never their address.
        user = account.user
        initial = f" {user.last_name[:1]}." if user.last_name else ""
        return f"{user.first_name}{initial}".strip() or str(_("Un membre"))
    return str(account)


def _order_refund_labels(entries: list[Entry]) -> dict[int, str]:
    """The label "Remboursement de la commande REF" of each reversal refunding an order.

    An order's manne part is captured from holds whose key starts with ``order:<order id>:``
    (``marche.payments.mannes_tender``); the reversal of such a capture is the refund of that
    order, not a correction. Two queries, and none when the page has no reversal.
    """
    reversed_ids = {
        entry.transaction.reverses_id: entry.transaction_id
        for entry in entries
        if entry.transaction.kind == TransferKind.REVERSAL and entry.transaction.reverses_id
    }
    if not reversed_ids:
        return {}
    order_ids: dict[int, int] = {}
    for captured_id, key in ManneHold.objects.filter(
        transaction_id__in=reversed_ids, transaction__kind=TransferKind.ORDER_PAYMENT
    ).values_list("transaction_id", "key"):
        prefix, _sep, rest = key.partition(":")
        order_id = rest.partition(":")[0]
        if prefix == "order" and order_id.isascii() and order_id.isdigit():
            order_ids[reversed_ids[captured_id]] = int(order_id)
    references = dict(
        Order.objects.filter(pk__in=set(order_ids.values())).values_list("pk", "reference")
    )
    return {
        reversal_id: _("Remboursement de la commande %(ref)s") % {"ref": references[order_id]}
        for reversal_id, order_id in order_ids.items()
        if order_id in references
    }


def manne_statement_lines(*, account: Account, page: int | str = 1, per_page: int = 20) -> Page:
    """A page of an account's postings, newest first, each with its counterpart (2 queries).

    The counterpart is the other account of the posting that moved the most (a fee going to
    the issuer is not the counterpart of a payment to a producer).
    """
    statement = manne_statement(account=account, page=page, per_page=per_page)
    entries = list(statement.object_list)
    others: dict[int, Entry] = {}
    for other in (
        Entry.objects.filter(transaction_id__in=[entry.transaction_id for entry in entries])
        .exclude(account_id=account.pk)
        .select_related("account__user", "account__producer")
        .order_by("pk")
    ):
        best = others.get(other.transaction_id)
        if best is None or abs(other.amount) > abs(best.amount):
            others[other.transaction_id] = other
    refunds = _order_refund_labels(entries)
    statement.object_list = [
        StatementLine(
            created_at=entry.transaction.created_at,
            kind=entry.transaction.kind,
            kind_label=refunds.get(entry.transaction_id) or entry.transaction.get_kind_display(),
            amount=entry.amount,
            counterpart=(
                _counterpart_label(others[entry.transaction_id].account)
                if entry.transaction_id in others
                else ""
            ),
            memo="" if entry.transaction_id in refunds else entry.transaction.memo,
            reversed=entry.transaction.status == "reversed",
        )
        for entry in entries
    ]
    return statement


def manne_declarations_for_user(
    *, user: User, territory: Territory, limit: int = 50
) -> list[TransferRequest]:
    """A household's declarations of time given in a territory, newest first."""
    return list(
        TransferRequest.objects.filter(territory=territory, kind="reward", to_account__user=user)
        .select_related("activity")
        .order_by("-created_at", "-pk")[:limit]
    )


def reward_activities(*, territory: Territory) -> list[RewardActivity]:
    """The activities a territory rewards, in its order."""
    return list(
        RewardActivity.objects.filter(territory=territory, is_active=True).order_by(
            "position", "name"
        )
    )
