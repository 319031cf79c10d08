"""The canteens' part of a demo territory: invoicing details, wholesale terms, standing
orders and a month of delivered history. Idempotent: rerunning updates in place.

Everything here is illustrative (see the comments of the demo file): the producers' SIRET and
IBAN are invented numbers whose check digits hold, the quantities are plausible for the
canteens' meal counts, not measured. The history is made of past weekly cycles of the
territory's schedule, delivered before the load day, each with the canteens' orders
delivered (one short delivery with its reason), so the EGalim dashboard, the invoices and
the "ma cantine" export have real figures to show. It writes rows directly, as a record of
what happened, rather than replaying the order services through past dates.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch

from marche.accounts.models import User
from marche.canteens.errors import NotADeliveryDay, SchoolHoliday
from marche.canteens.holidays import school_holiday
from marche.canteens.invoicing import invoices_issue_month
from marche.canteens.models import (
    Canteen,
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    LineStatus,
    SkippedWeek,
    StandingOrder,
    StandingOrderLine,
)
from marche.canteens.services import (
    order_place,
    orders_confirm_at_cutoff,
    standing_orders_materialise,
)
from marche.catalog.models import EgalimLabel, Product, ProductCertification, Unit
from marche.cycles.models import CycleSchedule, Offer, OrderCycle
from marche.demo.spec import DemoSpec, DemoSpecError
from marche.producers.models import Producer
from marche.territories.models import Territory

PRODUCER_INVOICING_FIELDS = ("legal_name", "siret", "vat_number", "iban", "invoice_mentions")
STANDING_ORDER_NAME = "Commande de la semaine"
# Who signed for the demo deliveries (an illustrative first name, as drivers record it).
RECEIVED_BY = "Cuisine (démo)"


def demo_load_canteens(*, spec: DemoSpec, territory: Territory, now: datetime) -> None:
    """Invoicing details, wholesale terms, standing orders and delivered history of the demo."""
    today = now.astimezone(ZoneInfo(territory.timezone)).date()
    _load_producer_invoicing(spec=spec, territory=territory)
    products = _load_wholesale_terms(spec=spec, territory=territory)
    schedule = CycleSchedule.objects.filter(territory=territory).order_by("pk").first()
    for item in spec.section("canteen_orders"):
        canteen = Canteen.objects.filter(territory=territory, slug=item["canteen"]).first()
        if canteen is None:
            raise DemoSpecError(f"Commande de cantine : cantine inconnue {item['canteen']}")
        lines = [(_product(products, slug), Decimal(quantity)) for slug, quantity in item["lines"]]
        manager = User.objects.filter(email=item["manager"]).first() if "manager" in item else None
        weeks = _history_dates(
            schedule=schedule, canteen=canteen, today=today, weeks=item.get("history_weeks", 0)
        )
        standing = None
        if item.get("standing"):
            first = min(weeks, default=today)
            standing = _load_standing_order(
                canteen=canteen,
                lines=lines,
                starts_on=first - timedelta(days=first.weekday()),
                user=manager,
            )
        for week in item.get("skipped_weeks", []):
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=week["weeks_ahead"])
            SkippedWeek.objects.update_or_create(
                canteen=canteen,
                week_start=monday,
                defaults={"reason": week.get("reason", ""), "created_by": manager},
            )
        shortfalls = {
            (short["weeks_ago"], short["product"]): short for short in item.get("shortfalls", [])
        }
        if schedule is None:
            continue
        for weeks_ago, delivery in enumerate(weeks, start=1):
            _load_delivered_order(
                canteen=canteen,
                cycle=_past_cycle(schedule=schedule, delivery=delivery, territory=territory),
                lines=lines,
                standing=standing,
                user=manager,
                shortfalls={
                    slug: short for (ago, slug), short in shortfalls.items() if ago == weeks_ago
                },
            )
    _issue_ended_months(territory=territory, today=today)


def _issue_ended_months(*, territory: Territory, today: date) -> None:
    """The invoices of the history's ended months, as the daily beat task issues them.

    Without them the invoice pages of a fresh demo are empty and nobody can record a payment.
    Idempotent: lines already invoiced are left out.
    """
    first_of_month = today.replace(day=1)
    months = sorted(
        {
            (day.year, day.month)
            for day in CanteenOrderLine.objects.filter(
                order__canteen__territory=territory,
                order__delivery_date__lt=first_of_month,
                quantity_delivered__gt=0,
                invoice_line__isnull=True,
            ).values_list("order__delivery_date", flat=True)
        }
    )
    for year, month in months:
        invoices_issue_month(year=year, month=month, territory=territory, today=today)


def demo_order_canteens_in_cycle(
    *, spec: DemoSpec, cycle: OrderCycle, at: datetime, now: datetime
) -> list[CanteenOrder]:
    """The canteens' orders of a demo cycle, made at ``at`` (before its cutoff) as they would be.

    A canteen with a standing order gets the cycle's order made from it (what the beat task
    does once the cycle opens); another one with a manager has its lines ordered by that
    manager. A canteen not delivered that day (no window, school holiday) has none. Once the
    cutoff has passed at ``now``, lines the producers left unanswered are confirmed, as the
    beat task does within minutes. Idempotent: an order already there is left as it is.
    """
    orders = standing_orders_materialise(cycle=cycle, now=at)
    offers = {
        offer.product.slug: offer
        for offer in Offer.objects.filter(cycle=cycle).select_related("product")
    }
    for item in spec.section("canteen_orders"):
        if item.get("standing") or "manager" not in item:
            continue
        canteen = Canteen.objects.get(territory=cycle.territory, slug=item["canteen"])
        if CanteenOrder.objects.filter(canteen=canteen, cycle=cycle).exists():
            continue
        quantities = {
            offers[slug].pk: quantity for slug, quantity in item["lines"] if slug in offers
        }
        if not quantities:
            continue
        try:
            orders.append(
                order_place(
                    canteen=canteen,
                    cycle=cycle,
                    quantities=quantities,
                    user=User.objects.get(email=item["manager"]),
                    now=at,
                )
            )
        except (NotADeliveryDay, SchoolHoliday):
            continue
    orders_confirm_at_cutoff(cycle=cycle, now=now)
    return orders


def _product(products: dict[str, Product], slug: str) -> Product:
    if slug not in products:
        raise DemoSpecError(f"Commande de cantine : {slug} n'est pas vendu aux cantines")
    return products[slug]


def _load_producer_invoicing(*, spec: DemoSpec, territory: Territory) -> None:
    for item in spec.section("producers"):
        fields = {name: item[name] for name in PRODUCER_INVOICING_FIELDS if name in item}
        if fields:
            Producer.objects.filter(territory=territory, slug=item["slug"]).update(**fields)


def _load_wholesale_terms(*, spec: DemoSpec, territory: Territory) -> dict[str, Product]:
    """Set each product's wholesale price and minimum; the products sold to canteens."""
    terms = {
        item["slug"]: (item["producer"], item.get("wholesale_price"), item.get("wholesale_minimum"))
        for item in spec.section("products")
    }
    products = Product.objects.filter(producer__territory=territory).select_related("producer")
    sold: dict[str, Product] = {}
    for product in products.prefetch_related(
        Prefetch("certifications", queryset=ProductCertification.objects.order_by("pk"))
    ):
        producer_slug, price, minimum = terms.get(product.slug, (None, None, None))
        if producer_slug != product.producer.slug:
            continue
        wholesale = Decimal(price) if price else None
        smallest = Decimal(minimum) if minimum else Decimal("1")
        if (product.wholesale_price, product.wholesale_minimum) != (wholesale, smallest):
            product.wholesale_price, product.wholesale_minimum = wholesale, smallest
            product.save(update_fields=["wholesale_price", "wholesale_minimum", "updated_at"])
        if wholesale is not None:
            sold[product.slug] = product
    return sold


