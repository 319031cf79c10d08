"""Schemathesis against the API as served (``/api/v1/openapi.json`` through the WSGI app).

Anonymous, as a household and as a farmer, every operation gets the examples, boundary
("coverage") and fuzzed cases schemathesis derives from the schema, half of them with the
ids of real rows so that the success paths run too. No answer may be a server error, use a
status the operation does not declare, or differ from its declared shape. The run is bounded
and seeded (the same cases every time); it writes nothing outside the test database.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from ninja.responses import NinjaJSONEncoder
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marche.accounts.tokens import api_token_create
from marche.api import api
from marche.canteens.services import order_place as canteen_order_place
from marche.canteens.services import standing_order_save
from marche.catalog.models import Product
from marche.orders.services import cart_set_item, order_place
from tests.factories.canteens import CanteenFactory, CanteenManagerFactory
from tests.marche.api.conftest import ApiMarket

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
OK = set(range(200, 300))
CONFIG = {
    "seed": 62528,  # Loos-en-Gohelle's INSEE code: any fixed seed gives the same cases
    "generation": {"max-examples": 25, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
}


@dataclass
class Identity:
    scheme: str | None  # the security scheme of the operations it may use, beyond public ones
    headers: dict[str, str]
    real: dict[str, Any]  # a field's name -> the id of a real row it may be given
    answers: dict[str, set[int]] = field(default_factory=dict)  # operation -> statuses

    def may_use(self, operation: Any) -> bool:
        security = operation.definition.raw.get("security") or []
        return not security or any(self.scheme in requirement for requirement in security)


def _identity(market: ApiMarket, scheme: str | None, token: str | None) -> Iterator[Identity]:
    # The household has an order, so that its reference, detail and cancel paths are real.
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.eggs.pk,
        count=Decimal("1"),
    )
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        basket_id=market.basket.pk,
        count=Decimal("1"),
    )
    order, _start = order_place(
        customer=market.household,
        cycle_id=market.cycle.pk,
        relay_point_id=market.relay.pk,
        pickup_slot_id=market.slots[0].pk,
        payment_method="pickup",
        idempotency_key="schemathesis",
    )
    # ...and a cart again, so that ordering can succeed too.
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.carrots.pk,
        count=Decimal("2"),
    )
    identity = Identity(
        scheme=scheme,
        headers={"Authorization": f"Bearer {token}"} if token else {},
        real={
            "cycle_id": market.cycle.pk,
            "cycle": market.cycle.pk,
            "relay_point_id": market.relay.pk,
            "pickup_slot_id": market.slots[1].pk,
            "offer_id": market.carrots.pk,
            "variant_id": market.carrots.product.variants.get().pk,
            "basket_id": market.basket.pk,
            "product_id": market.leeks.pk,
            "producer": market.farm.pk,
            "reference": order.reference,
            "date": market.cycle.delivery_date.isoformat(),
        },
    )
    yield identity
    # Each operation this identity may use succeeded at least once: the cases went past the
    # refusals, so the success paths were checked against the schema too.
    never = sorted(label for label, statuses in identity.answers.items() if not statuses & OK)
    assert not never, f"jamais de réponse 2xx pour {never}"


@pytest.fixture
def anonymous(api_market: ApiMarket) -> Iterator[Identity]:
    yield from _identity(api_market, None, None)


@pytest.fixture
def household(api_market: ApiMarket) -> Iterator[Identity]:
    yield from _identity(api_market, "HouseholdAuth", api_market.household_token)


@pytest.fixture
def farmer(api_market: ApiMarket) -> Iterator[Identity]:
    yield from _identity(api_market, "FarmerAuth", api_market.farmer_token)


def _canteen_identity(market: ApiMarket) -> Iterator[Identity]:
    """A canteen manager of the market's territory with an order and a standing order.

    The canteen takes deliveries every day and has no school zone, so that whatever day the
    market's cycle is delivered on, ordering can succeed.
    """
    canteen = CanteenFactory(
        territory=market.cycle.territory,
        school_zone="",
        windows=[(day, time(7, 30), time(10)) for day in range(7)],
    )
    manager = CanteenManagerFactory(email="cantine@example.test")
    canteen.managers.add(manager)
    Product.objects.filter(pk=market.carrots.product_id).update(
        wholesale_price=Decimal("1.5000"), wholesale_minimum=Decimal("1")
    )
    order = canteen_order_place(
        canteen=canteen,
        cycle=market.cycle,
        quantities={market.carrots.pk: "1"},
        user=manager,
    )
    standing_order_save(
        canteen=canteen,
        quantities={market.carrots.product_id: "2"},
        starts_on=market.cycle.delivery_date,
        user=manager,
    )
    identity = Identity(
        scheme="CanteenTokenAuth",
        headers={"Authorization": f"Bearer {api_token_create(user=manager, name='test')[1]}"},
        real={
            "canteen_id": canteen.pk,
            "cycle_id": market.cycle.pk,
            "cycle": market.cycle.pk,
            "relay_point_id": market.relay.pk,
            "pickup_slot_id": market.slots[1].pk,
            "offer_id": market.carrots.pk,
            "variant_id": market.carrots.product.variants.get().pk,
            "basket_id": market.basket.pk,
            "product_id": market.leeks.pk,
            "producer": market.farm.pk,
            "reference": order.reference,
            "date": market.cycle.delivery_date.isoformat(),
            # A week with no order placed yet (a week with one cannot be skipped).
            "week_start": (market.cycle.delivery_date + timedelta(weeks=3)).isoformat(),
            "offers": {str(market.carrots.pk): "2"},
            "products": {str(market.carrots.product_id): "3"},
        },
    )
    yield identity
    never = sorted(label for label, statuses in identity.answers.items() if not statuses & OK)
    assert not never, f"jamais de réponse 2xx pour {never}"


@pytest.fixture
def canteen_manager(api_market: ApiMarket) -> Iterator[Identity]:
    yield from _canteen_identity(api_market)


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection(db: None) -> Iterator[None]:
    """Like Django's test client, the cases' requests must not close the database connection
    at their start and end: it holds the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _served_schema() -> dict[str, Any]:
    """The schema ``/api/v1/openapi.json`` serves (built here: no request at collection)."""
    return json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))


