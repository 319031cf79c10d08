"""A canteen manager's EGalim dashboard in Chromium (fr-FR), on a desk and on a phone.

The nursery-school canteen's November 2026 (the golden month of the unit tests): the manager
opens the dashboard, reads the two gauges (organic 26,8 % against 20 %, EGalim 83,5 %
against 50 %), the per-family chart is drawn by the vendored Chart.js without any CSP
violation, the figures sit in tables beside it; the manager downloads the "ma cantine" file,
which then appears among the earlier exports. On a phone nothing scrolls sideways; with
JavaScript off every figure is still there.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from marche.accounts.models import Role
from marche.canteens.macantine import COLUMNS
from marche.canteens.models import CanteenOrderLine, MaCantineExport
from tests.factories import UserFactory
from tests.factories.canteens import CanteenFactory
from tests.marche.canteens.test_egalim import build_november

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "mot-de-passe-test"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def open_page(browser, viewport, problems, *, javascript: bool = True):  # type: ignore[no-untyped-def]
    """A fr-FR page recording console errors (CSP violations among them) and failed requests."""
    phone = viewport["width"] < 600
    context = browser.new_context(
        locale="fr-FR",
        viewport=viewport,
        is_mobile=phone,
        has_touch=phone,
        java_script_enabled=javascript,
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda r: None if is_download(r) else problems.append(r.url))
    return context, page


def is_download(request) -> bool:  # type: ignore[no-untyped-def]
    """A navigation answered with a file is aborted by the browser, which saves the file."""
    return "/egalim/export/" in request.url and "ERR_ABORTED" in (request.failure or "")


def log_in(page, base: str, email: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/compte/connexion/?next={next_url}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    # The page itself, not the login page whose ?next= holds its address.
    page.wait_for_url(re.compile(re.escape(f"{base}{next_url}") + "$"))


def fits(page, width: int) -> None:  # type: ignore[no-untyped-def]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide"


def the_figures_are_there(page) -> None:  # type: ignore[no-untyped-def]
    organic = page.locator("[data-gauge=bio]")
    assert organic.locator("[data-percent]").inner_text() == "26,8\u00a0%"
    assert "Objectif de la loi : 20 %" in organic.inner_text()
    assert "atteint" in organic.inner_text()
    assert "Objectif de la cantine : 100 %" in organic.locator("[data-own-target]").inner_text()
    egalim = page.locator("[data-gauge=egalim]")
    assert egalim.locator("[data-percent]").inner_text() == "83,5\u00a0%"
    assert "Objectif de la loi : 50 %" in egalim.inner_text()
    vegetables = page.locator("tr[data-family=FRUITS_ET_LEGUMES]").inner_text()
    assert "228,83" in vegetables and "34,3" in vegetables
    assert "898,53" in page.locator("[data-total]").inner_text()
    assert "147,50" in page.locator("[data-apart=local]").inner_text()


def test_the_manager_reads_the_dashboard_and_downloads_the_export(
    browser, live_server, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    manager = UserFactory(email="cantine@example.test", role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(
        name="Cantine de l'école maternelle Basly",
        postcode="62750",
        organic_target_percent=Decimal("100"),
        managers=[manager],
    )
    build_november(canteen)
    url = f"/cantine/{canteen.pk}/egalim/?annee=2026"

    problems: list[str] = []
    context, page = open_page(browser, DESKTOP, problems)
    try:
        # From the canteen's space, then to 2026 with the year switch.
        log_in(page, live_server.url, manager.email, f"/cantine/{canteen.pk}/")
        page.locator("a[data-link=egalim]").click()
        page.wait_for_url(f"**/cantine/{canteen.pk}/egalim/")
        page.locator("select[name=annee]").select_option("2026")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_url(f"**{url}")
        assert "Bilan EGalim 2026" in page.locator("h1").inner_text()
        page.wait_for_selector("[data-chart-box][data-drawn='1']")
        chart = page.locator("#egalim-family-chart")
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 200
        the_figures_are_there(page)
        page.screenshot(path=str(artifacts_dir / "canteen-egalim-desktop.png"), full_page=True)

        with page.expect_download() as waiting:
            page.get_by_role("button", name="Télécharger les nouveaux achats (CSV)").click()
        download = waiting.value
        assert download.suggested_filename.startswith("ma-cantine-achats-")
        text = Path(download.path()).read_text(encoding="utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        assert tuple(rows[0]) == COLUMNS
        assert len(rows) == 1 + 11
        made = MaCantineExport.objects.get()
        assert CanteenOrderLine.objects.filter(exported=made).count() == 11

        page.reload()
        pending = page.locator("[data-pending]").inner_text()
        assert re.match(r"0 achats? livrés? pas encore exportés?", pending), pending
        assert page.locator(".export-list li").count() == 1
        assert "11 achats" in page.locator(".export-list li").inner_text()
        assert problems == []
    finally:
        context.close()

    # On a phone: gauges one above the other, the chart, the tables, no sideways scrolling.
    problems = []
    context, page = open_page(browser, PHONE, problems)
    try:
        log_in(page, live_server.url, manager.email, url)
        page.wait_for_selector("[data-chart-box][data-drawn='1']")
        the_figures_are_there(page)
        fits(page, PHONE["width"])
        page.screenshot(path=str(artifacts_dir / "canteen-egalim-phone.png"), full_page=True)
        assert problems == []
    finally:
        context.close()

    # Without JavaScript: no chart, every figure all the same.
    problems = []
    context, page = open_page(browser, PHONE, problems, javascript=False)
    try:
        log_in(page, live_server.url, manager.email, url)
        page.screenshot(path=str(artifacts_dir / "canteen-egalim-phone-nojs.png"), full_page=True)
        assert not page.locator("[data-chart-box]").is_visible()
        the_figures_are_there(page)
        fits(page, PHONE["width"])
        assert problems == []
    finally:
        context.close()
