"""Under the Content-Security-Policy, the site and Wagtail's admin still work in Chromium:
pages load, scripts run, and the browser reports no violation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from marche.demo.loaders import DEMO_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def demo_site(live_server):  # type: ignore[no-untyped-def]
    call_command("load_demo", stdout=io.StringIO())
    return live_server


def watch_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Every CSP report Chromium writes to the console, and every violation event."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => "
        "console.error('Refused to (event) ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return seen


def log_in(page, url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/compte/connexion/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/compte/")


def test_the_wagtail_admin_works_under_its_policy(page, demo_site, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    violations = watch_violations(page)
    page.goto(demo_site.url + "/admin/login/")
    page.fill("input[name=username]", "coordination@demo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/admin/")
    response = page.goto(demo_site.url + "/admin/pages/")
    assert response is not None and "unsafe-inline" in response.headers["content-security-policy"]
    # The page explorer is drawn by the admin's scripts: if they were blocked, no row.
    page.locator("table.listing tbody tr").first.wait_for()
    page.screenshot(path=str(artifacts_dir / "csp-admin-explorer.png"), full_page=True)
    # Editing a page: rich text editor, side panels and inline scripts of the panels.
    page.locator("table.listing tbody tr a[href*='/edit/']").first.click()
    page.locator("form#page-edit-form").wait_for()
    page.locator(
        "[data-draftail-editor], .Draftail-Editor, [data-streamfield-stream-container]"
    ).first.wait_for()
    page.screenshot(path=str(artifacts_dir / "csp-admin-edit.png"), full_page=True)
    page.goto(demo_site.url + "/django-admin/")
    page.locator("#content").wait_for()
    assert violations == []


def test_the_site_works_under_its_policy_on_a_phone(  # type: ignore[no-untyped-def]
    browser, demo_site, artifacts_dir: Path, monkeypatch
) -> None:
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        violations = watch_violations(page)
        response = page.goto(demo_site.url + "/")
        assert response is not None
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert response.headers["permissions-policy"].startswith("accelerometer=()")
        page.screenshot(path=str(artifacts_dir / "csp-home-phone.png"), full_page=True)
        # The language switch is a script file: choosing English still switches.
        page.select_option("#language-select", "en")
        page.wait_for_url("**/en/")
        log_in(page, demo_site.url, "foyer@demo.test")
        page.goto(demo_site.url + "/commander/")
        page.screenshot(path=str(artifacts_dir / "csp-shop-phone.png"), full_page=True)
        missing = page.goto(demo_site.url + "/une-page-qui-n-existe-pas/")
        assert missing is not None and missing.status == 404
        assert page.locator("h1").inner_text() == "Page introuvable"
        page.screenshot(path=str(artifacts_dir / "error-404-phone.png"), full_page=True)

        def broken() -> None:
            raise RuntimeError("a failure the site did not expect")

        monkeypatch.setattr("marche.core.views.probe_all", broken)
        failed = page.goto(demo_site.url + "/healthz")
        assert failed is not None and failed.status == 500
        assert page.locator("h1").inner_text() == "Une erreur est survenue de notre côté"
        page.screenshot(path=str(artifacts_dir / "error-500-phone.png"), full_page=True)
        assert violations == []
    finally:
        context.close()
