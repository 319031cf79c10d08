"""The coordinator's planning page in Chromium (fr-FR), on a desk and on a phone.

A cycle of five orders at four relay points is computed by the real solver into two rounds
(two vans of three crates each). The coordinator opens the plan: the Leaflet map is drawn
with no tile server (markers, one line per round, the scale) without any CSP violation, a
move into the full round is refused with the checker's French reason, a move the other way
is done, a round is locked, the plan is published. While a plan is being computed the
progress box follows the database every second and the page reloads itself at the end.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from logistics.models import DeliveryPlan, PlanRoute, PlanStatus, PlanStop, SolveState, StopKind
from logistics.services import plan_compute
from tests.logistics.test_planning_views import PASSWORD, build_cycle, coordinator

pytestmark = [
    pytest.mark.browser,
    pytest.mark.solver,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def open_page(browser, viewport: dict[str, int], problems: list[str]):  # type: ignore[no-untyped-def]
    """A fr-FR page that records console errors and failed requests."""
    phone = viewport["width"] < 600
    context = browser.new_context(
        locale="fr-FR", viewport=viewport, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "requestfailed",
        lambda request: problems.append(f"{request.url} {request.failure}"),
    )
    return context, page


def log_in(page, base: str, email: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/compte/connexion/?next={next_url}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def routes_by_load(plan: DeliveryPlan) -> tuple[PlanRoute, PlanRoute]:
    routes = sorted(
        plan.routes.all(),
        key=lambda r: sum(
            s.manifest.get("crates", 0) for s in r.stops.filter(kind=StopKind.DELIVERY)
        ),
    )
    return routes[1], routes[0]  # full, lighter


def the_map_is_drawn(page, *, routes: int, places: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#plan-map[data-drawn='1']")
    assert page.locator(".leaflet-overlay-pane svg").count() == 1
    assert page.locator("path.route-line").count() == routes
    assert page.locator("path.place-marker").count() == places
    assert page.locator("path.place-depot").count() == 1
    scale = page.locator(".leaflet-control-scale-line")
    assert scale.count() == 1
    assert re.fullmatch(r"\d+ k?m", scale.inner_text().strip()), scale.inner_text()
    assert page.locator("img.leaflet-tile").count() == 0  # no tile server configured
    # Each marker says what it is: hovering the depot shows its name.
    page.locator("path.place-depot").hover(force=True)
    assert "Base 11/19" in page.locator(".leaflet-tooltip").first.inner_text()


def fits(page, width: int) -> None:  # type: ignore[no-untyped-def]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide"


def test_coordinator_reads_moves_locks_and_publishes_a_plan(
    browser, live_server, artifacts_dir: Path, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.LOGISTICS_TILE_URL = ""
    cycle = build_cycle(vans=2, crates=3)
    plan = plan_compute(cycle_id=cycle.pk, time_limit=1).plan
    assert plan.routes.count() == 2
    user = coordinator(cycle, email="coordination@example.test")
    url = f"/logistique/cycles/{cycle.pk}/plan/"
    problems: list[str] = []
    context, page = open_page(browser, DESKTOP, problems)
    try:
        log_in(page, live_server.url, user.email, url)
        assert page.locator("h1").inner_text() == "Tournées — Semaine 12"
        the_map_is_drawn(page, routes=2, places=5)
        assert page.locator("section.route").count() == 2
        badges = page.locator("[data-route-progress]").all_inner_texts()
        assert len(badges) == 2
        assert all(re.fullmatch(r"0/\d étapes? livrées?", b) for b in badges), badges
        page.screenshot(path=str(artifacts_dir / "planning-desktop.png"), full_page=True)

        full, lighter = routes_by_load(plan)
        # Refused: any drop of the lighter round into the full one (three crates already).
        intruder = lighter.stops.filter(kind=StopKind.DELIVERY).order_by("position").first()
        row = page.locator(f"#etape-{intruder.pk}")
        row.locator("details.move summary").click()
        row.locator("select[name=route]").select_option(str(full.pk))
        row.locator("input[name=position]").fill("1")
        row.locator("button[type=submit]").click()
        page.wait_for_load_state()
        error = page.locator("ul.messages .message.error")
        assert error.count() == 1
        reason = error.inner_text()
        assert re.search(r"caisses|charge", reason), reason
        # The same reason beside the form, open on the choice made, in view.
        row = page.locator(f"#etape-{intruder.pk}")
        assert row.locator(".inline-error").inner_text() == reason
        assert row.locator(".inline-error").is_visible()
        assert row.locator("select[name=route]").input_value() == str(full.pk)
        intruder.refresh_from_db()
        assert intruder.route_id == lighter.pk
        page.screenshot(path=str(artifacts_dir / "planning-move-refused.png"), full_page=False)

        # Allowed: a one-crate drop of the full round to the head of the lighter one.
        mover = next(
            s
            for s in full.stops.filter(kind=StopKind.DELIVERY).order_by("position")
            if s.manifest.get("crates") == 1
        )
        row = page.locator(f"#etape-{mover.pk}")
        row.locator("details.move summary").click()
        row.locator("select[name=route]").select_option(str(lighter.pk))
        row.locator("input[name=position]").fill("1")
        row.locator("button[type=submit]").click()
        page.wait_for_selector(".message.success")
        assert "L'étape a été déplacée." in page.locator(".message.success").inner_text()
        mover.refresh_from_db()
        assert (mover.route_id, mover.position) == (lighter.pk, 1)
        the_map_is_drawn(page, routes=2, places=5)

        # Lock the lighter round.
        page.locator(f"#tournee-{lighter.pk} .lock-form button").click()
        page.wait_for_selector(f"#tournee-{lighter.pk} .locked-badge")
        assert "La tournée est verrouillée." in page.locator(".message.success").inner_text()
        lighter.refresh_from_db()
        assert lighter.locked is True

        # Publish.
        page.locator("[data-form=publish] button").click()
        page.wait_for_selector("[data-plan-status] .status.done")
        assert "Le plan est publié" in page.locator(".message.success").inner_text()
        assert DeliveryPlan.objects.get(pk=plan.pk).status == PlanStatus.PUBLISHED
        assert page.locator(".move-form").count() == 0
        page.screenshot(path=str(artifacts_dir / "planning-published-desktop.png"), full_page=True)
        assert problems == []
    finally:
        context.close()

    # The same page on a phone: the map, the rounds, no sideways scrolling.
    problems = []
    context, page = open_page(browser, PHONE, problems)
    try:
        log_in(page, live_server.url, user.email, url)
        the_map_is_drawn(page, routes=2, places=5)
        fits(page, PHONE["width"])
        page.screenshot(path=str(artifacts_dir / "planning-phone.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


def test_the_progress_box_follows_the_solve_and_the_page_reloads_when_done(
    browser, live_server, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    cycle = build_cycle(vans=2, crates=3)
    plan = plan_compute(cycle_id=cycle.pk, time_limit=1).plan
    DeliveryPlan.objects.filter(pk=plan.pk).update(
        solve_state=SolveState.RUNNING,
        progress={
            "started_at": timezone.now().isoformat(),
            "time_limit_s": 10,
            "elapsed_s": 1,
            "best_cost": 50,
            "stops_planned": 1,
            "stops_total": 4,
        },
    )
    user = coordinator(cycle, email="coordination@example.test")
    url = f"/logistique/cycles/{cycle.pk}/plan/"
    problems: list[str] = []
    context, page = open_page(browser, PHONE, problems)
    try:
        log_in(page, live_server.url, user.email, url)
        box = page.locator("[data-solve-box]")
        assert "calcul en cours" in box.inner_text()
        assert box.locator("[data-field=stops]").inner_text() == "1 / 4"
        DeliveryPlan.objects.filter(pk=plan.pk).update(
            progress={
                "time_limit_s": 10,
                "elapsed_s": 6,
                "best_cost": 42.5,
                "stops_planned": 4,
                "stops_total": 4,
            }
        )
        expect(box.locator("[data-field=stops]")).to_have_text("4 / 4")
        assert box.locator("[data-field=best_cost]").inner_text() == "42,50"
        assert box.locator("[data-field=time_left]").inner_text() == "4 s"
        page.screenshot(path=str(artifacts_dir / "planning-solving-phone.png"), full_page=True)
        DeliveryPlan.objects.filter(pk=plan.pk).update(solve_state=SolveState.DONE)
        page.wait_for_selector("[data-solve-box]", state="detached")
        assert page.locator("section.route").count() == 2
        assert problems == []
    finally:
        context.close()


def test_live_progress_of_published_rounds(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    cycle = build_cycle(vans=2, crates=3)
    plan = plan_compute(cycle_id=cycle.pk, time_limit=1).plan
    DeliveryPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.PUBLISHED)
    route = plan.routes.order_by("position").first()
    first = route.stops.filter(kind=StopKind.DELIVERY).order_by("position").first()
    total = route.stops.filter(kind=StopKind.DELIVERY).count()
    user = coordinator(cycle, email="coordination@example.test")
    url = f"/logistique/cycles/{cycle.pk}/plan/"
    problems: list[str] = []
    context, page = open_page(browser, DESKTOP, problems)
    try:
        log_in(page, live_server.url, user.email, url)
        badge = page.locator(f"[data-route-progress='{route.pk}']")
        expect(badge).to_have_text(re.compile(rf"^0/{total} étapes? livrées?$"))
        PlanStop.objects.filter(pk=first.pk).update(status="delivered")
        # The published page polls every 15 s: the next poll shows the delivered stop.
        expect(badge).to_have_text(re.compile(rf"^1/{total} étapes? livrées?$"), timeout=20_000)
        status = page.locator(f"[data-stop-status='{first.pk}']")
        expect(status).to_have_text("livrée")
        assert problems == []
    finally:
        context.close()


def test_computing_says_it_is_under_way_and_a_mistyped_position_stays_by_its_stop(
    browser, live_server, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.LOGISTICS_TILE_URL = ""
    settings.LOGISTICS_PLAN_TIME_LIMIT_S = 1
    cycle = build_cycle(vans=2, crates=3)
    user = coordinator(cycle, email="coordination@example.test")
    url = f"/logistique/cycles/{cycle.pk}/plan/"
    problems: list[str] = []
    context, page = open_page(browser, PHONE, problems)
    held: list = []  # type: ignore[type-arg]
    try:
        log_in(page, live_server.url, user.email, url)
        # Hold the post back, to see the page while the computation runs.
        page.route("**/plan/calculer/", lambda route: held.append(route))
        wait = page.locator("[data-compute-wait]")
        expect(wait).to_be_hidden()
        # Clicked and read in one go from the page: Playwright's own click and locators would
        # wait for the held navigation.
        shown = page.evaluate(
            """() => new Promise((done) => {
                const button = document.querySelector('[data-form=compute] button');
                const wait = document.querySelector('[data-compute-wait]');
                button.click();
                const read = () => [wait.hidden, wait.textContent.trim(), button.disabled];
                setTimeout(() => done(read()), 100);
            })"""
        )
        assert shown == [False, "Calcul en cours… (jusqu'à 1 s)", True]
        page.wait_for_timeout(300)  # the held request reaches the handler
        assert len(held) == 1
        held[0].continue_()
        page.wait_for_selector("section.route", timeout=30_000)
        assert page.locator("section.route").count() == 2

        # A mistyped position: the error beside that stop's form, open, with what was typed.
        plan = DeliveryPlan.objects.get(cycle=cycle)
        stop = PlanStop.objects.filter(route__plan=plan, kind=StopKind.DELIVERY).order_by("pk")[0]
        row = page.locator(f"#etape-{stop.pk}")
        row.locator("details.move summary").click()
        row.locator("input[name=position]").fill("2,5")
        row.locator("button[type=submit]").click()
        page.wait_for_load_state()
        row = page.locator(f"#etape-{stop.pk}")
        error = row.locator(".inline-error")
        expect(error).to_have_text("La position doit être un nombre entier.")
        expect(error).to_be_in_viewport()
        assert row.locator("details.move").get_attribute("open") is not None
        assert row.locator("input[name=position]").input_value() == "2,5"
        assert page.locator(".inline-error").count() == 1
        fits(page, PHONE["width"])
        assert problems == []
    finally:
        context.close()
