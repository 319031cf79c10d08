from __future__ import annotations

import pytest
from django.test import Client

from marche.accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_users_are_identified_by_lowercased_email() -> None:
    user = User.objects.create_user("Camille.Dubois@Example.ORG", "un-mot-de-passe-long")
    assert user.email == "camille.dubois@example.org"
    assert user.role == Role.HOUSEHOLD
    assert user.check_password("un-mot-de-passe-long")
    assert not hasattr(user, "username") or user.username is None


def test_superuser_is_a_coordinator() -> None:
    admin = User.objects.create_superuser("admin@example.org", "un-mot-de-passe-long")
    assert (admin.is_staff, admin.is_superuser, admin.role) == (True, True, Role.COORDINATOR)


def test_login_by_email_any_case(client: Client) -> None:
    User.objects.create_user("foyer@example.org", "un-mot-de-passe-long")
    response = client.post(
        "/compte/connexion/", {"username": "FOYER@example.org", "password": "un-mot-de-passe-long"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/compte/"
    page = client.get("/compte/")
    assert "Foyer" in page.content.decode()


def test_wrong_password_is_refused_in_french_and_logs_nobody_in(client: Client) -> None:
    User.objects.create_user("foyer@example.org", "un-mot-de-passe-long")
    response = client.post(
        "/compte/connexion/", {"username": "foyer@example.org", "password": "non"}
    )
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert User.objects.get().last_login is None


def test_account_page_requires_login(client: Client) -> None:
    response = client.get("/compte/")
    assert response.status_code == 302
    assert response["Location"] == "/compte/connexion/?next=/compte/"
