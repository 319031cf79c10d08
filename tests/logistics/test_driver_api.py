"""The drivers' API: check-offs through the session with CSRF or a token, replays, refusals,
and the coordinators' progress of a plan."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from logistics.models import PlanRoute, PlanStop, StopCheckoff
from marche.accounts.models import Role
from marche.accounts.tokens import api_token_create
from tests.factories import TerritoryFactory, UserFactory
from tests.logistics.driver_fixtures import DriverWorld, build_driver_world

KEY = "7b1e4c9a-3f52-4d8e-9a61-0c2b5d7e8f90"


@pytest.fixture
def world(db: None) -> DriverWorld:
    return build_driver_world()


def _session(user: Any) -> tuple[Client, str]:
    """A logged-in browser that enforces CSRF, and its CSRF token (from a page it opened)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/chauffeur/")
    return client, client.cookies["csrftoken"].value


def _post(client: Client, url: str, body: object, **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def _url(stop: PlanStop) -> str:
    return f"/api/v1/logistique/etapes/{stop.pk}/pointage"


def test_the_driver_checks_off_with_the_session_and_a_replay_answers_the_same(
    world: DriverWorld,
) -> None:
    client, token = _session(world.driver)
    body = {
        "key": KEY,
        "status": "delivered",
        "note": "",
        "delivered": {world.orders["ines"].reference: "1"},
        "recorded_at": "2026-12-02T08:11:00+01:00",
    }
    first = _post(client, _url(world.stop_b), body, **{"X-CSRFToken": token})
    assert first.status_code == 200, first.content
    data = first.json()
    assert data["status"] == "delivered"
    assert data["replay"] is False
    assert data["delivered"] == {world.orders["ines"].reference: 1}
    assert (data["stops_done"], data["stops_total"]) == (1, 3)
    assert data["route_started_at"] is not None
    again = _post(client, _url(world.stop_b), body, **{"X-CSRFToken": token})
    assert again.status_code == 200
    assert {**again.json(), "replay": False} == data
    assert again.json()["replay"] is True
    assert StopCheckoff.objects.count() == 1


def test_without_the_csrf_token_the_session_is_refused(world: DriverWorld) -> None:
    client, _token = _session(world.driver)
    response = _post(client, _url(world.stop_b), {"key": KEY, "status": "delivered"})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert StopCheckoff.objects.count() == 0


def test_a_driver_token_works_and_a_household_token_is_refused(world: DriverWorld) -> None:
    _token, raw = api_token_create(user=world.driver, name="téléphone")
    response = _post(
        Client(),
        _url(world.stop_a),
        {"key": KEY, "status": "problem", "note": "Grille fermée"},
        Authorization=f"Bearer {raw}",
    )
    assert response.status_code == 200
    assert response.json()["note"] == "Grille fermée"
    _token, household = api_token_create(user=world.orders["camille"].customer)
    refused = _post(
        Client(),
        _url(world.stop_b),
        {"key": KEY.replace("7", "8"), "status": "delivered"},
        Authorization=f"Bearer {household}",
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


def test_anonymous_is_401(world: DriverWorld) -> None:
    response = _post(Client(), _url(world.stop_b), {"key": KEY, "status": "delivered"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"key": KEY, "status": "perdu"}, 422, "invalid_checkoff_status"),
        ({"key": "x", "status": "delivered"}, 422, "invalid_checkoff_key"),
        ({"key": KEY, "status": "problem", "note": ""}, 422, "problem_needs_note"),
        ({"key": KEY, "status": "delivered", "delivered": {"X": 1}}, 422, "invalid_delivered"),
        ({"key": KEY}, 422, "invalid_input"),
        ({"key": KEY, "status": "delivered", "recorded_at": "hier"}, 422, "invalid_input"),
        ({"key": 12, "status": ["delivered"]}, 422, "invalid_input"),
    ],
)
def test_bad_input_is_a_stable_code_and_changes_nothing(
    world: DriverWorld, body: dict[str, Any], status: int, code: str
) -> None:
    client, token = _session(world.driver)
    response = _post(client, _url(world.stop_b), body, **{"X-CSRFToken": token})
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert StopCheckoff.objects.count() == 0
    assert PlanStop.objects.get(pk=world.stop_b.pk).status == "planned"


