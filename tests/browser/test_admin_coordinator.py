"""The coordinators' Wagtail admin in Chromium: the dashboard and the producers' listing.

The demo coordinator logs in, reads this cycle's figures on the dashboard, opens the
producers' listing and searches it. Every request stays on the site (no avatar service, no
update check); screenshots at desktop width go to test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from marche.demo.loaders import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_dashboard_and_producers(  # type: ignore[no-untyped-def]
    browser, live_server, demo: None, artifacts_dir: Path
) -> None:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    elsewhere: list[str] = []
    problems: list[str] = []
    host = urlsplit(live_server.url).netloc
    page.on(
        "request",
        lambda r: (
            elsewhere.append(r.url)
            if urlsplit(r.url).scheme in ("http", "https") and urlsplit(r.url).netloc != host
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", "coordination@demo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/admin/")
    panel = page.locator("section[aria-labelledby=cycle-figures-title]")
    expect(panel).to_contain_text("commandes confirmées")
    expect(panel.get_by_role("link", name="ouvrir la planification")).to_be_visible()
    expect(page.get_by_role("button", name="Marché")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "admin-dashboard-desktop.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/producers/")
    expect(page.get_by_role("heading", name="Producteurs")).to_be_visible()
    rows = page.locator("table.listing tbody tr")
    assert rows.count() >= 3
    page.screenshot(path=str(artifacts_dir / "admin-producers-desktop.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/producers/?q=cocagne")
    expect(page.locator("table.listing tbody tr")).to_have_count(1)

    context.close()
    assert elsewhere == []
    assert problems == []
