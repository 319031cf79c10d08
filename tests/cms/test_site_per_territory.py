"""One Wagtail site per territory: the hostname decides what an anonymous visitor sees."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory

from cms.models import ArticlePage, HomePage
from marche.accounts.models import User
from marche.accounts.selectors import request_territory
from marche.catalog.models import Product
from marche.producers.models import Producer
from marche.relays.models import RelayPoint
from marche.territories.models import Territory
from marche.territories.selectors import territory_for_request

pytestmark = pytest.mark.django_db

LOOS = "loos.localhost:8000"
DUNKERQUE = "dunkerque.localhost:8000"
# The pages of a territory's shop and catalogue, and the pages around them.
PAGES = ("/", "/catalogue/", "/producteurs/", "/points-relais/", "/commander/")
# Local currency wording, in French and English ("mannes", "la manne", "MAN").
MANNE = re.compile(r"\bmannes?\b|\blocal currency\b|monnaie locale", re.IGNORECASE)


@pytest.fixture
def territories(db: None) -> dict[str, Territory]:
    """Both demo territories, loaded by the real command (Dunkerque first)."""
    call_command("load_demo", territory="dunkerque", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())
    return {territory.slug: territory for territory in Territory.objects.all()}


def get(client: Client, host: str, path: str):  # type: ignore[no-untyped-def]
    """A page as runserver serves it on port 8000 under that hostname."""
    _hostname, _, port = host.partition(":")
    return client.get(path, HTTP_HOST=host, SERVER_PORT=port or "80")


def visible(response) -> str:  # type: ignore[no-untyped-def]
    """The page's text as people read it: no tags, scripts, styles or attributes."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def names(territory: Territory) -> set[str]:
    """What names a territory's producers and relay points on its pages."""
    return set(Producer.objects.filter(territory=territory).values_list("name", flat=True)) | set(
        RelayPoint.objects.filter(territory=territory).values_list("name", flat=True)
    )


@pytest.mark.parametrize(
    ("host", "own", "other"),
    [
        (DUNKERQUE, "dunkerque", "loos-en-gohelle"),
        (LOOS, "loos-en-gohelle", "dunkerque"),
        ("localhost:8000", "loos-en-gohelle", "dunkerque"),
        ("127.0.0.1:8000", "loos-en-gohelle", "dunkerque"),
    ],
)
def test_each_hostname_shows_its_territory_and_none_of_the_other(
    client: Client, territories: dict[str, Territory], host: str, own: str, other: str
) -> None:
    home = visible(get(client, host, "/"))
    assert f"Marché local de {territories[own].name}" in home
    producers = set(territories[own].producers.values_list("name", flat=True))
    assert all(name in home for name in producers)
    for path in PAGES:
        response = get(client, host, path)
        assert response.status_code == 200, path
        text = visible(response)
        assert not [name for name in names(territories[other]) if name in text], path
    catalogue = visible(get(client, host, "/catalogue/"))
    assert all(name in catalogue for name in producers)
    relays = visible(get(client, host, "/points-relais/"))
    assert all(
        name in relays for name in territories[own].relay_points.values_list("name", flat=True)
    )


def test_the_shop_of_dunkerque_lists_its_offers_only(
    client: Client, territories: dict[str, Territory]
) -> None:
    text = visible(get(client, DUNKERQUE, "/commander/"))

    assert "Pommes de terre de la plaine maritime" in text
    assert "Panier de la plaine" in text
    assert "Pommes de terre (bintje)" not in text
    assert "Panier légumes" not in text


def test_no_word_of_mannes_on_dunkerques_pages(
    client: Client, territories: dict[str, Territory]
) -> None:
    paths = [*PAGES, "/compte/inscription/", "/compte/connexion/", "/actualites/"]
    paths += ["/conditions/", "/questions/", "/mentions-legales/", "/cantines/"]
    paths += [
        f"/producteurs/{slug}/"
        for slug in territories["dunkerque"].producers.values_list("slug", flat=True)
    ]
    for path in paths:
        response = get(client, DUNKERQUE, path)
        assert response.status_code == 200, path
        assert not MANNE.findall(visible(response)), path
    # Loos-en-Gohelle's own pages still speak of its manne.
    assert MANNE.search(visible(get(client, LOOS, "/producteurs/")))
    assert MANNE.search(visible(get(client, LOOS, "/conditions/")))
    assert get(client, LOOS, "/la-manne/").status_code == 200
    assert get(client, DUNKERQUE, "/la-manne/").status_code == 404


