"""The farmer's offer form: French numbers, the unusual-price confirmation, limits, import."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from marche.accounts.models import Role
from marche.catalog.models import Unit
from marche.cycles.models import Offer
from marche.cycles.selectors import cycle_list_open
from marche.cycles.services import offer_withdraw
from marche.producers.models import ProducerMembership
from marche.territories.selectors import territory_get_default
from tests.factories import ProductFactory, UserFactory
from tests.marche.cycles.test_offer_save import NOW, Farm, farm  # noqa: F401
from tests.marche.producers.test_dashboard import (  # noqa: F401
    carrots,
    cycle_url,
    edit_url,
    login,
    shop,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_french_price_is_saved_as_typed(frozen, shop: Farm, client) -> None:  # noqa: F811
    response = client.post(
        edit_url(shop, shop.carrots), {"unit_price": "2,80", "quantity_available": "12,5"}
    )
    assert response.status_code == 302
    assert carrots(shop)[:2] == (Decimal("2.80"), Decimal("12.500"))
    page = client.get(cycle_url(shop)).content.decode()
    # Shown back the French way, in a text field that no browser reinterprets.
    assert 'name="unit_price" value="2,80" inputmode="decimal"' in page
    assert 'name="quantity_available" value="12,5" inputmode="decimal"' in page


def test_an_unusual_price_asks_for_confirmation_then_saves(frozen, shop: Farm, client) -> None:  # noqa: F811
    before = carrots(shop)
    data = {"unit_price": "280", "quantity_available": "10"}
    response = client.post(edit_url(shop, shop.carrots), data)
    assert response.status_code == 400
    html = text(response)
    assert (
        '<div class="price-warning" role="alert"> <p>Carottes : 280,00 € est très loin du prix '
        "habituel (2,50 €). Vérifiez la virgule, puis cochez « Je confirme ce prix » pour "
        "l&#x27;enregistrer.</p>"
    ) in html
    assert f'name="confirm_price" id="id_p{shop.carrots.pk}_confirm_price"' in html
    assert "Offre enregistrée" not in html
    assert carrots(shop) == before

    response = client.post(edit_url(shop, shop.carrots), {**data, "confirm_price": "on"})
    assert response.status_code == 302
    assert carrots(shop)[0] == Decimal("280.00")


def test_bad_numbers_are_refused_in_french_and_change_nothing(frozen, shop: Farm, client) -> None:  # noqa: F811
    eggs = ProductFactory(producer=shop.producer, name="Œufs", slug="oeufs", unit=Unit.DOZEN)
    for product, data, message in (
        (eggs, {"unit_price": "2,50", "quantity_available": "1,5"}, "doit être un nombre entier"),
        (shop.carrots, {"unit_price": "2.8e1", "quantity_available": "4"}, "doit être un nombre"),
        (shop.carrots, {"unit_price": "²", "quantity_available": "4"}, "doit être un nombre"),
        (
            shop.carrots,
            {"unit_price": "2,50", "quantity_available": "9" * 5000},
            "La quantité est trop long(ue).",
        ),
        (
            shop.carrots,
            {
                "unit_price": "2,50",
                "quantity_available": "",
                "on_demand": "on",
                "max_per_order": "0",
            },
            "La quantité doit être au moins 0,001.",
        ),
    ):
        before = (carrots(shop), Offer.objects.count())
        response = client.post(edit_url(shop, product), data)
        assert response.status_code == 400
        assert message in response.content.decode()
        assert (carrots(shop), Offer.objects.count()) == before


def test_on_demand_with_a_maximum_per_order(frozen, shop: Farm, client) -> None:  # noqa: F811
    response = client.post(
        edit_url(shop, shop.leeks),
        {"unit_price": "1,90", "on_demand": "on", "max_per_order": "8,5"},
    )
    assert response.status_code == 302
    leeks = Offer.objects.get(product=shop.leeks)
    assert (leeks.quantity_available, leeks.max_per_order) == (None, Decimal("8.500"))
    page = text(client.get(cycle_url(shop)))
    assert "8,5 kg au plus par commande." in page
    assert 'name="max_per_order" value="8,5"' in page


def test_a_withdrawn_offer_shows_as_withdrawn_and_can_go_back_on_sale(
    frozen,
    shop: Farm,  # noqa: F811
    client,
) -> None:
    offer = Offer.objects.get(product=shop.carrots)
    client.post(cycle_url(shop, "producers:offer_withdraw", offer.pk))
    page = text(client.get(cycle_url(shop)))
    card = page[page.index(f'id="produit-{shop.carrots.pk}"') :]
    card = card[: card.index("</li>")]
    assert '<span class="badge off">Retiré de la vente</span>' in card
    assert "Retirer de la vente</button>" not in card
    assert 'name="quantity_available" inputmode="decimal"' in card  # empty: typed anew
    response = client.post(
        edit_url(shop, shop.carrots), {"unit_price": "2,50", "quantity_available": "20"}
    )
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.withdrawn_at, offer.quantity_available) == (None, Decimal("20.000"))


def upload(content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("offres.csv", content.encode("utf-8"), content_type="text/csv")


def test_import_with_an_unusual_price_offers_the_confirmation(frozen, shop: Farm, client) -> None:  # noqa: F811
    content = "produit;nom;unité;prix;quantité\ncarottes;C;kg;260;20\n"
    before = carrots(shop)
    response = client.post(cycle_url(shop, "producers:offers_import"), {"file": upload(content)})
    assert response.status_code == 400
    html = text(response)
    assert "Ligne 2 : Carottes : 260,00 € est très loin du prix habituel (2,50 €)." in html
    assert 'name="confirm_prices"' in html
    assert carrots(shop) == before
    response = client.post(
        cycle_url(shop, "producers:offers_import"),
        {"file": upload(content), "confirm_prices": "on"},
    )
    assert response.status_code == 302
    assert carrots(shop)[:2] == (Decimal("260.00"), Decimal("20.000"))


def test_import_of_many_errors_or_a_huge_cell_answers_a_page(frozen, shop: Farm, client) -> None:  # noqa: F811
    before = carrots(shop)
    content = "produit;nom;unité;prix;quantité\n" + "".join(
        f"inconnu-{n};X;kg;1;1\n" for n in range(20_000)
    )
    response = client.post(cycle_url(shop, "producers:offers_import"), {"file": upload(content)})
    assert response.status_code == 400
    html = text(response)
    assert html.count("produit inconnu") == 50
    assert '<li class="more-errors">et 19950 autres erreurs</li>' in html
    huge = "produit;nom;unité;prix;quantité\n" + "z" * 300_000 + ";n;kg;1;1\n"
    response = client.post(cycle_url(shop, "producers:offers_import"), {"file": upload(huge)})
    assert response.status_code == 400
    assert "Ligne 2 : ligne illisible (cellule trop longue ou guillemet non fermé)." in text(
        response
    )
    assert carrots(shop) == before


def test_withdrawn_product_is_absent_from_the_shop_and_the_home_page(client) -> None:
    call_command("load_demo", stdout=io.StringIO())
    territory = territory_get_default()
    assert territory is not None
    cycle = cycle_list_open(territory=territory, now=timezone.now()).first()
    assert cycle is not None
    # A product of the season that no composed basket contains.
    offer = (
        Offer.objects.select_related("product")
        .filter(cycle=cycle, basket_items__isnull=True)
        .order_by("product__slug")
        .first()
    )
    assert offer is not None
    farmer = UserFactory(role=Role.FARMER)
    ProducerMembership.objects.create(user=farmer, producer=offer.product.producer)
    home_before = text(client.get("/"))
    shop_before = text(client.get("/commander/"))
    assert f'id="offre-{offer.pk}"' in shop_before
    # Every live offer has a card on the home page, sold out or not.
    cards_before = home_before.count('<li class="card product')
    assert cards_before > 1
    assert f'id="offre-{offer.pk}"' in home_before

    offer_withdraw(user=farmer, offer_id=offer.pk)

    home = text(client.get("/"))
    shop_page = text(client.get("/commander/"))
    assert f'id="offre-{offer.pk}"' not in shop_page
    assert home.count('<li class="card product') == cards_before - 1
    assert f'id="offre-{offer.pk}"' not in home
