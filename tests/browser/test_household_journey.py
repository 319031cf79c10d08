"""A household of the demo orders a composed basket and two à la carte items in a browser.

It logs in, adds the "Panier légumes" and two products, opens its cart, picks a relay point
open on the delivery day and a pickup slot, pays at pickup, and sees its confirmed order;
then the order's lines are on the producers' pick lists and on the relay's packing list.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from marche.catalog.models import Unit
from marche.cycles.models import Offer, OrderCycle
from marche.demo.loaders import DEMO_PASSWORD
from marche.orders.models import CartItem, LineKind, Order, OrderStatus
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


PHONE = {"width": 390, "height": 844}


def fits_the_phone(page) -> None:  # type: ignore[no-untyped-def]
    """No horizontal scroll at 390 px."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def fully_visible(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Every element matching ``selector`` lies within the 390 px of the screen and shows."""
    for index in range(page.locator(selector).count()):
        element = page.locator(selector).nth(index)
        assert element.is_visible(), selector
        box = element.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert element.inner_text().strip()


def on_screen(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """The element shows inside the phone's screen as it is scrolled now."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None and page.locator(selector).first.is_visible()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box


def add_from_card(page, offer_id: int, count: str) -> None:  # type: ignore[no-untyped-def]
    form = page.locator(f"#offre-{offer_id} form.add-form").first
    form.locator("input[name=count]").fill(count)
    form.locator("button").click()


def test_household_journey_on_a_phone_in_french(  # type: ignore[no-untyped-def]
    browser, demo_site, artifacts_dir: Path
) -> None:
    """Logged out, a household types "1,5" kg and presses Ajouter, logs in, lands back on the
    card with its 1,5 kg, adds 1,5 kg more (3 kg), adds a basket and a second product, removes
    a line, changes a quantity with Modifier, pays at pickup, finds the order on /compte/,
    cancels it after confirming, and switches to English and back, all at 390 px."""
    now = timezone.now()
    cycle = OrderCycle.objects.filter(opens_at__lte=now, closes_at__gt=now).order_by("closes_at")[0]
    by_kg = Offer.objects.filter(
        cycle=cycle,
        product__unit=Unit.KG,
        product__is_variable_weight=False,
        quantity_available__gte=10,
    ).order_by("product__name")
    potatoes, onions = by_kg[0], by_kg[1]
    relay = (
        RelayPoint.objects.filter(
            territory=cycle.territory, opening_hours__weekday=cycle.delivery_date.weekday()
        )
        .order_by("name")
        .first()
    )
    assert relay is not None
    context = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    shot = artifacts_dir / "household-phone"
    try:
        # Logged out, "1,5" kg then Ajouter: login, and back on the card with the item added.
        page.goto(f"{demo_site.url}/commander/?cycle={cycle.pk}")
        fits_the_phone(page)
        page.screenshot(path=f"{shot}-1-shop-logged-out.png", full_page=True)
        count_input = page.locator(f"#offre-{potatoes.pk} form.add-form input[name=count]").first
        assert count_input.get_attribute("type") == "text"
        assert count_input.get_attribute("inputmode") == "decimal"
        add_from_card(page, potatoes.pk, "1,5")
        page.wait_for_url("**/compte/connexion/**")
        assert "Connectez-vous" in page.locator(".messages").inner_text()
        page.fill("input[name=username]", "foyer@demo.test")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url(f"**/commander/?cycle={cycle.pk}#offre-{potatoes.pk}")
        card = page.locator(f"#offre-{potatoes.pk}")
        assert card.locator(".in-cart").inner_text() == "Dans votre panier : 1,5 kg"
        assert "Ajouté à votre panier : 1,5 kg" in page.locator(".messages").inner_text()
        items = CartItem.objects.filter(cart__customer__email="foyer@demo.test")
        assert list(items.values_list("offer_id", "count")) == [(potatoes.pk, Decimal("1.5"))]
        page.screenshot(path=f"{shot}-2-back-on-the-card.png")

        # Ajouter again adds up, and the page stays at the card (not the top).
        add_from_card(page, potatoes.pk, "1,5")
        page.wait_for_url(f"**#offre-{potatoes.pk}")
        page.wait_for_load_state()
        assert card.locator(".in-cart").inner_text() == "Dans votre panier : 3 kg"
        assert page.evaluate("window.scrollY") > 0
        # The card's title is on screen, below the sticky cart bar, not hidden under it.
        title, bar = card.locator("h3").bounding_box(), page.locator(".cart-bar").bounding_box()
        assert title is not None and bar is not None
        assert bar["y"] + bar["height"] <= title["y"] < PHONE["height"]
        on_screen(page, ".message.success")

        # A quantity no one means is refused, in French, where the household looks.
        add_from_card(page, potatoes.pk, "1e-9")
        page.wait_for_load_state()
        assert page.locator(".message.error").inner_text() == (
            "La quantité doit être un nombre, par exemple 1,5."
        )
        on_screen(page, ".message.error")
        assert card.locator(".in-cart").inner_text() == "Dans votre panier : 3 kg"
        page.screenshot(path=f"{shot}-2b-refused.png")
        add_from_card(page, onions.pk, "2")
        page.wait_for_load_state()
        page.locator('[data-basket="Panier légumes"] form.add-form button').first.click()
        page.wait_for_load_state()
        assert items.count() == 3
        fits_the_phone(page)
        page.screenshot(path=f"{shot}-3-shop-with-cart.png", full_page=True)

        # The cart: remove the onions, change 3 kg of potatoes to 2,5 kg with Modifier.
        page.goto(f"{demo_site.url}/commander/panier/{cycle.pk}/")
        fits_the_phone(page)
        onion_item = items.get(offer=onions)
        page.locator(f'tr[data-cart-item="{onion_item.pk}"] .remove-form button').click()
        page.wait_for_load_state()
        assert page.locator(f'tr[data-cart-item="{onion_item.pk}"]').count() == 0
        potato_item = items.get(offer=potatoes)
        row = page.locator(f'tr[data-cart-item="{potato_item.pk}"]')
        modifier = row.locator(".qty-form button")
        assert modifier.is_visible()
        colours = modifier.evaluate(
            "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
        )
        assert colours[0] != colours[1], colours
        row.locator("input[name=count]").fill("2,5")
        modifier.click()
        page.wait_for_load_state()
        assert items.get(offer=potatoes).count == Decimal("2.5")
        assert items.count() == 2
        row = page.locator(f'tr[data-cart-item="{potato_item.pk}"]')
        assert row.locator("input[name=count]").input_value() == "2,5"
        page.screenshot(path=f"{shot}-4-cart.png", full_page=True)

        # Pay at pickup.
        page.check(f'input[name=relay][value="{relay.pk}"]')
        page.click("text=Voir les créneaux")
        page.locator("input[name=slot]:not([disabled])").first.check()
        page.check('input[name=payment_method][value="pickup"]')
        fits_the_phone(page)
        page.screenshot(path=f"{shot}-5-checkout.png", full_page=True)
        page.locator(".checkout-form button[type=submit]").click()
        page.wait_for_url("**/commander/commandes/*/")
        order = Order.objects.get(customer__email="foyer@demo.test")
        assert order.status == OrderStatus.CONFIRMED
        fits_the_phone(page)
        fully_visible(page, ".order-lines td.line-total")
        fully_visible(page, "#order-total")
        page.screenshot(path=f"{shot}-6-order.png", full_page=True)

        # The order is on /compte/ and in the history, every column readable.
        page.goto(f"{demo_site.url}/compte/")
        assert page.locator(f'tr[data-order="{order.reference}"]').count() == 1
        assert "Vos commandes apparaîtront ici" not in page.content()
        fits_the_phone(page)
        page.screenshot(path=f"{shot}-7-account.png", full_page=True)
        page.goto(f"{demo_site.url}/commander/commandes/")
        fits_the_phone(page)
        fully_visible(page, ".order-list td.order-total")
        page.screenshot(path=f"{shot}-8-history.png", full_page=True)

        # Cancel, after a confirmation page.
        page.goto(f"{demo_site.url}/commander/commandes/{order.reference}/")
        page.click("text=Annuler la commande")
        page.wait_for_url("**/annuler/")
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED
        fits_the_phone(page)
        page.screenshot(path=f"{shot}-9-cancel-confirm.png", full_page=True)
        page.click("text=Oui, annuler la commande")
        page.wait_for_url(f"**/commander/commandes/{order.reference}/")
        assert page.locator(".status").inner_text() == "annulée"
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED

        # English, then French again.
        page.select_option("#language-select", "en")
        page.wait_for_url(f"**/en/commander/commandes/{order.reference}/")
        assert page.locator("html").get_attribute("lang") == "en"
        page.screenshot(path=f"{shot}-10-english.png", full_page=True)
        page.select_option("#language-select", "fr")
        page.wait_for_url(f"{demo_site.url}/commander/commandes/{order.reference}/")
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.locator(".status").inner_text() == "annulée"
    finally:
        context.close()


def test_household_pages_on_a_desktop(page, demo_site, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """The same pages at 1280 px: a cart with a basket and 1,5 kg, an order, the history."""
    now = timezone.now()
    cycle = OrderCycle.objects.filter(opens_at__lte=now, closes_at__gt=now).order_by("closes_at")[0]
    potatoes = Offer.objects.filter(
        cycle=cycle, product__unit=Unit.KG, product__is_variable_weight=False
    ).order_by("product__name")[0]
    page.goto(demo_site.url + "/compte/connexion/?next=/commander/")
    page.fill("input[name=username]", "foyer@demo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/commander/")
    add_from_card(page, potatoes.pk, "1,5")
    page.wait_for_load_state()
    page.locator('[data-basket="Panier légumes"] form.add-form button').first.click()
    page.wait_for_load_state()
    page.screenshot(path=str(artifacts_dir / "household-desktop-shop.png"), full_page=True)
    page.goto(f"{demo_site.url}/commander/panier/{cycle.pk}/")
    assert page.locator("#cart-total").is_visible()
    page.screenshot(path=str(artifacts_dir / "household-desktop-cart.png"), full_page=True)
