"""Issue 15's whole delivery journey on the demo, in headless Chromium (fr-FR).

The demo is loaded with its cycle to plan (150 confirmed orders over the 10 relay points,
cutoff passed, delivered the next day, nobody closed or planned it). The coordinator (desk,
1280×800) logs in, goes from the preparation pages to the planning pages, sees the cycle "à
clore", computes its rounds (the computation closes the cycle; Celery runs eagerly, so the
solve runs in the request while a second tab watches its progress), reads the plan on the
map, decides any unserved stop and publishes; the canteens' orders of the cycle are stops
of the rounds too. On the delivery day's morning, each driver with a round (phone, 390×844)
logs in, opens the round, reads what to load and checks off every stop (a canteen signs for
its goods, received by its kitchen); one stop of the first round is checked off offline
(shown pending) and sent once back online. Every household of a delivered relay stop gets
one "Votre panier vous attend" e-mail (the drivers' list shows the next days' rounds too).
In the afternoon, the keeper of the Loos post office then hands one of its orders over
("Remis").

The demo is loaded and planned on a fixed Tuesday of a school week (``LOADED``): the cycle
is delivered the next day, and the canteens are delivered on school days only, so a load on
a Friday (delivered on Saturday) or in the school holidays would rightly have no canteen
order in it.
"""

from __future__ import annotations

import io
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect
from pypdf import PdfReader

from logistics.models import (
    CycleClosing,
    DeliveryPlan,
    PlanRoute,
    PlanStatus,
    PlanStop,
    SolveState,
    StopCheckoff,
    StopKind,
)
from marche.cycles.models import OrderCycle
from marche.demo.loaders import DEMO_PASSWORD
from marche.orders.models import Order, OrderStatus
from marche.relays.models import RelayPoint

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.solver,
    pytest.mark.django_db(transaction=True),
]

PARIS = ZoneInfo("Europe/Paris")
LOADED = datetime(2026, 12, 8, 10, 0, tzinfo=PARIS)  # a Tuesday: delivered on Wednesday
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ARRIVAL = "Votre panier vous attend"


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll a database state the browser caused (the page has said it is done already)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("la condition attendue n'est pas arrivée à temps")
        time.sleep(0.05)


def new_context(browser: Any, viewport: dict[str, int], problems: list[str]) -> Any:
    phone = viewport["width"] < 600
    context = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport=viewport,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
    )
    context.set_default_timeout(20_000)
    context.on(
        "page",
        lambda page: page.on(
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        ),
    )
    return context


def log_in(page: Any, base: str, email: str, next_url: str) -> None:
    page.goto(f"{base}/compte/connexion/?next={next_url}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")


