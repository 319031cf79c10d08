"""A person opens the home page, then logs in with each demo account."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from marche.accounts.models import Role
from marche.demo.loaders import DEMO_PASSWORD

# serialized_rollback: the live server needs the rows migrations create (site, home page).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DEMO_ACCOUNTS = {
    Role.HOUSEHOLD: "foyer@demo.test",
    Role.FARMER: "producteur@demo.test",
    Role.CANTEEN_MANAGER: "cantine@demo.test",
    Role.DRIVER: "livreur@demo.test",
    Role.COORDINATOR: "coordination@demo.test",
}


@pytest.fixture
def demo_site(live_server):  # type: ignore[no-untyped-def]
    call_command("load_demo", stdout=io.StringIO())
    return live_server


def test_home_page_shows_producers_and_relays(page, demo_site, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(demo_site.url + "/")
    assert page.locator("h1").inner_text() == "Marché local de Loos-en-Gohelle"
    assert page.locator("#producteurs .card").count() == 5
    assert page.locator("#points-relais li.relay").count() == 10
    assert page.locator("html").get_attribute("lang") == "fr"
    page.screenshot(path=str(artifacts_dir / "home.png"), full_page=True)
    # The header leads to the site's own pages, not to anchors of the home page.
    page.locator("header nav").get_by_role("link", name="Points relais").click()
    page.wait_for_url("**/points-relais/")
    assert page.locator(".leaflet-marker-icon, .leaflet-interactive").count() >= 10
    page.locator("header nav").get_by_role("link", name="Producteurs").click()
    page.wait_for_url("**/producteurs/")
    assert page.locator("h1").inner_text() == "Nos producteurs"


def test_switching_to_english(page, demo_site) -> None:  # type: ignore[no-untyped-def]
    page.goto(demo_site.url + "/")
    page.select_option("#language-select", "en")
    page.wait_for_url("**/en/")
    assert page.locator("#producteurs-titre").inner_text() == "Our producers"


@pytest.mark.parametrize("role", list(DEMO_ACCOUNTS))
def test_each_demo_role_logs_in(page, demo_site, artifacts_dir: Path, role: Role) -> None:  # type: ignore[no-untyped-def]
    page.goto(demo_site.url + "/compte/connexion/")
    page.fill("input[name=username]", DEMO_ACCOUNTS[role])
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/compte/")
    assert page.locator("[data-role]").get_attribute("data-role") == role.value
    assert page.locator("[data-role]").inner_text() == str(role.label)
    page.screenshot(path=str(artifacts_dir / f"account-{role.value}.png"), full_page=True)
    if role == Role.COORDINATOR:
        page.click("text=Administration")
        page.wait_for_url("**/admin/")
        assert page.locator("body").inner_text().count("Marché local") >= 1
        page.screenshot(path=str(artifacts_dir / "wagtail-admin.png"))


def test_wrong_password_stays_on_login_with_french_error(page, demo_site) -> None:  # type: ignore[no-untyped-def]
    page.goto(demo_site.url + "/compte/connexion/")
    page.fill("input[name=username]", "foyer@demo.test")
    page.fill("input[name=password]", "mauvais")
    page.click("form button[type=submit]")
    assert page.locator("[role=alert]").inner_text().strip() == (
        "Adresse e-mail ou mot de passe incorrect."
    )
    assert page.url.endswith("/compte/connexion/")