def _history_dates(
    *, schedule: CycleSchedule | None, canteen: Canteen, today: date, weeks: int
) -> list[date]:
    """The schedule's last ``weeks`` delivery days before ``today`` the canteen was open,
    latest first: a week of its zone's school holidays is passed over, as a school would."""
    if schedule is None or weeks <= 0:
        return []
    day = today - timedelta(days=(today.weekday() - schedule.delivery_weekday) % 7 or 7)
    dates: list[date] = []
    for _week in range(weeks + 12):
        if len(dates) == weeks:
            break
        if not school_holiday(canteen.school_zone, day):
            dates.append(day)
        day -= timedelta(weeks=1)
    return dates


def _weekday_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7 or 7)


def _past_cycle(*, schedule: CycleSchedule, delivery: date, territory: Territory) -> OrderCycle:
    zone = ZoneInfo(territory.timezone)
    cycle, _ = OrderCycle.objects.update_or_create(
        schedule=schedule,
        delivery_date=delivery,
        defaults={
            "territory": territory,
            "name": f"Livraison du jeudi {delivery:%d/%m/%Y}"
            if delivery.weekday() == 3
            else f"Livraison du {delivery:%d/%m/%Y}",
            "opens_at": datetime.combine(
                _weekday_before(delivery, schedule.opens_weekday), schedule.opens_time, zone
            ),
            "closes_at": datetime.combine(
                _weekday_before(delivery, schedule.closes_weekday), schedule.closes_time, zone
            ),
            "minimum_order_amount": schedule.minimum_order_amount,
        },
    )
    return cycle