def fits(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide"


def coordinator_plans_and_publishes(
    browser: Any, base: str, cycle: OrderCycle, shots: Path, problems: list[str]
) -> DeliveryPlan:
    context = new_context(browser, DESKTOP, problems)
    try:
        page = context.new_page()
        log_in(page, base, "coordination@demo.test", "/preparation/")
        page.wait_for_url("**/preparation/")
        page.get_by_role(
            "link", name="Tournées de livraison : calculer, ajuster et publier"
        ).click()
        page.wait_for_url("**/logistique/")
        row = page.locator(f"tr[data-cycle='{cycle.pk}']")
        # 150 households' orders and the two canteens' (the nursery school, the residence).
        expect(row).to_contain_text("152")
        expect(row).to_contain_text("à clore")
        page.screenshot(path=str(shots / "journey-01-cycles.png"), full_page=True)
        row.get_by_role("link", name="Planifier", exact=True).click()
        plan_url = f"/logistique/cycles/{cycle.pk}/plan/"
        page.wait_for_url(f"**{plan_url}")
        expect(page.locator("[data-plan-status]")).to_contain_text("pas encore calculé")
        assert not CycleClosing.objects.filter(cycle=cycle).exists()

        # Eager Celery: the solve runs inside this POST, so the form is submitted from the
        # page (a click would wait for the answer) while a second tab watches the solve. In
        # eager mode the task runs inside the outbox's publishing transaction, so another
        # connection sees the plan "queued" (not its progress) until the plan is stored.
        page.evaluate(
            "setTimeout(() => document.querySelector('[data-form=compute]').requestSubmit(), 0)"
        )
        wait_for(
            lambda: DeliveryPlan.objects.filter(
                cycle=cycle, solve_state__in=[SolveState.QUEUED, SolveState.RUNNING]
            ).exists()
        )
        watcher = context.new_page()
        watcher.goto(f"{base}{plan_url}")
        box = watcher.locator("[data-solve-box]")
        expect(box).to_contain_text("Calcul des tournées")
        expect(box.locator("[data-field=state_label]")).to_have_text(
            re.compile("en attente d'un calculateur|calcul en cours")
        )
        watcher.screenshot(path=str(shots / "journey-02-solving.png"), full_page=False)
        # The page reloads itself once the computation is done.
        box.wait_for(state="detached", timeout=60_000)
        watcher.close()

        page.wait_for_url(f"**{plan_url}*", timeout=60_000)
        page.wait_for_selector("section.route", timeout=60_000)
        plan = DeliveryPlan.objects.get(cycle=cycle)
        assert plan.solve_state == SolveState.DONE, plan.solve_error
        assert CycleClosing.objects.get(cycle=cycle).orders_count == 150
        routes = plan.routes.count()
        assert routes >= 1
        assert page.locator("section.route").count() == routes
        page.wait_for_selector("#plan-map[data-drawn='1']")
        assert page.locator("path.route-line").count() == routes
        assert "Les tournées sont calculées." in page.locator(".message.success").inner_text()

        # A drop of only farms' goods collected on the round is summed up as such.
        for stop in PlanStop.objects.filter(route__plan=plan, kind=StopKind.DELIVERY):
            if stop.manifest.get("from_farms") and not stop.manifest.get("orders"):
                row = page.locator(f"#etape-{stop.pk}")
                expect(row).to_contain_text("Produits des fermes à déposer")
                expect(row).not_to_contain_text("0 caisse")

        # Unserved places (none expected with the demo's fleet) are decided before publishing.
        for card in page.locator("[data-unserved].undecided").all():
            card.locator("input[name=decision]").first.check()
            card.get_by_role("button", name="Enregistrer").click()
            page.wait_for_selector(".message.success")
        page.screenshot(path=str(shots / "journey-03-plan-desktop.png"), full_page=True)

        page.locator("[data-form=publish] button").click()
        page.wait_for_selector("[data-plan-status] .status.done")
        assert "Le plan est publié" in page.locator(".message.success").inner_text()
        page.screenshot(path=str(shots / "journey-04-published.png"), full_page=False)
        plan.refresh_from_db()
        assert plan.status == PlanStatus.PUBLISHED
        return plan
    finally:
        context.close()


def sign_for_the_canteen(element: Any) -> None:
    """A stop dropping a canteen's order: delivered as due, received by its kitchen (a stop
    that only drops farms' goods toward a canteen has no delivery to record)."""
    received = element.locator("input[data-canteen-received]")
    if received.count():
        received.fill("Cuisine")


def driver_checks_off_the_round(
    browser: Any,
    base: str,
    route: PlanRoute,
    shots: Path,
    problems: list[str],
    *,
    offline_stop: PlanStop | None,
) -> None:
    context = new_context(browser, PHONE, problems)
    # The phone's clock stamps each check-off: it reads the (travelled) time of the round.
    context.clock.install(time=datetime.now(tz=PARIS))
    name = f"journey-driver-{route.position}"
    try:
        page = context.new_page()
        log_in(page, base, route.driver.email, "/chauffeur/")
        page.wait_for_url("**/chauffeur/")
        expect(page.locator("h1")).to_have_text("Mes tournées")
        card = page.locator(f".route-card[data-route='{route.pk}']")
        page.screenshot(path=str(shots / f"{name}-home.png"), full_page=True)
        card.locator("a").click()
        page.wait_for_url(f"**/chauffeur/tournees/{route.pk}/")
        expect(page.locator("h1")).to_have_text(f"Tournée {route.vehicle.name}")
        loads = page.locator("#chargement .load-list li")
        assert loads.count() == len(
            route.stops.get(kind=StopKind.DEPOT_START).manifest["load_in_order"]
        )
        fits(page, PHONE["width"])
        page.screenshot(path=str(shots / f"{name}-load.png"), full_page=False)
        # The printable sheet names the farms' goods to drop, too.
        pdf = page.request.get(f"{base}/chauffeur/tournees/{route.pk}/feuille.pdf")
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
        text = " ".join(text.split())
        for stop in route.stops.filter(kind=StopKind.DELIVERY):
            for farm in stop.manifest.get("from_farms", []):
                assert f"Déposer les produits de {farm['name']}" in text

        stops = list(
            route.stops.filter(kind__in=[StopKind.DELIVERY, StopKind.PICKUP]).order_by("position")
        )
        for stop in stops:
            element = page.locator(f"[data-stop='{stop.pk}']")
            # A drop of farms' goods collected on the round says what to leave, from which farm.
            farms = stop.manifest.get("from_farms", [])
            expect(element.locator("[data-from-farm]")).to_have_count(len(farms))
            if farms and not stop.manifest.get("orders"):
                assert "0 caisse" not in element.inner_text()
                assert farms[0]["name"] in element.locator("[data-from-farm]").first.inner_text()
            if offline_stop is not None and stop.pk == offline_stop.pk:
                sign_for_the_canteen(element)
                context.set_offline(True)
                page.locator("[data-offline-banner]").wait_for(state="visible")
                element.locator("button[value=delivered]").click()
                element.locator("[data-pending]").wait_for(state="visible")
                expect(element.locator("[data-pending]")).to_have_text("en attente d'envoi")
                expect(page.locator("[data-queue-status]")).to_have_text(
                    "1 pointage en attente d'envoi"
                )
                assert not StopCheckoff.objects.filter(stop=stop).exists()
                element.scroll_into_view_if_needed()
                page.screenshot(path=str(shots / f"{name}-offline.png"), full_page=False)
                context.set_offline(False)
                page.locator("[data-offline-banner]").wait_for(state="hidden")
            else:
                sign_for_the_canteen(element)
                element.locator("button[value=delivered]").click()
            # Sent: delivered, and no longer waiting in the queue.
            page.wait_for_selector(
                f"[data-stop='{stop.pk}'][data-status=delivered]:not(.is-pending)"
            )
        expect(page.locator("[data-queue-status]")).to_be_hidden()
        expect(page.locator("[data-progress]")).to_have_text(
            f"{len(stops)}/{len(stops)} étapes pointées" if len(stops) > 1 else "1/1 étape pointée"
        )
        fits(page, PHONE["width"])
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(shots / f"{name}-done.png"), full_page=False)
        wait_for(lambda: StopCheckoff.objects.filter(stop__route=route).count() == len(stops))
    finally:
        context.close()


