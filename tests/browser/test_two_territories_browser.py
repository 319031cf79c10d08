"""Two territories on one instance, in Chromium at phone width, in French.

Both demo territories are loaded by the real command. Each hostname is its own site
(``loos.localhost``, ``dunkerque.localhost``, which Chromium sends to this machine): its
home page, catalogue and shop show its own producers and relay points only, and Dunkerque,
which has no local currency, says nothing of mannes. A Dunkerque household then orders at
phone width and pays in euros at a Dunkerque relay point.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from marche.cycles.models import OrderCycle
from marche.demo.loaders import DEMO_PASSWORD
from marche.orders.models import Order, OrderStatus
from marche.producers.models import Producer
from marche.relays.models import RelayPoint
from marche.territories.models import Territory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MANNE = re.compile(r"\bmannes?\b|monnaie locale", re.IGNORECASE)
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def sites(live_server) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Both demo territories, and the address of each one's site on the live server."""
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", territory="dunkerque", stdout=io.StringIO())
    port = live_server.url.rsplit(":", 1)[1]
    return {
        "loos-en-gohelle": f"http://loos.localhost:{port}",
        "dunkerque": f"http://dunkerque.localhost:{port}",
    }


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def names_of(model, territory: Territory) -> set[str]:  # type: ignore[no-untyped-def]
    return set(
        model.objects.filter(territory=territory, is_active=True).values_list("name", flat=True)
    )


def test_two_territories_side_by_side_on_a_phone(  # type: ignore[no-untyped-def]
    phone, sites: dict[str, str], artifacts_dir: Path
) -> None:
    """One test: the live server's database is loaded once for both parts."""
    each_hostname_shows_its_own_territory(phone, sites, artifacts_dir)
    a_dunkerque_household_orders_in_euros_at_a_dunkerque_relay(phone, sites, artifacts_dir)


def each_hostname_shows_its_own_territory(  # type: ignore[no-untyped-def]
    phone, sites: dict[str, str], artifacts_dir: Path
) -> None:
    territories = {t.slug: t for t in Territory.objects.all()}
    assert set(territories) == set(sites)
    for slug, url in sites.items():
        territory = territories[slug]
        other = next(t for s, t in territories.items() if s != slug)
        own_producers = names_of(Producer, territory)
        own_relays = names_of(RelayPoint, territory)
        assert own_producers and own_relays

        phone.goto(url + "/")
        home = phone.locator("main").inner_text()
        assert territory.name in phone.content()
        phone.screenshot(path=str(artifacts_dir / f"territory-{slug}-home.png"), full_page=True)

        phone.goto(url + "/producteurs/")
        listed = phone.locator("main").inner_text()
        assert any(name in listed for name in own_producers)
        assert not any(name in listed for name in names_of(Producer, other))

        phone.goto(url + "/points-relais/")
        listed = phone.locator("main").inner_text()
        assert any(name in listed for name in own_relays)
        assert not any(name in listed for name in names_of(RelayPoint, other))

        phone.goto(url + "/commander/")
        shop = phone.locator("main").inner_text()
        phone.screenshot(path=str(artifacts_dir / f"territory-{slug}-shop.png"), full_page=True)
        if territory.local_currency_enabled:
            assert MANNE.search(home + shop), "Loos's pages speak of its local currency"
        else:
            for path in ("/", "/producteurs/", "/points-relais/", "/commander/", "/questions/"):
                phone.goto(url + path)
                assert not MANNE.search(phone.locator("body").inner_text()), path


def a_dunkerque_household_orders_in_euros_at_a_dunkerque_relay(  # type: ignore[no-untyped-def]
    phone, sites: dict[str, str], artifacts_dir: Path
) -> None:
    dunkerque = Territory.objects.get(slug="dunkerque")
    now = timezone.now()
    cycle = OrderCycle.objects.filter(
        territory=dunkerque, opens_at__lte=now, closes_at__gt=now
    ).earliest("closes_at")
    url = sites["dunkerque"]
    orders_before = Order.objects.count()

    phone.goto(url + "/compte/connexion/?next=/commander/")
    phone.fill("input[name=username]", "foyer-dunkerque@demo.test")
    phone.fill("input[name=password]", DEMO_PASSWORD)
    phone.click("form button[type=submit]")
    phone.wait_for_url("**/commander/")
    basket = phone.locator("[data-basket] form.add-form button")
    if basket.count():
        basket.first.click()
        phone.wait_for_load_state()
    offers = phone.locator("li[data-offer]").filter(has_not_text="pesée")
    for i in range(min(3, offers.count())):
        offers.nth(i).locator("form.add-form button").first.click()
        phone.wait_for_load_state()

    phone.goto(f"{url}/commander/panier/{cycle.pk}/")
    relays = phone.locator("input[name=relay]")
    assert relays.count() > 0
    offered = {relays.nth(i).get_attribute("value") for i in range(relays.count())}
    assert offered <= {
        str(pk)
        for pk in RelayPoint.objects.filter(territory=dunkerque).values_list("pk", flat=True)
    }
    relays.first.check()
    phone.click("text=Voir les créneaux")
    phone.locator("input[name=slot]:not([disabled])").first.check()
    methods = phone.locator("input[name=payment_method]")
    codes = {methods.nth(i).get_attribute("value") for i in range(methods.count())}
    assert "pickup" in codes
    assert not any("manne" in (code or "") for code in codes)
    assert not MANNE.search(phone.locator("main").inner_text())
    phone.check('input[name=payment_method][value="pickup"]')
    phone.screenshot(path=str(artifacts_dir / "territory-dunkerque-checkout.png"), full_page=True)
    phone.locator(".checkout-form button[type=submit]").click()
    phone.wait_for_url("**/commander/commandes/*/")
    phone.screenshot(path=str(artifacts_dir / "territory-dunkerque-order.png"), full_page=True)

    assert Order.objects.count() == orders_before + 1
    order = Order.objects.latest("pk")
    assert order.customer.email == "foyer-dunkerque@demo.test"
    assert order.status == OrderStatus.CONFIRMED
    assert order.cycle.territory_id == dunkerque.pk
    assert order.relay_point.territory_id == dunkerque.pk
