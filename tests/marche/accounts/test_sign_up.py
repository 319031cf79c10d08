"""Households sign up with an e-mail check; nobody learns who has an account."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from marche.accounts.models import Role, User
from marche.accounts.services import email_verification_token
from tests.factories import TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Potager-de-Loos-2026"
FORM = {
    "first_name": "Camille",
    "last_name": "Lefebvre",
    "email": "Camille.Lefebvre@Example.org",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "terms": "on",
}
LINK = re.compile(r"http://testserver(/compte/confirmer/[^/\s]+/)")


@pytest.fixture
def territory():  # type: ignore[no-untyped-def]
    return TerritoryFactory(name="Loos-en-Gohelle", slug="loos")


def _link(message: mail.EmailMessage) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(1)


def test_sign_up_opens_an_inactive_account_until_the_link_is_followed(
    client: Client, territory
) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/compte/inscription/", FORM)
    assert response.status_code == 302
    assert response["Location"] == "/compte/inscription/envoyee/"
    user = User.objects.get()
    assert (user.email, user.role, user.territory, user.is_active) == (
        "camille.lefebvre@example.org",
        Role.HOUSEHOLD,
        territory,
        False,
    )
    assert (user.first_name, user.last_name) == ("Camille", "Lefebvre")
    assert user.email_verified_at is None and user.terms_accepted_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["camille.lefebvre@example.org"]
    assert mail.outbox[0].subject == "Confirmez votre adresse e-mail"

    # Before the link: the right password is refused, with a message saying why.
    refused = client.post(
        "/compte/connexion/", {"username": "camille.lefebvre@example.org", "password": PASSWORD}
    )
    assert refused.status_code == 200
    assert "pas encore confirmée" in refused.content.decode()
    assert "_auth_user_id" not in client.session

    followed = client.get(_link(mail.outbox[0]), follow=True)
    assert followed.redirect_chain == [("/compte/connexion/", 302)]
    assert "Votre adresse est confirmée" in followed.content.decode()
    user.refresh_from_db()
    assert user.is_active is True and user.email_verified_at is not None

    logged = client.post(
        "/compte/connexion/", {"username": "camille.lefebvre@example.org", "password": PASSWORD}
    )
    assert logged.status_code == 302 and logged["Location"] == "/compte/"

    # The link again: nothing changes, the page says so.
    verified_at = user.email_verified_at
    again = client.get(_link(mail.outbox[0]), follow=True)
    assert "déjà confirmée" in again.content.decode()
    user.refresh_from_db()
    assert user.email_verified_at == verified_at


def test_an_address_already_used_gets_the_same_answer_and_no_new_account(
    client: Client, territory
) -> None:  # type: ignore[no-untyped-def]
    existing = UserFactory(email="camille.lefebvre@example.org", first_name="Déjà")
    fresh = client.post("/compte/inscription/", {**FORM, "email": "nouveau@example.org"})
    mail.outbox.clear()
    used = Client().post("/compte/inscription/", FORM)
    assert (used.status_code, used["Location"]) == (fresh.status_code, fresh["Location"])
    assert User.objects.filter(email="camille.lefebvre@example.org").count() == 1
    existing.refresh_from_db()
    assert (existing.first_name, existing.is_active) == ("Déjà", True)
    assert existing.check_password("mot-de-passe-test")
    # The owner of the address is told, not the person who typed it.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["camille.lefebvre@example.org"]
    assert mail.outbox[0].subject == "Vous avez déjà un compte"
    assert "/compte/mot-de-passe/oublie/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password1": "12345678", "password2": "12345678"}, "password1", "entièrement numérique"),
        ({"password1": "court", "password2": "court"}, "password1", "trop court"),
        ({"password2": "Autre-mot-de-passe-2026"}, "password2", "pas identiques"),
        ({"terms": ""}, "terms", "Acceptez les conditions"),
        ({"email": "pas-une-adresse"}, "email", "Saisissez une adresse e-mail valide."),
        ({"first_name": "x" * 151}, "first_name", "150 caractères"),
    ],
)
def test_sign_up_refusals_are_in_french_and_create_nothing(
    client: Client, territory, changes: dict[str, str], field: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/compte/inscription/", {**FORM, **changes})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors[field])
    assert User.objects.count() == 0
    assert mail.outbox == []


def test_the_territory_is_asked_only_when_there_are_several(client: Client, territory) -> None:  # type: ignore[no-untyped-def]
    assert 'name="territory"' not in client.get("/compte/inscription/").content.decode()
    other = TerritoryFactory(name="Liévin", slug="lievin")
    page = client.get("/compte/inscription/").content.decode()
    assert 'name="territory"' in page
    missing = client.post("/compte/inscription/", FORM)
    assert missing.status_code == 200 and User.objects.count() == 0
    bogus = client.post("/compte/inscription/", {**FORM, "territory": "²"})
    assert bogus.status_code == 200 and User.objects.count() == 0
    client.post("/compte/inscription/", {**FORM, "territory": str(other.pk)})
    assert User.objects.get().territory == other


@pytest.mark.parametrize("token", ["abc", "x" * 5000, "eyJ1IjoxfQ:1abc:def", "../.."])
def test_a_bad_link_is_refused_in_french_and_activates_nothing(
    client: Client, territory, token: str
) -> None:  # type: ignore[no-untyped-def]
    client.post("/compte/inscription/", FORM)
    response = client.get(f"/compte/confirmer/{token}/")
    assert response.status_code in {400, 404}
    if response.status_code == 400:
        assert "lien de confirmation n'est pas valable" in html.unescape(response.content.decode())
    assert User.objects.get().is_active is False


def test_a_link_expires_after_three_days(client: Client, territory) -> None:  # type: ignore[no-untyped-def]
    client.post("/compte/inscription/", FORM)
    link = _link(mail.outbox[0])
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        response = client.get(link)
    assert response.status_code == 400
    assert "a expiré" in response.content.decode()
    assert User.objects.get().is_active is False


def _resend_form(page: str) -> str:
    """The resend form of a page: its action, after checking it asks for the address."""
    found = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
    assert found, page
    assert 'name="email"' in found.group(2) and "Renvoyer le lien" in found.group(2)
    assert 'name="csrfmiddlewaretoken"' in found.group(2)
    return found.group(1)


@pytest.mark.parametrize("old", [False, True])
def test_a_bad_or_expired_link_offers_a_new_link_right_there(
    client: Client, territory, old: bool
) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    cache.clear()
    client.post("/compte/inscription/", FORM)
    if old:
        with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
            response = client.get(_link(mail.outbox[0]))
        expected = "Ce lien de confirmation a expiré."
    else:
        response = client.get("/compte/confirmer/abc/")
        expected = "Ce lien de confirmation n'est pas valable."
    page = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert expected in page
    action = _resend_form(page)
    assert action == "/compte/inscription/envoyee/"
    mail.outbox.clear()
    # The same neutral answer as the sign-up page's resend: an unknown address gets nothing.
    for email in ("inconnu@example.org", "camille.lefebvre@example.org"):
        answer = client.post(action, {"email": email}, follow=True)
        assert answer.redirect_chain == [("/compte/inscription/envoyee/", 302)]
        assert "un nouveau lien vient de lui être envoyé" in html.unescape(answer.content.decode())
    assert [m.to for m in mail.outbox] == [["camille.lefebvre@example.org"]]
    client.get(_link(mail.outbox[0]))
    assert User.objects.get().is_active is True


def test_an_old_link_never_reopens_an_account_the_coordination_closed(client: Client) -> None:
    user = UserFactory(is_active=True)
    token = email_verification_token(user=user)
    user.is_active = False
    user.email_verified_at = timezone.now()
    user.save()
    client.get(f"/compte/confirmer/{token}/")
    user.refresh_from_db()
    assert user.is_active is False


def test_a_link_for_a_changed_address_is_refused(client: Client, territory) -> None:  # type: ignore[no-untyped-def]
    client.post("/compte/inscription/", FORM)
    User.objects.update(email="autre@example.org")
    response = client.get(_link(mail.outbox[0]))
    assert response.status_code == 400
    assert User.objects.get().is_active is False


def test_resend_sends_a_new_link_only_to_an_address_waiting_for_it(
    client: Client, territory
) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    cache.clear()
    client.post("/compte/inscription/", FORM)
    UserFactory(email="actif@example.org")
    mail.outbox.clear()
    answers = [
        client.post("/compte/inscription/envoyee/", {"email": email})
        for email in ("inconnu@example.org", "actif@example.org", "CAMILLE.lefebvre@example.org")
    ]
    assert {(a.status_code, a["Location"]) for a in answers} == {
        (302, "/compte/inscription/envoyee/")
    }
    assert [m.to for m in mail.outbox] == [["camille.lefebvre@example.org"]]
    # Pressed again at once: no second e-mail (a mailbox cannot be flooded).
    client.post("/compte/inscription/envoyee/", {"email": "camille.lefebvre@example.org"})
    assert len(mail.outbox) == 1
    client.get(_link(mail.outbox[0]))
    assert User.objects.get(email="camille.lefebvre@example.org").is_active is True


def test_a_mailer_failure_does_not_lose_the_page_nor_the_email(
    client: Client, territory, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from marche.core.models import OutboxMessage
    from marche.core.outbox import outbox_relay

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr("marche.core.mail.send_mail", broken)
    response = client.post("/compte/inscription/", FORM)
    assert response.status_code == 302
    assert User.objects.get().is_active is False
    message = OutboxMessage.objects.get(task="core.send_email")
    assert message.sent_at is None and "OSError" in message.last_error
    assert mail.outbox == []

    monkeypatch.undo()  # the mailer is back: the relay sends the kept e-mail, once
    assert outbox_relay() == 1
    assert [m.to for m in mail.outbox] == [[FORM["email"].lower()]]
    assert outbox_relay() == 0


def test_sign_up_page_is_french_with_csrf_and_a_login_link(territory) -> None:  # type: ignore[no-untyped-def]
    strict = Client(enforce_csrf_checks=True)
    page = strict.get("/compte/inscription/").content.decode()
    assert "Créer un compte foyer" in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert strict.post("/compte/inscription/", FORM).status_code == 403
    assert User.objects.count() == 0


def test_sign_up_says_e_mail_never_courriel_and_links_to_the_terms(
    client: Client, territory
) -> None:  # type: ignore[no-untyped-def]
    for url, data in [
        ("/compte/inscription/", {**FORM, "email": "pas-une-adresse"}),
        ("/compte/inscription/envoyee/", {"email": "pas-une-adresse"}),
        ("/compte/connexion/", {"username": "pas-une-adresse", "password": "x"}),
        ("/compte/mot-de-passe/oublie/", {"email": "pas-une-adresse"}),
    ]:
        page = html.unescape(client.post(url, data).content.decode())
        assert "Saisissez une adresse e-mail valide." in page, url
        assert "courriel" not in page, url
    page = client.get("/compte/inscription/").content.decode()
    assert '<a href="/conditions/" target="_blank" rel="noopener" data-link="terms">' in page
    terms = client.get("/conditions/")
    assert terms.status_code == 200
    assert "<h1>Conditions d'utilisation</h1>" in html.unescape(terms.content.decode())
    assert "Version provisoire" in terms.content.decode()
    assert client.get("/en/conditions/").status_code == 200


def test_login_page_links_to_password_reset_and_sign_up(client: Client) -> None:
    page = client.get("/compte/connexion/").content.decode()
    assert '<a href="/compte/mot-de-passe/oublie/">Mot de passe oublié ?</a>' in page
    assert 'href="/compte/inscription/"' in page