def keeper_hands_an_order_over(
    browser: Any, base: str, cycle: OrderCycle, shots: Path, problems: list[str]
) -> Order:
    relay = RelayPoint.objects.get(keepers__email="relais@demo.test")
    # "Remis" is offered only for an order whose total is final: the demo's orders of
    # variable-weight products wait for the weighing at the hub, so take one already final.
    order = (
        Order.objects.filter(cycle=cycle, relay_point=relay, is_final=True)
        .select_related("customer")
        .order_by("reference")
        .first()
    )
    assert order is not None, "aucune commande au total définitif à ce point relais"
    context = new_context(browser, PHONE, problems)
    try:
        page = context.new_page()
        log_in(page, base, "relais@demo.test", "/relais/")
        page.wait_for_url(f"**/relais/{relay.slug}/")
        expect(page.locator("h1")).to_have_text(relay.name)
        count = Order.objects.filter(cycle=cycle, relay_point=relay).count()
        expect(page.locator("[data-testid=pickup-count]")).to_have_text(
            f"Remises : 0 sur {count} commandes"
        )
        page.fill("#keeper-q", order.reference)
        page.click("form.keeper-search button")
        page.wait_for_url("**q=*")
        card = page.locator(f"#commande-{order.reference}")
        means = card.locator("label:has-text('Espèces')")
        if means.count():  # a pay-at-pickup order: the keeper says how it was paid
            means.click()
        card.locator("button.keeper-button").click()
        page.wait_for_selector(".message.success")
        card = page.locator(f"#commande-{order.reference}")
        expect(card).to_contain_text("Déjà remis")
        fits(page, PHONE["width"])
        page.screenshot(path=str(shots / "journey-relay-handed-over.png"), full_page=False)
    finally:
        context.close()
    order.refresh_from_db()
    assert order.status == OrderStatus.COLLECTED
    return order


