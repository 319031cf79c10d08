"""Row locks of the orders app, and the one lock order every checkout service follows.

Two transactions that lock the same rows in different orders can each hold what the other
waits for (a deadlock: PostgreSQL aborts one after a second). Every service that locks more
than one row therefore takes its locks in this order, each kind sorted by primary key:

1. orders (``order_lock``, here);
2. stock holds, then offers (``marche.cycles.locking``): all of an order's, or all of a
   cart's, at once, before any counter moves;
3. a relay point's day, then its pickup slot (``marche.relays.services``: booking and
   release both update the day first);
4. payments (``select_for_update`` on the order's payment rows);
5. manne holds, then manne accounts (``marche.mannes.locking``).

A service may skip a level but never go back up one. Each runs in
``marche.core.locking.locking_atomic``: a lock waited for longer than the lock timeout is
answered with ``ServiceBusy`` ("Le service est très demandé, réessayez"), never a 500.
"""

from __future__ import annotations

from marche.cycles.locking import stock_holds_lock
from marche.orders.errors import OrderNotFound
from marche.orders.models import Cart, Order, OrderLine


def order_lock(order_id: int) -> Order:
    """Lock one order row (first of all locks), or refuse an order that does not exist."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound()
    return order


def order_stock_lock(order: Order) -> list[OrderLine]:
    """Lock the stock an order holds: its holds, then their offers, in primary-key order.

    Call it with the order row locked; returns the order's lines that hold stock, by hold.
    """
    lines = list(order.lines.filter(hold__isnull=False).order_by("hold_id"))
    stock_holds_lock(hold_ids=[line.hold_id for line in lines if line.hold_id is not None])
    return lines


def cart_lock(cart_id: int) -> None:
    """Lock a household's cart row, alone: the read-add-write of "Ajouter" on one of its items.

    No other row is locked in the same transaction (the stock left is only read), so this
    lock sits outside the checkout order above and cannot take part in a deadlock.
    """
    Cart.objects.select_for_update().filter(pk=cart_id).values_list("pk").first()
