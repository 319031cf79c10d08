"""A coordinator's daily work in the Wagtail admin, in Chromium with a French locale.

On the demo: open next week's cycle, fix an offer's price typed with a decimal comma, find a
household's order by its reference, refund part of its card payment and give its mannes
back, then read the reversal in the manne ledger. Each step is checked in the database too.
Screenshots at desktop width go to test-artifacts/.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from marche.accounts.models import Role, User
from marche.cycles.models import Offer, OrderCycle
from marche.cycles.selectors import cycle_list_open
from marche.demo.loaders import DEMO_PASSWORD
from marche.mannes.models import Transaction, TransferKind
from marche.mannes.services import manne_reward_declare, manne_reward_validate
from marche.orders.models import Order
from marche.orders.services import cart_set_item, order_place
from marche.payments.models import Payment, PaymentStatus, Refund
from marche.payments.stripe_services import stripe_event_process
from marche.relays.models import RelayPoint
from marche.relays.services import pickup_slots_ensure
from marche.territories.selectors import territory_get_default

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def paid_order(fake_stripe) -> tuple[Order, Offer]:  # type: ignore[no-untyped-def]
    """foyer@demo.test orders 4 of an offer this week (above the minimum): 2 mannes, the rest
    by card, paid."""
    territory = territory_get_default()
    assert territory is not None
    household = User.objects.get(email="foyer@demo.test")
    coordinator = User.objects.get(email="coordination@demo.test")
    request = manne_reward_declare(
        household=household,
        territory=territory,
        amount=Decimal("5"),
        reason="Atelier compost",
        key="daily-work-reward",
    )
    manne_reward_validate(request_id=request.pk, coordinator=coordinator, key="daily-work-ok")
    cycle = cycle_list_open(territory=territory, now=timezone.now()).first()
    assert cycle is not None
    offer = (
        Offer.objects.filter(
            cycle=cycle,
            withdrawn_at__isnull=True,
            product__producer__accepts_local_currency=True,
            unit_price__gte=Decimal("3"),
        )
        .order_by("pk")
        .first()
    )
    assert offer is not None
    relay = RelayPoint.objects.filter(territory=territory).order_by("pk").first()
    assert relay is not None
    slot = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)[0]
    cart_set_item(customer=household, cycle_id=cycle.pk, offer_id=offer.pk, count=Decimal("4"))
    order, _start = order_place(
        customer=household,
        cycle_id=cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=slot.pk,
        payment_method="card",
        idempotency_key="daily-work-order",
        payment_options={"mannes": "2"},
    )
    card = Payment.objects.get(order=order, method="card")
    stripe_event_process(event=fake_stripe.pay(card.reference))
    order.refresh_from_db()
    return order, offer


def test_open_a_cycle_fix_an_offer_find_an_order_refund_it_see_the_ledger(  # type: ignore[no-untyped-def]
    browser, live_server, demo: None, fake_stripe, artifacts_dir: Path
) -> None:
    order, offer = paid_order(fake_stripe)
    assert order.status == "confirmed"
    assert User.objects.filter(email="coordination@demo.test", role=Role.COORDINATOR).exists()
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", "coordination@demo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/admin/")

    # Open next week's cycle.
    page.goto(f"{live_server.url}/admin/cycles/new/")
    page.fill("input[name=name]", "Semaine du 21 décembre")
    page.fill("input[name=opens_at]", "2026-12-18 08:00")
    page.fill("input[name=closes_at]", "2026-12-22 18:00")
    page.fill("input[name=delivery_date]", "2026-12-24")
    page.fill("input[name=minimum_order_amount]", "12,50")
    page.screenshot(path=str(artifacts_dir / "admin-daily-cycle-form.png"), full_page=True)
    page.get_by_role("button", name="Créer").first.click()
    expect(page.locator(".messages")).to_contain_text("Semaine du 21 décembre")
    created = OrderCycle.objects.get(name="Semaine du 21 décembre")
    assert created.minimum_order_amount == Decimal("12.50")
    assert timezone.localtime(created.closes_at).hour == 18

    # Fix an offer's price, typed the French way.
    page.goto(f"{live_server.url}/admin/offers/edit/{offer.pk}/")
    page.fill("input[name=unit_price]", "3,20")
    page.get_by_role("button", name="Enregistrer").first.click()
    expect(page.locator(".messages")).to_contain_text("modifié")
    offer.refresh_from_db()
    assert offer.unit_price == Decimal("3.20")

    # Find the household's order by its reference, open it, refund it.
    page.goto(f"{live_server.url}/admin/orders/")
    # The listing's own search (not the sidebar's, which searches pages).
    page.locator("main input[name=q]").fill(order.reference)
    expect(page.locator("table.listing tbody tr")).to_have_count(1)
    page.locator("table.listing tbody tr").first.get_by_role("link").first.click()
    page.get_by_role("link", name="Rembourser").click()
    expect(page.locator("[data-part=card]")).to_contain_text("reste")
    page.fill("input[name=amount]", "1,50")
    page.check("input[name=mannes]")
    page.fill("input[name=reason]", "Œufs fêlés au retrait")
    page.screenshot(path=str(artifacts_dir / "admin-daily-refund-form.png"), full_page=True)
    page.get_by_role("button", name="Rembourser").click()
    expect(page.locator(".messages")).to_contain_text("remboursement de 1,50")
    page.screenshot(path=str(artifacts_dir / "admin-daily-refunded.png"), full_page=True)
    [refund] = Refund.objects.filter(payment__order=order)
    assert (refund.amount, refund.reason) == (Decimal("1.50"), "Œufs fêlés au retrait")
    manne = Payment.objects.get(order=order, method="mannes")
    assert manne.status == PaymentStatus.REFUNDED

    # The ledger shows the reversal, with the reason.
    page.goto(f"{live_server.url}/admin/manne_transactions/?q=fêlés")
    rows = page.locator("table.listing tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Œufs fêlés au retrait")
    page.screenshot(path=str(artifacts_dir / "admin-daily-ledger.png"), full_page=True)
    assert (
        Transaction.objects.filter(kind=TransferKind.REVERSAL, memo__contains="fêlés").count() == 1
    )

    context.close()
    assert problems == []
