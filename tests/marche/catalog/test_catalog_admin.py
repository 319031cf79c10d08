"""Coordinator screens: products with their variants, labels and photos; composed baskets."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from marche.catalog.models import EgalimLabel, Product, ProductCertification
from tests.factories import BasketFactory, OfferFactory, OrderCycleFactory, ProductFactory

pytestmark = pytest.mark.django_db


def options(html: str, name: str) -> list[str]:
    """The option labels of the first select named ``name`` in a page."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, name
    return re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', select.group(1))


def test_product_change_page_has_variant_certification_and_photo_inlines(
    admin_client: Client,
) -> None:
    product = ProductFactory(name="Pommes de terre")
    response = admin_client.get(f"/django-admin/catalog/product/{product.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    for prefix in ("variants", "certifications", "photos"):
        assert f'name="{prefix}-TOTAL_FORMS"' in html
    assert 'name="allergens" value="celery"' in html


def test_the_product_admin_saves_allergens_in_regulation_order(admin_client: Client) -> None:
    product = ProductFactory(name="Soupe")
    url = f"/django-admin/catalog/product/{product.pk}/change/"
    data = {
        "producer": product.producer_id,
        "category": product.category_id,
        "name": "Soupe",
        "slug": product.slug,
        "family": product.family,
        "unit": "litre",
        "unit_price": "5.50",
        "vat_rate": "5.50",
        "allergens": ["mustard", "celery"],
        "origin": "FRANCE",
        "origin_detail": "Loos-en-Gohelle",
        "season_months": "[]",
        "wholesale_minimum": "1",
        "is_active": "on",
    }
    for prefix in ("variants", "certifications", "photos"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    data |= {
        "certifications-TOTAL_FORMS": "1",
        "certifications-0-label": "BIO",
        "certifications-0-certificate_reference": "FR-BIO-01 123",
        "certifications-0-certifier": "Organisme",
        "certifications-0-valid_from": "2026-01-01",
        "certifications-0-valid_until": "2026-12-31",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    product.refresh_from_db()
    assert (product.allergens, product.unit) == (["celery", "mustard"], "litre")
    assert list(product.certifications.values_list("label", "valid_until")) == [
        ("BIO", date(2026, 12, 31))
    ]


def test_product_list_shows_todays_labels_and_filters_organic(admin_client: Client) -> None:
    organic = ProductFactory(name="Carottes")
    ProductFactory(name="Navets")
    ProductCertification.objects.create(
        product=organic,
        label=EgalimLabel.BIO,
        certificate_reference="FR-BIO-01 1",
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    with time_machine.travel(date(2026, 6, 1)):
        page = admin_client.get("/django-admin/catalog/product/").content.decode()
        organic_only = admin_client.get("/django-admin/catalog/product/?bio=oui").content.decode()
        others = admin_client.get("/django-admin/catalog/product/?bio=non").content.decode()
    assert "Agriculture biologique" in page
    assert "Carottes" in organic_only and "Navets" not in organic_only
    assert "Navets" in others and "Carottes" not in others
    assert Product.objects.count() == 2


def test_basket_content_is_chosen_among_its_own_cycle_offers(admin_client: Client) -> None:
    basket = BasketFactory(name="Panier légumes")
    OfferFactory(cycle=basket.cycle, product=ProductFactory(name="Carottes"))
    OfferFactory(cycle=basket.cycle, product=ProductFactory(name="Poireaux"))
    OfferFactory(cycle=OrderCycleFactory(), product=ProductFactory(name="Navets"))
    response = admin_client.get(f"/django-admin/cycles/basket/{basket.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert [label.split(" — ")[0] for label in options(html, "items-__prefix__-offer")] == [
        "Carottes",
        "Poireaux",
    ]


def test_an_offer_of_another_cycle_is_refused_in_a_basket(admin_client: Client) -> None:
    basket = BasketFactory(name="Panier légumes", price=Decimal("15.00"))
    elsewhere = OfferFactory(cycle=OrderCycleFactory(), product=ProductFactory(name="Navets"))
    data = {
        "name": "Panier légumes",
        "description": "",
        "price": "15.00",
        "solidarity_price": "7.50",
        "vat_rate": "5.50",
        "is_active": "on",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-offer": str(elsewhere.pk),
        "items-0-quantity": "1",
    }
    response = admin_client.post(f"/django-admin/cycles/basket/{basket.pk}/change/", data)
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert basket.items.count() == 0


def test_schedule_and_new_basket_pages_open(admin_client: Client) -> None:
    assert admin_client.get("/django-admin/cycles/cycleschedule/add/").status_code == 200
    assert admin_client.get("/django-admin/cycles/cycleschedule/").status_code == 200
    response = admin_client.get("/django-admin/cycles/basket/add/")
    assert response.status_code == 200
    assert "Enregistrez le panier pour choisir son contenu" in response.content.decode()
