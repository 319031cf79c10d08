"""Row locks of the manne ledger: holds, then accounts, each in primary-key order.

One posting already moves its accounts in primary-key order (``marche.mannes.services``).
An order paid in mannes to several producers writes one posting per producer in the same
transaction, so its locks would otherwise be taken posting by posting: the household's and
the first producer's accounts, then the next producer's, and so on. A transfer between two
of those producers, taking them the other way round, could then deadlock with it. The
order's capture therefore locks all of its holds, then every account its postings will
touch, at once and sorted, before the first posting (``manne_capture_lock``).
Holds come before accounts because releasing or expiring one hold locks the hold, then
moves its account. The order across apps is written in ``marche/orders/locking.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from marche.mannes.models import Account, ManneHold


def manne_holds_lock(*, hold_ids: Iterable[int]) -> list[ManneHold]:
    """Lock manne holds in primary-key order."""
    ids = sorted(set(hold_ids))
    if not ids:
        return []
    return list(ManneHold.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))


def manne_accounts_lock(*, account_ids: Iterable[int]) -> list[int]:
    """Lock manne accounts in primary-key order; returns the ids found, sorted.

    ``FOR NO KEY UPDATE``: balances change, never keys, so entries referring to an account
    can still be written by others.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return []
    return list(
        Account.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def manne_capture_lock(*, hold_ids: Iterable[int], to_account_ids: Iterable[int]) -> None:
    """Before capturing holds: lock the holds, then their accounts and the recipients'."""
    holds = manne_holds_lock(hold_ids=hold_ids)
    manne_accounts_lock(account_ids=[hold.account_id for hold in holds] + list(to_account_ids))
