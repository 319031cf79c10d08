"""The canteens' part of the demo: the nursery school's manager, standing order and a month of
delivered history (one shortfall), the residence's little history, wholesale terms and the
producers' invoicing details; idempotent, and its past cycles left alone by the beat task.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from stdnum import iban
from stdnum.fr import siret

from logistics.models import CycleClosing
from logistics.services import cycle_close_due
from marche.accounts.models import Role, User
from marche.canteens.models import (
    Canteen,
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    Invoice,
    InvoiceLine,
    LineStatus,
    SkippedWeek,
    StandingOrder,
    StandingOrderLine,
)
from marche.catalog.models import Product
from marche.cycles.models import Offer, OrderCycle
from marche.producers.models import Producer

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
# Wednesday 2 December 2026, after the Tuesday cutoff: the open cycle delivers on 10 December.
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=PARIS)
SCHOOL = "cantine-maternelle-loos"
RESIDENCE = "foyer-logement-loos"
STANDING = [
    ("Betteraves rouges", Decimal("4")),
    ("Carottes", Decimal("9")),
    ("Chicons (endives) de pleine terre", Decimal("4")),
    ("Courge butternut", Decimal("6")),
    ("Oignons jaunes", Decimal("2")),
    ("Poireaux", Decimal("5")),
    ("Pommes de terre (bintje)", Decimal("12.5")),
    ("Œufs de poules élevées en plein air", Decimal("8")),
]


def load() -> None:
    with time_machine.travel(WEDNESDAY, tick=False):
        call_command("load_demo", stdout=io.StringIO())


def rows() -> dict[str, int]:
    models = (
        OrderCycle,
        Offer,
        CanteenOrder,
        CanteenOrderLine,
        StandingOrder,
        StandingOrderLine,
        SkippedWeek,
        CycleClosing,
        User,
        Invoice,
        InvoiceLine,
    )
    return {model.__name__: model.objects.count() for model in models}


def test_the_nursery_school_has_a_manager_a_standing_order_and_a_month_delivered() -> None:
    load()
    school = Canteen.objects.get(slug=SCHOOL)
    manager = User.objects.get(email="cantine-maternelle@demo.test")
    assert manager.role == Role.CANTEEN_MANAGER
    assert list(school.managers.all()) == [manager]
    assert (school.organic_target_percent, school.school_zone) == (Decimal("100"), "B")
    assert siret.is_valid(school.siret) and siret.is_valid(school.buyer_siret)
    assert school.buyer_name == "Commune de Loos-en-Gohelle (démo)"

    standing = StandingOrder.objects.get(canteen=school)
    assert (standing.starts_on, standing.ends_on, standing.is_active) == (
        date(2026, 11, 2),
        None,
        True,
    )
    assert sorted(
        (line.product.name, line.quantity.normalize()) for line in standing.lines.all()
    ) == sorted((name, quantity.normalize()) for name, quantity in STANDING)
    assert list(
        SkippedWeek.objects.filter(canteen=school).values_list("week_start", flat=True)
    ) == [date(2026, 12, 14)]

    orders = list(CanteenOrder.objects.filter(canteen=school).order_by("delivery_date"))
    assert [order.delivery_date for order in orders] == [
        date(2026, 11, 5),
        date(2026, 11, 12),
        date(2026, 11, 19),
        date(2026, 11, 26),
    ]
    assert {order.status for order in orders} == {CanteenOrderStatus.DELIVERED}
    assert all(order.standing_order == standing and order.delivered_at for order in orders)
    assert all(order.cycle.closes_at < WEDNESDAY for order in orders)
    lines = CanteenOrderLine.objects.filter(order__canteen=school)
    assert lines.count() == 32
    assert {line.status for line in lines} == {LineStatus.CONFIRMED}
    # Every purchase of the 100 % organic canteen counts as organic, at wholesale prices.
    assert all(line.labels[0] == "BIO" for line in lines)
    assert all(line.unit_price_ht == line.product.wholesale_price for line in lines)
    short = lines.exclude(shortfall_reason="").get()
    assert (
        short.order.delivery_date,
        short.name,
        short.quantity_due,
        short.quantity_delivered,
    ) == (
        date(2026, 11, 19),
        "Poireaux",
        Decimal("5"),
        Decimal("3"),
    )
    assert short.shortfall_reason == "Gel : récolte plus faible que prévu"
    assert lines.exclude(pk=short.pk).filter(quantity_delivered=None).count() == 0
    eggs = lines.filter(name__startswith="Œufs").first()
    assert eggs.allergens == ["eggs"] and eggs.labels == ["BIO", "FERMIER"]
    total = sum((line.quantity_delivered * line.unit_price_ht for line in lines), Decimal("0"))
    # 99,25 € HT a week, four weeks, less the 2 kg of leeks short at 2,30 €.
    assert total == Decimal("392.40")


def test_the_residence_has_a_little_history_and_apples_that_are_not_organic() -> None:
    load()
    orders = CanteenOrder.objects.filter(canteen__slug=RESIDENCE).order_by("delivery_date")
    assert [order.delivery_date for order in orders] == [date(2026, 11, 19), date(2026, 11, 26)]
    assert not StandingOrder.objects.filter(canteen__slug=RESIDENCE).exists()
    apples = CanteenOrderLine.objects.filter(
        order__canteen__slug=RESIDENCE, name__startswith="Pommes du"
    )
    assert {tuple(line.labels) for line in apples} == {()}


def test_wholesale_terms_and_illustrative_invoicing_details() -> None:
    load()
    potatoes = Product.objects.get(slug="pommes-de-terre")
    assert (potatoes.wholesale_price, potatoes.wholesale_minimum) == (Decimal("1.30"), Decimal("5"))
    assert Product.objects.filter(wholesale_price__isnull=False).count() == 10
    assert Product.objects.get(slug="fraises").wholesale_price is None
    farms = Producer.objects.exclude(slug="bioloos")
    assert all(siret.is_valid(farm.siret) and iban.is_valid(farm.iban) for farm in farms)
    assert all("(démo)" in farm.legal_name for farm in farms)


def test_reloading_changes_nothing_and_the_past_cycles_are_closed() -> None:
    load()
    before = rows()
    assert before["CanteenOrder"] == 6
    assert before["CycleClosing"] == 4
    load()
    assert rows() == before
    with time_machine.travel(WEDNESDAY, tick=False):
        assert cycle_close_due(now=WEDNESDAY) == []


def test_the_ended_months_of_the_history_are_invoiced_as_the_beat_would() -> None:
    """A fresh demo has invoices to download and pay; November's, issued on 2 December."""
    load()
    invoices = Invoice.objects.all()
    assert invoices.exists()
    assert {(i.period_start, i.issued_on) for i in invoices} <= {
        (date(2026, 11, 1), date(2026, 12, 2)),
        (date(2026, 10, 1), date(2026, 12, 2)),
    }
    delivered = CanteenOrderLine.objects.filter(
        quantity_delivered__gt=0, order__delivery_date__lt=date(2026, 12, 1)
    )
    assert InvoiceLine.objects.count() == delivered.count()
    assert all(bytes(invoice.pdf).startswith(b"%PDF") for invoice in invoices)


def test_the_manager_logs_in_and_sees_the_history(client: Client) -> None:
    load()
    client.force_login(User.objects.get(email="cantine-maternelle@demo.test"))
    school = Canteen.objects.get(slug=SCHOOL)
    with time_machine.travel(WEDNESDAY, tick=False):
        page = client.get(reverse("canteens:space", args=[school.pk])).content.decode()
    assert "8 produits chaque semaine, depuis le 2 novembre 2026" in page
    assert page.count('data-order="CD-2026') == 4
    assert "Livraison du jeudi 10/12/2026" in page
