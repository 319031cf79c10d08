"""After "Calculer les tournées", the plan page says what became of it: running, done or failed."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from logistics.models import DeliveryPlan, SolveState
from tests.logistics.test_planning_views import (
    build_cycle,
    client_for,
    coordinator,
    plan_url,
    store_plan,
)

pytestmark = pytest.mark.django_db

LAUNCHED = "Le calcul des tournées est lancé."
DONE = "Les tournées sont calculées."
FAILED = "Le calcul des tournées a échoué : la raison est donnée ci-dessous."


def _messages(client: Client, url: str) -> list[str]:
    html = unescape(client.get(url).content.decode())
    return [text for text in (LAUNCHED, DONE, FAILED) if text in html]


@pytest.mark.solver
def test_a_finished_computation_is_not_said_to_be_launched(
    settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.LOGISTICS_PLAN_TIME_LIMIT_S = 1
    cycle = build_cycle(vans=2, crates=3)
    client = client_for(coordinator(cycle))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(plan_url(cycle, "plan_compute"), {"version": ""})
    assert response.status_code == 302
    assert response["Location"] == f"{plan_url(cycle)}?calcul=demande#calcul"
    assert DeliveryPlan.objects.get(cycle=cycle).solve_state == SolveState.DONE
    assert _messages(client, response["Location"]) == [DONE]


@pytest.mark.parametrize(
    ("state", "said"),
    [
        (SolveState.QUEUED, [LAUNCHED]),
        (SolveState.RUNNING, [LAUNCHED]),
        (SolveState.DONE, [DONE]),
        (SolveState.FAILED, [FAILED]),
    ],
)
def test_the_page_reached_after_asking_says_the_state_it_finds(state: str, said: list[str]) -> None:
    cycle = build_cycle()
    store_plan(cycle, solve_state=state, solve_error={"code": "x", "message": "Aucun véhicule."})
    client = client_for(coordinator(cycle))
    assert _messages(client, f"{plan_url(cycle)}?calcul=demande") == said
    # Opened otherwise (a link, a bookmark), the page announces nothing.
    assert _messages(client, plan_url(cycle)) == []