def test_unknown_stop_and_someone_else_s_round(world: DriverWorld) -> None:
    client, token = _session(world.driver)
    missing = _post(
        client,
        "/api/v1/logistique/etapes/999999999/pointage",
        {"key": KEY, "status": "delivered"},
        **{"X-CSRFToken": token},
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "stop_not_found")
    bad_id = _post(
        client,
        "/api/v1/logistique/etapes/abc/pointage",
        {"key": KEY, "status": "delivered"},
        **{"X-CSRFToken": token},
    )
    assert bad_id.status_code in (400, 422)
    # A driver of the territory, not on this round: forbidden.
    other, other_token = _session(UserFactory(role=Role.DRIVER, territory=world.cycle.territory))
    refused = _post(
        other,
        _url(world.stop_b),
        {"key": KEY, "status": "delivered"},
        **{"X-CSRFToken": other_token},
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "route_not_yours")
    # A driver of another territory: the stop is as if it did not exist.
    foreign, foreign_token = _session(UserFactory(role=Role.DRIVER, territory=TerritoryFactory()))
    hidden = _post(
        foreign,
        _url(world.stop_b),
        {"key": KEY, "status": "delivered"},
        **{"X-CSRFToken": foreign_token},
    )
    assert (hidden.status_code, hidden.json()["code"]) == (404, "stop_not_found")
    assert hidden.json()["message"] == missing.json()["message"]
    assert StopCheckoff.objects.count() == 0
    assert PlanStop.objects.get(pk=world.stop_b.pk).status == "planned"


def test_route_state_and_start(world: DriverWorld) -> None:
    client, token = _session(world.driver)
    state = client.get(f"/api/v1/logistique/tournees/{world.route.pk}")
    assert state.status_code == 200
    assert [s["stop_id"] for s in state.json()["stops"]] == [
        world.pickup.pk,
        world.stop_a.pk,
        world.stop_b.pk,
    ]
    started = client.post(
        f"/api/v1/logistique/tournees/{world.route.pk}/depart", headers={"X-CSRFToken": token}
    )
    assert started.status_code == 200
    assert started.json()["started_at"] is not None
    assert PlanRoute.objects.get(pk=world.route.pk).started_at is not None
    other, _token = _session(UserFactory(role=Role.DRIVER))
    assert other.get(f"/api/v1/logistique/tournees/{world.route.pk}").status_code == 404


def test_the_plan_progress_for_the_coordination(
    world: DriverWorld, django_assert_max_num_queries: Any
) -> None:
    driver, token = _session(world.driver)
    _post(driver, _url(world.stop_a), {"key": KEY, "status": "delivered"}, **{"X-CSRFToken": token})
    _post(
        driver,
        _url(world.pickup),
        {"key": KEY.replace("7", "9"), "status": "problem", "note": "Pas prêt"},
        **{"X-CSRFToken": token},
    )
    client, _token = _session(world.coordinator)
    url = f"/api/v1/logistique/plans/{world.plan.pk}/avancement"
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert response.status_code == 200
    data = response.json()
    assert (data["plan_id"], data["status"]) == (world.plan.pk, "published")
    (route,) = data["routes"]
    assert route["route_id"] == world.route.pk
    assert (route["delivered"], route["problems"], route["total"]) == (1, 1, 3)
    assert route["started_at"] is not None and route["finished_at"] is None
    assert route["last_checkoff_at"] is not None
    assert route["driver"] == "Karim Lefebvre"

    assert driver.get(url).json()["code"] == "not_allowed"
    foreign, _t = _session(UserFactory(role=Role.COORDINATOR, territory=TerritoryFactory()))
    # Another territory's plan is as if it did not exist.
    refused = foreign.get(url)
    assert (refused.status_code, refused.json()["code"]) == (404, "plan_not_found")
    missing = client.get("/api/v1/logistique/plans/999999999/avancement")
    assert (missing.status_code, missing.json()["code"]) == (404, "plan_not_found")
