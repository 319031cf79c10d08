from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from marche.accounts.models import Role
from marche.cycles.models import Offer
from marche.cycles.services import stock_confirm, stock_hold
from tests.factories import OfferFactory, ProducerFactory, ProductFactory, UserFactory
from tests.marche.cycles.test_offer_save import NOW, Farm, farm  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def login(client, user) -> None:
    """Log in; the factory's password is set after its save, so it is saved first."""
    user.save()
    client.force_login(user)


@pytest.fixture
def shop(farm: Farm, client) -> Farm:  # noqa: F811
    """The farmer logged in; carrots on sale in the open cycle with 3 kg sold and 1.5 kg held."""
    offer = OfferFactory(
        cycle=farm.cycle,
        product=farm.carrots,
        unit_price=Decimal("2.50"),
        quantity_available=Decimal("10"),
    )
    stock_confirm(
        hold_id=stock_hold(offer_id=offer.pk, quantity=Decimal("3"), key="s", now=NOW).pk, now=NOW
    )
    stock_hold(offer_id=offer.pk, quantity=Decimal("1.5"), key="h", now=NOW)
    login(client, farm.farmer)
    return farm


def carrots(shop: Farm) -> tuple[object, ...]:
    offer = Offer.objects.get(cycle=shop.cycle, product=shop.carrots)
    return (
        offer.unit_price,
        offer.quantity_available,
        offer.quantity_held,
        offer.quantity_sold,
        offer.updated_at,
    )


def cycle_url(shop: Farm, name: str = "producers:cycle", *extra: int, cycle=None) -> str:
    return reverse(name, args=[shop.producer.pk, (cycle or shop.cycle).pk, *extra])


def edit_url(shop: Farm, product, cycle=None) -> str:
    return cycle_url(shop, "producers:offer_edit", product.pk, cycle=cycle)


def test_anonymous_visitors_are_sent_to_login(client) -> None:
    response = client.get("/producteur/")
    assert response.status_code == 302
    assert response["Location"] == "/compte/connexion/?next=/producteur/"


@pytest.mark.parametrize("role", [Role.HOUSEHOLD, Role.COORDINATOR, Role.FARMER])
def test_users_without_a_farmer_membership_are_refused(client, farm: Farm, role) -> None:  # noqa: F811
    user = UserFactory(role=role)
    login(client, user)
    assert client.get("/producteur/").status_code == 403
    assert client.get(cycle_url(farm)).status_code == 403
    response = client.post(
        edit_url(farm, farm.carrots), {"unit_price": "2.00", "quantity_available": "5"}
    )
    assert response.status_code == 403
    assert Offer.objects.count() == 0


def test_a_member_who_is_not_a_farmer_is_refused(client, farm: Farm) -> None:  # noqa: F811
    farm.farmer.role = Role.HOUSEHOLD
    farm.farmer.save(update_fields=["role"])
    login(client, farm.farmer)
    assert client.get("/producteur/").status_code == 403


def test_dashboard_lists_open_and_upcoming_cycles_only(
    shop: Farm, client, django_assert_num_queries
) -> None:
    # session, user, header territory, producers, cycles, and the header's site and section
    # pages (from the shared cache in production; the tests run with it off)
    with django_assert_num_queries(7):
        response = client.get("/producteur/")
    assert response.status_code == 200
    sections = response.context["sections"]
    assert [s["producer"] for s in sections] == [shop.producer]
    cycles = sections[0]["cycles"]
    assert [c.pk for c in cycles] == [shop.cycle.pk, shop.upcoming.pk]
    assert [c.producer_offer_count for c in cycles] == [1, 0]
    html = response.content.decode()
    assert "Ouvert aux commandes" in html
    assert "À venir" in html
    assert "Commandes du vendredi 20 novembre, 08:00 au mardi 1 décembre, 18:00" in html
    assert shop.closed.name not in html


