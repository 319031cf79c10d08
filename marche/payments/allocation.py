"""Who gets what of an order: each producer's share, exact to the cent.

An à la carte line belongs to its producer. A composed basket's price is shared among the
producers of its components in proportion to the components' value at the offers' prices;
rounding leftovers go to the largest share, so the shares always add up to the order total.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from marche.money import round_money
from marche.orders.models import LineKind, Order, OrderLine

ZERO = Decimal("0")


def split_proportionally(total: Decimal, weights: dict[int, Decimal]) -> dict[int, Decimal]:
    """Split ``total`` (cents) by ``weights``; the parts add up to ``total`` exactly."""
    positive = {key: weight for key, weight in weights.items() if weight > 0}
    if not positive:
        return {}
    weight_sum = sum(positive.values(), ZERO)
    parts = {key: round_money(total * weight / weight_sum) for key, weight in positive.items()}
    leftover = total - sum(parts.values(), ZERO)
    if leftover:
        largest = max(positive, key=lambda key: (positive[key], -key))
        parts[largest] += leftover
    return parts


def order_producer_shares(*, order: Order) -> dict[int, Decimal]:
    """Each producer's share of the order total (euros), keyed by producer id."""
    lines = list(OrderLine.objects.filter(order=order).select_related("offer").order_by("pk"))
    shares: dict[int, Decimal] = defaultdict(lambda: ZERO)
    components: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines:
        if line.kind == LineKind.COMPONENT and line.parent_id is not None:
            components[line.parent_id].append(line)
    for line in lines:
        if line.kind == LineKind.ITEM and line.producer_id is not None:
            shares[line.producer_id] += line.total
        elif line.kind == LineKind.BASKET:
            weights: dict[int, Decimal] = defaultdict(lambda: ZERO)
            for component in components[line.pk]:
                assert component.offer is not None and component.producer_id is not None
                weights[component.producer_id] += component.offer.unit_price * component.quantity
            for producer_id, part in split_proportionally(line.total, dict(weights)).items():
                shares[producer_id] += part
    return dict(shares)
