"""A form's address opened directly answers the site's page, never the browser's blank 405."""

import pytest

from marche.accounts.models import Role
from tests.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/preparation/lignes/999/pesee/", "/preparation/lignes/999/manquant/"]
)
def test_a_post_only_address_opened_with_get_shows_a_page_and_changes_nothing(client, path):
    client.force_login(UserFactory(role=Role.DRIVER))
    response = client.get(path)
    assert response.status_code == 405
    assert "POST" in response["Allow"]
    page = response.content.decode()
    assert "Adresse à utiliser depuis un formulaire" in page
    assert "Rien n'a été changé." in page


@pytest.mark.django_db
def test_the_api_keeps_its_own_405(client):
    response = client.delete("/api/v1/cycles")
    assert response.status_code == 405
    assert "formulaire" not in response.content.decode()


@pytest.mark.django_db
def test_the_browsers_favicon_request_finds_the_sites_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")
    assert 'rel="icon"' in client.get("/compte/connexion/").content.decode()
