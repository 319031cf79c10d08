"""Dunkerque's coordination plans its own rounds beside Loos-en-Gohelle's, in Chromium (fr-FR).

Both demo territories are loaded with their cycle to plan. At ``dunkerque.localhost``, the
coordinator of Dunkerque (desk, 1280×800) opens the planning pages: only Dunkerque's
cycles are listed. They compute the rounds of Dunkerque's cycle (Celery runs eagerly),
read the plan on the map and publish it: every round leaves Dunkerque's depot with one of
its vehicles and serves only its relay points and canteens. Loos-en-Gohelle's cycle is
left as it was, unclosed and unplanned. A Dunkerque driver (phone, 390×844) then finds
their round in their list.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from logistics.models import CycleClosing, DeliveryPlan, PlanRoute, PlanStatus, PlanStop, SolveState
from marche.canteens.models import Canteen
from marche.cycles.models import OrderCycle
from marche.relays.models import RelayPoint
from tests.browser.test_delivery_journey import DESKTOP, PHONE, fits, log_in, new_context, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.solver,
    pytest.mark.django_db(transaction=True),
]


def test_dunkerques_coordination_plans_its_own_rounds_beside_loos(  # type: ignore[no-untyped-def]
    browser, live_server, settings, artifacts_dir: Path
) -> None:
    settings.MARCHE_DEMO_DUE_CYCLE = True
    settings.LOGISTICS_PLAN_TIME_LIMIT_S = 3
    settings.LOGISTICS_TILE_URL = ""
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", territory="dunkerque", stdout=io.StringIO())
    to_plan = OrderCycle.objects.filter(schedule__isnull=True)
    cycle = to_plan.get(territory__slug="dunkerque")
    loos_cycle = to_plan.get(territory__slug="loos-en-gohelle")
    base = "http://dunkerque.localhost:" + live_server.url.rsplit(":", 1)[1]
    problems: list[str] = []

    context = new_context(browser, DESKTOP, problems)
    page = context.new_page()
    log_in(page, base, "coordination-dunkerque@demo.test", "/logistique/")
    page.wait_for_url("**/logistique/")
    expect(page.locator(f"tr[data-cycle='{cycle.pk}']")).to_contain_text("à clore")
    assert page.locator(f"tr[data-cycle='{loos_cycle.pk}']").count() == 0
    page.screenshot(path=str(artifacts_dir / "dunkerque-01-cycles.png"), full_page=True)

    page.locator(f"tr[data-cycle='{cycle.pk}']").get_by_role(
        "link", name="Planifier", exact=True
    ).click()
    plan_url = f"/logistique/cycles/{cycle.pk}/plan/"
    page.wait_for_url(f"**{plan_url}")
    # eager Celery: the solve runs inside the POST, so the form is sent from the page
    page.evaluate(
        "setTimeout(() => document.querySelector('[data-form=compute]').requestSubmit(), 0)"
    )
    wait_for(
        lambda: DeliveryPlan.objects.filter(cycle=cycle, solve_state=SolveState.DONE).exists(),
        timeout=90,
    )
    page.goto(f"{base}{plan_url}")
    page.wait_for_selector("section.route")
    plan = DeliveryPlan.objects.get(cycle=cycle)
    routes = list(PlanRoute.objects.filter(plan=plan).select_related("vehicle__depot", "driver"))
    assert routes
    assert page.locator("section.route").count() == len(routes)
    page.wait_for_selector("#plan-map[data-drawn='1']")
    for card in page.locator("[data-unserved].undecided").all():
        card.locator("input[name=decision]").first.check()
        card.get_by_role("button", name="Enregistrer").click()
        page.wait_for_selector(".message.success")
    page.screenshot(path=str(artifacts_dir / "dunkerque-02-plan.png"), full_page=True)
    page.locator("[data-form=publish] button").click()
    page.wait_for_selector("[data-plan-status] .status.done")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED
    context.close()

    # Every round from Dunkerque's depot, in its vehicles, to its relay points and canteens.
    assert {r.vehicle.territory.slug for r in routes} == {"dunkerque"}
    assert {r.vehicle.depot.territory.slug for r in routes} == {"dunkerque"}
    relays = {
        f"relay:{s}"
        for s in RelayPoint.objects.filter(territory=cycle.territory).values_list("slug", flat=True)
    }
    canteens = {
        f"canteen:{s}"
        for s in Canteen.objects.filter(territory=cycle.territory).values_list("slug", flat=True)
    }
    drops = set(
        PlanStop.objects.filter(route__plan=plan, kind="delivery").values_list("place", flat=True)
    )
    assert drops and drops <= relays | canteens
    # Loos-en-Gohelle's cycle is untouched.
    assert not CycleClosing.objects.filter(cycle=loos_cycle).exists()
    assert not DeliveryPlan.objects.filter(cycle=loos_cycle).exists()

    # A Dunkerque driver with a round finds it on a phone.
    route = next(r for r in routes if r.driver is not None)
    context = new_context(browser, PHONE, problems)
    phone = context.new_page()
    log_in(phone, base, route.driver.email, "/chauffeur/")
    phone.wait_for_url("**/chauffeur/")
    expect(phone.locator("main")).to_contain_text(route.vehicle.name)
    fits(phone, PHONE["width"])
    phone.screenshot(path=str(artifacts_dir / "dunkerque-03-driver.png"), full_page=True)
    context.close()
    assert problems == []
