"""The public site's page tree: producers, relay points and products reachable, no broken link."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from cms.models import ProducerPage, RelayPointPage
from marche.catalog.models import Product
from marche.cycles.models import Offer, OrderCycle
from marche.producers.models import Producer
from marche.relays.models import RelayPoint

pytestmark = pytest.mark.django_db

SKIPPED = ("/static/", "/media/", "/admin/", "/django-admin/", "/documents/")


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.content.decode())


def crawl(client: Client) -> dict[str, int]:
    """Follow every internal link from the home page; the status of each address reached."""
    seen: dict[str, int] = {}
    todo = ["/"]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        for href in re.findall(r'href="([^"]*)"', response.content.decode()):
            href = href.replace("&amp;", "&")
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if parts.path.startswith(SKIPPED):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                todo.append(target)
    return seen


def open_cycle() -> OrderCycle:
    now = timezone.now()
    return OrderCycle.objects.get(opens_at__lte=now, closes_at__gt=now)


def test_a_crawl_from_home_reaches_every_producer_relay_point_and_product(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
) -> None:
    seen = crawl(client)
    broken = {url: status for url, status in seen.items() if status != 200}
    assert broken == {}
    for page in ProducerPage.objects.live():
        assert page.url in seen
    for page in RelayPointPage.objects.live():
        assert page.url in seen
    assert ProducerPage.objects.count() == Producer.objects.filter(is_active=True).count() == 5
    assert RelayPointPage.objects.count() == RelayPoint.objects.filter(is_active=True).count()
    for product in Product.objects.filter(is_active=True, producer__is_active=True):
        assert f"/catalogue/produit/{product.pk}/" in seen
    for section in ("/catalogue/", "/la-manne/", "/cantines/", "/questions/", "/mentions-legales/"):
        assert seen[section] == 200


def test_the_demo_tree_is_idempotent(demo) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command
    from wagtail.models import Page

    before = Page.objects.count()
    call_command("load_demo", stdout=__import__("io").StringIO())
    assert Page.objects.count() == before


def test_home_shows_the_open_cycle_offer_prices_and_stock_not_catalogue_prices(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
) -> None:
    cycle = open_cycle()
    offer = Offer.objects.filter(cycle=cycle, quantity_available__isnull=False).first()
    assert offer is not None
    offer.unit_price = Decimal("7.77")
    offer.quantity_available = offer.quantity_held + offer.quantity_sold + Decimal("3")
    offer.save()
    assert offer.product.unit_price != Decimal("7.77")
    page = text(client.get("/"))
    assert "commandes ouvertes jusqu'au" in page
    assert cycle.name in page
    card = re.search(rf'id="offre-{offer.pk}".*?</li>', page)
    assert card is not None
    assert "7,77 €" in card.group(0)
    assert "Reste 3 " in card.group(0)


def test_a_withdrawn_product_is_listed_nowhere(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    cycle = open_cycle()
    offer = Offer.objects.filter(cycle=cycle).select_related("product").first()
    assert offer is not None
    name = offer.product.name.replace("'", "&#x27;")
    assert name in text(client.get("/catalogue/"))
    offer.withdrawn_at = timezone.now()
    offer.save()
    assert name not in text(client.get("/"))
    assert name not in text(client.get("/catalogue/"))
    producer_page = ProducerPage.objects.get(producer=offer.product.producer)
    assert name not in text(client.get(producer_page.url))
    assert client.get(f"/catalogue/produit/{offer.product_id}/").status_code == 404


def test_home_without_open_cycle_says_when_the_next_opens(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    cycle = open_cycle()
    now = timezone.now()
    OrderCycle.objects.filter(pk=cycle.pk).update(
        opens_at=now + timezone.timedelta(days=2), closes_at=now + timezone.timedelta(days=4)
    )
    page = text(client.get("/"))
    assert "Prochaine ouverture le" in page
    assert 'id="produits"' not in page


def test_producer_page_shows_story_labels_and_live_offers(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    page = ProducerPage.objects.get(producer__slug="ferme-des-terrils")
    response = client.get(page.url)
    assert response.status_code == 200
    body = text(response)
    producer = page.producer
    assert producer is not None
    assert f"<h1>{producer.name}</h1>" in body.replace("&#x27;", "'")
    assert '<span class="badge bio">' in body
    cycle = open_cycle()
    for offer in Offer.objects.filter(
        cycle=cycle, product__producer=producer, withdrawn_at__isnull=True
    ):
        assert f"#offre-{offer.pk}" in body
        assert f"/catalogue/produit/{offer.product_id}/" in body
    assert '<meta name="description"' in body


def test_relay_point_page_lists_hours_and_next_pickups(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    page = RelayPointPage.objects.get(relay_point__slug="loos-bureau-de-poste")
    body = text(client.get(page.url))
    assert "Horaires d'ouverture" in body
    assert "Prochains retraits" in body
    cycle = open_cycle()
    assert cycle.name in body
    assert 'data-site-map="carte-relais-data"' in body


def test_relay_index_draws_a_map_and_lists_every_point(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    body = text(client.get("/points-relais/"))
    assert "vendor/leaflet/leaflet.js" in body
    data = re.search(r'<script id="carte-relais-data" type="application/json">(.*?)</script>', body)
    assert data is not None
    on_map = sorted(place["name"] for place in json.loads(data.group(1))["places"])
    relays = RelayPoint.objects.filter(is_active=True)
    assert on_map == sorted(relay.name for relay in relays)
    for relay in relays:
        assert f">{relay.name}</a>" in body  # also listed in the text


def test_manne_page_lists_where_mannes_are_accepted(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    body = text(client.get("/la-manne/"))
    accepting = Producer.objects.filter(accepts_local_currency=True, is_active=True)
    assert accepting.exists()
    for producer in accepting:
        assert f"<strong>{producer.name}</strong>".replace("'", "&#x27;") in body


def catalogue_count(client: Client, query: str) -> int:
    response = client.get(f"/catalogue/{query}")
    assert response.status_code == 200
    found = re.search(r'class="result-count" role="status">(\d+) produit', text(response))
    assert found is not None
    return int(found.group(1))


def test_catalogue_filters_and_search(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    listed = Product.objects.filter(is_active=True, producer__is_active=True)
    assert catalogue_count(client, "") == listed.count() == 20
    product = Product.objects.get(slug="soupe-legumes")
    assert (
        catalogue_count(client, f"?categorie={product.category.slug}")
        == listed.filter(category=product.category).count()
    )
    assert (
        catalogue_count(client, f"?producteur={product.producer.slug}")
        == listed.filter(producer=product.producer).count()
    )
    assert catalogue_count(client, "?bio=on") == 11
    in_stock = catalogue_count(client, "?en_stock=on")
    assert 0 < in_stock <= 20
    body = text(client.get("/catalogue/?q=soupe"))
    assert f"/catalogue/produit/{product.pk}/" in body
    assert catalogue_count(client, "?q=soupe") >= 1
    assert catalogue_count(client, "?q=zzzzqqqq") == 0


def test_catalogue_in_stock_leaves_out_a_sold_out_offer(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    offer = Offer.objects.filter(cycle=open_cycle(), withdrawn_at__isnull=True).first()
    assert offer is not None
    before = catalogue_count(client, "?en_stock=on")
    offer.quantity_available = offer.quantity_held + offer.quantity_sold
    offer.save()
    assert catalogue_count(client, "?en_stock=on") == before - 1


@pytest.mark.parametrize(
    "query",
    [
        "?categorie=nope&producteur=personne&bio=peut-etre&en_stock=2",
        "?q=%00%00",
        "?q=" + "a" * 5000,
        "?categorie[]=1&producteur=%FF",
        "?q=%27%22%3Cscript%3E",
        "?q=&&&",
    ],
)
def test_catalogue_bad_params_give_a_clean_page(client: Client, demo, query: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/catalogue/{query}")
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("<main", 1)[1]


def test_unknown_product_is_404(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/catalogue/produit/999999/").status_code == 404
    assert client.get("/catalogue/produit/abc/").status_code == 404


def test_query_counts_do_not_grow_with_products(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    producer_page = ProducerPage.objects.get(producer__slug="ferme-des-terrils")
    urls = ["/", producer_page.url, "/catalogue/", "/catalogue/?bio=on&en_stock=on&q=pommes"]
    for url in urls:
        client.get(url)  # warm the site root and locale caches
    baseline = {}
    for url in urls:
        with django_assert_max_num_queries(25) as counted:
            client.get(url)
        baseline[url] = len(counted.captured_queries)
    cycle = open_cycle()
    offer = Offer.objects.filter(cycle=cycle, product__producer=producer_page.producer).first()
    assert offer is not None
    product, certification = offer.product, offer.product.certifications.first()
    for index in range(5):
        clone = Product.objects.get(pk=product.pk)
        clone.pk = None
        clone.slug = f"copie-{index}"
        clone.name = f"Pommes copie {index}"
        clone.save()
        if certification is not None:
            certification.pk = None
            certification.product = clone
            certification.save()
        Offer.objects.create(
            cycle=cycle, product=clone, unit_price=Decimal("2.00"), quantity_available=10
        )
    for url in urls:
        with django_assert_max_num_queries(baseline[url]):
            response = client.get(url)
        assert "Pommes copie 4" in text(response)
