"""The canteen managers' API, ``/api/v1/cantines/``: tokens, session and CSRF, refusals."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from django.test import Client

from marche.accounts.tokens import api_token_create
from marche.api import api
from marche.canteens.models import (
    CanteenOrder,
    CanteenOrderLine,
    SkippedWeek,
    StandingOrder,
    StandingOrderLine,
)
from marche.cycles.models import Offer
from tests.factories import UserFactory
from tests.factories.canteens import CanteenFactory
from tests.marche.canteens.conftest import PARIS, Kitchen

pytestmark = pytest.mark.django_db

BASE = "/api/v1/cantines"


class Api:
    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str) -> Any:
        return self.client.get(BASE + path, headers=self.headers)

    def send(self, method: str, path: str, body: object = None) -> Any:
        return getattr(self.client, method)(
            BASE + path,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers=self.headers,
        )


@pytest.fixture
def manager_api(kitchen: Kitchen) -> Api:
    _token, raw = api_token_create(user=kitchen.manager)
    return Api(raw)


def _state() -> tuple[object, ...]:
    return (
        list(CanteenOrder.objects.order_by("pk").values()),
        list(CanteenOrderLine.objects.order_by("pk").values()),
        list(Offer.objects.order_by("pk").values_list("pk", "quantity_sold")),
        list(StandingOrder.objects.order_by("pk").values()),
        list(StandingOrderLine.objects.order_by("pk").values()),
        list(SkippedWeek.objects.order_by("pk").values()),
    )


def _place(api_: Api, k: Kitchen, offers: dict, **extra: object) -> Any:
    return api_.send(
        "post", f"/{k.canteen.pk}/orders", {"cycle_id": k.cycle.pk, "offers": offers, **extra}
    )


def test_a_manager_lists_the_canteens_they_manage(kitchen: Kitchen, manager_api: Api) -> None:
    CanteenFactory(territory=kitchen.canteen.territory, name="Résidence des Glycines")
    response = manager_api.get("/")
    assert response.status_code == 200
    [canteen] = response.json()
    assert canteen["name"] == "Maternelle Basly"
    assert canteen["school_zone"] == "B"
    assert canteen["windows"][3] == {"weekday": 3, "starts_at": "07:30:00", "ends_at": "10:00:00"}


def test_cycles_and_offers(kitchen: Kitchen, manager_api: Api) -> None:
    k = kitchen
    [cycle] = manager_api.get(f"/{k.canteen.pk}/cycles").json()
    assert cycle["cycle_id"] == k.cycle.pk
    assert (cycle["deliverable"], cycle["code"], cycle["order_reference"]) == (True, "", None)
    assert cycle["delivery_date"] == "2026-03-12"
    offers = manager_api.get(f"/{k.canteen.pk}/cycles/{k.cycle.pk}/offers").json()
    assert [(o["name"], o["wholesale_price"], o["labels"], o["remaining"]) for o in offers] == [
        ("Carottes", "1.2000", ["BIO", "HVE"], "100.000"),
        ("Yaourts nature", "0.3500", [], "500.000"),
    ]
    assert offers[1]["allergens"] == ["milk"]
    assert offers[1]["wholesale_minimum"] == "50.000"


def test_offers_of_a_closed_cycle_are_refused(
    kitchen: Kitchen, manager_api: Api, time_machine
) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(datetime(2026, 3, 12, 8, tzinfo=PARIS), tick=False)
    response = manager_api.get(f"/{kitchen.canteen.pk}/cycles/{kitchen.cycle.pk}/offers")
    assert response.status_code == 409
    assert response.json()["code"] == "cycle_closed"


def test_placing_replacing_reading_and_cancelling(kitchen: Kitchen, manager_api: Api) -> None:
    k = kitchen
    created = _place(manager_api, k, {str(k.carrots.pk): "12,5", str(k.yoghurts.pk): 90})
    assert created.status_code == 201, created.content
    order = created.json()
    reference = order["reference"]
    assert reference.startswith("C-2026-")
    assert order["status"] == "submitted"
    assert order["window_starts_at"] == "07:30:00"
    assert [(line["name"], line["quantity_ordered"]) for line in order["lines"]] == [
        ("Carottes", "12.500"),
        ("Yaourts nature", "90.000"),
    ]
    replaced = _place(manager_api, k, {str(k.yoghurts.pk): "0"}, note="Porte B")
    assert replaced.status_code == 200
    assert [line["name"] for line in replaced.json()["lines"]] == ["Carottes"]
    assert replaced.json()["note"] == "Porte B"
    detail = manager_api.get(f"/{k.canteen.pk}/orders/{reference}")
    assert detail.json() == replaced.json()
    listed = manager_api.get(f"/{k.canteen.pk}/orders").json()
    assert listed["count"] == 1
    assert listed["items"][0]["reference"] == reference
    cancelled = manager_api.send("post", f"/{k.canteen.pk}/orders/{reference}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    k.carrots.refresh_from_db()
    assert k.carrots.quantity_sold == 0


def test_listing_orders_costs_the_same_for_many(
    kitchen: Kitchen, manager_api: Api, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    _place(manager_api, k, {str(k.carrots.pk): "10", str(k.yoghurts.pk): "60"})
    with django_assert_max_num_queries(7):
        response = manager_api.get(f"/{k.canteen.pk}/orders")
    assert len(response.json()["items"][0]["lines"]) == 2


@pytest.mark.parametrize(
    ("offers", "status", "code", "message"),
    [
        (
            {"carrots": "4"},
            400,
            "below_wholesale_minimum",
            "Carottes : 5 kg au minimum par commande de cantine.",
        ),
        (
            {"carrots": "150"},
            409,
            "insufficient_stock",
            "Stock insuffisant pour Carottes : il en reste 100 kg.",
        ),
        (
            {"apples": "10"},
            409,
            "not_sold_to_canteens",
            "Pommes n'est pas vendu aux cantines dans ce cycle.",
        ),
        ({"yoghurts": "60,5"}, 400, "invalid_number", None),
    ],
)
def test_refusals_answer_the_error_shape_and_change_nothing(
    kitchen: Kitchen, manager_api: Api, offers: dict, status: int, code: str, message: str | None
) -> None:
    k = kitchen
    before = _state()
    body = {str(getattr(k, name).pk): value for name, value in offers.items()}
    response = _place(manager_api, k, body)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    if message is not None:
        assert response.json()["message"] == message
    assert _state() == before


def test_an_exponent_is_refused_by_the_schema(kitchen: Kitchen, manager_api: Api) -> None:
    before = _state()
    response = _place(manager_api, kitchen, {str(kitchen.carrots.pk): "1e3"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_number"
    assert _state() == before


def test_another_canteen_is_not_found(kitchen: Kitchen, manager_api: Api) -> None:
    other = CanteenFactory(territory=kitchen.canteen.territory)
    before = _state()
    response = manager_api.send(
        "post",
        f"/{other.pk}/orders",
        {"cycle_id": kitchen.cycle.pk, "offers": {str(kitchen.carrots.pk): "10"}},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "canteen_not_found"
    assert _state() == before


def test_tokens_of_other_roles_and_no_token(kitchen: Kitchen) -> None:
    _token, raw = api_token_create(user=UserFactory())
    response = Api(raw).get("/")
    assert response.status_code == 403
    assert response.json()["message"] == (
        "Cette partie de l'API est réservée aux gestionnaires de cantine."
    )
    assert Api(None).get("/").status_code == 401


def test_the_standing_order_and_skipped_weeks(kitchen: Kitchen, manager_api: Api) -> None:
    k = kitchen
    path = f"/{k.canteen.pk}/standing-order"
    missing = manager_api.get(path)
    assert (missing.status_code, missing.json()["code"]) == (404, "standing_order_not_found")
    saved = manager_api.send(
        "put",
        path,
        {"products": {str(k.carrots.product_id): "12,5"}, "starts_on": "2026-03-02"},
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["lines"] == [
        {
            "product_id": k.carrots.product_id,
            "name": "Carottes",
            "producer": "Ferme du Pommier",
            "unit": "kg",
            "quantity": "12.500",
        }
    ]
    assert manager_api.get(path).json() == saved.json()
    k.farm.is_active = False
    k.farm.save()
    before = _state()
    refused = manager_api.send(
        "put", path, {"products": {str(k.carrots.product_id): "20"}, "starts_on": "2026-03-02"}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "producer_inactive")
    assert _state() == before

    weeks = f"/{k.canteen.pk}/skipped-weeks"
    added = manager_api.send("put", f"{weeks}/2026-03-19", {"reason": "Classe verte"})
    assert added.json() == {"week_start": "2026-03-16", "reason": "Classe verte"}
    assert manager_api.get(weeks).json() == [added.json()]
    assert manager_api.send("delete", f"{weeks}/2026-03-16").status_code == 204
    assert manager_api.get(weeks).json() == []
    assert SkippedWeek.objects.count() == 0


def _session(kitchen: Kitchen) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(kitchen.manager)
    token = "k" * 32
    client.cookies["csrftoken"] = token
    return client, token


def test_the_managers_pages_use_the_session_with_the_csrf_token(kitchen: Kitchen) -> None:
    k = kitchen
    client, token = _session(k)
    body = json.dumps({"cycle_id": k.cycle.pk, "offers": {str(k.carrots.pk): "10"}})
    url = f"{BASE}/{k.canteen.pk}/orders"
    refused = client.post(url, body, content_type="application/json")
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
    assert CanteenOrder.objects.count() == 0
    placed = client.post(url, body, content_type="application/json", headers={"X-CSRFToken": token})
    assert placed.status_code == 201, placed.content
    assert client.get(f"{BASE}/").status_code == 200


def test_the_schema_declares_the_refusals() -> None:
    paths = api.get_openapi_schema()["paths"]
    operation = paths["/api/v1/cantines/{canteen_id}/orders"]["post"]
    assert {"400", "401", "403", "404", "409", "422"} <= set(operation["responses"])
    assert {200, 201} <= set(operation["responses"])
    assert paths["/api/v1/cantines/{canteen_id}/standing-order"]["put"]["security"]
