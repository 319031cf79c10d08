"""The public site's main pages in Chromium at phone and desktop widths, screenshotted."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from cms.models import ProducerPage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WIDTHS = {"telephone": (390, 844), "bureau": (1280, 900)}


@pytest.fixture
def demo_site(live_server, settings):  # type: ignore[no-untyped-def]
    settings.LOGISTICS_TILE_URL = ""  # no tile server: markers, names and scale only
    call_command("load_demo", stdout=io.StringIO())
    return live_server


def test_main_pages_at_phone_and_desktop_widths(browser, demo_site, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    producer = ProducerPage.objects.get(producer__slug="ferme-des-terrils")
    pages = {
        "accueil": "/",
        "producteurs": "/producteurs/",
        "producteur": producer.url,
        "points-relais": "/points-relais/",
        "catalogue": "/catalogue/?bio=on",
        "la-manne": "/la-manne/",
        "actualites": "/actualites/?type=recettes",
        "recette": "/actualites/soupe-poireaux-pommes-de-terre/",
    }
    errors: list[str] = []
    for width_name, (width, height) in WIDTHS.items():
        context = browser.new_context(locale="fr-FR", viewport={"width": width, "height": height})
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        for name, url in pages.items():
            response = page.goto(demo_site.url + url)
            assert response is not None and response.status == 200, url
            assert page.locator("h1").count() == 1
            if name in ("points-relais", "producteurs", "la-manne"):
                page.wait_for_selector("[data-site-map][data-drawn='1']")
                assert page.locator(".leaflet-control-scale-line").count() >= 1
                assert page.locator(".site-marker-label").count() >= 1
                assert page.locator("img.leaflet-tile").count() == 0
            # Nothing wider than the screen.
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} overflows by {overflow}px at {width}px"
            page.screenshot(
                path=str(artifacts_dir / f"site-{name}-{width_name}.png"), full_page=True
            )
        assert errors == []
        context.close()
