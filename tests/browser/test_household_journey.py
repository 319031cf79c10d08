"""A household of the demo orders a composed basket and two à la carte items in a browser.

It logs in, adds the "Panier légumes" and two products, opens its cart, picks a relay point
open on the delivery day and a pickup slot, pays at pickup, and sees its confirmed order;
then the order's lines are on the producers' pick lists and on the relay's packing list.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from marche.cycles.models import OrderCycle
from marche.demo.loaders import DEMO_PASSWORD
from marche.orders.models import LineKind, Order, OrderStatus
from marche.relays.models import RelayPoint

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def demo_site(live_server):  # type: ignore[no-untyped-def]
    call_command("load_demo", stdout=io.StringIO())
    return live_server


def test_household_orders_a_basket_and_two_items_for_a_relay_and_a_slot(  # type: ignore[no-untyped-def]
    page, demo_site, artifacts_dir: Path
) -> None:
    now = timezone.now()
    cycle = OrderCycle.objects.filter(opens_at__lte=now, closes_at__gt=now).order_by("closes_at")[0]
    relay = (
        RelayPoint.objects.filter(
            territory=cycle.territory, opening_hours__weekday=cycle.delivery_date.weekday()
        )
        .order_by("name")
        .first()
    )
    assert relay is not None, "the demo must have a relay point open on the delivery day"

    page.goto(demo_site.url + "/compte/connexion/?next=/commander/")
    page.fill("input[name=username]", "foyer@demo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/commander/")

    page.locator('[data-basket="Panier légumes"] form.add-form button').first.click()
    page.wait_for_selector(".message")
    plain_offers = page.locator("li[data-offer]").filter(has_not_text="pesée")
    names = [plain_offers.nth(i).get_attribute("data-offer") for i in range(2)]
    for name in names:
        page.locator(f'li[data-offer="{name}"] form.add-form button').first.click()
        page.wait_for_load_state()
    page.screenshot(path=str(artifacts_dir / "household-shop.png"), full_page=True)

    page.goto(f"{demo_site.url}/commander/panier/{cycle.pk}/")
    page.check(f'input[name=relay][value="{relay.pk}"]')
    page.click("text=Voir les créneaux")
    page.locator("input[name=slot]:not([disabled])").first.check()
    page.check('input[name=payment_method][value="pickup"]')
    page.screenshot(path=str(artifacts_dir / "household-checkout.png"), full_page=True)
    page.locator(".checkout-form button[type=submit]").click()
    page.wait_for_url("**/commander/commandes/*/")

    order = Order.objects.get(customer__email="foyer@demo.test")
    assert order.status == OrderStatus.CONFIRMED
    assert order.relay_point_id == relay.pk
    top = order.lines.filter(parent__isnull=True)
    assert sorted(top.values_list("kind", flat=True)) == [
        LineKind.BASKET,
        LineKind.ITEM,
        LineKind.ITEM,
    ]
    assert sorted(
        top.filter(kind=LineKind.ITEM).values_list("offer__product__name", flat=True)
    ) == sorted(names)
    assert page.locator("h1").inner_text() == f"Commande {order.reference}"
    assert page.locator(".status").inner_text() == "confirmée"
    assert page.locator("#order-total").inner_text() == f"{order.total} €".replace(".", ",")
    page.screenshot(path=str(artifacts_dir / "household-order.png"), full_page=True)
