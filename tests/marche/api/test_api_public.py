from __future__ import annotations

from decimal import Decimal

import pytest

from marche.catalog.models import ProductFamily
from tests.factories import (
    BasketFactory,
    BasketItemFactory,
    CategoryFactory,
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    ProductVariantFactory,
)
from tests.marche.api.conftest import Api

pytestmark = pytest.mark.django_db


def test_docs_page_and_schema_list_every_path(public) -> None:
    docs = public.get("/docs")
    assert docs.status_code == 200
    # Swagger UI is served from our static files: nothing is fetched from a CDN.
    assert "/static/ninja/swagger-ui-bundle.js" in docs.content.decode()
    assert "cdn" not in docs.content.decode().lower()
    schema = public.get("/openapi.json").json()
    assert schema["info"]["version"] == "1"
    assert set(schema["paths"]) == {
        "/api/v1/producers",
        "/api/v1/products",
        "/api/v1/cycles",
        "/api/v1/cycles/{cycle_id}/offers",
        "/api/v1/cycles/{cycle_id}/baskets",
        "/api/v1/relay-points/{relay_point_id}/slots",
        "/api/v1/me/offers",
        "/api/v1/me/offers/{offer_id}",
        "/api/v1/me/cart",
        "/api/v1/me/orders",
        "/api/v1/me/orders/{reference}",
        "/api/v1/me/orders/{reference}/cancel",
        "/api/v1/logistique/tournees/{route_id}",
        "/api/v1/logistique/tournees/{route_id}/depart",
        "/api/v1/logistique/etapes/{stop_id}/pointage",
        "/api/v1/logistique/plans/{plan_id}/avancement",
        "/api/v1/cantines/",
        "/api/v1/cantines/{canteen_id}/cycles",
        "/api/v1/cantines/{canteen_id}/cycles/{cycle_id}/offers",
        "/api/v1/cantines/{canteen_id}/orders",
        "/api/v1/cantines/{canteen_id}/orders/{reference}",
        "/api/v1/cantines/{canteen_id}/orders/{reference}/cancel",
        "/api/v1/cantines/{canteen_id}/standing-order",
        "/api/v1/cantines/{canteen_id}/skipped-weeks",
        "/api/v1/cantines/{canteen_id}/skipped-weeks/{week_start}",
    }
    assert set(schema["paths"]["/api/v1/me/offers/{offer_id}"]) == {"patch"}
    assert schema["components"]["securitySchemes"] == {
        "FarmerAuth": {"type": "http", "scheme": "bearer"},
        "HouseholdAuth": {"type": "http", "scheme": "bearer"},
        "DriverSessionAuth": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
        "LogisticsTokenAuth": {"type": "http", "scheme": "bearer"},
        "CanteenSessionAuth": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
        "CanteenTokenAuth": {"type": "http", "scheme": "bearer"},
    }
    order_create = schema["paths"]["/api/v1/me/orders"]["post"]
    assert order_create["security"] == [{"HouseholdAuth": []}]
    assert [p["name"] for p in order_create["parameters"]] == ["Idempotency-Key"]


def test_producers_are_listed_with_their_active_product_count(public, api_market) -> None:
    ProductFactory(producer=api_market.farm, is_active=False)
    ProducerFactory(territory=api_market.cycle.territory, name="Fermée", is_active=False)
    response = public.get("/producers", territory=api_market.cycle.territory.slug)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(p["name"], p["product_count"]) for p in body["items"]] == [
        ("Ferme des Terrils", 1),
        ("Ferme du Louvre", 2),
    ]
    assert public.get("/producers", territory="ailleurs").json() == {"items": [], "count": 0}


def test_products_filter_by_producer_category_and_family(public, api_market) -> None:
    fruit = CategoryFactory(name="Fruits", slug="fruits")
    ProductFactory(
        producer=api_market.farm,
        name="Pommes",
        category=fruit,
        family=ProductFamily.FRUIT_VEGETABLES,
    )
    ProductFactory(producer=api_market.farm, name="Yaourt", family=ProductFamily.DAIRY)

    def names(**params) -> list[str]:
        return [p["name"] for p in public.get("/products", **params).json()["items"]]

    assert names(producer=api_market.farm.pk) == ["Carottes", "Poireaux", "Pommes", "Yaourt"]
    assert names(category="fruits") == ["Pommes"]
    assert names(family="PRODUITS_LAITIERS") == ["Yaourt"]
    item = public.get("/products", category="fruits").json()["items"][0]
    assert item["producer_name"] == "Ferme du Louvre"
    assert (item["unit"], item["unit_price"], item["category"]) == ("kg", "2.50", "fruits")


