"""Row locks of the canteens app, in the one order every canteen service follows.

1. the canteen (``canteen_lock``): placing, replacing, cancelling and materialising a
   canteen's orders take it first, so one canteen's orders are written one at a time (two
   tabs, or the standing-order task and the manager, never both create the cycle's order);
2. the canteen order (``canteen_order_lock``): a producer's answer and the cutoff start
   here;
3. the offers (``marche.cycles.locking.offers_lock``), all at once, in primary-key order,
   before any counter moves: the same level as households' checkouts, which never lock a
   canteen row, so neither can wait for the other in a cycle.

Call these inside ``marche.core.locking.locking_atomic`` (bounded lock waits).
"""

from __future__ import annotations

from marche.canteens.errors import CanteenNotFound, CanteenOrderNotFound
from marche.canteens.models import Canteen, CanteenOrder


def canteen_lock(canteen_id: int) -> Canteen:
    """Lock a canteen row (first of the canteen locks)."""
    canteen = Canteen.objects.select_for_update(no_key=True).filter(pk=canteen_id).first()
    if canteen is None:
        raise CanteenNotFound()
    return canteen


def canteen_order_lock(order_id: int) -> CanteenOrder:
    """Lock a canteen order row, with its cycle and canteen read alongside."""
    order = (
        CanteenOrder.objects.select_for_update(no_key=True, of=("self",))
        .select_related("cycle", "canteen")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise CanteenOrderNotFound()
    return order
