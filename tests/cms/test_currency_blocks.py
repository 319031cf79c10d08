"""The page editor offers the blocks that show a local currency only on the sites of the
territories that have one (issue 14: every manne feature hides itself cleanly)."""

from __future__ import annotations

import pytest
from django.test import Client

from cms.models import ContentPage, HomePage
from marche.accounts.models import User
from marche.territories.models import Territory
from tests.two_territories import SLUGS, account, territories, two_demos

__all__ = ["territories", "two_demos"]  # the fixtures

pytestmark = pytest.mark.django_db

BLOCK = '"manne_places"'  # the block's name in the editor's definition of the body


def offered(client: Client, url: str) -> bool:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode().replace("&quot;", '"')
    assert '"call_to_action"' in html  # the body's blocks are in the page
    return BLOCK in html


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("who", ["coordinator", "superuser"])
def test_the_manne_places_block_is_offered_only_where_there_is_a_local_currency(
    client: Client, territories: dict[str, Territory], slug: str, who: str
) -> None:
    home = HomePage.objects.get(territory__slug=slug)
    page = ContentPage.objects.descendant_of(home).order_by("pk").first()
    assert page is not None
    user = (
        account(slug, "coordinator")
        if who == "coordinator"
        else User.objects.create_superuser(email="racine@demo.test", password="x-racine-2026")
    )
    client.force_login(user)
    has_currency = territories[slug].local_currency_enabled

    assert offered(client, f"/admin/pages/{page.pk}/edit/") == has_currency
    # a new page, straight under the home page and one level down
    assert offered(client, f"/admin/pages/add/cms/contentpage/{home.pk}/") == has_currency
    assert offered(client, f"/admin/pages/add/cms/contentpage/{page.pk}/") == has_currency


def test_a_manne_block_written_before_is_left_out_of_the_editor_where_there_is_no_currency(
    client: Client, territories: dict[str, Territory]
) -> None:
    home = HomePage.objects.get(territory__slug="dunkerque")
    page = ContentPage.objects.descendant_of(home).order_by("pk").first()
    page.body = [("manne_places", {"title": "Où payer"}), ("heading", "Bienvenue")]
    page.save_revision().publish()
    client.force_login(account("dunkerque", "coordinator"))

    html = client.get(f"/admin/pages/{page.pk}/edit/").content.decode()

    assert html.count("manne_places") == 0
    page.refresh_from_db()
    assert [block.block_type for block in page.body] == ["manne_places", "heading"]  # unchanged
