"""Staff journeys in Chromium with a French locale: the driver at the relay point on a phone,
the coordinator who weighs there, and the coordinator at a desk who invites a driver.

After a cycle's cutoff, a driver logs in on a 390 px screen, opens the preparation pages and
a relay point's packing list: household names and order references, never an e-mail address,
and no horizontal scroll. A driver may not weigh, so a coordinator weighs the variable-weight
lines on the same page ("1e2" is refused in French and changes nothing, "1,25" is 1.25 kg);
then the driver records the pickup, paid in cash, and the page confirms it.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from marche.accounts.models import Invitation, Role
from marche.demo.loaders import DEMO_PASSWORD
from marche.orders.models import Order, OrderLine, OrderStatus
from marche.orders.packing import user_may_weigh
from marche.payments.models import Payment, PaymentStatus, PickupMeans
from marche.payments.services import user_can_record_pickup
from tests.marche.orders.test_pick_lists import Prep, build_prep

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
FACTORY_PASSWORD = "mot-de-passe-test"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
HOUSEHOLD_EMAILS = ("alice@example.test", "bob@example.test", "denis@example.test")


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    """A second phone: the driver and the coordinator each hold their own."""

    def open_phone():  # type: ignore[no-untyped-def]
        context = browser.new_context(
            locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        contexts.append(context)
        return page

    contexts: list[object] = []
    yield open_phone
    for context in contexts:
        context.close()  # type: ignore[attr-defined]


def log_in(page, base: str, email: str, password: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/compte/connexion/?next={next_url}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def fits_the_phone(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def no_email_anywhere(page) -> None:  # type: ignore[no-untyped-def]
    """No e-mail address in what the page shows, nor in its HTML (attributes, hidden text)."""
    text = page.locator("body").inner_text()
    assert EMAIL.findall(text) == [], page.url
    html = page.content()
    assert [email for email in HOUSEHOLD_EMAILS if email in html] == [], page.url
    assert "mailto:" not in html


# The text's colour differs from the background it is drawn on (the first ancestor that has
# one), and the element takes room on the screen.
VISIBLE_INK = """element => {
  const ink = getComputedStyle(element).color;
  let node = element, paper = "rgba(0, 0, 0, 0)";
  while (node && paper === "rgba(0, 0, 0, 0)") {
    paper = getComputedStyle(node).backgroundColor;
    node = node.parentElement;
  }
  const box = element.getBoundingClientRect();
  return ink !== paper && box.width > 0 && box.height > 0;
}"""


def messages(page) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = page.locator("ul.messages li.message")
    return [
        (found.nth(i).get_attribute("class") or "", found.nth(i).inner_text().strip())
        for i in range(found.count())
    ]


def bob_state(prep: Prep) -> tuple[object, ...]:
    order = Order.objects.get(pk=prep.bob.pk)
    lines = tuple(
        OrderLine.objects.filter(order=order)
        .order_by("pk")
        .values_list("name", "weight_kg", "total", "is_missing")
    )
    payments = tuple(Payment.objects.filter(order=order).values_list("status", "amount", "means"))
    return (order.status, order.total, order.is_final, lines, payments)


def test_driver_and_coordinator_at_the_relay_point_on_a_phone(  # type: ignore[no-untyped-def]
    phone, live_server, artifacts_dir: Path
) -> None:
    prep = build_prep()  # the cycle closed an hour ago
    base = live_server.url
    assert not user_may_weigh(user=prep.driver)
    assert user_can_record_pickup(user=prep.driver)
    assert user_may_weigh(user=prep.coordinator)
    butternut = OrderLine.objects.get(order=prep.bob, name="Butternut")
    cauliflower = OrderLine.objects.get(order=prep.bob, name="Chou-fleur")
    packing_url = f"/preparation/{prep.cycle.pk}/relais/{prep.poste.pk}/"

    # The driver: preparation, the cycle, the Poste's packing list.
    driver = phone()
    log_in(driver, base, "driver@example.test", FACTORY_PASSWORD, "/preparation/")
    assert driver.locator("h1").inner_text() == "Préparation des commandes"
    fits_the_phone(driver)
    driver.screenshot(path=str(artifacts_dir / "staff-driver-index-phone.png"), full_page=True)
    driver.click("a:text-is('Semaine 48')")
    driver.wait_for_url(f"**/preparation/{prep.cycle.pk}/")
    assert driver.locator("h1").inner_text() == "Semaine 48"
    headings = driver.locator("section.staff h2").all_inner_texts()
    assert headings == ["Listes de colisage"]  # a driver sees no pick list section
    assert driver.locator(".notice").count() == 0  # the cycle is closed
    fits_the_phone(driver)
    no_email_anywhere(driver)
    driver.screenshot(path=str(artifacts_dir / "staff-driver-cycle-phone.png"), full_page=True)
    driver.click("section.staff a:text-is('Poste')")
    driver.wait_for_url(f"**{packing_url}")
    assert driver.locator("h1").inner_text() == "Liste de colisage — Poste"
    card = driver.locator(f"#commande-{prep.bob.reference}")
    assert card.locator("h2").inner_text() == "Bob Martin"
    assert prep.bob.reference in card.locator("header").inner_text()
    assert "Alice Durand" not in driver.locator("body").inner_text()  # she picks up at Mairie
    fits_the_phone(driver)
    no_email_anywhere(driver)
    # A driver weighs nothing: no weighing form, the lines wait, the pickup waits for them.
    assert driver.locator("form.weigh-form, form.missing-form").count() == 0
    assert card.locator("td .status.todo").all_inner_texts() == ["à peser", "à peser"]
    assert card.locator("form.pickup-form button").is_disabled()
    driver.screenshot(path=str(artifacts_dir / "staff-driver-packing-phone.png"), full_page=True)

    # The coordinator weighs on the same page, on a phone.
    coordinator = phone()
    log_in(coordinator, base, "coord@example.test", FACTORY_PASSWORD, packing_url)
    fits_the_phone(coordinator)
    no_email_anywhere(coordinator)
    # "Manquant" shows: a visible button, not white text on the white card.
    missing = coordinator.locator(f"#commande-{prep.bob.reference} form.missing-form button")
    assert missing.all_inner_texts() == ["Manquant", "Manquant", "Manquant"]
    for index in range(3):
        assert missing.nth(index).evaluate(VISIBLE_INK), index
    before = bob_state(prep)
    coordinator.fill(f"#weight-{butternut.pk}", "1e2")
    coordinator.locator(f"#weight-{butternut.pk} ~ button").click()
    coordinator.wait_for_selector(".message.error")
    assert messages(coordinator) == [
        ("message error", "Indiquez un poids positif en kilogrammes, au gramme près.")
    ]
    assert bob_state(prep) == before
    fits_the_phone(coordinator)
    coordinator.screenshot(
        path=str(artifacts_dir / "staff-coordinator-weight-refused-phone.png"), full_page=True
    )

    coordinator.fill(f"#weight-{butternut.pk}", "1,25")
    coordinator.locator(f"#weight-{butternut.pk} ~ button").click()
    coordinator.wait_for_selector(".message.success")
    assert messages(coordinator) == [("message success", "Butternut : 1,25 kg, 3,63 €.")]
    butternut.refresh_from_db()
    assert (butternut.weight_kg, butternut.total) == (Decimal("1.250"), Decimal("3.63"))
    coordinator.fill(f"#weight-{cauliflower.pk}", "0,8")
    coordinator.locator(f"#weight-{cauliflower.pk} ~ button").click()
    coordinator.wait_for_selector(".message.success")
    assert messages(coordinator) == [("message success", "Chou-fleur : 0,8 kg, 2,40 €.")]
    bob = Order.objects.get(pk=prep.bob.pk)
    # 1 kg of carrots at 2,50 € + 3,63 € + 2,40 €
    assert (bob.is_final, bob.total, bob.status) == (True, Decimal("8.53"), OrderStatus.CONFIRMED)
    fits_the_phone(coordinator)
    coordinator.screenshot(
        path=str(artifacts_dir / "staff-coordinator-weighed-phone.png"), full_page=True
    )

    # The driver reloads, hands the basket over and records the cash.
    driver.reload()
    card = driver.locator(f"#commande-{prep.bob.reference}")
    assert card.locator("td .status.todo").count() == 0
    assert "8,53 €" in card.locator("tr.total").inner_text()
    card.locator("select[name=means]").select_option(PickupMeans.CASH)
    card.locator("form.pickup-form button").click()
    driver.wait_for_selector(".message.success")
    assert messages(driver) == [("message success", f"Commande {prep.bob.reference} retirée.")]
    card = driver.locator(f"#commande-{prep.bob.reference}")
    assert "collected" in (card.get_attribute("class") or "")
    assert card.locator("form.pickup-form").count() == 0
    bob = Order.objects.get(pk=prep.bob.pk)
    assert bob.status == OrderStatus.COLLECTED
    payment = Payment.objects.get(order=bob)
    assert (payment.status, payment.amount, payment.means, payment.recorded_by_id) == (
        PaymentStatus.SUCCEEDED,
        Decimal("8.53"),
        PickupMeans.CASH,
        prep.driver.pk,
    )
    fits_the_phone(driver)
    no_email_anywhere(driver)
    driver.screenshot(path=str(artifacts_dir / "staff-driver-collected-phone.png"), full_page=True)


@pytest.fixture
def demo_site(live_server):  # type: ignore[no-untyped-def]
    call_command("load_demo", stdout=io.StringIO())
    mail.outbox.clear()
    return live_server


def test_coordinator_opens_the_admin_and_invites_a_driver_a_household_is_refused(  # type: ignore[no-untyped-def]
    page, browser, demo_site, artifacts_dir: Path
) -> None:
    base = demo_site.url
    log_in(page, base, "coordination@demo.test", DEMO_PASSWORD, "/compte/")

    page.goto(base + "/admin/")
    assert page.url == base + "/admin/"
    page.wait_for_selector("main")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.title().startswith("Tableau de bord")
    page.screenshot(path=str(artifacts_dir / "staff-coordinator-wagtail.png"), full_page=True)

    page.goto(base + "/compte/invitations/")
    assert page.locator("h1").inner_text() == (
        "Inviter un producteur, une cantine, un livreur ou un point relais"
    )
    page.fill("input[name=email]", "nouveau.livreur@example.org")
    page.select_option("select[name=role]", Role.DRIVER)
    page.click("form.stack-form button[type=submit]")
    page.wait_for_url("**/compte/invitations/")
    row = page.locator('[data-invitation="nouveau.livreur@example.org"]')
    row.wait_for()
    assert messages(page) == [
        (
            "message success",
            "Invitation envoyée à nouveau.livreur@example.org ; le lien vaut 14 jours.",
        )
    ]
    assert row.locator(".status").inner_text() == "en attente"
    assert row.locator(".detail").inner_text().startswith("Livreur · envoyée le ")
    invitation = Invitation.objects.get(email="nouveau.livreur@example.org")
    assert (invitation.role, invitation.invited_by.email) == (
        Role.DRIVER,
        "coordination@demo.test",
    )
    assert [message.to for message in mail.outbox] == [["nouveau.livreur@example.org"]]
    page.screenshot(path=str(artifacts_dir / "staff-coordinator-invitations.png"), full_page=True)

    # A household that types the address gets the site's own 403 page, in French and styled.
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    household = context.new_page()
    household.set_default_timeout(15_000)
    try:
        log_in(household, base, "foyer@demo.test", DEMO_PASSWORD, "/compte/")
        response = household.goto(base + "/compte/invitations/")
        assert response is not None and response.status == 403
        assert household.locator("h1").inner_text() == "Accès refusé"
        assert household.title().startswith("Accès refusé")
        assert household.locator("html").get_attribute("lang") == "fr"
        assert household.locator("a.button", has_text="Retour à l'accueil").is_visible()
        # Styled: the site's stylesheet is loaded and applied (not the browser's defaults).
        assert household.evaluate("document.styleSheets.length") >= 1
        font = household.evaluate("getComputedStyle(document.body).fontFamily")
        assert "Times" not in font, font
        assert "nouveau.livreur@example.org" not in household.content()
        assert Invitation.objects.count() == 1
        household.screenshot(path=str(artifacts_dir / "staff-household-403.png"), full_page=True)
    finally:
        context.close()
