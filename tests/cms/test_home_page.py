from __future__ import annotations

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from PIL import Image
from wagtail.models import Site

from cms.models import HomePage
from marche.catalog.models import Product, ProductPhoto
from marche.cycles.models import Offer
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
    with django_assert_max_num_queries(25) as baseline:
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


def test_home_page_lists_this_weeks_offers_with_labels_allergens_and_photo(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
) -> None:
    soup = Product.objects.get(slug="soupe-legumes")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "orange").save(buffer, format="PNG")
    ProductPhoto.objects.create(
        product=soup,
        image=ContentFile(buffer.getvalue(), name="soupe.png"),
        alt_text="Bouteille de soupe orange",
    )
    now = timezone.now()
    live = Offer.objects.filter(
        cycle__opens_at__lte=now,
        cycle__closes_at__gt=now,
        withdrawn_at__isnull=True,
        product__is_active=True,
    ).select_related("product")
    page = text(client.get("/"))
    assert "Cette semaine" in page
    assert page.count('class="card product') == live.count() > 0
    organic = [offer for offer in live if offer.product.is_organic]
    assert page.count('class="badge bio"') == len(organic)
    # The micro-farm's HVE certificate has expired.
    assert "Haute valeur environnementale" not in page
    assert "Allergènes : Céleri" in page
    for offer in live:
        assert f"#offre-{offer.pk}" in page
    if live.filter(product=soup).exists():
        assert re.search(
            r'<img src="/media/produits/\d{4}/soupe[^"]*\.png" alt="Bouteille de soupe orange"',
            page,
        )