def test_each_site_shows_the_articles_written_for_its_territory(
    client: Client, territories: dict[str, Territory]
) -> None:
    articles = {
        territory: dict(
            ArticlePage.objects.live()
            .filter(url_path__startswith=home.url_path)
            .values_list("slug", "title")
        )
        for territory, home in (
            (slug, HomePage.objects.get(territory__slug=slug)) for slug in territories
        )
    }
    assert sorted(articles["dunkerque"]) == [
        "compote-pommes-poires",
        "potee-flamande-chou-blanc",
        "triporteur-malo",
    ]
    assert sorted(articles["loos-en-gohelle"]) == [
        "journee-jardins-partages",
        "nouveau-point-relais",
        "soupe-poireaux-pommes-de-terre",
        "veloute-potimarron",
    ]
    index = visible(get(client, DUNKERQUE, "/actualites/"))
    assert all(title in index for title in articles["dunkerque"].values())
    assert not [title for title in articles["loos-en-gohelle"].values() if title in index]
    for slug in articles["dunkerque"]:
        text = visible(get(client, DUNKERQUE, f"/actualites/{slug}/"))
        assert "Loos" not in text and "médiathèque" not in text, slug
        assert not MANNE.findall(text), slug
    # A recipe links its territory's products only.
    recipe = ArticlePage.objects.get(url_path__endswith="/potee-flamande-chou-blanc/")
    assert set(recipe.products.values_list("producer__territory__slug", flat=True)) == {"dunkerque"}
    assert get(client, DUNKERQUE, "/actualites/nouveau-point-relais/").status_code == 404


def test_a_product_of_another_territory_has_no_page_on_this_site(
    client: Client, territories: dict[str, Territory]
) -> None:
    loos_product = Product.objects.get(producer__slug="ferme-des-terrils", slug="pommes-de-terre")
    own = Product.objects.get(producer__slug="ferme-des-moeres", slug="pommes-de-terre")

    assert get(client, DUNKERQUE, f"/catalogue/produit/{own.pk}/").status_code == 200
    assert get(client, DUNKERQUE, f"/catalogue/produit/{loos_product.pk}/").status_code == 404
    assert get(client, LOOS, f"/catalogue/produit/{loos_product.pk}/").status_code == 200
    # Product links on a site's catalogue lead to its own catalogue.
    html = get(client, DUNKERQUE, "/catalogue/").content.decode()
    assert f"/catalogue/produit/{own.pk}/" in html
    assert f"/catalogue/produit/{loos_product.pk}/" not in html


def test_a_request_territory_is_the_sites_unless_a_person_is_signed_in(
    territories: dict[str, Territory],
) -> None:
    factory = RequestFactory()
    request = factory.get("/", HTTP_HOST=DUNKERQUE, SERVER_PORT="8000")
    assert territory_for_request(request=request) == territories["dunkerque"]
    request = factory.get("/", HTTP_HOST="unknown.example:8000", SERVER_PORT="8000")
    assert territory_for_request(request=request) == territories["loos-en-gohelle"]
    request = factory.get("/", HTTP_HOST=DUNKERQUE, SERVER_PORT="8000")
    request.user = User.objects.get(email="foyer@demo.test")
    assert request_territory(request=request) == territories["loos-en-gohelle"]


def test_a_signed_in_household_keeps_its_own_territory_on_another_site(
    client: Client, territories: dict[str, Territory]
) -> None:
    client.force_login(User.objects.get(email="foyer@demo.test"))

    text = visible(get(client, DUNKERQUE, "/commander/"))

    assert "Pommes de terre (bintje)" in text
    assert "Pommes de terre de la plaine maritime" not in text


def test_sign_up_on_dunkerques_site_joins_dunkerque(
    client: Client, territories: dict[str, Territory]
) -> None:
    response = get(client, DUNKERQUE, "/compte/inscription/")

    html = response.content.decode()
    selected = re.search(r'<option value="(\d+)"[^>]*selected', html)
    assert selected is not None
    assert int(selected.group(1)) == territories["dunkerque"].pk
