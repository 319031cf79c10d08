"""The relay point's keeper on a phone (390 × 844, fr-FR) hands baskets over.

The cycle closed and was delivered today at the Mairie: Alice's basket and Camille's. The
keeper (the shop's owner) logs in, lands on the Mairie's pickup page, searches "Camille",
chooses "Espèces" and taps "Remis": the order is collected and the cash recorded. A second
tap on a stale page changes nothing. Alice shows the QR code of her order page; the keeper
opens its address and lands on her order, highlighted.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from marche.accounts.models import Role
from marche.cycles.models import OrderCycle
from marche.orders.models import Order, OrderStatus
from marche.payments.models import Payment, PaymentStatus, PickupMeans
from marche.relays.qr import order_pickup_url
from tests.marche.orders.test_pick_lists import _order, build_prep, person

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
PASSWORD = "mot-de-passe-test"  # tests.factories.UserFactory's


def open_phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def log_in(page, base: str, email: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/compte/connexion/?next={next_url}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")


def fits_the_phone(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def messages(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [text.strip() for text in page.locator("ul.messages li.message").all_inner_texts()]


def test_keeper_searches_and_hands_an_order_over_on_a_phone(  # type: ignore[no-untyped-def]
    browser, live_server, artifacts_dir: Path, settings
) -> None:
    settings.MARCHE_SITE_URL = live_server.url
    prep = build_prep(closed=False)
    camille = person(email="camille@example.test", first_name="Camille", last_name="Dupont")
    camille_order = _order(
        prep.cycle, camille, prep.mairie, prep.mairie_slot, [(prep.eggs, "1")], "camille"
    )
    now = timezone.now()
    OrderCycle.objects.filter(pk=prep.cycle.pk).update(
        opens_at=now - timedelta(days=3),
        closes_at=now - timedelta(hours=1),
        delivery_date=timezone.localdate(),
    )
    keeper = person(
        email="epicerie@example.test",
        role=Role.RELAY_KEEPER,
        first_name="Nadia",
        last_name="Lefebvre",
    )
    prep.mairie.keepers.add(keeper)
    base = live_server.url

    context, page = open_phone(browser)
    try:
        log_in(page, base, "epicerie@example.test", "/relais/")
        page.wait_for_url("**/relais/mairie/")  # one relay point: straight to it
        assert page.locator("h1").inner_text() == "Mairie"
        assert page.locator(".keeper-day").inner_text().startswith("Livraison du ")
        assert page.locator("[data-testid=pickup-count]").inner_text() == (
            "Remises : 0 sur 2 commandes"
        )
        names = page.locator(".keeper-name").all_inner_texts()
        assert sorted(names) == ["Alice D.", "Camille D."]
        fits_the_phone(page)
        page.screenshot(path=str(artifacts_dir / "relay-keeper-page-phone.png"), full_page=True)

        page.fill("#keeper-q", "camille")
        page.click("form.keeper-search button")
        page.wait_for_url("**q=camille*")
        cards = page.locator("li.keeper-order")
        assert cards.count() == 1
        card = cards.first
        assert card.locator(".keeper-ref").inner_text() == camille_order.reference
        assert "À payer au retrait : 4,20 €" in card.inner_text()
        fits_the_phone(page)
        page.screenshot(path=str(artifacts_dir / "relay-keeper-search-phone.png"), full_page=True)

        # "Remis" without the means: the browser asks for it, nothing is sent.
        card.locator("button.keeper-button").click()
        assert Order.objects.get(pk=camille_order.pk).status == OrderStatus.CONFIRMED
        card.locator("label:has-text('Espèces')").click()
        card.locator("button.keeper-button").click()
        page.wait_for_selector(".message.success")
        assert messages(page) == [
            f"Commande {camille_order.reference} remise ; 4,20 € encaissés en espèces."
        ]
        order = Order.objects.get(pk=camille_order.pk)
        assert order.status == OrderStatus.COLLECTED
        payment = Payment.objects.get(order=order, method="pickup")
        assert (payment.status, payment.means, payment.amount, payment.recorded_by_id) == (
            PaymentStatus.SUCCEEDED,
            PickupMeans.CASH,
            order.total,
            keeper.pk,
        )
        card = page.locator(f"#commande-{camille_order.reference}")
        assert "Déjà remis" in card.inner_text() and "payé en espèces" in card.inner_text()
        assert card.locator("button").count() == 0
        fits_the_phone(page)
        page.screenshot(
            path=str(artifacts_dir / "relay-keeper-handed-over-phone.png"), full_page=True
        )
    finally:
        context.close()

    # Alice shows her order's QR code; the keeper opens the address it encodes.
    alice_context, alice_page = open_phone(browser)
    try:
        ref = prep.alice.reference
        log_in(alice_page, base, "alice@example.test", f"/commander/commandes/{ref}/")
        alice_page.wait_for_url(f"**/commander/commandes/{ref}/")
        qr = alice_page.locator("#order-qr svg.order-qr")
        assert qr.is_visible()
        box = qr.bounding_box()
        assert box is not None and box["width"] >= 150
        fits_the_phone(alice_page)
        alice_page.screenshot(
            path=str(artifacts_dir / "relay-keeper-household-qr-phone.png"), full_page=True
        )
    finally:
        alice_context.close()

    context, page = open_phone(browser)
    try:
        scanned = order_pickup_url(prep.alice.reference)
        assert scanned == f"{live_server.url}/relais/commande/{prep.alice.reference}/"
        log_in(page, base, "epicerie@example.test", f"/relais/commande/{prep.alice.reference}/")
        page.wait_for_url(f"**/relais/mairie/?commande={prep.alice.reference}*")
        card = page.locator("li.keeper-order").first
        assert "is-scanned" in (card.get_attribute("class") or "")
        assert card.locator(".keeper-scanned").inner_text().lower() == "commande scannée"
        assert card.locator(".keeper-name").inner_text() == "Alice D."
        fits_the_phone(page)
        page.screenshot(path=str(artifacts_dir / "relay-keeper-scanned-phone.png"), full_page=True)
    finally:
        context.close()
