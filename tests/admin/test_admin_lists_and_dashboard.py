"""The admin's listings cost the same few queries whatever their length; the dashboard panel."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from logistics.admin_dashboard import cycle_figures, cycle_of_the_moment
from marche.accounts.models import User
from marche.cycles.models import OrderCycle
from marche.orders.models import Order
from marche.territories.models import Territory
from tests.admin.conftest import place_order
from tests.factories import OfferFactory, OrderCycleFactory, ProductFactory

pytestmark = pytest.mark.django_db


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("url", "grow"),
    [
        ("/admin/products/", lambda t: ProductFactory(producer__territory=t)),
        (
            "/admin/offers/",
            lambda t: OfferFactory(
                cycle=OrderCycle.objects.filter(territory=t).first()
                or OrderCycleFactory(territory=t),
                product__producer__territory=t,
            ),
        ),
        ("/admin/orders/", None),
        ("/admin/payments/", None),
    ],
)
def test_listings_do_not_query_per_row(
    client: Client, coordinator_a: User, territory_a: Territory, url: str, grow: object
) -> None:
    def add(n: int) -> None:
        for _i in range(n):
            if grow is None:
                place_order(territory=territory_a, email=f"f{add.count}@example.test")
                add.count += 1
            else:
                grow(territory_a)  # type: ignore[operator]

    add.count = 0  # type: ignore[attr-defined]
    client.force_login(coordinator_a)
    add(2)
    few = queries(client, url)
    add(6)
    many = queries(client, url)
    assert many == few, f"{url}: {few} queries for 2 rows, {many} for 8"


def test_dashboard_panel_shows_the_demo_cycle(client: Client, demo: None) -> None:
    coordinator = User.objects.get(email="coordination@demo.test")
    client.force_login(coordinator)
    page = client.get("/admin/").content.decode()
    cycle = cycle_of_the_moment(user=coordinator, now=timezone.now())
    assert cycle is not None
    figures = cycle_figures(cycle=cycle, now=timezone.now())
    confirmed = Order.objects.filter(
        cycle=cycle, status__in=["confirmed", "packed", "collected"]
    ).count()
    assert figures.orders == confirmed
    assert cycle.name in page
    assert f"<strong>{confirmed}</strong> commandes confirmées" in page
    assert "commandes confirmées" in page
    assert "offres avec du stock" in page
    assert "ouvrir la planification" in page
    assert "/logistique/" in page
