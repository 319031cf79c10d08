"""The canteen journey on the demo, in headless Chromium (fr-FR).

Wednesday 2 December 2026 (time frozen, ticking): the demo's open cycle is delivered on
Thursday 10 December, a school day of zone B. The nursery school's manager (phone, 390×844)
logs in, changes the standing order typing "12,5" kg of carrots, and once the cycle's order is
made from it (the materialise service, as the beat task does) sees it with every line to
confirm; a quantity under a producer's minimum is refused at its field and changes nothing.
The farmer of the Ferme du Chemin Vert (desk) adjusts the carrots with a note and confirms
the leeks; the manager sees the adjusted line, the producer's note and the new total.
Screenshots go to ``test-artifacts/canteen-journey-*.png``. Later steps (delivery note,
invoice, dashboard) follow the same order.
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from playwright.sync_api import expect

from marche.canteens.models import (
    Canteen,
    CanteenOrder,
    CanteenOrderLine,
    LineStatus,
    StandingOrder,
)
from marche.canteens.services import standing_orders_materialise
from marche.catalog.models import Product
from marche.cycles.models import OrderCycle
from marche.demo.loaders import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=PARIS)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MANAGER = "cantine-maternelle@demo.test"
FARMER = "producteur@demo.test"


def new_page(browser: Any, viewport: dict[str, int], problems: list[str]) -> tuple[Any, Any]:
    phone = viewport["width"] < 600
    context = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport=viewport,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    # A refused form comes back with status 400, which Chromium logs: that one is expected.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text) if m.type == "error" and "status of 400" not in m.text else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return context, page


def log_in(page: Any, base: str, email: str, next_url: str) -> None:
    page.goto(f"{base}/compte/connexion/?next={next_url}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")


def fits(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide"


def test_standing_order_materialised_adjusted_by_the_producer_seen_by_the_manager(
    browser: Any, live_server: Any, artifacts_dir: Path
) -> None:
    problems: list[str] = []
    base = live_server.url
    shot = artifacts_dir / "canteen-journey"
    with time_machine.travel(WEDNESDAY, tick=True):
        call_command("load_demo", stdout=io.StringIO())
        school = Canteen.objects.get(slug="cantine-maternelle-loos")
        cycle = OrderCycle.objects.latest("delivery_date")
        carrots = Product.objects.get(slug="carottes")
        leeks = Product.objects.get(slug="poireaux")
        assert cycle.delivery_date.isoformat() == "2026-12-10"

        # The manager, on a phone: the space, then the standing order with "12,5".
        context, page = new_page(browser, PHONE, problems)
        log_in(page, base, MANAGER, "/cantine/")
        page.wait_for_url(f"**/cantine/{school.pk}/")
        card = page.locator(f"[data-cycle='{cycle.pk}']")
        expect(card).to_have_attribute("data-deliverable", "yes")
        expect(card).to_contain_text("Livrable entre 07:30 et 10:00")
        fits(page, PHONE["width"])
        page.screenshot(path=f"{shot}-01-space.png", full_page=True)

        page.get_by_role("link", name="Commande régulière et semaines sautées").click()
        page.wait_for_url(f"**/cantine/{school.pk}/commande-reguliere/")
        expect(page.locator("[data-holidays]")).to_contain_text("Vacances de Noël")
        field = page.locator(f"#q-{carrots.pk}")
        field.fill("12,5")
        page.screenshot(path=f"{shot}-02-standing-typed.png", full_page=False)
        with page.expect_navigation():
            page.get_by_role("button", name="Enregistrer la commande régulière").click()
        expect(page.locator(".message.success")).to_contain_text("Commande régulière enregistrée")
        expect(page.locator(f"#q-{carrots.pk}")).to_have_value("12,5")
        standing = StandingOrder.objects.get(canteen=school, is_active=True)
        assert standing.lines.get(product=carrots).quantity == Decimal("12.5")
        fits(page, PHONE["width"])

        # The beat task makes the cycle's order from the standing order.
        made = standing_orders_materialise(cycle=cycle)
        order = CanteenOrder.objects.get(canteen=school, cycle=cycle)
        assert made == [order] and order.standing_order == standing
        assert order.lines.get(product=carrots).quantity_ordered == Decimal("12.5")

        page.goto(f"{base}/cantine/{school.pk}/")
        expect(card).to_contain_text("Envoyée, à confirmer par les producteurs")
        page.get_by_role("link", name=f"Voir la commande {order.reference}").click()
        page.wait_for_url(f"**/cantine/{school.pk}/commandes/{order.pk}/")
        carrots_line = page.locator(f"[data-line='{order.lines.get(product=carrots).pk}']")
        expect(carrots_line).to_contain_text("Commandé : 12,5 kg")
        expect(carrots_line).to_contain_text("À confirmer")
        fits(page, PHONE["width"])
        page.screenshot(path=f"{shot}-03-order-made.png", full_page=True)

        # Under the producer's minimum (3 kg of carrots): refused at its field, nothing changes.
        page.get_by_role("link", name="Modifier les quantités").click()
        offer_id = order.lines.get(product=carrots).offer_id
        page.locator(f"#q-{offer_id}").fill("2")
        with page.expect_navigation():
            page.get_by_role("button", name="Enregistrer les changements").click()
        expect(page.locator(f"#err-{offer_id}")).to_have_text(
            "Carottes : 3 kg au minimum par commande de cantine."
        )
        expect(page.locator(f"#q-{offer_id}")).to_have_value("2")
        fits(page, PHONE["width"])
        page.locator(f"#offre-{offer_id}").screenshot(path=f"{shot}-04-refused.png")
        assert order.lines.get(product=carrots).quantity_ordered == Decimal("12.5")

        # The farmer of the Ferme du Chemin Vert, on a desk: adjusts carrots, confirms leeks.
        farm_context, farm = new_page(browser, DESKTOP, problems)
        log_in(farm, base, FARMER, "/producteur/")
        farm.get_by_role("link", name="Commandes des cantines à confirmer").first.click()
        farm.wait_for_url("**/cantine/producteur/")
        farm.locator(f"[data-cycle='{cycle.pk}']").get_by_role("link", name="Répondre").click()
        carrots_pk = order.lines.get(product=carrots).pk
        line = farm.locator(f"#ligne-{carrots_pk}")
        line.locator("input[name=quantity]").fill("10")
        line.locator("input[name=note]").fill("Gel : 10 kg seulement cette semaine")
        with farm.expect_navigation():
            line.get_by_role("button", name="Ajuster").click()
        expect(farm.locator(".message.success")).to_contain_text("quantité ajustée")
        leeks_pk = order.lines.get(product=leeks).pk
        with farm.expect_navigation():
            farm.locator(f"#ligne-{leeks_pk}").get_by_role("button", name="Confirmer").click()
        expect(farm.locator(f"#ligne-{leeks_pk}")).to_contain_text("Confirmée")
        farm.screenshot(path=f"{shot}-05-producer.png", full_page=True)
        farm_context.close()
        adjusted = CanteenOrderLine.objects.get(pk=carrots_pk)
        assert (adjusted.status, adjusted.quantity_confirmed) == (
            LineStatus.ADJUSTED,
            Decimal("10"),
        )

        # The manager sees the change before delivery.
        page.goto(f"{base}/cantine/{school.pk}/commandes/{order.pk}/")
        carrots_line = page.locator(f"[data-line='{carrots_pk}']")
        expect(carrots_line).to_contain_text("Ajustée par le producteur")
        expect(carrots_line).to_contain_text("Confirmé : 10 kg")
        expect(carrots_line.locator("[data-producer-note]")).to_contain_text(
            "Gel : 10 kg seulement cette semaine"
        )
        expect(page.locator(f"[data-line='{leeks_pk}']")).to_contain_text("Confirmée")
        fits(page, PHONE["width"])
        page.screenshot(path=f"{shot}-06-manager-sees-the-change.png", full_page=True)
        context.close()
    assert problems == []
