"""Row locks of the cycles app: stock holds, then offers, each in primary-key order.

A checkout moves the counters of several offers in one transaction. Taking their row locks
in the order of the cart lets two checkouts with carts {X, Y} and {Y, X} each hold one and
wait for the other: a deadlock. Every service that locks more than one of these rows takes
them here, all at once, sorted by primary key, before it moves any counter: a second
checkout then waits for the first one as a whole and never holds half of what it needs.

Holds come before offers because the services that touch one hold lock the hold, then
move its offer (``stock_confirm``, ``stock_release``, ``stock_return``, the expiry task).
The order across apps is written in ``marche/orders/locking.py``. Call these inside a
transaction with a lock timeout (``marche.core.locking.locking_atomic``).
"""

from __future__ import annotations

from collections.abc import Iterable

from marche.cycles.models import Offer, StockHold


def offers_lock(*, offer_ids: Iterable[int]) -> list[int]:
    """Lock offer rows in primary-key order; returns the ids found, sorted.

    ``FOR NO KEY UPDATE``: the counters change, never the key, so order lines and holds that
    refer to the offer can still be written by others (their foreign keys only share-lock it).
    """
    ids = sorted(set(offer_ids))
    if not ids:
        return []
    return list(
        Offer.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def stock_hold_lock(*, hold_id: int) -> StockHold:
    """Lock one stock hold (before moving its offer's counters)."""
    return StockHold.objects.select_for_update().get(pk=hold_id)


def stock_holds_lock(*, hold_ids: Iterable[int]) -> list[StockHold]:
    """Lock stock holds in primary-key order, then their offers in primary-key order."""
    ids = sorted(set(hold_ids))
    if not ids:
        return []
    holds = list(StockHold.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    offers_lock(offer_ids=[hold.offer_id for hold in holds])
    return holds
