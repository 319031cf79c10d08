from __future__ import annotations

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image
from wagtail.models import Site

from cms.models import HomePage
from marche.catalog.models import Product, ProductPhoto
from marche.producers.models import Producer
from marche.relays.models import RelayOpeningHours, RelayPoint

pytestmark = pytest.mark.django_db


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_default_site_root_is_a_home_page() -> None:
    root = Site.objects.get(is_default_site=True).root_page.specific
    assert isinstance(root, HomePage)


def test_home_page_without_territory_says_what_to_do(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Aucun territoire n'est encore configuré" in text(response)


def test_home_page_lists_every_producer_and_relay_point_in_french(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 200
    page = text(response)
    assert '<html lang="fr">' in page
    assert "Marché local de Loos-en-Gohelle" in page
    assert "Nos producteurs" in page and "Points relais" in page
    for name in Producer.objects.values_list("name", flat=True):
        assert name.replace("'", "&#x27;") in page
    for name in RelayPoint.objects.values_list("name", flat=True):
        assert name in page
    assert "Jeudi 16h00–19h00" in page
    assert page.count('class="pin relay"') == 10
    assert page.count('class="pin producer"') == 5
    assert "accepte les mannes" in page
    assert "Paiement par carte non configuré." in page


def test_home_page_in_english(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/en/")
    assert response.status_code == 200
    page = text(response)
    assert '<html lang="en">' in page
    assert "Our producers" in page and "Relay points" in page
    assert "Thursday 16h00–19h00" in page


def test_home_page_query_count_does_not_grow_with_relays(
    client: Client,
    demo,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    client.get("/")  # warm caches (site root, locales)
    with django_assert_max_num_queries(12) as baseline:
        client.get("/")
    relay = RelayPoint.objects.first()
    assert relay is not None
    for index in range(5):
        clone = RelayPoint.objects.get(pk=relay.pk)
        clone.pk = None
        clone.slug = f"copie-{index}"
        clone.save()
        RelayOpeningHours.objects.create(
            relay_point=clone, weekday=4, opens_at="17:00", closes_at="18:00"
        )
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = client.get("/")
    assert text(response).count('class="relay"') == 15


def test_load_demo_rebuilds_a_missing_site_root(client: Client) -> None:
    from django.core.management import call_command
    from wagtail.models import Page

    Site.objects.all().delete()
    Page.objects.filter(depth__gt=1).delete()
    call_command("load_demo", stdout=io.StringIO())
    site = Site.objects.get(is_default_site=True)
    assert isinstance(site.root_page.specific, HomePage)
    assert client.get("/").status_code == 200
    assert HomePage.objects.count() == 1


def test_home_page_lists_products_with_labels_allergens_and_photo(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    soup = Product.objects.get(slug="soupe-legumes")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "orange").save(buffer, format="PNG")
    ProductPhoto.objects.create(
        product=soup,
        image=ContentFile(buffer.getvalue(), name="soupe.png"),
        alt_text="Bouteille de soupe orange",
    )
    page = text(client.get("/"))
    assert "Nos produits" in page
    assert page.count('class="card product"') == 20
    # 11 products of the three Bioloos farms; the micro-farm's HVE certificate has expired.
    assert page.count('class="badge bio"') == 11
    assert page.count('<span class="badge label">Fermier</span>') == 1
    assert "Haute valeur environnementale" not in page
    assert "Allergènes : Céleri" in page
    assert "Allergènes : Céréales contenant du gluten" in page
    assert "2,90 € le kg · pièce d'environ 1,2 kg, pesée à la préparation" in page
    assert "2,20 € / kg" in page
    assert "origine France (Hulluch)" in page
    assert re.search(
        r'<img src="/media/produits/\d{4}/soupe[^"]*\.png" alt="Bouteille de soupe orange"', page
    )


def test_home_page_query_count_does_not_grow_with_products(
    client: Client,
    demo,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    client.get("/")
    with django_assert_max_num_queries(15) as baseline:
        client.get("/")
    product = Product.objects.get(slug="pommes-de-terre")
    certification = product.certifications.get()
    for index in range(5):
        clone = Product.objects.get(pk=product.pk)
        clone.pk = None
        clone.slug = f"copie-{index}"
        clone.save()
        certification.pk = None
        certification.product = clone
        certification.save()
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = client.get("/")
    assert text(response).count('class="badge bio"') == 16
