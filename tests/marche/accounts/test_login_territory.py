"""A person signs in on their own territory's site: at another territory's hostname the sign-in
is refused, with the address of their own site, and nobody is signed in (issue 14: a
Dunkerque household signed in at Loos's site saw Loos's pages beside its own orders)."""

from __future__ import annotations

import pytest
from django.test import Client

from marche.accounts.models import User
from marche.demo.loaders import DEMO_PASSWORD
from marche.territories.models import Territory
from tests.two_territories import ACCOUNTS, HOSTS, OTHER, SLUGS, territories, two_demos

__all__ = ["territories", "two_demos"]  # the fixtures

pytestmark = pytest.mark.django_db

LOGIN = "/compte/connexion/"


def sign_in(client: Client, host: str, email: str, password: str = DEMO_PASSWORD) -> object:
    return client.post(
        LOGIN, {"username": email, "password": password}, HTTP_HOST=host, SERVER_PORT="8000"
    )


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("role", ["household", "farmer", "coordinator"])
def test_a_person_signs_in_on_their_own_territorys_site_only(
    client: Client, territories: dict[str, Territory], slug: str, role: str
) -> None:
    email = ACCOUNTS[slug][role]

    refused = sign_in(client, HOSTS[OTHER[slug]], email)

    assert refused.status_code == 200
    text = refused.content.decode()
    assert f"inscrit au marché de {territories[slug].name}" in text
    assert f"http://{HOSTS[slug]}/compte/connexion/" in text
    assert "_auth_user_id" not in client.session

    signed = sign_in(client, HOSTS[slug], email)

    assert signed.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email=email).pk)


def test_a_wrong_password_at_the_other_site_says_nothing_of_the_territory(
    client: Client, territories: dict[str, Territory]
) -> None:
    refused = sign_in(client, HOSTS["loos-en-gohelle"], ACCOUNTS["dunkerque"]["household"], "x")

    text = refused.content.decode()
    assert "Adresse e-mail ou mot de passe incorrect." in text
    assert "Dunkerque" not in text.split('role="alert"', 1)[-1].split("</div>", 1)[0]
    assert "_auth_user_id" not in client.session


def test_a_person_bound_to_no_territory_signs_in_on_either_site(
    client: Client, territories: dict[str, Territory]
) -> None:
    User.objects.create_superuser(email="federation@demo.test", password="federation-2026")
    for host in HOSTS.values():
        assert sign_in(client, host, "federation@demo.test", "federation-2026").status_code == 302
        client.logout()
