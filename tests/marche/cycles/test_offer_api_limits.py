"""The farmer API: an unusual price has a stable code and a confirm field; on-demand limits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marche.cycles.models import Offer
from marche.cycles.services import offer_withdraw
from tests.marche.api.conftest import api_market, as_farmer, public  # noqa: F401

pytestmark = pytest.mark.django_db


def values(offer_id: int) -> tuple[object, ...]:
    return tuple(
        Offer.objects.filter(pk=offer_id).values_list(
            "unit_price", "quantity_available", "max_per_order", "updated_at"
        )[0]
    )


def test_publishing_an_unusual_price_needs_confirm_price(as_farmer, api_market) -> None:  # noqa: F811
    body = {
        "cycle_id": api_market.cycle.pk,
        "product_id": api_market.leeks.pk,
        "unit_price": "250.00",  # the catalogue says 2.50
        "quantity_available": "5",
    }
    response = as_farmer.send("post", "/me/offers", body)
    assert response.status_code == 400
    assert response.json() == {
        "code": "price_unusual",
        "message": "Poireaux : 250,00 € est très loin du prix habituel (2,50 €). Vérifiez la "
        "virgule, puis cochez « Je confirme ce prix » pour l'enregistrer.",
        "params": {"price": "250.00", "usual_price": "2.50", "factor": "3"},
    }
    assert not Offer.objects.filter(product=api_market.leeks).exists()

    response = as_farmer.send("post", "/me/offers", {**body, "confirm_price": True})
    assert response.status_code == 201
    assert response.json()["unit_price"] == "250.00"


def test_updating_to_an_unusual_price_needs_confirm_price(as_farmer, api_market) -> None:  # noqa: F811
    url = f"/me/offers/{api_market.carrots.pk}"
    before = values(api_market.carrots.pk)
    response = as_farmer.send("patch", url, {"unit_price": "0.25"})
    assert (response.status_code, response.json()["code"]) == (400, "price_unusual")
    assert values(api_market.carrots.pk) == before
    response = as_farmer.send("patch", url, {"unit_price": "0.25", "confirm_price": True})
    assert response.status_code == 200
    assert values(api_market.carrots.pk)[0] == Decimal("0.25")


def test_on_demand_maximum_per_order_through_the_api(as_farmer, public, api_market) -> None:  # noqa: F811
    url = f"/me/offers/{api_market.carrots.pk}"
    response = as_farmer.send("patch", url, {"quantity_available": None, "max_per_order": "12"})
    assert response.status_code == 200
    assert (response.json()["on_demand"], response.json()["max_per_order"]) == (True, "12.000")
    before = values(api_market.carrots.pk)
    response = as_farmer.send("patch", url, {"max_per_order": "0"})
    assert response.status_code == 400
    assert values(api_market.carrots.pk) == before
    listed = public.get(f"/cycles/{api_market.cycle.pk}/offers").json()["items"]
    assert {o["id"]: o["max_per_order"] for o in listed}[api_market.carrots.pk] == "12.000"


def test_a_withdrawn_offer_is_not_listed_publicly_but_is_for_its_farmer(
    as_farmer,  # noqa: F811
    public,  # noqa: F811
    api_market,  # noqa: F811
) -> None:
    offer_withdraw(user=api_market.farmer, offer_id=api_market.carrots.pk)
    listed = public.get(f"/cycles/{api_market.cycle.pk}/offers").json()["items"]
    assert [o["id"] for o in listed] == [api_market.eggs.pk]
    mine = as_farmer.get("/me/offers").json()["items"]
    assert [(o["id"], o["withdrawn"]) for o in mine] == [(api_market.carrots.pk, True)]


def test_schema_says_a_variable_weight_price_is_per_kg_and_its_quantity_in_pieces(
    public,  # noqa: F811
) -> None:
    schemas = public.get("/openapi.json").json()["components"]["schemas"]
    for name in ("OfferCreateIn", "OfferOut"):
        properties = schemas[name]["properties"]
        assert "au kg pour un produit à poids variable" in properties["unit_price"]["description"]
        assert (
            "en pièces pour un produit à poids variable"
            in (properties["quantity_available"]["description"])
        )
