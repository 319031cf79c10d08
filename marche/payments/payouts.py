"""What each producer is owed for a cycle, by tender, exact to the cent.

For every order that went through (confirmed, packed or collected), each producer's share
(see ``allocation``) is split between the tenders the household used: the manne part is
what each accepting producer was paid in mannes (one manne payment per producer, split when
the mannes were held), valued in euros at the territory's rate; the euro part (card, or cash
and cheque at pickup) covers the rest. Mannes and euros are reported in separate columns and
never added.
Each split gives its leftover cent to the largest share, so every column adds up to the
orders' totals exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Sum

from marche.cycles.models import OrderCycle
from marche.money import tender_split
from marche.orders.models import Order, OrderStatus
from marche.payments.allocation import order_producer_tenders, split_proportionally
from marche.payments.models import Payment, PaymentStatus, Transfer
from marche.producers.models import Producer

ZERO = Decimal("0")
DONE = [OrderStatus.CONFIRMED, OrderStatus.PACKED, OrderStatus.COLLECTED]
LIVE = [PaymentStatus.PENDING, PaymentStatus.SUCCEEDED]


@dataclass
class ProducerPayout:
    producer: Producer
    total: Decimal = ZERO
    card: Decimal = ZERO
    pickup: Decimal = ZERO
    local_currency: Decimal = ZERO
    local_currency_value: Decimal = ZERO
    transferred: Decimal = ZERO

    @property
    def euros(self) -> Decimal:
        return self.card + self.pickup


@dataclass
class PayoutReport:
    cycle: OrderCycle
    rows: list[ProducerPayout] = field(default_factory=list)
    orders_total: Decimal = ZERO
    orders_local_currency: Decimal = ZERO
    orders_local_currency_value: Decimal = ZERO

    @property
    def orders_euros(self) -> Decimal:
        """What the orders were paid in euros: their total less the value of the mannes."""
        return self.orders_total - self.orders_local_currency_value

    def column(self, name: str) -> Decimal:
        return sum((getattr(row, name) for row in self.rows), ZERO)


def order_tender_split(*, order: Order) -> dict[int, dict[str, Decimal]]:
    """Each producer's share of one order, split into card, pickup and local-currency parts.

    ``local_currency`` is in units of the local currency; ``local_currency_value`` is their
    value in euros at the territory's rate, so that ``card + pickup + local_currency_value``
    is the producer's share.
    """
    payments = [p for p in order.payments.all() if p.status in LIVE]
    tenders = order_producer_tenders(order=order, payments=payments)
    card = sum((p.amount for p in payments if p.method == "card" and p.currency == "EUR"), ZERO)
    card_parts = split_proportionally(card, {pid: t.euros for pid, t in tenders.items()})
    return {
        pid: {
            "total": tender.total,
            "local_currency": tender.mannes,
            "local_currency_value": tender.manne_value,
            "card": card_parts.get(pid, ZERO),
            "pickup": tender.euros - card_parts.get(pid, ZERO),
        }
        for pid, tender in tenders.items()
    }


def payout_report(*, cycle: OrderCycle) -> PayoutReport:
    """Per producer, what the cycle's orders owe them in card, pickup and local currency."""
    orders = (
        Order.objects.filter(cycle=cycle, status__in=DONE)
        .select_related("cycle__territory")
        .prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("pk")))
        .order_by("pk")
    )
    rows: dict[int, ProducerPayout] = {}
    report = PayoutReport(cycle=cycle)
    totals: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for order in orders:
        report.orders_total += order.total
        mannes = sum(
            (p.amount for p in order.payments.all() if p.status in LIVE and p.currency != "EUR"),
            ZERO,
        )
        report.orders_local_currency += mannes
        report.orders_local_currency_value += tender_split(
            order.total, mannes, order.cycle.territory.local_currency_euro_rate
        )[1]
        for producer_id, parts in order_tender_split(order=order).items():
            for name, amount in parts.items():
                totals[producer_id][name] += amount
    producers = {p.pk: p for p in Producer.objects.filter(pk__in=totals).order_by("name")}
    transferred = dict(
        Transfer.objects.filter(order__cycle=cycle, stripe_transfer_id__isnull=False)
        .values_list("producer_id")
        .annotate(s=Sum("amount"))
    )
    for producer_id, producer in producers.items():
        parts = totals[producer_id]
        rows[producer_id] = ProducerPayout(
            producer=producer,
            total=parts["total"],
            card=parts["card"],
            pickup=parts["pickup"],
            local_currency=parts["local_currency"],
            local_currency_value=parts["local_currency_value"],
            transferred=transferred.get(producer_id, ZERO),
        )
    report.rows = list(rows.values())
    return report
