"""A product's card on the farmer's cycle page: units, withdrawal and going back on sale,
and landing on the errors of a refused CSV import."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from marche.catalog.models import Unit
from marche.cycles.models import Offer
from marche.cycles.services import stock_confirm, stock_hold
from tests.factories import OfferFactory, ProductFactory
from tests.marche.cycles.test_offer_save import NOW, Farm, farm  # noqa: F401
from tests.marche.producers.test_dashboard import (  # noqa: F401
    carrots,
    cycle_url,
    edit_url,
    shop,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.content.decode())


def card(html: str, product) -> str:  # type: ignore[no-untyped-def]
    """The card of one product in the cycle page."""
    start = html[html.index(f'id="produit-{product.pk}"') :]
    return start[: start.index("</li>")]


@pytest.fixture
def pumpkins(shop: Farm):  # type: ignore[no-untyped-def]  # noqa: F811
    """A variable-weight product: counted in pieces, priced per kg, about 1,2 kg a piece."""
    product = ProductFactory(
        producer=shop.producer,
        name="Potimarron",
        slug="potimarron",
        unit=Unit.PIECE,
        unit_price=Decimal("2.90"),
        is_variable_weight=True,
        estimated_weight_kg=Decimal("1.200"),
    )
    offer = OfferFactory(
        cycle=shop.cycle,
        product=product,
        unit_price=Decimal("2.90"),
        quantity_available=Decimal("30"),
    )
    stock_confirm(
        hold_id=stock_hold(offer_id=offer.pk, quantity=Decimal("1"), key="p", now=NOW).pk, now=NOW
    )
    return product


def test_a_variable_weight_product_is_priced_per_kg_and_counted_in_pieces(
    shop: Farm,  # noqa: F811
    pumpkins,
    client,
) -> None:
    html = text(client.get(cycle_url(shop)))
    pumpkin = card(html, pumpkins)
    assert f'<label for="id_p{pumpkins.pk}_unit_price">Prix (€ / kg)</label>' in pumpkin
    assert f'<label for="id_p{pumpkins.pk}_quantity_available">Quantité (pièces)</label>' in pumpkin
    assert (
        "Poids variable : prix au kg, quantités en pièces (environ 1,2 kg la pièce). "
        "Le client paie le poids pesé."
    ) in pumpkin
    assert "pièce)</label>" not in pumpkin
    # Units agree with their number: 1 sold, 29 left, none held.
    assert '<dd data-stock="held">0 <span class="unit">pièces</span></dd>' in pumpkin
    assert '<dd data-stock="sold">1 <span class="unit">pièce</span></dd>' in pumpkin
    assert '<dd data-stock="remaining">29 <span class="unit">pièces</span></dd>' in pumpkin
    # A product sold by the kg keeps its own unit.
    carrot = card(html, shop.carrots)
    assert f'<label for="id_p{shop.carrots.pk}_unit_price">Prix (€ / kg)</label>' in carrot
    assert "Poids variable" not in carrot


def test_a_closed_cycle_shows_a_variable_weight_price_per_kg(shop: Farm, pumpkins, client) -> None:  # noqa: F811
    OfferFactory(
        cycle=shop.closed, product=pumpkins, unit_price=Decimal("2.90"), quantity_available=None
    )
    html = text(client.get(cycle_url(shop, cycle=shop.closed)))
    assert '<p class="meta">2,90 € / kg</p>' in card(html, pumpkins)


def test_on_demand_maximum_and_labels_use_the_plural(shop: Farm, client) -> None:  # noqa: F811
    eggs = ProductFactory(producer=shop.producer, name="Œufs", slug="oeufs", unit=Unit.DOZEN)
    OfferFactory(
        cycle=shop.cycle,
        product=eggs,
        unit_price=Decimal("4.20"),
        quantity_available=None,
        max_per_order=Decimal("3"),
    )
    egg_card = card(text(client.get(cycle_url(shop))), eggs)
    assert '<p class="meta" data-max-per-order>3 douzaines au plus par commande.</p>' in egg_card
    assert f'for="id_p{eggs.pk}_max_per_order">Maximum par commande (douzaines)</label>' in egg_card
    assert "Prix (€ / douzaine)" in egg_card


def test_withdrawing_asks_for_confirmation_first(shop: Farm, client) -> None:  # noqa: F811
    offer = Offer.objects.get(product=shop.carrots)
    carrot = card(text(client.get(cycle_url(shop))), shop.carrots)
    # The first tap opens a confirmation (a <details>, no JavaScript needed); only its
    # button posts.
    assert (
        '<details class="withdraw"> <summary class="link-action">Retirer de la vente</summary>'
    ) in carrot
    confirmation = carrot[carrot.index('<details class="withdraw">') :]
    assert (
        f'action="/producteur/{shop.producer.pk}/cycles/{shop.cycle.pk}/offres/{offer.pk}/retirer/"'
        in confirmation
    )
    assert (
        "Retirer Carottes de la vente ? Il quitte la boutique ; ce qui est déjà réservé ou "
        "vendu reste à livrer. Vous pourrez le remettre en vente."
    ) in confirmation
    assert '<button type="submit" class="button danger">Oui, retirer de la vente</button>' in (
        confirmation
    )
    # The summary is no submit button: nothing is withdrawn by opening it.
    assert '<button type="submit" class="link-action">' not in carrot
    offer.refresh_from_db()
    assert offer.withdrawn_at is None


def test_a_withdrawn_offer_goes_back_on_sale_with_the_quantity_typed(shop: Farm, client) -> None:  # noqa: F811
    offer = Offer.objects.get(product=shop.carrots)
    client.post(cycle_url(shop, "producers:offer_withdraw", offer.pk))
    carrot = card(text(client.get(cycle_url(shop))), shop.carrots)
    assert (
        "Ce produit est retiré de la vente. Pour le remettre en vente, indiquez la quantité "
        "disponible (ou cochez « À la demande »)."
    ) in carrot
    assert '<button type="submit" class="button">Remettre en vente</button>' in carrot
    assert "<details" not in carrot  # nothing to withdraw any more

    response = client.post(
        edit_url(shop, shop.carrots), {"unit_price": "2,50", "quantity_available": "12"}
    )
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.withdrawn_at, offer.quantity_available, offer.quantity_remaining) == (
        None,
        Decimal("12.000"),
        Decimal("7.500"),
    )
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == ["Carottes est remis en vente."]


def test_saving_a_withdrawn_offer_without_quantity_says_how_to_restore_it(
    shop: Farm,  # noqa: F811
    client,
) -> None:
    offer = Offer.objects.get(product=shop.carrots)
    client.post(cycle_url(shop, "producers:offer_withdraw", offer.pk))
    before = carrots(shop)
    response = client.post(
        edit_url(shop, shop.carrots), {"unit_price": "2,50", "quantity_available": ""}
    )
    assert response.status_code == 400
    assert (
        "Carottes est retiré de la vente : pour le remettre en vente, indiquez la quantité "
        "disponible, ou cochez « À la demande »."
    ) in text(response)
    assert carrots(shop) == before
    offer.refresh_from_db()
    assert offer.withdrawn_at is not None


def test_a_refused_offer_form_comes_back_on_its_card(shop: Farm, client) -> None:  # noqa: F811
    html = text(client.get(cycle_url(shop)))
    assert f'action="{edit_url(shop, shop.leeks)}#produit-{shop.leeks.pk}" novalidate>' in html


def upload(content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("offres.csv", content.encode("utf-8"), content_type="text/csv")


def test_a_refused_import_lands_on_its_errors_naming_the_box_as_labelled(
    shop: Farm,  # noqa: F811
    client,
) -> None:
    import_url = cycle_url(shop, "producers:offers_import")
    before = carrots(shop)
    response = client.post(
        import_url, {"file": upload("produit;nom;unité;prix;quantité\ncarottes;C;kg;260;20\n")}
    )
    assert response.status_code == 400
    html = text(response)
    # The form posts to its own anchor: the page that comes back opens on the error summary.
    form = html[html.index(f'action="{import_url}#import"') :]
    assert form.startswith(f'action="{import_url}#import" id="import" class="import-form">')
    assert form.index('<div class="errors import-report" role="alert">') < form.index('name="file"')
    assert (
        "Ligne 2 : Carottes : 260,00 € est très loin du prix habituel (2,50 €). Vérifiez la "
        "virgule, puis cochez « Je confirme les prix inhabituels de ce fichier » pour "
        "l&#x27;enregistrer."
    ) in html
    assert "Je confirme les prix inhabituels de ce fichier</label>" in html
    assert "« Je confirme ce prix »" not in html
    assert carrots(shop) == before


def test_a_successful_import_goes_back_to_the_top_with_its_message(shop: Farm, client) -> None:  # noqa: F811
    content = "produit;nom;unité;prix;quantité\ncarottes;C;kg;2,60;20\npoireaux;P;kg;1,80;0\n"
    response = client.post(cycle_url(shop, "producers:offers_import"), {"file": upload(content)})
    assert response.status_code == 302
    # Not the form's "#import", which a redirect without a fragment would inherit.
    assert response["Location"] == cycle_url(shop) + "#top"
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == ["Import terminé : 1 offre enregistrée."]


def test_import_summary_counts_withdrawals_in_the_plural(shop: Farm, client) -> None:  # noqa: F811
    OfferFactory(cycle=shop.cycle, product=shop.leeks, unit_price=Decimal("1.80"))
    content = "produit;nom;unité;prix;quantité\ncarottes;C;kg;2,50;0\npoireaux;P;kg;1,80;0\n"
    response = client.post(cycle_url(shop, "producers:offers_import"), {"file": upload(content)})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == [
        "Import terminé : 0 offres enregistrées. 2 retirées de la vente."
    ]