def test_the_whole_delivery_journey_on_the_demo(  # type: ignore[no-untyped-def]
    browser, live_server, settings, artifacts_dir: Path
) -> None:
    settings.MARCHE_DEMO_DUE_CYCLE = True
    settings.LOGISTICS_PLAN_TIME_LIMIT_S = 4
    settings.LOGISTICS_TILE_URL = ""
    settings.MARCHE_SITE_URL = live_server.url
    base = live_server.url
    problems: list[str] = []
    with time_machine.travel(LOADED, tick=True):
        call_command("load_demo", stdout=io.StringIO())
        cycle = OrderCycle.objects.get(schedule__isnull=True)
        assert cycle.delivery_date == LOADED.date() + timedelta(days=1)
        plan = coordinator_plans_and_publishes(browser, base, cycle, artifacts_dir, problems)

    routes = list(
        PlanRoute.objects.filter(plan=plan).select_related("driver", "vehicle").order_by("position")
    )
    assert all(route.driver is not None for route in routes)
    # The canteens' orders ride on the rounds too, within their reception windows.
    assert {"canteen:cantine-maternelle-loos", "canteen:foyer-logement-loos"} <= set(
        PlanStop.objects.filter(route__plan=plan).values_list("place", flat=True)
    )
    # The drivers check off on the delivery day's morning (a canteen's delivery is refused
    # before its day).
    zone = ZoneInfo(cycle.territory.timezone)
    morning = datetime.combine(cycle.delivery_date, clock_time(7), tzinfo=zone)
    with time_machine.travel(morning, tick=True):
        for index, route in enumerate(routes):
            offline = None
            if index == 0:
                deliveries = route.stops.filter(kind=StopKind.DELIVERY).order_by("position")
                offline = deliveries[1] if deliveries.count() > 1 else deliveries.first()
            driver_checks_off_the_round(
                browser, base, route, artifacts_dir, problems, offline_stop=offline
            )

    # Every stop checked off once, delivered; every round finished.
    checkable = PlanStop.objects.filter(
        route__plan=plan, kind__in=[StopKind.DELIVERY, StopKind.PICKUP]
    )
    assert StopCheckoff.objects.filter(stop__route__plan=plan).count() == checkable.count()
    assert set(checkable.values_list("status", flat=True)) == {"delivered"}
    assert all(r.finished_at is not None for r in PlanRoute.objects.filter(plan=plan))

    # One "your basket is waiting" e-mail per household of the relay stops, none twice.
    references = [
        order["reference"]
        for stop in checkable.filter(kind=StopKind.DELIVERY, place__startswith="relay:")
        for order in stop.manifest["orders"]
    ]
    assert len(references) == 150
    expected = Counter(
        Order.objects.filter(reference__in=references).values_list("customer__email", flat=True)
    )
    wait_for(lambda: sum(1 for m in mail.outbox if m.subject.startswith(ARRIVAL)) == 150)
    sent = Counter(m.to[0] for m in mail.outbox if m.subject.startswith(ARRIVAL))
    assert sent == expected and set(sent.values()) == {1}

    # Planned the day before: the rounds leave on the delivery day, not in the past.
    first = PlanStop.objects.filter(route__plan=plan, kind=StopKind.DEPOT_START).order_by("eta")[0]
    assert first.eta.astimezone(zone).date() == cycle.delivery_date

    # The keeper hands the baskets over on the delivery day.
    afternoon = datetime.combine(cycle.delivery_date, clock_time(15), tzinfo=zone)
    with time_machine.travel(afternoon, tick=True):
        keeper_hands_an_order_over(browser, base, cycle, artifacts_dir, problems)
    assert problems == []  # the site's CSP blocked nothing on any of these pages
