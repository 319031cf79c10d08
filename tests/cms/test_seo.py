"""SEO basics of the public site: sitemap, robots.txt, head tags and JSON-LD drawn from the DB."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from cms.models import CataloguePage, HomePage, ProducerPage, RelayPointPage
from marche.catalog.models import Product
from marche.cycles.models import Offer, OrderCycle
from marche.producers.models import Producer
from marche.relays.models import RelayPoint

pytestmark = pytest.mark.django_db


def html(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return response.content.decode()


def json_ld(body: str) -> list[dict]:
    return [
        json.loads(block)
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    ]


def meta(body: str, attribute: str, name: str) -> str:
    found = re.findall(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)"', body)
    assert len(found) == 1, (name, found)
    return unescape(found[0])


def canonical(body: str) -> str:
    found = re.findall(r'<link rel="canonical" href="([^"]*)"', body)
    assert len(found) == 1
    return found[0]


def sitemap_paths(client: Client) -> set[str]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    return {
        urlsplit(loc).path for loc in re.findall(r"<loc>([^<]+)</loc>", response.content.decode())
    }


def product_path(product_id: int) -> str:
    catalogue = CataloguePage.objects.live().get()
    return catalogue.url + catalogue.reverse_subpage("product", args=[product_id])


def open_cycle() -> OrderCycle:
    now = timezone.now()
    return OrderCycle.objects.get(opens_at__lte=now, closes_at__gt=now)


def test_sitemap_lists_every_live_page_and_every_product_page(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    paths = sitemap_paths(client)
    for page in HomePage.objects.live():
        assert page.url in paths
    for page in ProducerPage.objects.live():
        assert page.url in paths
    for page in RelayPointPage.objects.live():
        assert page.url in paths
    assert {"/catalogue/", "/la-manne/", "/producteurs/", "/points-relais/"} <= paths
    listed = Product.objects.filter(is_active=True, producer__is_active=True)
    assert listed.count() >= 5
    for product in listed:
        assert product_path(product.pk) in paths, product.name
    # Every address of the sitemap answers.
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_sitemap_leaves_out_withdrawn_producers_and_relay_points(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    producer = Producer.objects.get(slug="ferme-des-terrils")
    gone_page = ProducerPage.objects.get(producer=producer).url
    gone_products = [product_path(pk) for pk in producer.products.values_list("pk", flat=True)]
    producer.is_active = False
    producer.save()
    relay_page = RelayPointPage.objects.live().order_by("path").first()
    assert relay_page is not None
    RelayPoint.objects.filter(pk=relay_page.relay_point_id).update(is_active=False)
    paths = sitemap_paths(client)
    assert gone_page not in paths
    assert relay_page.url not in paths
    assert not set(gone_products) & paths


def test_robots_txt_points_to_the_sitemap(client: Client) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert "Disallow: /admin/" in lines


@pytest.mark.parametrize(
    "path", ["/", "/producteurs/", "/points-relais/", "/catalogue/", "/la-manne/"]
)
def test_every_page_has_title_description_canonical_and_sharing_tags(
    client: Client, demo, path: str
) -> None:  # type: ignore[no-untyped-def]
    body = html(client.get(path + "?bio=on" if path == "/catalogue/" else path))
    assert re.search(r"<title>[^<]+\S[^<]*</title>", body)
    description = meta(body, "name", "description")
    assert 20 <= len(description) <= 160
    assert canonical(body) == f"http://testserver{path}"  # the catalogue's filters left out
    assert meta(body, "property", "og:title")
    assert meta(body, "property", "og:description") == description
    assert meta(body, "property", "og:image") == "http://testserver/static/img/partage.png"
    assert meta(body, "property", "og:url") == f"http://testserver{path}"


def test_search_description_wins_over_the_fallback(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    page = ProducerPage.objects.get(producer__slug="ferme-des-terrils")
    fallback = meta(html(client.get(page.url)), "name", "description")
    assert fallback  # drawn from the producer's story or data
    page.search_description = "Légumes de plein champ au pied des terrils."
    page.save_revision().publish()
    body = html(client.get(page.url))
    assert meta(body, "name", "description") == "Légumes de plein champ au pied des terrils."


def test_home_declares_the_territory_market_as_an_organization(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    home = HomePage.objects.live().get()
    territory = home.get_territory()
    assert territory is not None
    (data,) = json_ld(html(client.get("/")))
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Organization"
    assert territory.name in data["name"]
    assert data["url"] == "http://testserver/"
    assert data["areaServed"]["name"] == territory.name


def test_product_page_has_product_and_offer_from_this_week(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    cycle = open_cycle()
    offer = (
        Offer.objects.filter(cycle=cycle, product__is_active=True, quantity_available__gt=0)
        .select_related("product__producer", "product__category")
        .order_by("pk")
        .first()
    )
    assert offer is not None
    path = product_path(offer.product_id)
    body = html(client.get(path))
    (data,) = json_ld(body)
    assert data["@type"] == "Product"
    assert data["name"] == offer.product.name
    assert data["brand"]["name"] == offer.product.producer.name
    assert data["category"] == offer.product.category.name
    assert data["url"] == f"http://testserver{path}"
    assert Decimal(data["offers"]["price"]) == offer.unit_price
    assert data["offers"]["priceCurrency"] == "EUR"
    assert data["offers"]["availability"] == "https://schema.org/InStock"
    assert meta(body, "property", "og:title") == offer.product.name
    assert canonical(body) == f"http://testserver{path}"

    # Sold out: the same offer says so.
    Offer.objects.filter(pk=offer.pk).update(
        quantity_available=F("quantity_held") + F("quantity_sold")
    )
    (data,) = json_ld(html(client.get(path)))
    assert data["offers"]["availability"] == "https://schema.org/OutOfStock"


def test_product_without_offer_this_week_has_no_offer(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    cycle = open_cycle()
    product = (
        Product.objects.filter(is_active=True, producer__is_active=True)
        .exclude(offers__cycle=cycle)
        .first()
    )
    if product is None:
        Offer.objects.filter(cycle=cycle, product__is_active=True).order_by("pk").first().delete()  # type: ignore[union-attr]
        product = (
            Product.objects.filter(is_active=True, producer__is_active=True)
            .exclude(offers__cycle=cycle)
            .first()
        )
    assert product is not None
    (data,) = json_ld(html(client.get(product_path(product.pk))))
    assert data["@type"] == "Product"
    assert "offers" not in data


def test_relay_point_page_is_a_local_business_with_geo_and_hours(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    page = RelayPointPage.objects.live().order_by("path").first()
    assert page is not None
    relay = page.relay_point
    assert relay is not None and relay.latitude is not None
    (data,) = json_ld(html(client.get(page.url)))
    assert data["@type"] == "LocalBusiness"
    assert data["name"] == relay.name
    assert data["address"]["postalCode"] == relay.postcode
    assert data["address"]["addressLocality"] == relay.city
    assert data["geo"]["latitude"] == pytest.approx(float(relay.latitude))
    assert data["geo"]["longitude"] == pytest.approx(float(relay.longitude))
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    expected = [
        (
            f"https://schema.org/{days[slot.weekday]}",
            slot.opens_at.strftime("%H:%M"),
            slot.closes_at.strftime("%H:%M"),
        )
        for slot in relay.opening_hours.order_by("weekday", "opens_at")
    ]
    assert expected
    assert [
        (spec["dayOfWeek"], spec["opens"], spec["closes"])
        for spec in data["openingHoursSpecification"]
    ] == expected


def test_json_ld_cannot_close_its_script_element(client: Client, demo) -> None:  # type: ignore[no-untyped-def]
    product = Product.objects.filter(is_active=True, producer__is_active=True).first()
    assert product is not None
    product.description = "Bon </script><script>alert(1)</script> & frais"
    product.save()
    body = html(client.get(product_path(product.pk)))
    (data,) = json_ld(body)
    assert data["description"] == product.description
    assert "<script>alert(1)" not in body
