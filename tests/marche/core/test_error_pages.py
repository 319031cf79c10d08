"""The site's own 403, 404 and 500 pages: French (English under /en/), styled, DEBUG off.

The 500 page is rendered with the database refusing every query: it must not need it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STYLESHEET = 'href="/static/css/site.css"'


@pytest.fixture(autouse=True)
def _debug_off(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = False


@contextmanager
def database_down() -> Iterator[list[str]]:
    """Every query fails as if PostgreSQL were unreachable; yields the queries attempted."""
    attempted: list[str] = []

    def refuse(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        attempted.append(sql)
        raise OperationalError("connection refused (test)")

    with connection.execute_wrapper(refuse):
        yield attempted


def test_404_in_french_styled(client: Client) -> None:
    response = client.get("/une-page-qui-n-existe-pas/")
    assert response.status_code == 404
    body = response.content.decode()
    assert '<html lang="fr">' in body
    assert "<h1>Page introuvable</h1>" in body
    assert STYLESHEET in body
    assert 'href="/commander/"' in body


def test_404_of_an_app_page_and_in_english(client: Client) -> None:
    client.force_login(UserFactory())
    response = client.get("/commander/commandes/ZZZZ-0000/")
    assert response.status_code == 404
    assert "<h1>Page introuvable</h1>" in response.content.decode()
    response = client.get("/en/une-page-qui-n-existe-pas/")
    assert response.status_code == 404
    body = response.content.decode()
    assert '<html lang="en">' in body
    with translation.override("en"):
        assert f"<h1>{gettext('Page introuvable')}</h1>" in body
        assert 'href="/en/commander/"' in body


def test_403_in_french_styled(client: Client) -> None:
    household = UserFactory(email="foyer@example.org")
    client.force_login(household)
    response = client.get("/preparation/")
    assert response.status_code == 403
    body = response.content.decode()
    assert '<html lang="fr">' in body
    assert "<h1>Accès refusé</h1>" in body
    assert "foyer@example.org" in body  # the person sees whose session it is
    assert STYLESHEET in body


def test_403_in_english(client: Client) -> None:
    client.force_login(UserFactory())
    response = client.get("/en/preparation/")
    assert response.status_code == 403
    body = response.content.decode()
    assert '<html lang="en">' in body
    with translation.override("en"):
        assert f"<h1>{gettext('Accès refusé')}</h1>" in body


@pytest.mark.parametrize(
    ("path", "lang", "home"), [("/", "fr", 'href="/"'), ("/en/", "en", 'href="/en/"')]
)
def test_500_needs_no_database(client: Client, path: str, lang: str, home: str) -> None:
    client.raise_request_exception = False
    with database_down() as attempted:
        response = client.get(path)
    assert attempted, "the home page was expected to query the database and fail"
    assert response.status_code == 500
    body = response.content.decode()
    assert f'<html lang="{lang}">' in body
    assert STYLESHEET in body
    assert home in body
    with translation.override(lang):
        assert f"<h1>{gettext('Une erreur est survenue de notre côté')}</h1>" in body


def test_500_page_in_french(client: Client) -> None:
    client.raise_request_exception = False
    with database_down():
        body = client.get("/commander/").content.decode()
    assert "<h1>Une erreur est survenue de notre côté</h1>" in body
    assert "vérifiez « Mes commandes »" in body


def test_csrf_failure_page_in_french() -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/compte/connexion/", {"username": "a@b.c", "password": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "<h1>Cette page a expiré</h1>" in body
    assert STYLESHEET in body
