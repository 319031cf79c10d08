"""A farmer, on a 390 px wide phone, logs in and changes the quantity of an offer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from marche.accounts.models import Role, User
from marche.catalog.models import Unit
from marche.cycles.models import Offer
from marche.cycles.services import stock_hold
from marche.producers.models import ProducerMembership
from tests.factories import (
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    TerritoryFactory,
)

# serialized_rollback: the live server needs the rows migrations create (site, home page).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
PASSWORD = "un-mot-de-passe-long"


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def carrots(db: None) -> Offer:
    territory = TerritoryFactory(name="Loos-en-Gohelle", slug="loos-en-gohelle")
    producer = ProducerFactory(territory=territory, name="Ferme du Marais", slug="marais")
    farmer = User.objects.create_user("paysanne@example.test", PASSWORD, role=Role.FARMER)
    farmer.first_name = "Jeanne"
    farmer.save()
    ProducerMembership.objects.create(producer=producer, user=farmer)
    now = timezone.now()
    cycle = OrderCycleFactory(
        territory=territory,
        name="Livraison du jeudi",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=3),
        delivery_date=(now + timedelta(days=4)).date(),
    )
    OrderCycleFactory(
        territory=territory,
        name="Livraison de la semaine suivante",
        opens_at=now + timedelta(days=6),
        closes_at=now + timedelta(days=10),
        delivery_date=(now + timedelta(days=11)).date(),
    )
    offer = OfferFactory(
        cycle=cycle,
        product=ProductFactory(producer=producer, name="Carottes des sables", slug="carottes"),
        unit_price=Decimal("2.50"),
        quantity_available=Decimal("10"),
    )
    OfferFactory(
        cycle=cycle,
        product=ProductFactory(
            producer=producer, name="Œufs plein air", slug="oeufs", unit=Unit.DOZEN
        ),
        unit_price=Decimal("4.20"),
        quantity_available=None,
    )
    ProductFactory(producer=producer, name="Poireaux", slug="poireaux")
    stock_hold(offer_id=offer.pk, quantity=Decimal("2"), key="panier-1")
    return offer


def test_farmer_changes_a_quantity_on_a_phone(
    phone, live_server, carrots: Offer, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    page = phone
    page.goto(live_server.url + "/compte/connexion/?next=/producteur/")
    page.fill("input[name=username]", "paysanne@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/producteur/")
    assert page.locator("h1").inner_text() == "Espace producteur"
    assert page.locator(".cycle-card").count() == 2
    page.screenshot(path=str(artifacts_dir / "farmer-dashboard-phone.png"), full_page=True)

    page.locator(".cycle-card").first.get_by_role("link", name="Gérer mes offres").click()
    card = page.locator(f"#produit-{carrots.product_id}")
    card.wait_for()
    assert card.locator("[data-stock=held]").inner_text() == "2 kg"
    assert card.locator("[data-stock=remaining]").inner_text() == "8 kg"

    # Below what is already held: refused in French, nothing saved.
    card.locator("input[name=quantity_available]").fill("1")
    card.get_by_role("button", name="Enregistrer").click()
    card = page.locator(f"#produit-{carrots.product_id}")
    assert card.locator("[role=alert]").inner_text() == (
        "La quantité ne peut pas être inférieure à 2, déjà réservé ou vendu dans ce cycle."
    )
    carrots.refresh_from_db()
    assert carrots.quantity_available == Decimal("10.000")

    card.locator("input[name=quantity_available]").fill("14.5")
    card.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector("text=Offre enregistrée : Carottes des sables.")
    card = page.locator(f"#produit-{carrots.product_id}")
    assert card.locator("[data-stock=remaining]").inner_text() == "12,5 kg"
    assert card.locator("input[name=quantity_available]").input_value() == "14.5"
    carrots.refresh_from_db()
    assert (carrots.quantity_available, carrots.unit_price) == (Decimal("14.500"), Decimal("2.50"))

    # Nothing is wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts_dir / "farmer-cycle-phone.png"), full_page=True)
