"""The local currency's admin views exist only where the territory has a local currency: a
coordinator of a territory without one (Dunkerque in the demo) has neither the menu nor the
pages, even by their address; Loos's coordinator has both."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from marche.mannes.admin_viewsets import account_viewset, entry_viewset, transaction_viewset
from marche.mannes.models import Account
from marche.territories.models import Territory
from tests.two_territories import SLUGS, account, territories, two_demos

__all__ = ["territories", "two_demos"]  # the fixtures

pytestmark = pytest.mark.django_db

VIEWSETS = (account_viewset, transaction_viewset, entry_viewset)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_currency_pages_open_only_where_there_is_a_local_currency(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    client.force_login(account(slug, "coordinator"))
    has_currency = territories[slug].local_currency_enabled
    assert has_currency == (slug == "loos-en-gohelle")

    sidebar = client.get("/admin/").content.decode()
    assert ('"name": "local-currency"' in sidebar) == has_currency
    for viewset in VIEWSETS:
        listing = client.get(reverse(viewset.get_url_name("index")))
        if has_currency:
            assert listing.status_code == 200, viewset.name
        else:
            # refused as Wagtail refuses any view: back to the dashboard, with a message
            assert listing.status_code == 302, viewset.name
            assert listing["Location"] == reverse("wagtailadmin_home")
    if has_currency:
        ledger = Account.objects.filter(territory__slug=slug).order_by("pk").first()
        assert ledger is not None
        inspect = reverse(account_viewset.get_url_name("inspect"), args=(ledger.pk,))
        assert client.get(inspect).status_code == 200
