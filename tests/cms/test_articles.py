"""News and recipes: the index (newest first, by kind, a page at a time, never a 500 on a
bad query string) and a recipe linked to this week's offers, with its structured data."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cms.models import ArticleIndexPage, ArticleKind, ArticlePage
from marche.cycles.models import Offer

pytestmark = pytest.mark.django_db


def titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="card-title"><a href="[^"]*">([^<]*)</a></h2>', html)


def ld(html: str) -> list[dict]:  # type: ignore[type-arg]
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def test_the_index_lists_news_and_recipes_newest_first_and_by_kind(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
) -> None:
    html = client.get("/actualites/").content.decode()
    expected = [page.title for page in ArticlePage.objects.live().order_by("-date", "-pk")]
    assert len(expected) == 4
    assert [t.replace("&#x27;", "'") for t in titles(html)] == expected
    recipes = titles(client.get("/actualites/?type=recettes").content.decode())
    assert sorted(recipes) == sorted(
        ArticlePage.objects.filter(kind=ArticleKind.RECIPE).values_list("title", flat=True)
    )
    assert len(recipes) == 2
    # the kinds' own values still filter (older links)
    assert sorted(titles(client.get("/actualites/?type=recipe").content.decode())) == sorted(
        recipes
    )
    for query in ("?type=nimporte", "?page=abc", "?page=999", "?page=-1", "?type=recipe&page=0"):
        response = client.get("/actualites/" + query)
        assert response.status_code == 200, query
        assert titles(response.content.decode()), query


def test_the_index_pages_twelve_at_a_time(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
) -> None:
    index = ArticleIndexPage.objects.get()
    today = timezone.localdate()
    for number in range(11):
        page = ArticlePage(
            title=f"Brève {number:02d}",
            slug=f"breve-{number:02d}",
            date=today - timedelta(days=100 + number),
        )
        index.add_child(instance=page)
    first = client.get("/actualites/").content.decode()
    second = client.get("/actualites/?page=2").content.decode()
    assert len(titles(first)) == 12
    assert titles(second) == ["Brève 08", "Brève 09", "Brève 10"]  # 4 demo + 11: 12 + 3
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_a_recipe_lists_its_ingredients_and_this_weeks_offers(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
) -> None:
    recipe = ArticlePage.objects.get(slug="soupe-poireaux-pommes-de-terre")
    html = client.get(recipe.url).content.decode()
    assert "Ingrédients pour 4 parts" in html
    assert "<li>3 poireaux</li>" in html
    now = timezone.now()
    live = Offer.objects.filter(
        product__in=recipe.products.all(),
        cycle__opens_at__lte=now,
        cycle__closes_at__gt=now,
        withdrawn_at__isnull=True,
    ).select_related("product")
    assert live.exists()
    for offer in live:
        price = f"{offer.unit_price:.2f}".replace(".", ",")
        assert f"cette semaine : {price} €" in html, offer.product.name
    [data] = [item for item in ld(html) if item.get("@type") == "Recipe"]
    assert data["recipeIngredient"][0] == "3 poireaux"
    assert data["recipeYield"] == "4"


def test_a_news_item_is_a_news_article_for_search_engines(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
) -> None:
    news = ArticlePage.objects.filter(kind=ArticleKind.NEWS).first()
    assert news is not None
    html = client.get(news.url).content.decode()
    [data] = [item for item in ld(html) if item.get("@type") == "NewsArticle"]
    assert data["datePublished"] == news.date.isoformat()
    assert "/actualites/" in client.get("/sitemap.xml").content.decode()
