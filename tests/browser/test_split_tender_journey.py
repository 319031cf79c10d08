"""A demo household pays an order with 5 mannes and the rest by card (local fake Stripe).

It fills its cart, types 5 mannes at checkout, pays the rest on the (fake) Stripe page,
which sends the signed webhook to the site and returns to it; the order page then shows the
order confirmed with both payments, and the ledger still reconciles.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from marche.cycles.models import OrderCycle
from marche.demo.loaders import DEMO_PASSWORD
from marche.mannes.selectors import ledger_drifts
from marche.orders.models import Order, OrderStatus
from marche.payments.models import Payment, PaymentStatus
from marche.relays.models import RelayPoint

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_household_pays_five_mannes_and_the_rest_by_card(  # type: ignore[no-untyped-def]
    page, live_server, fake_stripe, settings, artifacts_dir: Path
) -> None:
    call_command("load_demo", stdout=io.StringIO())
    settings.MARCHE_SITE_URL = live_server.url
    fake_stripe.webhook_url = live_server.url + "/paiements/stripe/webhook/"
    now = timezone.now()
    cycle = OrderCycle.objects.filter(opens_at__lte=now, closes_at__gt=now).order_by("closes_at")[0]
    relay = (
        RelayPoint.objects.filter(
            territory=cycle.territory, opening_hours__weekday=cycle.delivery_date.weekday()
        )
        .order_by("name")
        .first()
    )
    assert relay is not None

    page.goto(live_server.url + "/compte/connexion/?next=/commander/")
    page.fill("input[name=username]", "foyer@demo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/commander/")
    page.locator('[data-basket="Panier légumes"] form.add-form button').first.click()
    page.wait_for_selector(".message")

    page.goto(f"{live_server.url}/commander/panier/{cycle.pk}/")
    page.check(f'input[name=relay][value="{relay.pk}"]')
    page.click("text=Voir les créneaux")
    page.locator("input[name=slot]:not([disabled])").first.check()
    page.check('input[name=payment_method][value="card"]')
    page.fill("input[name=mannes]", "5")
    page.screenshot(path=str(artifacts_dir / "split-checkout.png"), full_page=True)
    # Enter in the amount field submits the form, as a person typing would.
    page.locator("input[name=mannes]").press("Enter")
    page.wait_for_url(fake_stripe.url + "/pay/*")
    assert page.locator("#amount").inner_text() == "10,00 €"  # 15.00 basket − 5 mannes
    page.click("#pay")
    page.wait_for_url("**/commander/commandes/*/")

    order = Order.objects.get(customer__email="foyer@demo.test")
    assert order.status == OrderStatus.CONFIRMED
    payments = {p.method: p for p in Payment.objects.filter(order=order)}
    assert (payments["card"].amount, payments["card"].status) == (
        Decimal("10.00"),
        PaymentStatus.SUCCEEDED,
    )
    assert sum(p.amount for p in Payment.objects.filter(order=order, method="mannes")) == 5
    shown = page.locator("ul.payments").inner_text()
    assert "Carte bancaire : 10,00 € — payé" in shown
    assert page.locator("#manne-total").inner_text() == "5,00 mannes"
    assert page.locator(".status").inner_text() == "confirmée"
    page.screenshot(path=str(artifacts_dir / "split-order.png"), full_page=True)
    assert ledger_drifts() == []
