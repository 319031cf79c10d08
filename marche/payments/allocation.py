"""Who gets what of an order: each producer's share, exact to the cent.

An à la carte line belongs to its producer. A composed basket's price is shared among the
producers of its components in proportion to the components' value at the offers' prices;
rounding leftovers go to the largest share, so the shares always add up to the order total.

With a split tender, each producer's share is paid partly in mannes (the amount held for
that producer) and partly in euros. The mannes are valued in euros once, for the whole
order, at the territory's rate (``marche.money.tender_split``), and that value is split
back among the producers in proportion to their mannes: the producers' euro parts then add
up exactly to the euro part of the order, which is what the card or the relay point took.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from marche.money import EUR, round_money, tender_split
from marche.orders.models import LineKind, Order, OrderLine
from marche.payments.models import Payment, PaymentStatus

ZERO = Decimal("0")
LIVE = (PaymentStatus.PENDING, PaymentStatus.SUCCEEDED)


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


@dataclass(frozen=True, slots=True)
class ProducerTender:
    """One producer's share of an order and how it is paid."""

    total: Decimal  # the producer's share of the order total, in euros
    mannes: Decimal  # paid in local currency, in units of that currency
    manne_value: Decimal  # what those units are worth in euros at the territory's rate

    @property
    def euros(self) -> Decimal:
        """The part of the share paid in euros (card or at pickup)."""
        return self.total - self.manne_value


def order_producer_tenders(
    *, order: Order, payments: Iterable[Payment] | None = None
) -> dict[int, ProducerTender]:
    """Each producer's share of the order, split into its manne part and its euro part.

    ``payments`` are the order's payments when the caller has them (prefetched); only live
    ones (pending or paid) count. A manne payment without a producer (none is written today)
    is shared in proportion to the producers' shares.
    """
    shares = order_producer_shares(order=order)
    if payments is None:
        payments = Payment.objects.filter(order=order).order_by("pk")
    manne_parts: dict[int, Decimal] = defaultdict(lambda: ZERO)
    unassigned = ZERO
    for payment in payments:
        if payment.status not in LIVE or payment.currency == EUR:
            continue
        if payment.producer_id is None:
            unassigned += payment.amount
        else:
            manne_parts[payment.producer_id] += payment.amount
    if unassigned:
        for producer_id, part in split_proportionally(unassigned, shares).items():
            manne_parts[producer_id] += part
    mannes = sum(manne_parts.values(), ZERO)
    _euro_part, value = tender_split(
        order.total, mannes, order.cycle.territory.local_currency_euro_rate
    )
    values = split_proportionally(value, dict(manne_parts))
    return {
        producer_id: ProducerTender(
            total=share,
            mannes=manne_parts.get(producer_id, ZERO),
            manne_value=values.get(producer_id, ZERO),
        )
        for producer_id, share in shares.items()
    }
