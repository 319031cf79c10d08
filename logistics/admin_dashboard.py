"""The coordinators' Wagtail dashboard panel: this cycle's figures and its delivery plan."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from wagtail.admin.ui.components import Component

from logistics.models import DeliveryPlan
from marche.core.admin_access import territory_scope, user_is_admin_coordinator
from marche.cycles.models import Offer, OrderCycle
from marche.money import EUR
from marche.orders.models import Order, OrderStatus
from marche.payments.models import Payment, PaymentStatus

LIVE_ORDERS = (OrderStatus.CONFIRMED, OrderStatus.PACKED, OrderStatus.COLLECTED)


@dataclass(frozen=True)
class CycleFigures:
    cycle: OrderCycle
    is_open: bool
    orders: int
    pending_orders: int
    euros: Decimal
    mannes: Decimal
    currency_name: str
    offers_on_sale: int
    offers_sold_out: int
    offers_on_demand: int
    plan_status: str
    planning_url: str


def cycle_of_the_moment(*, user: Any, now: Any) -> OrderCycle | None:
    """The open cycle the coordinator sees; else the one that opened last (being prepared)."""
    cycles = territory_scope(
        OrderCycle.objects.select_related("territory"), user=user, lookup="territory"
    )
    return (
        cycles.filter(opens_at__lte=now, closes_at__gt=now).order_by("closes_at").first()
        or cycles.filter(opens_at__lte=now).order_by("-opens_at").first()
    )


def cycle_figures(*, cycle: OrderCycle, now: Any) -> CycleFigures:
    """Orders, revenue (euros and mannes apart), stock and plan of one cycle: five queries."""
    orders = Order.objects.filter(cycle=cycle).aggregate(
        live=Count("pk", filter=Q(status__in=LIVE_ORDERS)),
        pending=Count("pk", filter=Q(status=OrderStatus.PENDING)),
    )
    paid = Payment.objects.filter(
        order__cycle=cycle, status=PaymentStatus.SUCCEEDED, order__status__in=LIVE_ORDERS
    ).aggregate(
        euros=Sum("amount", filter=Q(currency=EUR)),
        mannes=Sum("amount", filter=~Q(currency=EUR)),
    )
    offers = Offer.objects.filter(cycle=cycle, withdrawn_at__isnull=True).aggregate(
        on_demand=Count("pk", filter=Q(quantity_available__isnull=True)),
        sold_out=Count(
            "pk",
            filter=Q(quantity_available__lte=F("quantity_held") + F("quantity_sold")),
        ),
        on_sale=Count(
            "pk",
            filter=Q(quantity_available__gt=F("quantity_held") + F("quantity_sold")),
        ),
    )
    plan = DeliveryPlan.objects.filter(cycle=cycle).only("status").first()
    territory = cycle.territory
    return CycleFigures(
        cycle=cycle,
        is_open=cycle.is_open(now),
        orders=orders["live"],
        pending_orders=orders["pending"],
        euros=paid["euros"] or Decimal("0.00"),
        mannes=paid["mannes"] or Decimal("0.00"),
        currency_name=territory.local_currency_plural or territory.local_currency_name,
        offers_on_sale=offers["on_sale"],
        offers_sold_out=offers["sold_out"],
        offers_on_demand=offers["on_demand"],
        plan_status=plan.get_status_display() if plan else "",
        planning_url=reverse("planning:index"),
    )


class CyclePanel(Component):
    name = "cycle_figures"
    order = 50
    template_name = "wagtailadmin/home/cycle_figures.html"

    def __init__(self, *, user: Any) -> None:
        self.user = user

    def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
        now = timezone.now()
        cycle = cycle_of_the_moment(user=self.user, now=now)
        return {"figures": cycle_figures(cycle=cycle, now=now) if cycle else None}


def cycle_panel_for(user: Any) -> CyclePanel | None:
    return CyclePanel(user=user) if user_is_admin_coordinator(user) else None