def _load_standing_order(
    *,
    canteen: Canteen,
    lines: list[tuple[Product, Decimal]],
    starts_on: date,
    user: User | None,
) -> StandingOrder:
    standing, _ = StandingOrder.objects.update_or_create(
        canteen=canteen,
        name=STANDING_ORDER_NAME,
        defaults={"starts_on": starts_on, "ends_on": None, "is_active": True, "created_by": user},
    )
    standing.lines.exclude(product__in=[product for product, _ in lines]).delete()
    for product, quantity in lines:
        StandingOrderLine.objects.update_or_create(
            standing_order=standing, product=product, defaults={"quantity": quantity}
        )
    return standing


def _in_season(product: Product, day: date) -> bool:
    return not product.season_months or day.month in product.season_months


def _labels_on(product: Product, day: date) -> list[str]:
    """The product's EGalim label codes valid that day, highest first (prefetched)."""
    valid = {
        EgalimLabel(cert.label) for cert in product.certifications.all() if cert.is_valid_on(day)
    }
    return [str(label) for label in sorted(valid, key=lambda label: label.rank)]


def _load_delivered_order(
    *,
    canteen: Canteen,
    cycle: OrderCycle,
    lines: list[tuple[Product, Decimal]],
    standing: StandingOrder | None,
    user: User | None,
    shortfalls: dict[str, dict[str, Any]],
) -> None:
    delivery = cycle.delivery_date
    window = canteen.delivery_windows.filter(weekday=delivery.weekday()).first()
    starts, ends = (window.starts_at, window.ends_at) if window else (time(8), time(10))
    zone = ZoneInfo(canteen.territory.timezone)
    delivered_at = datetime.combine(delivery, starts, zone) + timedelta(minutes=40)
    order, _ = CanteenOrder.objects.update_or_create(
        canteen=canteen,
        cycle=cycle,
        defaults={
            "reference": f"CD-{delivery:%Y%m%d}-{canteen.pk:04d}",
            "delivery_date": delivery,
            "window_starts_at": starts,
            "window_ends_at": ends,
            "standing_order": standing,
            "status": CanteenOrderStatus.DELIVERED,
            "placed_by": user,
            "delivered_at": delivered_at,
            "received_by": RECEIVED_BY,
            "delivery_recorded_by": None,
            "cancelled_at": None,
        },
    )
    answered_at = cycle.closes_at - timedelta(hours=20)
    for product, quantity in lines:
        if not _in_season(product, delivery):
            continue
        offer, _ = Offer.objects.get_or_create(
            cycle=cycle,
            product=product,
            defaults={"unit_price": product.unit_price, "quantity_available": None},
        )
        short = shortfalls.get(product.slug)
        delivered = Decimal(short["delivered"]) if short else quantity
        CanteenOrderLine.objects.update_or_create(
            order=order,
            offer=offer,
            defaults={
                "product": product,
                "producer": product.producer,
                "name": product.name,
                "unit": product.unit,
                "quantity_ordered": quantity,
                "quantity_confirmed": quantity,
                "quantity_delivered": delivered,
                "shortfall_reason": short.get("reason", "") if short else "",
                "status": LineStatus.CONFIRMED,
                "producer_note": "",
                "answered_at": answered_at,
                "unit_price_ht": product.wholesale_price,
                "vat_rate": product.vat_rate,
                "labels": _labels_on(product, delivery),
                "family": product.family,
                "origin": product.origin,
                "allergens": list(product.allergens),
                "is_chilled": product.is_chilled,
                "weight_per_unit_kg": _unit_weight(product),
            },
        )
    # The offers' sold counters hold what the canteens take, as the order services count it.
    for offer in Offer.objects.filter(cycle=cycle, canteen_lines__order=order).distinct():
        total = sum((line.quantity_due for line in offer.canteen_lines.all()), start=Decimal("0"))
        if offer.quantity_sold != total:
            Offer.objects.filter(pk=offer.pk).update(quantity_sold=total)


def _unit_weight(product: Product) -> Decimal:
    if product.unit == Unit.KG:
        return Decimal("1")
    return product.estimated_weight_kg or Decimal("1")
