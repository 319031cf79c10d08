"""The public site's main pages checked by axe-core (WCAG 2.1 A/AA), and its keyboard use.

axe-core is vendored in frontend/static/vendor/axe-core/ (see its README) and injected by the
test only: no page of the site loads it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from cms.models import CataloguePage, ProducerPage, RelayPointPage
from marche.cycles.models import Offer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

AXE = Path(django_settings.BASE_DIR) / "frontend" / "static" / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = {"telephone": (390, 844), "bureau": (1280, 900)}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


@pytest.fixture
def demo_site(live_server, settings):  # type: ignore[no-untyped-def]
    settings.LOGISTICS_TILE_URL = ""
    call_command("load_demo", stdout=io.StringIO())
    return live_server


def main_pages() -> dict[str, str]:
    producer = ProducerPage.objects.live().get(producer__slug="ferme-des-terrils")
    relay = RelayPointPage.objects.live().order_by("path").first()
    catalogue = CataloguePage.objects.live().order_by("path").first()
    assert relay is not None and catalogue is not None
    offer = Offer.objects.filter(product__is_active=True).order_by("pk").first()
    assert offer is not None
    product_url = catalogue.url + catalogue.reverse_subpage("product", args=[offer.product_id])
    return {
        "accueil": "/",
        "producteurs": "/producteurs/",
        "producteur": producer.url,
        "points-relais": "/points-relais/",
        "point-relais": relay.url,
        "catalogue": "/catalogue/",
        "produit": product_url,
        "la-manne": "/la-manne/",
        "actualites": "/actualites/",
        "recette": "/actualites/soupe-poireaux-pommes-de-terre/",
    }


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(map(str, node["target"])) for node in violation["nodes"]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {target}" for target in targets[:10])
    return "\n".join(lines)


def test_main_pages_have_no_serious_axe_violation(browser, demo_site) -> None:  # type: ignore[no-untyped-def]
    pages = main_pages()
    failures: list[str] = []
    for width, height in WIDTHS.values():
        # The site's CSP forbids inline scripts; axe is injected inline, so the test bypasses it.
        context = browser.new_context(
            locale="fr-FR", viewport={"width": width, "height": height}, bypass_csp=True
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        for name, url in pages.items():
            response = page.goto(demo_site.url + url)
            assert response is not None and response.status == 200, url
            if page.locator("[data-site-map]").count():
                page.wait_for_selector("[data-site-map][data-drawn='1']")
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
            )
            blocking = [v for v in result["violations"] if v["impact"] in BLOCKING]
            if blocking:
                failures.append(f"{name} at {width}px ({url}):\n{describe(blocking)}")
        context.close()
    message = "\n".join(failures)
    print(message)
    assert failures == [], message


def test_skip_link_comes_first_and_moves_focus_to_the_content(page, demo_site) -> None:  # type: ignore[no-untyped-def]
    page.goto(demo_site.url + "/producteurs/")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.className, document.activeElement.getAttribute('href')]"
    )
    assert focused == ["skip-link", "#contenu"]
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "contenu"
    # The next Tab goes on inside the content, not back to the header.
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('#contenu')")


def test_language_switch_works_both_ways_on_a_site_page(page, demo_site) -> None:  # type: ignore[no-untyped-def]
    page.goto(demo_site.url + "/points-relais/")
    assert page.locator("html").get_attribute("lang") == "fr"
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "/en/" in page.url and "points-relais" in page.url
    assert page.locator("h1").count() == 1
    with page.expect_navigation():
        page.select_option("#language-select", "fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "/en/" not in page.url and page.url.endswith("/points-relais/")
