"""A household signs up, confirms its address from the e-mail, declares time given for
mannes, and later resets its password; on a phone screen, in Chromium with a French locale.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from marche.accounts.models import User
from marche.mannes.models import RequestStatus, TransferRequest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
EMAIL = "lea.martin@example.org"
PASSWORD = "Potager-de-Loos-2026"
NEW_PASSWORD = "Terril-fleuri-2027"


@pytest.fixture
def demo_site(live_server):  # type: ignore[no-untyped-def]
    call_command("load_demo", stdout=io.StringIO())
    mail.outbox.clear()
    return live_server


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _fits(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _link(pattern: str, live_url: str) -> str:
    found = re.search(pattern, mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return live_url + found.group(1)


def _log_in(page, base: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/compte/connexion/")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url("**/compte/")


def test_sign_up_confirm_declare_time_and_reset_the_password(  # type: ignore[no-untyped-def]
    phone, demo_site, artifacts_dir: Path
) -> None:
    base = demo_site.url
    phone.goto(base + "/compte/connexion/")
    phone.click("text=Créer un compte foyer")
    phone.wait_for_url("**/compte/inscription/")
    phone.fill("input[name=first_name]", "Léa")
    phone.fill("input[name=last_name]", "Martin")
    phone.fill("input[name=email]", EMAIL)
    phone.fill("input[name=password1]", "1234")
    phone.fill("input[name=password2]", "1234")
    phone.click("form button[type=submit]")
    # Refused in French, nothing created, what was typed is kept.
    errors = phone.locator(".errorlist").all_inner_texts()
    assert any("trop court" in text for text in errors), errors
    assert any("Acceptez les conditions" in text for text in errors), errors
    assert phone.input_value("input[name=email]") == EMAIL
    assert not User.objects.filter(email=EMAIL).exists()
    assert _fits(phone)
    phone.screenshot(path=str(artifacts_dir / "signup-errors-phone.png"), full_page=True)

    phone.fill("input[name=password1]", PASSWORD)
    phone.fill("input[name=password2]", PASSWORD)
    if phone.locator("select[name=territory]").count():
        phone.select_option("select[name=territory]", index=0)
    phone.check("input[name=terms]")
    phone.click("form button[type=submit]")
    phone.wait_for_url("**/compte/inscription/envoyee/")
    assert "Vérifiez vos e-mails" in phone.locator("h1").inner_text()
    phone.screenshot(path=str(artifacts_dir / "signup-sent-phone.png"), full_page=True)
    assert User.objects.get(email=EMAIL).is_active is False

    # Not confirmed yet: the right password is refused, with the reason.
    phone.goto(base + "/compte/connexion/")
    phone.fill("input[name=username]", EMAIL)
    phone.fill("input[name=password]", PASSWORD)
    phone.click("form button[type=submit]")
    assert "pas encore confirmée" in phone.locator("[role=alert]").inner_text()

    phone.goto(_link(r"https?://[^/\s]+(/compte/confirmer/[^/\s]+/)", base))
    phone.wait_for_url("**/compte/connexion/")
    assert "Votre adresse est confirmée" in phone.locator(".messages").inner_text()
    _log_in(phone, base, PASSWORD)

    phone.click("[data-link=mannes]")
    phone.wait_for_url("**/compte/mannes/")
    assert phone.locator("[data-available]").inner_text().startswith("0,00")
    # The hours field is text with a decimal keypad, never type=number.
    hours = phone.locator("input[name=hours]")
    assert (hours.get_attribute("type"), hours.get_attribute("inputmode")) == ("text", "decimal")
    phone.select_option("select[name=activity]", label="Jardin prêté (2,50 par heure)")
    phone.fill("input[name=hours]", "1,5")
    phone.fill("textarea[name=description]", "Mon jardin prêté pour les semis de poireaux")
    phone.click("[data-declare] button[type=submit]")
    phone.wait_for_selector("[data-declaration=pending]")
    assert "3,75" in phone.locator(".messages").inner_text()
    pending = phone.locator("[data-declaration=pending]").inner_text()
    assert (
        "Jardin prêté" in pending and "en attente de validation" in pending and "1,5 h" in pending
    )
    assert _fits(phone)
    phone.screenshot(path=str(artifacts_dir / "mannes-declared-phone.png"), full_page=True)
    declared = TransferRequest.objects.get(requested_by__email=EMAIL)
    assert (declared.hours, declared.amount, declared.status) == (
        Decimal("1.50"),
        Decimal("3.75"),
        RequestStatus.PENDING,
    )

    # Later, the password is forgotten.
    phone.click("text=Se déconnecter")
    phone.goto(base + "/compte/connexion/")
    phone.click("text=Mot de passe oublié ?")
    phone.wait_for_url("**/compte/mot-de-passe/oublie/")
    phone.fill("input[name=email]", EMAIL)
    phone.click("form button[type=submit]")
    phone.wait_for_url("**/compte/mot-de-passe/envoye/")
    phone.goto(_link(r"https?://[^/\s]+(/compte/mot-de-passe/[^/\s]+/[^/\s]+/)", base))
    phone.wait_for_selector("input[name=new_password1]")
    phone.fill("input[name=new_password1]", NEW_PASSWORD)
    phone.fill("input[name=new_password2]", NEW_PASSWORD)
    assert _fits(phone)
    phone.screenshot(path=str(artifacts_dir / "password-reset-phone.png"), full_page=True)
    phone.click("form button[type=submit]")
    phone.wait_for_url("**/compte/mot-de-passe/change/")
    _log_in(phone, base, NEW_PASSWORD)
    assert phone.locator("[data-role]").get_attribute("data-role") == "household"


def test_a_coordinator_invites_a_farmer_who_sets_a_password(  # type: ignore[no-untyped-def]
    page, phone, demo_site, artifacts_dir: Path
) -> None:
    from marche.demo.loaders import DEMO_PASSWORD

    base = demo_site.url
    page.goto(base + "/compte/connexion/")
    page.fill("input[name=username]", "coordination@demo.test")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/compte/")
    page.click("[data-link=invitations]")
    page.wait_for_url("**/compte/invitations/")
    page.fill("input[name=email]", "nouveau.producteur@example.org")
    page.select_option("select[name=role]", "farmer")
    page.select_option("select[name=producer]", index=1)
    page.click("form.stack-form button[type=submit]")
    page.wait_for_selector('[data-invitation="nouveau.producteur@example.org"]')
    page.screenshot(path=str(artifacts_dir / "invitations.png"), full_page=True)

    phone.goto(_link(r"https?://[^/\s]+(/compte/invitation/[^/\s]+/)", base))
    phone.fill("input[name=first_name]", "Paul")
    phone.fill("input[name=last_name]", "Delattre")
    phone.fill("input[name=password1]", PASSWORD)
    phone.fill("input[name=password2]", PASSWORD)
    phone.check("input[name=terms]")
    assert _fits(phone)
    phone.screenshot(path=str(artifacts_dir / "invitation-accept-phone.png"), full_page=True)
    phone.click("form button[type=submit]")
    phone.wait_for_url("**/compte/connexion/")
    phone.fill("input[name=username]", "nouveau.producteur@example.org")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("form button[type=submit]")
    phone.wait_for_url("**/compte/")
    assert phone.locator("[data-role]").get_attribute("data-role") == "farmer"


def test_the_demo_household_sees_its_reward_in_its_history(  # type: ignore[no-untyped-def]
    phone, demo_site, artifacts_dir: Path
) -> None:
    from marche.demo.loaders import DEMO_PASSWORD

    base = demo_site.url
    phone.goto(base + "/compte/connexion/")
    phone.fill("input[name=username]", "foyer@demo.test")
    phone.fill("input[name=password]", DEMO_PASSWORD)
    phone.click("form button[type=submit]")
    phone.wait_for_url("**/compte/")
    phone.click("[data-link=mannes]")
    phone.wait_for_url("**/compte/mannes/")
    line = phone.locator("[data-statement] li[data-kind=reward]").first.inner_text()
    assert "Récompense de temps donné" in line and "+20,00 mannes" in line
    assert "La coordination" in line and "Jardin prêté" in line
    assert "acceptée" in phone.locator("[data-declaration=approved]").inner_text()
    assert _fits(phone)
    phone.screenshot(path=str(artifacts_dir / "mannes-demo-history-phone.png"), full_page=True)


def test_a_bad_link_offers_a_new_one_and_the_terms_open_on_a_phone(  # type: ignore[no-untyped-def]
    live_server, phone, artifacts_dir: Path
) -> None:
    from tests.factories import TerritoryFactory

    TerritoryFactory(slug="loos")
    base = live_server.url
    phone.goto(base + "/compte/inscription/")
    with phone.expect_popup() as popup:
        phone.click("[data-link=terms]")
    terms = popup.value
    terms.wait_for_selector("[data-page=terms]")
    assert terms.locator("h1").inner_text() == "Conditions d'utilisation"
    assert _fits(terms)
    terms.screenshot(path=str(artifacts_dir / "terms-phone.png"), full_page=True)
    assert _fits(phone)
    phone.screenshot(path=str(artifacts_dir / "sign-up-terms-phone.png"), full_page=True)

    phone.goto(base + "/compte/confirmer/abc/")
    assert "n'est pas valable" in phone.locator("[role=alert]").inner_text()
    assert _fits(phone)
    phone.screenshot(path=str(artifacts_dir / "bad-confirm-link-phone.png"), full_page=True)
    phone.fill("input[name=email]", "inconnu@example.org")
    phone.click("form button[type=submit]")
    phone.wait_for_url("**/compte/inscription/envoyee/")
    assert "un nouveau lien vient de lui être envoyé" in phone.content()
    assert mail.outbox == []
