"""A canteen delivered on a driver's round, then corrected by its manager, in Chromium.

On a phone (390×844, French), the driver opens the round, reads the nursery school's lines
with their allergens, goes offline, types a shortfall with a decimal comma and its reason and
who received the goods, checks the stop off (queued in IndexedDB), and comes back online: the
delivery is recorded once. The canteen's manager then opens the delivery page on a desktop,
corrects a line, and downloads the delivery note showing both quantities.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from pypdf import PdfReader

from logistics.models import StopCheckoff
from marche.canteens.models import CanteenOrder, CanteenOrderLine, CanteenOrderStatus
from tests.logistics.canteen_fixtures import build_canteen_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("la condition attendue n'est pas arrivée à temps")
        time.sleep(0.1)


def _log_in(context: Any, live_server: Any, user: Any) -> None:
    client = Client()
    client.force_login(user)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_the_driver_records_a_canteen_delivery_offline_and_the_manager_corrects_it(
    browser: Any, live_server: Any, artifacts_dir: Path
) -> None:
    cw = build_canteen_world()
    phone = browser.new_context(
        locale="fr-FR",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        timezone_id="Europe/Paris",
        service_workers="allow",
    )
    _log_in(phone, live_server, cw.world.driver)
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/chauffeur/tournees/{cw.world.route.pk}/")
    stop = page.locator(f'[data-stop="{cw.stop.pk}"]')
    assert "École maternelle Jean-Macé" in stop.locator("h3").inner_text()
    assert "créneau 07:30–10:00" in stop.locator(".stop-eta").inner_text()
    lines = stop.locator("[data-canteen-line]")
    assert lines.count() == 3
    assert "Allergènes : Lait" in stop.inner_text()
    assert "aucun des 14 allergènes" in stop.inner_text()
    carrots = stop.locator(f'input[data-canteen-qty="{cw.carrots.pk}"]')
    assert carrots.input_value() == "20"
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    # A receiver is needed: said in the page before anything is queued.
    stop.locator("button[value=delivered]").click()
    error = stop.locator("[data-stop-error]")
    error.wait_for(state="visible")
    assert error.inner_text() == "Indiquez qui a réceptionné la livraison."

    phone.set_offline(True)
    page.locator("[data-offline-banner]").wait_for(state="visible")
    carrots.fill("18,5")
    stop.locator(f'input[data-canteen-reason="{cw.carrots.pk}"]').fill("Cagette abîmée")
    stop.locator("input[data-canteen-received]").fill("Mme Lemaire")
    stop.locator(f'input[data-canteen-reason="{cw.carrots.pk}"]').scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "canteen-delivery-phone-form.png"), full_page=True)
    stop.locator("button[value=delivered]").click()
    stop.locator("[data-pending]").wait_for(state="visible")
    assert StopCheckoff.objects.count() == 0

    phone.set_offline(False)
    stop.locator("[data-pending]").wait_for(state="hidden")
    _wait_for(lambda: StopCheckoff.objects.count() == 1)
    order = CanteenOrder.objects.get(pk=cw.order.pk)
    assert (order.status, order.received_by) == (CanteenOrderStatus.DELIVERED, "Mme Lemaire")
    line = CanteenOrderLine.objects.get(pk=cw.carrots.pk)
    assert (line.quantity_delivered, line.shortfall_reason) == (
        Decimal("18.500"),
        "Cagette abîmée",
    )
    page.screenshot(path=str(artifacts_dir / "canteen-delivery-phone-sent.png"), full_page=True)
    phone.close()

    desktop = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    _log_in(desktop, live_server, cw.manager)
    page = desktop.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/cantine/livraisons/{cw.order.pk}/")
    assert page.locator("h1").inner_text() == "Livraison de la commande C-2026-00042"
    assert page.locator(f'input[name="qty-{cw.carrots.pk}"]').input_value() == "18,5"
    assert page.locator("#received_by").input_value() == "Mme Lemaire"
    # Two yoghurts were broken: a shortfall without a reason is refused, the typing kept.
    page.locator(f'input[name="qty-{cw.yoghurts.pk}"]').fill("10")
    page.get_by_role("button", name="Enregistrer la livraison").click()
    alert = page.locator("[role=alert]")
    assert "Yaourts nature 125 g" in alert.inner_text()
    assert page.locator(f'input[name="qty-{cw.yoghurts.pk}"]').input_value() == "10"
    page.screenshot(path=str(artifacts_dir / "canteen-delivery-manager-refused.png"))
    assert CanteenOrderLine.objects.get(pk=cw.yoghurts.pk).quantity_delivered == Decimal("12")
    page.locator(f'input[name="reason-{cw.yoghurts.pk}"]').fill("Deux pots cassés")
    page.get_by_role("button", name="Enregistrer la livraison").click()
    page.get_by_text("Livraison enregistrée.").wait_for()
    page.screenshot(path=str(artifacts_dir / "canteen-delivery-manager.png"), full_page=True)
    assert CanteenOrderLine.objects.get(pk=cw.yoghurts.pk).quantity_delivered == Decimal("10")

    note_url = f"{live_server.url}/cantine/livraisons/{cw.order.pk}/bon-de-livraison.pdf"
    note = page.request.get(note_url)
    assert note.status == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(note.body())).pages)
    text = " ".join(text.split())
    assert "−1,5 : Cagette abîmée" in text and "−2 : Deux pots cassés" in text
    (artifacts_dir / "canteen-delivery-note.pdf").write_bytes(note.body())
    desktop.close()


def test_a_check_off_the_server_refuses_leaves_the_stop_as_it_was_and_says_why(
    browser: Any, live_server: Any, artifacts_dir: Path
) -> None:
    """The phone shows a stop delivered as soon as it is queued; refused, it must not stay so."""
    cw = build_canteen_world()
    phone = browser.new_context(
        locale="fr-FR",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        timezone_id="Europe/Paris",
    )
    _log_in(phone, live_server, cw.world.driver)
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/chauffeur/tournees/{cw.world.route.pk}/")
    stop = page.locator(f'[data-stop="{cw.stop.pk}"]')
    assert stop.get_attribute("data-status") == "planned"
    # A shortfall without its reason: only the server knows it is refused.
    stop.locator(f'input[data-canteen-qty="{cw.carrots.pk}"]').fill("18,5")
    stop.locator("input[data-canteen-received]").fill("Mme Lemaire")
    stop.locator("button[value=delivered]").click()
    error = stop.locator("[data-stop-error]")
    error.wait_for(state="visible")
    assert "motif" in error.inner_text()
    _wait_for(lambda: stop.get_attribute("data-status") == "planned")
    assert stop.locator("[data-pending]").is_hidden()
    page.screenshot(path=str(artifacts_dir / "canteen-delivery-phone-refused.png"), full_page=True)
    assert StopCheckoff.objects.count() == 0
    assert CanteenOrderLine.objects.get(pk=cw.carrots.pk).quantity_delivered is None
    phone.close()