def test_cycle_page_shows_each_product_with_held_sold_remaining(shop: Farm, client) -> None:
    ProductFactory(producer=shop.producer, name="Céleri", slug="celeri")
    response = client.get(cycle_url(shop))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["product"].slug for row in rows] == ["carottes", "celeri", "poireaux"]
    html = response.content.decode()
    assert '<dd data-stock="held">1,5 <span class="unit">kg</span></dd>' in html
    assert '<dd data-stock="sold">3 <span class="unit">kg</span></dd>' in html
    assert '<dd data-stock="remaining">5,5 <span class="unit">kg</span></dd>' in html
    # Text inputs for the French comma (a type=number field turned "2,80" into 280).
    assert (
        '<input type="text" name="unit_price" value="2,50" inputmode="decimal" '
        f'autocomplete="off" required id="id_p{shop.carrots.pk}_unit_price">'
    ) in html
    assert 'name="quantity_available" value="10" inputmode="decimal"' in html
    assert 'type="number"' not in html
    assert f'id="id_p{shop.leeks.pk}_quantity_available"' in html


def test_cycle_page_makes_a_constant_number_of_queries(shop: Farm, client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(cycle_url(shop))
    for n in range(5):
        product = ProductFactory(producer=shop.producer, slug=f"extra-{n}")
        OfferFactory(cycle=shop.cycle, product=product)
    with CaptureQueriesContext(connection) as many:
        client.get(cycle_url(shop))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_saving_a_quantity_from_the_inline_form(shop: Farm, client) -> None:
    response = client.post(
        edit_url(shop, shop.carrots), {"unit_price": "2,75", "quantity_available": "12.5"}
    )
    assert response.status_code == 302
    assert response["Location"] == cycle_url(shop) + f"#produit-{shop.carrots.pk}"
    assert carrots(shop)[:4] == (
        Decimal("2.75"),
        Decimal("12.500"),
        Decimal("1.500"),
        Decimal("3.000"),
    )
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == ["Offre enregistrée : Carottes."]


def test_on_demand_checkbox_publishes_without_limit(shop: Farm, client) -> None:
    response = client.post(
        edit_url(shop, shop.leeks),
        {"unit_price": "1.90", "quantity_available": "", "on_demand": "on"},
    )
    assert response.status_code == 302
    leeks = Offer.objects.get(product=shop.leeks)
    assert (leeks.cycle, leeks.unit_price, leeks.quantity_available) == (
        shop.cycle,
        Decimal("1.90"),
        None,
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"unit_price": "2.50", "quantity_available": "0"},
            "La quantité doit être au moins 0,001.",
        ),
        (
            {"unit_price": "2.50", "quantity_available": "-4"},
            "Un nombre négatif n&#x27;est pas accepté ici.",
        ),
        ({"unit_price": "0", "quantity_available": "4"}, "Le prix doit être au moins 0,01."),
        ({"unit_price": "2,5,0", "quantity_available": "4"}, "Le prix doit être un nombre"),
        ({"unit_price": "1e2", "quantity_available": "4"}, "Le prix doit être un nombre"),
        ({"unit_price": "2,555", "quantity_available": "4"}, "Le prix a 2 décimales au plus."),
        (
            {"unit_price": "2.50", "quantity_available": ""},
            "Indiquez la quantité disponible, ou cochez « À la demande ».",
        ),
        (
            {"unit_price": "2.50", "quantity_available": "4"},
            "La quantité ne peut pas être inférieure à 4,5, déjà réservé ou vendu dans ce cycle.",
        ),
    ],
)
def test_bad_input_shows_a_french_error_and_changes_nothing(
    shop: Farm, client, data, error
) -> None:
    before = carrots(shop)
    response = client.post(edit_url(shop, shop.carrots), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert carrots(shop) == before


def test_closed_cycle_is_read_only_and_refuses_changes(shop: Farm, client) -> None:
    offer = OfferFactory(cycle=shop.closed, product=shop.carrots, unit_price=Decimal("2.00"))
    page = client.get(cycle_url(shop, cycle=shop.closed))
    assert page.status_code == 200
    assert page.context["editable"] is False
    assert "Ce cycle est clos : ses offres ne peuvent plus changer." in page.content.decode()
    assert 'class="offer-form"' not in page.content.decode()

    response = client.post(
        edit_url(shop, shop.carrots, cycle=shop.closed),
        {"unit_price": "3.00", "quantity_available": "8"},
    )
    assert response.status_code == 400
    assert (
        '<p class="errors" role="alert">Ce cycle de commande est clos : '
        "ses offres ne peuvent plus changer.</p>"
    ) in response.content.decode()
    offer.refresh_from_db()
    assert (offer.unit_price, offer.quantity_available) == (Decimal("2.00"), Decimal("10.000"))


def test_another_producers_offers_are_out_of_reach(shop: Farm, client) -> None:
    neighbour = ProducerFactory(territory=shop.producer.territory)
    apples = ProductFactory(producer=neighbour, slug="pommes")
    their_offer = OfferFactory(cycle=shop.cycle, product=apples, unit_price=Decimal("3.00"))
    other_url = reverse("producers:cycle", args=[neighbour.pk, shop.cycle.pk])
    assert client.get(other_url).status_code == 403
    response = client.post(
        reverse("producers:offer_edit", args=[neighbour.pk, shop.cycle.pk, apples.pk]),
        {"unit_price": "9.99", "quantity_available": "1"},
    )
    assert response.status_code == 403
    # Their product under the farmer's own producer URL: not found.
    response = client.post(
        edit_url(shop, apples), {"unit_price": "9.99", "quantity_available": "1"}
    )
    assert response.status_code == 404
    response = client.post(cycle_url(shop, "producers:offer_withdraw", their_offer.pk))
    assert response.status_code == 404
    assert (
        client.get(
            reverse("producers:offers_export", args=[neighbour.pk, shop.cycle.pk])
        ).status_code
        == 403
    )
    their_offer.refresh_from_db()
    assert (their_offer.unit_price, their_offer.quantity_available) == (
        Decimal("3.00"),
        Decimal("10.000"),
    )


def test_withdraw_button_stops_selling(shop: Farm, client) -> None:
    offer = Offer.objects.get(product=shop.carrots)
    response = client.post(cycle_url(shop, "producers:offer_withdraw", offer.pk))
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.quantity_available, offer.quantity_remaining) == (
        Decimal("4.500"),
        Decimal("0.000"),
    )
    page = client.get(cycle_url(shop))
    assert [str(m) for m in page.context["messages"]] == ["Carottes est retiré de la vente."]


