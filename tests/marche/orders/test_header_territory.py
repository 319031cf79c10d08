"""The header names the territory on every page, not only where a view passes it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from marche.orders.models import Order
from marche.orders.services import cart_set_item

pytestmark = pytest.mark.django_db


def brand(body: str) -> str:
    start = body.index('<a class="brand"')
    return body[start : body.index("</a>", start) + 4]


def test_every_household_page_names_the_territory(client, market) -> None:
    territory = market.cycle.territory
    expected = f'<a class="brand" href="/">Marché local <span>{territory.name}</span></a>'
    assert brand(client.get(reverse("accounts:login")).content.decode()) == expected

    market.household.territory = territory
    market.household.save()
    cart_set_item(
        customer=market.household,
        cycle_id=market.cycle.pk,
        offer_id=market.eggs.pk,
        count=Decimal("1"),
    )
    client.force_login(market.household)
    pages = [
        reverse("orders:shop"),
        reverse("orders:cart", args=[market.cycle.pk]),
        reverse("orders:list"),
        "/compte/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert brand(response.content.decode()) == expected, url
    assert Order.objects.count() == 0


def test_the_territory_is_read_only_when_a_page_shows_it(
    client, market, django_assert_num_queries
) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from marche.core.context_processors import site_context

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        context = site_context(request)
    # The request's site, then its territory (else the default one) in one query.
    with django_assert_num_queries(2):
        assert context["territory"].name == market.cycle.territory.name
