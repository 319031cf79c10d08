"""The public pages' shared cache: served without a query, stale after a change, never shared
with a logged-in user or a visitor with a session, one copy per language, no shared token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cms.cache import CSRF_PLACEHOLDER, HEADER, page_cache_bump
from cms.models import CataloguePage
from marche.cycles.models import Offer
from marche.cycles.services import stock_hold

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_cache(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.MARCHE_PAGE_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.content.decode())


def csrf_input(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]*)"', response.content.decode())
    assert found is not None
    return found.group(1)


def test_the_second_anonymous_request_is_served_from_the_cache_without_a_query(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
    page_cache,  # type: ignore[no-untyped-def]
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for url in ("/", "/catalogue/", "/producteurs/"):
        first = client.get(url)
        assert first.status_code == 200
        assert first[HEADER] == "miss"
        with django_assert_num_queries(0):
            second = client.get(url)
        assert second.status_code == 200
        assert second[HEADER] == "hit"
        assert text(second).replace(csrf_input(second), "") == text(first).replace(
            csrf_input(first), ""
        )


def test_an_offer_price_change_shows_on_the_next_request(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
    page_cache,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    now = timezone.now()
    offer = Offer.objects.filter(
        cycle__opens_at__lte=now, cycle__closes_at__gt=now, withdrawn_at__isnull=True
    ).first()
    assert offer is not None
    client.get("/")
    assert client.get("/")[HEADER] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        offer.unit_price = Decimal("7.77")
        offer.save()
    response = client.get("/")
    assert response[HEADER] == "miss"
    card = re.search(rf'id="offre-{offer.pk}".*?</li>', text(response))
    assert card is not None
    assert "7,77 €" in card.group(0)


def test_a_logged_in_user_never_gets_nor_fills_the_shared_page(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
    page_cache,  # type: ignore[no-untyped-def]
) -> None:
    client.get("/")
    assert client.get("/")[HEADER] == "hit"
    user = get_user_model().objects.create_user(email="cache-user@example.org", password="x")
    member = Client()
    member.force_login(user)
    response = member.get("/")
    assert response.status_code == 200
    assert HEADER not in response
    assert f'action="{reverse("accounts:logout")}"' in text(response)
    anonymous = client.get("/")
    assert anonymous[HEADER] == "hit"
    assert text(anonymous) != text(response)


def test_a_visitor_with_a_session_or_a_message_is_not_served_the_shared_page(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
    page_cache,  # type: ignore[no-untyped-def]
) -> None:
    client.get("/")
    assert client.get("/")[HEADER] == "hit"
    with_session = Client()
    session = with_session.session
    session["basket"] = {"1": "2"}
    session.save()
    with_session.cookies["sessionid"] = session.session_key
    assert HEADER not in with_session.get("/")
    with_message = Client()
    with_message.cookies["messages"] = "anything"
    assert HEADER not in with_message.get("/")


def test_english_and_french_are_cached_apart(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
    page_cache,  # type: ignore[no-untyped-def]
) -> None:
    french = client.get("/")
    english = client.get("/en/")
    assert english.status_code == 200
    assert english[HEADER] == "miss"
    french_again = client.get("/")
    english_again = client.get("/en/")
    assert (french_again[HEADER], english_again[HEADER]) == ("hit", "hit")
    assert '<html lang="fr"' in french_again.content.decode()
    assert '<html lang="en"' in english_again.content.decode()
    assert text(french_again) != text(english_again)
    assert french.content.decode().count("<html") == 1


def test_each_visitor_gets_their_own_csrf_token_and_it_works(
    demo,  # type: ignore[no-untyped-def]
    page_cache,  # type: ignore[no-untyped-def]
) -> None:
    Client().get("/")
    first = Client(enforce_csrf_checks=True)
    second = Client(enforce_csrf_checks=True)
    page_1, page_2 = first.get("/"), second.get("/")
    assert (page_1[HEADER], page_2[HEADER]) == ("hit", "hit")
    assert CSRF_PLACEHOLDER not in page_1.content
    token_1, token_2 = csrf_input(page_1), csrf_input(page_2)
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    response = first.post(
        "/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token_1}
    )
    assert response.status_code == 302
    refused = first.post(
        "/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token_2}
    )
    assert refused.status_code == 403


def test_the_cache_down_serves_the_page_uncached(
    client: Client,
    page_cache,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set", down)
    response = client.get("/")
    assert response.status_code == 200
    assert HEADER not in response
    page_cache_bump()  # a save's invalidation does not fail either


def test_a_basket_hold_leaves_the_cached_pages_in_place(
    client: Client,
    demo,  # type: ignore[no-untyped-def]
    page_cache,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    """The rush before a cutoff: each basket add holds stock; that must not empty the cache."""
    now = timezone.now()
    offer = Offer.objects.filter(
        cycle__opens_at__lte=now,
        cycle__closes_at__gt=now,
        withdrawn_at__isnull=True,
        quantity_available__gte=F("quantity_held") + F("quantity_sold") + 1,
    ).first()
    assert offer is not None
    client.get("/")
    with django_capture_on_commit_callbacks(execute=True):
        stock_hold(offer_id=offer.pk, quantity=Decimal("1"), key="page-cache-rush")
    assert client.get("/")[HEADER] == "hit"


def section_links_queries(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    site_queries = [
        q["sql"]
        for q in queries
        if "wagtailcore_site" in q["sql"] or "wagtailcore_page" in q["sql"]
    ]
    return len(site_queries), response.content.decode()


def test_the_header_links_come_from_the_cache_until_a_page_changes(
    demo,  # type: ignore[no-untyped-def]
    page_cache,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    """A logged-in page (never cached whole) still skips the site and section look-ups."""
    user = get_user_model().objects.create_user(email="nav-cache@example.org", password="x")
    client = Client()
    client.force_login(user)
    shop = reverse("orders:shop")
    first_count, first = section_links_queries(client, shop)
    assert first_count >= 1
    assert 'href="/catalogue/"' in first
    second_count, _ = section_links_queries(client, shop)
    assert second_count == 0
    catalogue = CataloguePage.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        catalogue.slug = "nos-produits"
        catalogue.save_revision().publish()
    third_count, third = section_links_queries(client, shop)
    assert third_count >= 1
    assert 'href="/nos-produits/"' in third
