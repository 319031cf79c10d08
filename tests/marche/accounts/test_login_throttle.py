"""Logins are throttled (django-axes) on the site and both admins, per address and client."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client

from marche.accounts.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RIGHT = "mot-de-passe-test"  # the factories' password
SITE = "/compte/connexion/"


def _try(client: Client, url: str, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(url, {"username": email, "password": password})


def test_the_sixth_attempt_is_refused_even_with_the_right_password(client: Client) -> None:
    UserFactory(email="foyer@example.org")
    answers = [_try(client, SITE, "foyer@example.org", f"faux-{n}") for n in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert "Adresse e-mail ou mot de passe incorrect." in answers[0].content.decode()
    locked = _try(client, SITE, "foyer@example.org", RIGHT)
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Trop de tentatives" in page and "réessayez dans 15 minutes" in page
    assert "_auth_user_id" not in client.session


def test_case_of_the_address_does_not_give_more_attempts(client: Client) -> None:
    UserFactory(email="foyer@example.org")
    for email in (
        "foyer@example.org",
        "FOYER@example.org",
        "Foyer@Example.org",
        " foyer@example.org",
        "FOYER@EXAMPLE.ORG",
    ):
        _try(client, SITE, email, "faux")
    assert _try(client, SITE, "foyer@example.org", RIGHT).status_code == 429


def test_a_success_before_the_limit_resets_the_count(client: Client) -> None:
    UserFactory(email="foyer@example.org")
    for n in range(4):
        _try(client, SITE, "foyer@example.org", f"faux-{n}")
    assert _try(client, SITE, "foyer@example.org", RIGHT).status_code == 302
    client.post("/compte/deconnexion/")
    for n in range(4):
        assert _try(client, SITE, "foyer@example.org", f"faux-{n}").status_code == 200
    assert _try(client, SITE, "foyer@example.org", RIGHT).status_code == 302


def test_another_user_is_not_locked(client: Client) -> None:
    UserFactory(email="foyer@example.org")
    UserFactory(email="voisin@example.org")
    for n in range(6):
        _try(client, SITE, "foyer@example.org", f"faux-{n}")
    assert _try(client, SITE, "voisin@example.org", RIGHT).status_code == 302


def test_the_same_user_from_another_client_is_not_locked() -> None:
    UserFactory(email="foyer@example.org")
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(6):
        _try(attacker, SITE, "foyer@example.org", f"faux-{n}")
    assert (
        _try(Client(REMOTE_ADDR="198.51.100.7"), SITE, "foyer@example.org", RIGHT).status_code
        == 302
    )


def test_a_forged_forwarded_header_does_not_escape_the_lock() -> None:
    UserFactory(email="foyer@example.org")
    for n in range(6):
        Client(HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").post(
            SITE, {"username": "foyer@example.org", "password": f"faux-{n}"}
        )
    assert _try(Client(), SITE, "foyer@example.org", RIGHT).status_code == 429


@pytest.mark.parametrize("url", ["/admin/login/", "/django-admin/login/"])
def test_both_admins_are_throttled(client: Client, url: str) -> None:
    UserFactory(
        email="coordination@example.org", role=Role.COORDINATOR, is_staff=True, is_superuser=True
    )
    for n in range(5):
        _try(client, url, "coordination@example.org", f"faux-{n}")
    locked = _try(client, url, "coordination@example.org", RIGHT)
    assert locked.status_code == 429
    assert "Trop de tentatives" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get().failures_since_start >= 5


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MARCHE_TRUSTED_PROXIES = 1
    UserFactory(email="foyer@example.org")
    for n in range(6):
        Client(HTTP_X_FORWARDED_FOR="203.0.113.9").post(
            SITE, {"username": "foyer@example.org", "password": f"faux-{n}"}
        )
    blocked = Client(HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert _try(blocked, SITE, "foyer@example.org", RIGHT).status_code == 429
    # Same proxy (REMOTE_ADDR), another client behind it: not locked.
    other = Client(HTTP_X_FORWARDED_FOR="spoof, 198.51.100.7")
    assert _try(other, SITE, "foyer@example.org", RIGHT).status_code == 302


@pytest.mark.parametrize(
    "forwarded", ["pas-une-adresse", "1.2.3.4, x" * 300, "", "::1, 999.1.1.1", "²"]
)
def test_a_garbage_forwarded_header_never_gives_a_500(settings, forwarded: str) -> None:  # type: ignore[no-untyped-def]
    settings.MARCHE_TRUSTED_PROXIES = 1
    UserFactory(email="foyer@example.org")
    client = Client(HTTP_X_FORWARDED_FOR=forwarded, HTTP_USER_AGENT="x" * 5000)
    assert _try(client, SITE, "foyer@example.org", "faux").status_code == 200
    assert _try(client, SITE, "x" * 5000 + "@example.org", "faux").status_code == 200
    assert _try(client, SITE, "foyer@example.org", RIGHT).status_code == 302