def test_cycles_lists_those_not_delivered_and_flags_the_open_one(public, api_market) -> None:
    from django.utils import timezone

    now = timezone.now()
    OrderCycleFactory(
        territory=api_market.cycle.territory,
        name="Semaine prochaine",
        opens_at=now + timezone.timedelta(days=3),
        closes_at=now + timezone.timedelta(days=5),
        delivery_date=(now + timezone.timedelta(days=6)).date(),
    )
    OrderCycleFactory(
        territory=api_market.cycle.territory,
        name="Passée",
        opens_at=now - timezone.timedelta(days=10),
        closes_at=now - timezone.timedelta(days=8),
        delivery_date=(now - timezone.timedelta(days=7)).date(),
    )
    slug = api_market.cycle.territory.slug
    items = public.get("/cycles", territory=slug).json()["items"]
    assert [(c["name"], c["is_open"]) for c in items] == [
        (api_market.cycle.name, True),
        ("Semaine prochaine", False),
    ]
    assert [
        c["name"] for c in public.get("/cycles", territory=slug, open="true").json()["items"]
    ] == [api_market.cycle.name]


def test_offers_show_price_remaining_and_variant_item_prices(public, api_market) -> None:
    api_market.eggs.quantity_sold = Decimal("2")
    api_market.eggs.save()
    body = public.get(f"/cycles/{api_market.cycle.pk}/offers").json()
    assert body["count"] == 2
    carrots, eggs = body["items"]
    assert carrots["product"]["name"] == "Carottes"
    assert (carrots["unit"], carrots["unit_price"], carrots["quantity_remaining"]) == (
        "kg",
        "2.50",
        "10.000",
    )
    # 5 kg × 2.50 € less 10 %
    assert [(v["name"], v["item_price"]) for v in carrots["variants"]] == [("Sac de 5 kg", "11.25")]
    assert (eggs["quantity_remaining"], eggs["on_demand"], eggs["variants"]) == ("3.000", False, [])


def test_offers_of_an_unknown_cycle_are_a_clear_404(public, db) -> None:
    response = public.get("/cycles/999999/offers")
    assert response.status_code == 404
    assert response.json()["code"] == "cycle_not_found"


def test_baskets_come_with_their_content(public, api_market) -> None:
    body = public.get(f"/cycles/{api_market.cycle.pk}/baskets").json()
    assert body["count"] == 1
    basket = body["items"][0]
    assert (basket["name"], basket["price"], basket["solidarity_price"]) == (
        "Panier de saison",
        "15.00",
        "7.50",
    )
    assert basket["is_available"] is True
    assert [(i["product_name"], i["quantity"]) for i in basket["items"]] == [("Carottes", "2.000")]


def _add_producers(market, n: int) -> None:
    for _ in range(n):
        ProducerFactory(territory=market.cycle.territory)


def _add_products(market, n: int) -> None:
    for _ in range(n):
        ProductVariantFactory(product=ProductFactory(producer=market.other_farm))


def _add_cycles(market, n: int) -> None:
    for _ in range(n):
        OrderCycleFactory(territory=market.cycle.territory)


def _add_offers(market, n: int) -> None:
    for _ in range(n):
        product = ProductFactory(producer=ProducerFactory(territory=market.cycle.territory))
        ProductVariantFactory(product=product)
        OfferFactory(cycle=market.cycle, product=product)


def _add_baskets(market, n: int) -> None:
    for i in range(n):
        basket = BasketFactory(cycle=market.cycle, price=Decimal("20.00") + i)
        BasketItemFactory(basket=basket, offer=market.eggs)
        BasketItemFactory(basket=basket, offer=market.carrots)


# path, rows in the fixture, how to add rows, queries (the site and its territory, count,
# rows, prefetches)
LISTS = [
    ("/producers", 2, _add_producers, 4),
    ("/products", 1, _add_products, 5),  # of the other farm: eggs; + valid labels
    ("/cycles", 1, _add_cycles, 4),
    ("/cycles/{cycle}/offers", 2, _add_offers, 7),  # + valid labels
    ("/cycles/{cycle}/baskets", 1, _add_baskets, 6),
]


@pytest.mark.parametrize(("path", "initial", "add", "queries"), LISTS)
def test_public_lists_run_a_constant_number_of_queries(
    public, api_market, django_assert_num_queries, path, initial, add, queries
) -> None:
    url = path.format(cycle=api_market.cycle.pk)
    for rows in (2, 20):
        add(api_market, rows - initial)
        initial = rows
        params = {"producer": api_market.other_farm.pk} if path == "/products" else {}
        with django_assert_num_queries(queries):
            response = public.get(url, page_size=50, **params)
        assert response.status_code == 200
        assert len(response.json()["items"]) == rows


@pytest.mark.parametrize("path", ["/producers", "/products", "/cycles"])
def test_a_public_list_refuses_a_wrong_token_instead_of_answering_as_anonymous(
    client, api_market, path: str
) -> None:
    wrong = Api(client, "pas-un-jeton")
    anonymous = Api(client)
    known = Api(client, api_market.household_token)

    refused = wrong.get(path)

    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"
    assert anonymous.get(path).status_code == 200
    assert known.get(path).status_code == 200
