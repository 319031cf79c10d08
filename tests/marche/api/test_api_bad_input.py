"""No input gives the API a 500: huge pages, ids past bigint or not in ASCII digits, numbers
the site's parser refuses. Each refusal is a 4xx in the project's error shape and changes
nothing; numbers are read as on the site ("1,5", "1.5" and 1.5 alike)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from marche.cycles.models import Offer
from marche.orders.models import CartItem, Order, OrderLine
from marche.relays.models import PickupSlot, RelayDay

pytestmark = pytest.mark.django_db

PAST_BIGINT = str(2**63)
BIG_PAGES = [10**18, 2**62, 2**63, 10**30, "9" * 300]


@pytest.fixture(autouse=True)
def _no_exception_reraised(client) -> None:
    # A 500 must show as a 500 response here (the test client re-raises by default).
    client.raise_request_exception = False


def snapshot() -> dict[str, object]:
    """Everything a refused request must leave unchanged."""
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "offers": list(
            Offer.objects.order_by("pk").values_list(
                "pk", "unit_price", "quantity_available", "quantity_held", "quantity_sold"
            )
        ),
        "slots": list(PickupSlot.objects.order_by("pk").values_list("booked", flat=True)),
        "days": list(RelayDay.objects.order_by("pk").values_list("booked", flat=True)),
        "cart": list(CartItem.objects.order_by("pk").values_list("pk", "count")),
    }


# --- pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", BIG_PAGES, ids=["1e18", "2**62", "2**63", "1e30", "300 digits"])
def test_a_page_far_past_the_end_is_empty_not_a_500(public, api_market, page) -> None:
    cycle = api_market.cycle.pk
    lists = {
        "/products": 3,
        "/producers": 2,
        "/cycles": 1,
        f"/cycles/{cycle}/offers": 2,
        f"/cycles/{cycle}/baskets": 1,
    }
    for path, count in lists.items():
        response = public.get(path, page=page)
        assert (path, response.status_code, response.json()) == (
            path,
            200,
            {"items": [], "count": count},
        )


def test_a_huge_page_of_a_token_list_is_empty(as_household, as_farmer, api_market) -> None:
    page = 10**18
    assert as_household.get("/me/orders", page=page).json() == {"items": [], "count": 0}
    assert as_farmer.get("/me/offers", page=page).json() == {"items": [], "count": 1}


def test_a_huge_page_asks_the_database_only_for_the_count(
    public, api_market, django_assert_num_queries
) -> None:
    with django_assert_num_queries(3):  # the site, its territory, the count
        response = public.get("/products", page=10**18, page_size=100)
    assert response.json() == {"items": [], "count": 3}


def test_the_last_real_page_still_has_its_rows(public, api_market) -> None:
    names = [p["name"] for p in public.get("/products").json()["items"]]
    response = public.get("/products", page=3, page_size=1)
    assert [p["name"] for p in response.json()["items"]] == names[2:]
    assert public.get("/products", page=4, page_size=1).json() == {"items": [], "count": 3}


@pytest.mark.parametrize("page", ["0", "-1", "²", "1e3", ""])
def test_a_page_that_is_not_a_positive_integer_is_invalid_input(public, page) -> None:
    response = public.get("/products", page=page)
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], [e["field"] for e in body["params"]["errors"]]) == (
        "invalid_input",
        ["page"],
    )


# --- ids ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["²", "١٢", PAST_BIGINT, "0", "-1", "1_0", "1.0", " 1x"])
def test_ids_in_paths_and_queries_are_ascii_digits_within_bigint(
    public, as_household, as_farmer, api_market, bad
) -> None:
    slot_day = api_market.cycle.delivery_date.isoformat()
    calls = [
        (public, "get", "/products", {"producer": bad}, "producer"),
        (public, "get", f"/cycles/{bad}/offers", {}, "cycle_id"),
        (public, "get", f"/cycles/{bad}/baskets", {}, "cycle_id"),
        (public, "get", f"/relay-points/{bad}/slots", {"date": slot_day}, "relay_point_id"),
        (as_farmer, "get", "/me/offers", {"cycle": bad}, "cycle"),
        (as_household, "get", "/me/cart", {"cycle": bad}, "cycle"),
    ]
    before = snapshot()
    for api, _method, path, params, field in calls:
        response = api.get(path, **params)
        assert (path, response.status_code, response.json()) == (
            path,
            400,
            {"code": "invalid_id", "message": "Identifiant invalide.", "params": {"field": field}},
        )
    response = as_farmer.send("patch", f"/me/offers/{bad}", {"unit_price": "2,00"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_id"
    assert snapshot() == before


@pytest.mark.parametrize("bad", [2**63, 0, -5, "²", 1.5, True])
def test_ids_in_bodies_are_refused_before_anything_is_looked_up(
    as_household, as_farmer, api_market, bad
) -> None:
    market = api_market
    assert (
        as_household.send(
            "put", f"/me/cart?cycle={market.cycle.pk}", {"offer_id": market.carrots.pk, "count": 1}
        ).status_code
        == 200
    )
    before = snapshot()
    order = {
        "cycle_id": market.cycle.pk,
        "relay_point_id": market.relay.pk,
        "pickup_slot_id": market.slots[0].pk,
    }
    refused = []
    for field in order:
        refused.append(
            (
                field,
                as_household.send(
                    "post", "/me/orders", {**order, field: bad}, headers={"Idempotency-Key": field}
                ),
            )
        )
    for field in ("offer_id", "variant_id", "basket_id"):
        body = {"offer_id": market.carrots.pk, "count": "2", field: bad}
        if field == "basket_id":
            body.pop("offer_id")
        refused.append((field, as_household.send("put", f"/me/cart?cycle={market.cycle.pk}", body)))
    publish = {"cycle_id": market.cycle.pk, "product_id": market.leeks.pk, "unit_price": "1,80"}
    for field in ("cycle_id", "product_id"):
        refused.append((field, as_farmer.send("post", "/me/offers", {**publish, field: bad})))
    for field, response in refused:
        assert (field, response.status_code, response.json()) == (
            field,
            400,
            {"code": "invalid_id", "message": "Identifiant invalide.", "params": {"field": field}},
        )
    assert snapshot() == before


def test_an_id_given_as_a_string_of_digits_is_read(as_household, api_market) -> None:
    market = api_market
    response = as_household.send(
        "put", f"/me/cart?cycle={market.cycle.pk}", {"offer_id": str(market.carrots.pk), "count": 2}
    )
    assert response.status_code == 200
    assert list(CartItem.objects.values_list("offer_id", "count")) == [
        (market.carrots.pk, Decimal("2.000"))
    ]


# --- numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("1E+30", "La quantité doit être un nombre, par exemple 1,5."),
        (1e30, "La quantité doit être un nombre, par exemple 1,5."),
        ("1e-9", "La quantité doit être un nombre, par exemple 1,5."),
        (1e-9, "La quantité doit être un nombre, par exemple 1,5."),
        ("0.0001", "La quantité a 3 décimales au plus."),
        (0.0001, "La quantité a 3 décimales au plus."),
        ("9" * 5000, "La quantité est trop long(ue)."),
        (10**4000, "La quantité est trop long(ue)."),
        ("²", "La quantité doit être un nombre, par exemple 1,5."),
        ("١", "La quantité doit être un nombre, par exemple 1,5."),
        ("1_000", "La quantité doit être un nombre, par exemple 1,5."),
        ("10001", "La quantité ne peut pas dépasser 10\u00a0000."),
        ("NaN", "La quantité doit être un nombre, par exemple 1,5."),
    ],
    ids=[
        "1E+30",
        "1e30 number",
        "1e-9",
        "1e-9 number",
        "0.0001",
        "0.0001 number",
        "5000 digits",
        "4000-digit number",
        "superscript two",
        "arabic one",
        "underscore",
        "over the bound",
        "NaN",
    ],
)
def test_counts_the_site_refuses_are_refused_alike_and_change_nothing(
    as_household, api_market, count, message
) -> None:
    before = snapshot()
    response = as_household.client.put(
        f"/api/v1/me/cart?cycle={api_market.cycle.pk}",
        json.dumps({"offer_id": api_market.carrots.pk, "count": count}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_market.household_token}"},
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["message"], body["params"]["field"]) == (
        "invalid_number",
        message,
        "count",
    )
    assert snapshot() == before


@pytest.mark.parametrize("count", ["1,5", "1.5", 1.5, " 1,500 "])
def test_a_count_is_read_as_on_the_site(as_household, api_market, count) -> None:
    response = as_household.send(
        "put",
        f"/me/cart?cycle={api_market.cycle.pk}",
        {"offer_id": api_market.carrots.pk, "count": count},
    )
    assert response.status_code == 200
    assert response.json()["lines"][0]["count"] == "1.500"
    assert list(CartItem.objects.values_list("count", flat=True)) == [Decimal("1.500")]


def test_a_price_is_read_as_on_the_site(as_farmer, api_market) -> None:
    response = as_farmer.send(
        "patch",
        f"/me/offers/{api_market.carrots.pk}",
        {"unit_price": "2,60", "quantity_available": "12,5"},
    )
    assert response.status_code == 200
    assert (response.json()["unit_price"], response.json()["quantity_available"]) == (
        "2.60",
        "12.500",
    )


def test_several_bad_fields_are_listed_together(as_farmer, api_market) -> None:
    before = snapshot()
    response = as_farmer.send(
        "post", "/me/offers", {"cycle_id": "²", "product_id": 2**63, "unit_price": "1e3"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["message"] == "Données invalides : vérifiez cycle_id, product_id, unit_price."
    assert body["params"]["errors"] == [
        {"field": "cycle_id", "type": "invalid_id"},
        {"field": "product_id", "type": "invalid_id"},
        {"field": "unit_price", "type": "invalid_number"},
    ]
    assert snapshot() == before


def test_a_body_that_is_not_json_is_invalid_json(as_household, api_market) -> None:
    before = snapshot()
    for raw in ['{"count": ' + "9" * 5000 + "}", "{", "\udcff"]:
        response = as_household.client.put(
            f"/api/v1/me/cart?cycle={api_market.cycle.pk}",
            raw.encode("utf-8", "surrogateescape"),
            content_type="application/json",
            headers={"Authorization": f"Bearer {api_market.household_token}"},
        )
        assert (response.status_code, response.json()) == (
            400,
            {
                "code": "invalid_json",
                "message": "Le corps de la requête n'est pas un JSON lisible.",
            },
        )
    assert snapshot() == before


@pytest.mark.parametrize("mannes", ["1E+400", "1e-9", "9" * 5000, "²", "0,001"])
def test_a_manne_amount_the_parser_refuses_places_no_order(as_household, api_market, mannes):
    market = api_market
    as_household.send(
        "put", f"/me/cart?cycle={market.cycle.pk}", {"offer_id": market.eggs.pk, "count": 1}
    )
    before = snapshot()
    response = as_household.send(
        "post",
        "/me/orders",
        {
            "cycle_id": market.cycle.pk,
            "relay_point_id": market.relay.pk,
            "pickup_slot_id": market.slots[0].pk,
            "payment_method": "pickup",
            "payment_options": {"mannes": mannes},
        },
        headers={"Idempotency-Key": "mannes"},
    )
    # An option longer than 40 characters is invalid input; any other is read by the parser.
    expected = (422, "invalid_input") if len(mannes) > 40 else (400, "invalid_manne_amount")
    assert (response.status_code, response.json()["code"]) == expected
    assert snapshot() == before
