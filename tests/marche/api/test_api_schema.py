"""The schema tells the truth: each operation declares its refusals in the one error shape,
and the formats it declares are the ones returned (times "16:00:00", decimals "2.50")."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


@pytest.fixture
def schema(public) -> dict:
    return public.get("/openapi.json").json()


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_declares_its_refusals_in_the_error_shape(schema) -> None:
    for label, operation in _operations(schema):
        secured = bool(operation.get("security"))
        refusals = {status for status in operation["responses"] if status.startswith("4")}
        expected = {"400", "404", "409", "422"} | ({"401", "403"} if secured else set())
        assert (label, refusals) == (label, expected)
        for status in expected:
            assert operation["responses"][status]["content"] == ERROR, (label, status)
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message"]
    assert set(error["properties"]) == {"code", "message", "params"}


def _pattern(schema: dict, component: str, field: str) -> str:
    return schema["components"]["schemas"][component]["properties"][field]["pattern"]


def test_slot_times_are_declared_as_the_local_times_returned(schema, public, api_market) -> None:
    starts_at = schema["components"]["schemas"]["PickupSlotOut"]["properties"]["starts_at"]
    pattern = starts_at["pattern"]
    # JSON Schema's "time" requires an offset ("16:00:00+01:00"): not what is returned.
    assert starts_at["format"] == "partial-time"
    body = public.get(
        f"/relay-points/{api_market.relay.pk}/slots",
        date=api_market.cycle.delivery_date.isoformat(),
    ).json()
    times = [(slot["starts_at"], slot["ends_at"]) for slot in body["slots"]]
    assert times == [("16:00:00", "17:00:00"), ("17:00:00", "18:00:00"), ("18:00:00", "19:00:00")]
    assert all(re.match(pattern, start) and re.match(pattern, end) for start, end in times)


def test_decimals_are_declared_as_the_strings_returned(schema, public, api_market) -> None:
    pattern = _pattern(schema, "OfferOut", "unit_price")
    offers = public.get(f"/cycles/{api_market.cycle.pk}/offers").json()["items"]
    carrots = next(offer for offer in offers if offer["id"] == api_market.carrots.pk)
    assert (carrots["unit_price"], carrots["quantity_available"]) == ("2.50", "10.000")
    assert re.match(pattern, carrots["unit_price"])
    assert re.match(pattern, carrots["variants"][0]["item_price"])


def test_numbers_people_type_are_declared_as_the_parser_reads_them(schema) -> None:
    count = schema["components"]["schemas"]["CartItemIn"]["properties"]["count"]
    text, number = count["anyOf"]
    assert text["type"] == "string" and re.match(text["pattern"], "1,5")
    assert not re.match(text["pattern"], "1e-9") and not re.match(text["pattern"], "0,0001")
    assert (number["type"], number["minimum"], number["maximum"]) == ("number", 0.0, 10000.0)
    ids = schema["components"]["schemas"]["OrderPlaceIn"]["properties"]["pickup_slot_id"]
    assert (ids["type"], ids["minimum"], ids["maximum"]) == ("integer", 1, 2**63 - 1)
