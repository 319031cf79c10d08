"""Password reset: Django's views, French pages and e-mail, no account enumeration."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/compte/mot-de-passe/[^/\s]+/[^/\s]+/)")
NEW = "Nouveau-potager-2026"


def test_reset_by_e_mail_sets_a_new_password_once(client: Client) -> None:
    user = UserFactory(email="foyer@example.org")
    response = client.post("/compte/mot-de-passe/oublie/", {"email": "FOYER@example.org"})
    assert (response.status_code, response["Location"]) == (302, "/compte/mot-de-passe/envoye/")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["foyer@example.org"]
    assert mail.outbox[0].subject == "Choisir un nouveau mot de passe"
    link = LINK.search(mail.outbox[0].body)
    assert link, mail.outbox[0].body

    form_page = client.get(link.group(1), follow=True)
    assert "Nouveau mot de passe" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    mismatch = client.post(set_url, {"new_password1": NEW, "new_password2": NEW + "x"})
    assert "pas identiques" in mismatch.content.decode()
    done = client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert (done.status_code, done["Location"]) == (302, "/compte/mot-de-passe/change/")
    user.refresh_from_db()
    assert user.check_password(NEW)

    # The link served once: followed again, it is refused in French.
    again = client.get(link.group(1), follow=True)
    assert "n'est plus valable" in again.content.decode()
    logged = client.post("/compte/connexion/", {"username": "foyer@example.org", "password": NEW})
    assert logged.status_code == 302


def test_an_unknown_address_gets_the_same_answer_and_no_e_mail(client: Client) -> None:
    UserFactory(email="foyer@example.org")
    known = client.post("/compte/mot-de-passe/oublie/", {"email": "foyer@example.org"})
    unknown = client.post("/compte/mot-de-passe/oublie/", {"email": "personne@example.org"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mail.outbox] == [["foyer@example.org"]]


def test_reset_pages_are_french(client: Client) -> None:
    assert "Mot de passe oublié ?" in client.get("/compte/mot-de-passe/oublie/").content.decode()
    done = client.get("/compte/mot-de-passe/envoye/").content.decode()
    assert "Si un compte utilise cette adresse" in done
    bad = client.get("/compte/mot-de-passe/MQ/mauvais-jeton/").content.decode()
    assert "n'est plus valable" in bad
