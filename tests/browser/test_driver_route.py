"""A driver's round on a phone, offline: the service worker keeps the page, check-offs wait.

Chromium at 390×844 in French opens the round, goes offline, checks off a relay stop (queued
in IndexedDB, shown "en attente d'envoi"), reloads (the page comes from the service
worker's cache, the pending check-off still shown), comes back online (the queue is sent:
one check-off in the database), then checks off the other stops online. Each household of
the relay stop gets its e-mail once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from logistics.models import PlanRoute, PlanStop, StopCheckoff
from marche.core.models import OutboxMessage
from tests.logistics.driver_fixtures import build_driver_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("la condition attendue n'est pas arrivée à temps")
        time.sleep(0.1)


@pytest.fixture
def phone(browser: Any, live_server: Any) -> Any:
    context = browser.new_context(
        locale="fr-FR",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        timezone_id="Europe/Paris",
        service_workers="allow",
    )
    yield context
    context.close()


def _log_in(context: Any, live_server: Any, user: Any) -> None:
    """The driver's session, opened by Django's test client, handed to the browser."""
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


def _stop(page: Any, stop: PlanStop) -> Any:
    return page.locator(f'[data-stop="{stop.pk}"]')


def test_a_driver_checks_off_offline_and_the_queue_is_sent_once_back_online(
    phone: Any, live_server: Any, artifacts_dir: Path
) -> None:
    world = build_driver_world()
    _log_in(phone, live_server, world.driver)
    page = phone.new_page()
    page.set_default_timeout(15_000)
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    url = f"{live_server.url}/chauffeur/tournees/{world.route.pk}/"

    page.goto(url)
    assert page.locator("h1").inner_text() == "Tournée Utilitaire 1"
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(
        "caches.open('marche-chauffeur-v1').then(c => c.match(location.pathname)).then(r => !!r)"
    )
    # Reloaded online, the page is now controlled by the service worker.
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.screenshot(path=str(artifacts_dir / "driver-route-online.png"), full_page=True)

    phone.set_offline(True)
    banner = page.locator("[data-offline-banner]")
    banner.wait_for(state="visible")
    assert banner.inner_text() == (
        "Hors connexion — vos pointages seront envoyés au retour du réseau."
    )
    stop_a = _stop(page, world.stop_a)
    stop_a.locator("button[value=delivered]").click()
    stop_a.locator("[data-pending]").wait_for(state="visible")
    assert "en attente d'envoi" in stop_a.locator("[data-pending]").inner_text()
    assert page.locator("[data-queue-status]").inner_text() == "1 pointage en attente d'envoi"
    assert stop_a.locator("[data-stop-status]").inner_text().endswith("livrée")
    assert StopCheckoff.objects.count() == 0

    # Offline, a reload still opens the round (from the service worker's cache), and the
    # check-off is still waiting in IndexedDB.
    page.reload()
    assert page.locator("h1").inner_text() == "Tournée Utilitaire 1"
    assert "Camille D." in page.content()
    _stop(page, world.stop_a).locator("[data-pending]").wait_for(state="visible")
    page.locator("[data-offline-banner]").wait_for(state="visible")
    page.screenshot(path=str(artifacts_dir / "driver-route-offline.png"), full_page=True)
    assert StopCheckoff.objects.count() == 0

    phone.set_offline(False)
    _stop(page, world.stop_a).locator("[data-pending]").wait_for(state="hidden")
    page.locator("[data-offline-banner]").wait_for(state="hidden")
    _wait_for(lambda: StopCheckoff.objects.count() == 1)
    checkoff = StopCheckoff.objects.get()
    assert (checkoff.stop_id, checkoff.status, checkoff.recorded_by_id) == (
        world.stop_a.pk,
        "delivered",
        world.driver.pk,
    )
    assert page.locator("[data-queue-status]").is_hidden()

    # The other stops, online. A problem needs a note: refused in the page first.
    pickup = _stop(page, world.pickup)
    pickup.locator("button[value=delivered]").click()
    stop_b = _stop(page, world.stop_b)
    stop_b.locator("button[value=problem]").click()
    error = stop_b.locator("[data-stop-error]")
    error.wait_for(state="visible")
    assert error.inner_text() == "Décrivez le problème en quelques mots dans la note."
    stop_b.locator("textarea[name=note]").fill("Bureau de poste fermé, colis laissé au dépôt")
    stop_b.locator("button[value=problem]").click()
    error.wait_for(state="hidden")
    _wait_for(lambda: StopCheckoff.objects.count() == 3)
    page.wait_for_function(
        "document.querySelectorAll('[data-stop][data-status=planned]').length === 0"
    )
    assert page.locator("[data-progress]").inner_text() == "3/3 étapes pointées"
    page.screenshot(path=str(artifacts_dir / "driver-route-done.png"), full_page=True)

    assert PlanStop.objects.get(pk=world.stop_b.pk).note == (
        "Bureau de poste fermé, colis laissé au dépôt"
    )
    assert PlanRoute.objects.get(pk=world.route.pk).finished_at is not None
    _wait_for(lambda: OutboxMessage.objects.filter(key__startswith="relay-arrival-").count() == 2)
    _wait_for(
        lambda: (
            len([m for m in mail.outbox if m.subject.startswith("Votre panier vous attend")]) == 2
        )
    )
    page.goto(f"{live_server.url}/chauffeur/")
    assert "3/3 étapes pointées" in page.locator(".route-card").inner_text()
    page.screenshot(path=str(artifacts_dir / "driver-home.png"), full_page=True)
    # Logging out forgets the cached rounds (households' names) on the phone.
    assert page.evaluate("caches.has('marche-chauffeur-v1')") is True
    with page.expect_navigation():
        page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state()
    assert page.evaluate("caches.has('marche-chauffeur-v1')") is False
    assert blocked == []  # nothing inline, nothing from elsewhere: the site's CSP holds
    arrivals = sorted(
        m.to[0] for m in mail.outbox if m.subject.startswith("Votre panier vous attend")
    )
    assert arrivals == ["camille.durand@example.test", "louis.martin@example.test"]


def test_a_big_relay_stop_stays_short_on_a_phone(phone: Any, live_server: Any) -> None:
    """Twenty-five orders of six items at one stop: items fold under each order's line."""
    world = build_driver_world()
    manifest = dict(world.stop_a.manifest)
    manifest["orders"] = [
        {
            "reference": f"261202-BIG{n:03d}",
            "customer": f"Foyer {n}.",
            "baskets": 1,
            "lines": 6,
            "kg": 4.5,
            "cold_items": 1,
            "items": [
                {"name": f"Produit {i}", "quantity": "1 kg", "cold": i == 0} for i in range(6)
            ],
        }
        for n in range(25)
    ]
    PlanStop.objects.filter(pk=world.stop_a.pk).update(manifest=manifest)
    _log_in(phone, live_server, world.driver)
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/chauffeur/tournees/{world.route.pk}/")
    stop_a = _stop(page, world.stop_a)
    order = stop_a.locator('[data-order="261202-BIG007"]')
    summary = order.locator("summary")
    assert summary.is_visible()
    assert "261202-BIG007" in summary.inner_text() and "Foyer 7." in summary.inner_text()
    assert "4,5 kg" in summary.inner_text() and "froid" in summary.inner_text()
    assert order.locator(".items").is_hidden()
    assert stop_a.locator(".drop-summary").is_visible()
    assert stop_a.locator("button[value=delivered]").is_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 6000, height
    summary.click()
    expect(order.locator(".items")).to_be_visible()
    assert "Produit 5" in order.locator(".items").inner_text()
    # A farm pickup is collected, not delivered.
    assert _stop(page, world.pickup).locator("button[value=delivered]").inner_text() == (
        "✓ Collecté"
    )
    # The crate correction field explains its format in French, whatever the browser's own
    # language (its built-in pattern message is not the page's).
    stop_a.locator("details.crates summary").click()
    field = stop_a.locator("input[data-reference]").first
    field.fill("x")
    message = field.evaluate("input => input.validationMessage")
    assert message == "Les caisses livrées sont un nombre entier de 0 à 999.", message
    field.fill("2")
    assert field.evaluate("input => input.validationMessage") == ""