def test_csv_export_download(shop: Farm, client) -> None:
    response = client.get(cycle_url(shop, "producers:offers_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="offres-{shop.producer.slug}-2026-12-03.csv"'
    )
    assert response.content.decode("utf-8") == (
        "\ufeffproduit;nom;unité;prix;quantité;max par commande\r\n"
        "carottes;Carottes;kg;2,50;10;\r\n"
        "poireaux;Poireaux;kg;;;\r\n"
    )


def upload(content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("offres.csv", content.encode("utf-8"), content_type="text/csv")


def test_csv_import_applies_the_file(shop: Farm, client) -> None:
    content = "produit;nom;unité;prix;quantité\ncarottes;C;kg;2,60;20\npoireaux;P;kg;1,80;\n"
    response = client.post(cycle_url(shop, "producers:offers_import"), {"file": upload(content)})
    assert response.status_code == 302
    assert carrots(shop)[:2] == (Decimal("2.60"), Decimal("20.000"))
    leeks = Offer.objects.get(product=shop.leeks)
    assert (leeks.unit_price, leeks.quantity_available) == (Decimal("1.80"), None)
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == ["Import terminé : 2 offres enregistrées."]


def test_csv_import_with_errors_reports_them_and_changes_nothing(shop: Farm, client) -> None:
    before = carrots(shop)
    content = "produit;nom;unité;prix;quantité\ncarottes;C;kg;2,60;20\npoireaux;P;kg;1,80;-1\n"
    response = client.post(cycle_url(shop, "producers:offers_import"), {"file": upload(content)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Le fichier n'a pas été importé : aucune offre n'a changé." in html
    assert (
        "<li>Ligne 3 : quantité invalide « -1 » : un nombre positif (au plus 3 décimales), "
        "0 pour retirer de la vente, ou vide pour « à la demande ».</li>"
    ) in html
    assert carrots(shop) == before
    assert not Offer.objects.filter(product=shop.leeks).exists()


def test_csv_import_without_a_file_is_refused(shop: Farm, client) -> None:
    response = client.post(cycle_url(shop, "producers:offers_import"), {})
    assert response.status_code == 400
    assert "Choisissez le fichier CSV à importer." in response.content.decode()


def test_payout_account_link_only_when_card_payments_are_on(shop: Farm, client, settings) -> None:
    link = f'href="/paiements/connect/{shop.producer.pk}/"'
    assert link not in client.get("/producteur/").content.decode()
    settings.CARD_PAYMENTS_ENABLED = True
    assert link in client.get("/producteur/").content.decode()
