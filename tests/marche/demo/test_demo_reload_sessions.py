"""Loading a demo territory again keeps its accounts signed in: the reload rewrites their
rows but keeps the password hash they have, to which Django ties each session."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from marche.accounts.models import User
from marche.demo.loaders import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "dunkerque.localhost:8000", "SERVER_PORT": "8000"}


def test_reloading_a_demo_keeps_its_accounts_signed_in(client: Client) -> None:
    call_command("load_demo", territory="dunkerque", due_cycle=False, stdout=io.StringIO())
    email = "foyer-dunkerque@demo.test"
    signed = client.post(
        "/compte/connexion/", {"username": email, "password": DEMO_PASSWORD}, **HOST
    )
    assert signed.status_code == 302
    assert client.get("/compte/", **HOST).status_code == 200
    before = User.objects.get(email=email).password

    call_command("load_demo", territory="dunkerque", due_cycle=False, stdout=io.StringIO())

    assert User.objects.get(email=email).password == before
    assert client.get("/compte/", **HOST).status_code == 200  # still signed in


def test_a_demo_account_whose_password_was_changed_gets_the_demo_password_back(
    client: Client,
) -> None:
    call_command("load_demo", territory="dunkerque", due_cycle=False, stdout=io.StringIO())
    users = User.objects.filter(email__endswith="dunkerque@demo.test").order_by("pk")
    first, last = users.first(), users.last()
    assert first is not None and last is not None and first.pk != last.pk
    for user in (first, last):
        user.set_password("changé-à-la-main")
        user.save(update_fields=["password"])

    call_command("load_demo", territory="dunkerque", due_cycle=False, stdout=io.StringIO())

    for user in (first, last):
        user.refresh_from_db()
        assert user.check_password(DEMO_PASSWORD)
