"""A farmer, on a 390 px wide phone: quantities, French prices, the unusual-price check,
the spreadsheet round trip and a withdrawal that takes the product out of the shop."""

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
    # Shown back the French way (a text field: "14.5" typed, "14,5" shown).
    assert card.locator("input[name=quantity_available]").input_value() == "14,5"
    carrots.refresh_from_db()
    assert (carrots.quantity_available, carrots.unit_price) == (Decimal("14.500"), Decimal("2.50"))

    # Nothing is wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts_dir / "farmer-cycle-phone.png"), full_page=True)


def _card(page, product_id: int):  # type: ignore[no-untyped-def]
    card = page.locator(f"#produit-{product_id}")
    card.wait_for()
    return card


def test_farmer_prices_spreadsheet_and_withdrawal_on_a_phone(
    phone, live_server, carrots: Offer, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    page = phone
    eggs = Offer.objects.get(product__slug="oeufs")
    page.goto(live_server.url + "/compte/connexion/?next=/producteur/")
    page.fill("input[name=username]", "paysanne@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/producteur/")
    page.locator(".cycle-card").first.get_by_role("link", name="Gérer mes offres").click()

    # "2,80" typed in a French browser is 2,80 €, not 280 €.
    card = _card(page, carrots.product_id)
    price = card.locator("input[name=unit_price]")
    assert price.get_attribute("type") == "text"
    assert price.get_attribute("inputmode") == "decimal"
    price.fill("2,80")
    card.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector("text=Offre enregistrée : Carottes des sables.")
    carrots.refresh_from_db()
    assert carrots.unit_price == Decimal("2.80")
    assert _card(page, carrots.product_id).locator("input[name=unit_price]").input_value() == (
        "2,80"
    )

    page.goto(live_server.url + "/commander/")
    shop_card = page.locator(f"#offre-{carrots.pk}")
    assert shop_card.locator(".price").inner_text() == "2,80 € / kg"
    assert page.locator(f"#offre-{eggs.pk}").count() == 1
    page.screenshot(path=str(artifacts_dir / "farmer-shop-price-phone.png"), full_page=True)
    page.go_back()

    # "280" is far from the usual price: warned, not saved, until confirmed.
    card = _card(page, carrots.product_id)
    card.locator("input[name=unit_price]").fill("280")
    card.get_by_role("button", name="Enregistrer").click()
    card = _card(page, carrots.product_id)
    warning = card.locator(".price-warning")
    warning.wait_for()
    assert warning.locator("p").first.inner_text() == (
        "Carottes des sables : 280,00 € est très loin du prix habituel (2,50 €). Vérifiez la "
        "virgule, puis cochez « Je confirme ce prix » pour l'enregistrer."
    )
    carrots.refresh_from_db()
    assert carrots.unit_price == Decimal("2.80")
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "farmer-price-warning-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    card.get_by_label("Je confirme ce prix").check()
    card.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector("text=Offre enregistrée : Carottes des sables.")
    carrots.refresh_from_db()
    assert carrots.unit_price == Decimal("280.00")
    # Back to the right price: close to the usual one, saved at once.
    card = _card(page, carrots.product_id)
    card.locator("input[name=unit_price]").fill("2,80")
    card.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector("text=Offre enregistrée : Carottes des sables.")
    carrots.refresh_from_db()
    assert carrots.unit_price == Decimal("2.80")

    # Export the spreadsheet, withdraw the eggs, import the spreadsheet back.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le fichier CSV").click()
    exported = artifacts_dir / "farmer-offres.csv"
    download_info.value.save_as(exported)
    assert exported.read_text(encoding="utf-8-sig").splitlines() == [
        "produit;nom;unité;prix;quantité;max par commande",
        "carottes;Carottes des sables;kg;2,80;10;",
        "oeufs;Œufs plein air;douzaine;4,20;;50",
        "poireaux;Poireaux;kg;;;",
    ]
    # Withdrawing takes two taps: the first only opens the confirmation.
    card = _card(page, eggs.product_id)
    card.locator("summary", has_text="Retirer de la vente").click()
    confirm = card.get_by_role("button", name="Oui, retirer de la vente")
    confirm.wait_for()
    eggs.refresh_from_db()
    assert eggs.withdrawn_at is None
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "farmer-withdraw-confirm-phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    confirm.click()
    page.wait_for_selector("text=Œufs plein air est retiré de la vente.")
    card = _card(page, eggs.product_id)
    assert card.locator(".badge").inner_text() == "Retiré de la vente"
    assert card.get_by_role("button", name="Remettre en vente").count() == 1

    page.set_input_files("input[name=file]", str(exported))
    page.get_by_role("button", name="Importer").click()
    page.wait_for_selector("text=Import terminé : 1 offre enregistrée.")
    assert page.get_by_text("« oeufs » est retiré de la vente : ligne ignorée.").count() == 1
    page.screenshot(path=str(artifacts_dir / "farmer-import-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    eggs.refresh_from_db()
    carrots.refresh_from_db()
    assert eggs.withdrawn_at is not None
    assert (carrots.unit_price, carrots.quantity_available) == (Decimal("2.80"), Decimal("10"))

    # The withdrawn eggs are not in the shop at all; the carrots are, at 2,80 €.
    page.goto(live_server.url + "/commander/")
    assert page.locator(f"#offre-{eggs.pk}").count() == 0
    assert page.get_by_text("Œufs plein air").count() == 0
    assert page.locator(f"#offre-{carrots.pk} .price").inner_text() == "2,80 € / kg"
    page.screenshot(path=str(artifacts_dir / "farmer-shop-after-withdrawal.png"), full_page=True)


def test_farmer_lands_on_the_import_errors_and_puts_a_product_back_on_sale(
    phone, live_server, carrots: Offer, artifacts_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    page = phone
    page.goto(live_server.url + "/compte/connexion/?next=/producteur/")
    page.fill("input[name=username]", "paysanne@example.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/producteur/")
    page.locator(".cycle-card").first.get_by_role("link", name="Gérer mes offres").click()

    # A refused file: the page that comes back shows its errors, not the top of the page.
    unusual = tmp_path / "offres.csv"
    unusual.write_text('produit,nom,unité,prix,quantité\ncarottes,C,kg,"250,00",10\n')
    page.set_input_files("input[name=file]", str(unusual))
    page.get_by_role("button", name="Importer").click()
    report = page.locator(".import-report")
    report.wait_for()
    assert page.url.endswith("/import/#import")
    box = report.bounding_box()
    assert box is not None and 0 <= box["y"] < PHONE["height"] / 2
    assert "cochez « Je confirme les prix inhabituels de ce fichier »" in report.inner_text()
    page.screenshot(path=str(artifacts_dir / "farmer-import-refused-phone.png"))
    carrots.refresh_from_db()
    assert carrots.unit_price == Decimal("2.50")
    # The box is named as in the message; ticked, the same file goes through.
    page.get_by_label("Je confirme les prix inhabituels de ce fichier").check()
    page.set_input_files("input[name=file]", str(unusual))
    page.get_by_role("button", name="Importer").click()
    page.wait_for_selector("text=Import terminé : 1 offre enregistrée.")
    assert page.evaluate("window.scrollY") == 0
    carrots.refresh_from_db()
    assert carrots.unit_price == Decimal("250.00")

    # Withdrawn, then back on sale with the quantity the farmer types.
    card = _card(page, carrots.product_id)
    card.locator("summary", has_text="Retirer de la vente").click()
    card.get_by_role("button", name="Oui, retirer de la vente").click()
    page.wait_for_selector("text=Carottes des sables est retiré de la vente.")
    card = _card(page, carrots.product_id)
    card.get_by_role("button", name="Remettre en vente").click()
    card = _card(page, carrots.product_id)
    error = card.locator(".errorlist")
    error.wait_for()
    assert error.inner_text() == (
        "Carottes des sables est retiré de la vente : pour le remettre en vente, indiquez la "
        "quantité disponible, ou cochez « À la demande »."
    )
    box = card.bounding_box()
    assert box is not None and box["y"] < PHONE["height"]  # the refused card is in view
    page.screenshot(path=str(artifacts_dir / "farmer-restore-refused-phone.png"))
    card.locator("input[name=quantity_available]").fill("8")
    card.get_by_role("button", name="Remettre en vente").click()
    page.wait_for_selector("text=Carottes des sables est remis en vente.")
    carrots.refresh_from_db()
    assert (carrots.withdrawn_at, carrots.quantity_available) == (None, Decimal("8.000"))
    assert _card(page, carrots.product_id).locator(".badge").inner_text() == "En vente"