schema = schemathesis.openapi.from_dict(
    _served_schema(), config=SchemathesisConfig.from_dict(CONFIG)
)
schema.app = WSGIHandler()


def test_the_schema_tested_is_the_one_served(client) -> None:
    assert client.get("/api/v1/openapi.json").json() == _served_schema()


def _with_real_ids(case: Any, real: dict[str, Any]) -> None:
    """Give the ids of real rows to the schema's examples and to about half of the other
    cases (chosen from their values: the same every run), so that they reach past "not
    found" and the success paths are checked too; the other half keep what was generated."""
    phase = case.meta.phase.name if case.meta is not None else None
    generated = repr((case.path_parameters, case.query, case.body)).encode()
    if phase != TestPhase.EXAMPLES and zlib.crc32(generated) % 2:
        return
    for values in (case.path_parameters, case.query, case.body):
        if isinstance(values, dict):
            for name in values.keys() & real.keys():
                values[name] = real[name]
    if "Idempotency-Key" in {p.name for p in case.operation.headers} and not (
        case.headers or {}
    ).get("Idempotency-Key"):
        case.headers = {**(case.headers or {}), "Idempotency-Key": "schemathesis-replayed"}


def _call(case: Any, identity: Identity) -> None:
    _with_real_ids(case, identity.real)
    response = case.call_and_validate(headers=identity.headers, checks=CHECKS)
    operation = case.operation
    if identity.may_use(operation) and case.method.upper() == operation.method.upper():
        identity.answers.setdefault(operation.label, set()).add(response.status_code)


HYPOTHESIS = settings(deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.slow
@schema.parametrize()
@HYPOTHESIS
def test_api_anonymous(case: Any, anonymous: Identity) -> None:
    _call(case, anonymous)


@pytest.mark.slow
@schema.parametrize()
@HYPOTHESIS
def test_api_as_a_household(case: Any, household: Identity) -> None:
    _call(case, household)


@pytest.mark.slow
@schema.parametrize()
@HYPOTHESIS
def test_api_as_a_farmer(case: Any, farmer: Identity) -> None:
    _call(case, farmer)


@pytest.mark.slow
@schema.parametrize()
@HYPOTHESIS
def test_api_as_a_canteen_manager(case: Any, canteen_manager: Identity) -> None:
    _call(case, canteen_manager)
