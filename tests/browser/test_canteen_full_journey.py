"""The nursery-school canteen's whole journey on the demo, in headless Chromium (fr-FR).

Wednesday 2 December 2026 (time moved by time-machine, ticking): the demo's open cycle is
delivered on Thursday 10 December, a school day of zone B.

1. The manager (phone, 390×844) saves the standing order typing "10,5" kg of carrots; the
   cycle's order is made from it (the materialise service, as the beat task does).
2. The farmer of the Ferme du Chemin Vert (desk) adjusts the carrots with a note and confirms
   the leeks; the manager sees the change.
3. The cutoff passes: the beat confirms what producers left unanswered; the coordinator
   (desk) computes the rounds on /logistique/ (the computation closes the cycle) and
   publishes them; the canteen is a stop of a round with its reception window.
4. On the delivery day the round's driver (phone) opens the round, reads the canteen stop,
   downloads its delivery note, types a shortfall of leeks with its reason and who received,
   and checks the stop off.
5. Month end: the December invoices are issued (the beat's task); the manager downloads the
   Factur-X invoice; the delivery note shows ordered, confirmed and delivered quantities.
6. The manager reads the EGalim dashboard for 2026 (its organic share as ``egalim_year``
   computes it) and downloads the "ma cantine" export: its 11 columns, every value one the
   platform's schema accepts, the short delivery at what arrived.

Screenshots go to ``test-artifacts/canteen-full-*.png``.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from facturx import get_facturx_xml_from_pdf
from playwright.sync_api import expect
from pypdf import PdfReader

from logistics.models import DeliveryPlan, PlanStatus, PlanStop, SolveState, StopKind
from marche.canteens.egalim import egalim_year
from marche.canteens.invoicing import invoices_issue_month
from marche.canteens.macantine import COLUMNS
from marche.canteens.models import (
    Canteen,
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    Invoice,
    LineStatus,
    StandingOrder,
)
from marche.canteens.services import orders_confirm_at_cutoff, standing_orders_materialise
from marche.catalog.models import Product
from marche.cycles.models import OrderCycle
from marche.demo.loaders import DEMO_PASSWORD
from tests.marche.canteens.test_macantine_export import (
    SCHEMA_COLUMNS,
    check_against_schema,
    read_rows,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.solver,
    pytest.mark.django_db(transaction=True),
]

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=PARIS)
NEW_YEAR = datetime(2027, 1, 4, 9, 0, tzinfo=PARIS)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MANAGER = "cantine-maternelle@demo.test"
FARMER = "producteur@demo.test"
COORDINATOR = "coordination@demo.test"
SCHOOL_STOP = "canteen:cantine-maternelle-loos"


def new_page(browser: Any, viewport: dict[str, int], problems: list[str]) -> tuple[Any, Any]:
    """A page whose clock reads the travelled time: the driver's page stamps a check-off
    with the phone's clock, and a delivery is refused before its day."""
    phone = viewport["width"] < 600
    context = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport=viewport,
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
        accept_downloads=True,
    )
    page = context.new_page()
    page.clock.install(time=datetime.now(tz=PARIS))
    page.set_default_timeout(30_000)
    page.on(
        "console",
        lambda m: (
            problems.append(m.text) if m.type == "error" and "status of 400" not in m.text else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return context, page


def log_in(page: Any, base: str, email: str, next_url: str) -> None:
    page.goto(f"{base}/compte/connexion/?next={next_url}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")


def fits(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide"


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("la condition attendue n'est pas arrivée à temps")
        time.sleep(0.1)


def pdf_text(body: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    return " ".join(text.split())


def test_the_nursery_school_canteen_from_standing_order_to_egalim_share(
    browser: Any, live_server: Any, settings: Any, artifacts_dir: Path
) -> None:
    settings.LOGISTICS_PLAN_TIME_LIMIT_S = 3
    settings.LOGISTICS_TILE_URL = ""
    settings.MARCHE_SITE_URL = live_server.url
    problems: list[str] = []
    base = live_server.url
    shot = str(artifacts_dir / "canteen-full")

    # --- 1. The manager saves the standing order; the cycle's order is made from it. -------
    with time_machine.travel(WEDNESDAY, tick=True):
        call_command("load_demo", stdout=io.StringIO())
        school = Canteen.objects.get(slug="cantine-maternelle-loos")
        cycle = OrderCycle.objects.latest("delivery_date")
        assert cycle.delivery_date.isoformat() == "2026-12-10"
        carrots = Product.objects.get(slug="carottes")
        leeks = Product.objects.get(slug="poireaux")

        context, page = new_page(browser, PHONE, problems)
        log_in(page, base, MANAGER, "/cantine/")
        page.wait_for_url(f"**/cantine/{school.pk}/")
        page.get_by_role("link", name="Commande régulière et semaines sautées").click()
        page.wait_for_url(f"**/cantine/{school.pk}/commande-reguliere/")
        page.locator(f"#q-{carrots.pk}").fill("10,5")
        with page.expect_navigation():
            page.get_by_role("button", name="Enregistrer la commande régulière").click()
        expect(page.locator(".message.success")).to_contain_text("Commande régulière enregistrée")
        expect(page.locator(f"#q-{carrots.pk}")).to_have_value("10,5")
        fits(page, PHONE["width"])
        page.screenshot(path=f"{shot}-01-standing-order.png", full_page=False)
        standing = StandingOrder.objects.get(canteen=school, is_active=True)
        assert standing.lines.get(product=carrots).quantity == Decimal("10.5")

        made = standing_orders_materialise(cycle=cycle)
        order = CanteenOrder.objects.get(canteen=school, cycle=cycle)
        assert made == [order] and order.standing_order == standing
        carrots_line = order.lines.get(product=carrots)
        leeks_line = order.lines.get(product=leeks)
        assert carrots_line.quantity_ordered == Decimal("10.5")
        page.goto(f"{base}/cantine/{school.pk}/commandes/{order.pk}/")
        expect(page.locator(f"[data-line='{carrots_line.pk}']")).to_contain_text(
            "Commandé : 10,5 kg"
        )
        fits(page, PHONE["width"])
        page.screenshot(path=f"{shot}-02-order-made.png", full_page=True)

        # --- 2. The farmer adjusts the carrots with a note, confirms the leeks. ------------
        farm_context, farm = new_page(browser, DESKTOP, problems)
        log_in(farm, base, FARMER, "/producteur/")
        farm.get_by_role("link", name="Commandes des cantines à confirmer").first.click()
        farm.wait_for_url("**/cantine/producteur/")
        farm.locator(f"[data-cycle='{cycle.pk}']").get_by_role("link", name="Répondre").click()
        line = farm.locator(f"#ligne-{carrots_line.pk}")
        line.locator("input[name=quantity]").fill("9,5")
        line.locator("input[name=note]").fill("Gel : 9,5 kg seulement cette semaine")
        with farm.expect_navigation():
            line.get_by_role("button", name="Ajuster").click()
        expect(farm.locator(".message.success")).to_contain_text("quantité ajustée")
        # The farm's other lines are confirmed as ordered.
        others = order.lines.filter(producer=carrots.producer).exclude(pk=carrots_line.pk)
        assert leeks_line in others and others.count() == 3
        for other in others:
            with farm.expect_navigation():
                farm.locator(f"#ligne-{other.pk}").get_by_role("button", name="Confirmer").click()
            expect(farm.locator(f"#ligne-{other.pk}")).to_contain_text("Confirmée")
        farm.screenshot(path=f"{shot}-03-producer-answers.png", full_page=True)
        farm_context.close()
        carrots_line.refresh_from_db()
        assert (carrots_line.status, carrots_line.quantity_confirmed) == (
            LineStatus.ADJUSTED,
            Decimal("9.5"),
        )

        page.goto(f"{base}/cantine/{school.pk}/commandes/{order.pk}/")
        seen = page.locator(f"[data-line='{carrots_line.pk}']")
        expect(seen).to_contain_text("Ajustée par le producteur")
        expect(seen).to_contain_text("Confirmé : 9,5 kg")
        expect(seen.locator("[data-producer-note]")).to_contain_text("Gel : 9,5 kg seulement")
        fits(page, PHONE["width"])
        page.screenshot(path=f"{shot}-04-manager-sees-the-change.png", full_page=True)
        context.close()

    # --- 3. The cutoff passes; the coordinator plans and publishes. --------------------------
    after_cutoff = cycle.closes_at + timedelta(minutes=5)
    with time_machine.travel(after_cutoff, tick=True):
        # The beat confirms the lines other producers left unanswered.
        assert orders_confirm_at_cutoff(cycle=cycle) == 1
        order.refresh_from_db()
        assert order.status == CanteenOrderStatus.CONFIRMED
        context, page = new_page(browser, DESKTOP, problems)
        log_in(page, base, COORDINATOR, "/logistique/")
        page.wait_for_url("**/logistique/")
        row = page.locator(f"tr[data-cycle='{cycle.pk}']")
        expect(row).to_contain_text("à clore")
        page.screenshot(path=f"{shot}-05-cycles-to-plan.png", full_page=True)
        row.get_by_role("link", name="Planifier", exact=True).click()
        plan_url = f"/logistique/cycles/{cycle.pk}/plan/"
        page.wait_for_url(f"**{plan_url}")
        # Eager Celery: the solve runs inside the POST; submitted from the page, then awaited.
        page.evaluate(
            "setTimeout(() => document.querySelector('[data-form=compute]').requestSubmit(), 0)"
        )
        wait_for(
            lambda: DeliveryPlan.objects.filter(cycle=cycle, solve_state=SolveState.DONE).exists()
        )
        page.wait_for_url(f"**{plan_url}*", timeout=60_000)
        page.wait_for_selector("section.route", timeout=60_000)
        plan = DeliveryPlan.objects.get(cycle=cycle)
        assert plan.unserved == []
        stop = PlanStop.objects.select_related("route__driver", "route__vehicle").get(
            route__plan=plan, place=SCHOOL_STOP, kind=StopKind.DELIVERY
        )
        assert stop.window_start is not None and stop.window_end is not None
        window = (
            stop.window_start.astimezone(PARIS).strftime("%H:%M"),
            stop.window_end.astimezone(PARIS).strftime("%H:%M"),
        )
        assert window == ("07:30", "10:00")
        planned = page.locator(f"#etape-{stop.pk}")
        expect(planned).to_contain_text(school.name)
        expect(planned).to_contain_text("07:30")
        page.screenshot(path=f"{shot}-06-plan.png", full_page=True)
        page.locator("[data-form=publish] button").click()
        page.wait_for_selector("[data-plan-status] .status.done")
        expect(page.locator(".message.success")).to_contain_text("Le plan est publié")
        plan.refresh_from_db()
        assert plan.status == PlanStatus.PUBLISHED
        context.close()

    # --- 4. The driver delivers, short of leeks, and checks the stop off. --------------------
    route = stop.route
    delivery_morning = datetime.combine(cycle.delivery_date, stop.eta.astimezone(PARIS).time())
    with time_machine.travel(delivery_morning.replace(tzinfo=PARIS), tick=True):
        context, page = new_page(browser, PHONE, problems)
        log_in(page, base, route.driver.email, "/chauffeur/")
        page.wait_for_url("**/chauffeur/")
        page.locator(f".route-card[data-route='{route.pk}'] a").click()
        page.wait_for_url(f"**/chauffeur/tournees/{route.pk}/")
        element = page.locator(f"[data-stop='{stop.pk}']")
        element.scroll_into_view_if_needed()
        expect(element.locator("h3")).to_contain_text(school.name)
        expect(element.locator(".stop-eta")).to_contain_text("créneau 07:30–10:00")
        assert element.locator("[data-canteen-line]").count() == order.lines.count()

        note_link = element.get_by_role("link", name="Bon de livraison (PDF)")
        note = page.request.get(base + note_link.get_attribute("href"))
        assert note.ok and note.headers["content-type"] == "application/pdf"
        assert note.body().startswith(b"%PDF")
        assert order.reference in pdf_text(note.body())

        leeks_field = element.locator(f"input[data-canteen-qty='{leeks_line.pk}']")
        assert leeks_field.input_value() == "5"
        leeks_field.fill("3,5")
        element.locator(f"input[data-canteen-reason='{leeks_line.pk}']").fill(
            "Poireaux abîmés par le gel"
        )
        element.locator("input[data-canteen-received]").fill("Mme Vasseur")
        element.locator(
            f"input[data-canteen-reason='{leeks_line.pk}']"
        ).scroll_into_view_if_needed()
        fits(page, PHONE["width"])
        page.screenshot(path=f"{shot}-07-driver-canteen-stop.png", full_page=False)
        element.locator("button[value=delivered]").click()
        page.wait_for_selector(f"[data-stop='{stop.pk}'][data-status=delivered]:not(.is-pending)")
        wait_for(
            lambda: CanteenOrder.objects.get(pk=order.pk).status == CanteenOrderStatus.DELIVERED
        )
        expect(element.locator("[data-stop-status]")).to_have_text(re.compile("livrée", re.I))
        element.locator(".stop-head").scroll_into_view_if_needed()
        page.screenshot(path=f"{shot}-08-driver-checked-off.png", full_page=False)
        context.close()
    order.refresh_from_db()
    assert order.received_by == "Mme Vasseur"
    leeks_line.refresh_from_db()
    assert (leeks_line.quantity_delivered, leeks_line.shortfall_reason) == (
        Decimal("3.5"),
        "Poireaux abîmés par le gel",
    )
    carrots_line.refresh_from_db()
    assert carrots_line.quantity_delivered == Decimal("9.5")

    # --- 5. Month end: invoices issued; the manager downloads one, and the delivery note. ---
    with time_machine.travel(NEW_YEAR, tick=True):
        issued = invoices_issue_month(year=2026, month=12)  # the beat's job
        assert issued and not issued.skipped  # one per producer of the December delivery
        invoice = Invoice.objects.get(canteen=school, lines__order_line=carrots_line)
        context, page = new_page(browser, PHONE, problems)
        log_in(page, base, MANAGER, "/cantine/factures/")
        # Numbered per issuer: each producer's first invoice of the year is 2027-0001.
        row = page.locator(f"[data-invoice='{invoice.number}']").filter(
            has_text=invoice.issuer.name
        )
        expect(row).to_contain_text("À payer")
        fits(page, PHONE["width"])
        page.screenshot(path=f"{shot}-09-invoices.png", full_page=True)
        with page.expect_download() as waiting:
            row.locator("[data-download]").click()
        body = Path(waiting.value.path()).read_bytes()
        assert body.startswith(b"%PDF")
        name, xml = get_facturx_xml_from_pdf(body, check_xsd=True)
        assert name == "factur-x.xml" and invoice.number.encode() in xml

        note = page.request.get(f"{base}/cantine/livraisons/{order.pk}/bon-de-livraison.pdf")
        assert note.ok
        text = pdf_text(note.body())
        assert "−1,5 : Poireaux abîmés par le gel" in text, text
        assert re.search(r"Carottes.*10,5.*9,5.*9,5", text), text
        (artifacts_dir / "canteen-full-delivery-note.pdf").write_bytes(note.body())

        # --- 6. The EGalim dashboard for 2026 and the "ma cantine" export. -----------------
        report = egalim_year(canteen=school, year=2026)
        page.goto(f"{base}/cantine/{school.pk}/")
        page.locator("a[data-link=egalim]").click()
        page.wait_for_url(f"**/cantine/{school.pk}/egalim/*")
        page.locator("select[name=annee]").select_option("2026")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_url("**annee=2026")
        expect(page.locator("h1")).to_contain_text("Bilan EGalim 2026")
        shown = report.organic.percent_shown
        assert shown is not None and shown > 0
        expect(page.locator("[data-gauge=bio] [data-percent]")).to_have_text(
            f"{shown:.1f}".replace(".", ",") + "\u00a0%"
        )
        fits(page, PHONE["width"])
        page.screenshot(path=f"{shot}-10-egalim.png", full_page=True)
        with page.expect_download() as waiting:
            page.get_by_role("button", name="Télécharger les nouveaux achats (CSV)").click()
        header, rows = read_rows(Path(waiting.value.path()).read_text(encoding="utf-8"))
        assert header == SCHEMA_COLUMNS == list(COLUMNS)
        assert len(header) == 11
        delivered = CanteenOrderLine.objects.filter(
            order__canteen=school, quantity_delivered__gt=0
        ).count()
        assert len(rows) == delivered
        for row in rows:
            check_against_schema(row)
            assert row["siret"] == school.siret
        # The short delivery is exported at what arrived: 3.5 kg at 2.30 € HT.
        short = [r for r in rows if r["date"] == "2026-12-10" and r["description"] == "Poireaux"]
        assert [r["prix_ht"] for r in short] == ["8.05"]
        assert sum(Decimal(r["prix_ht"]) for r in rows) == report.total
        context.close()
    assert problems == []
