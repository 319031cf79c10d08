"""Two demo territories side by side: a coordinator's admin and exports hold only their own.

Both demo territories are loaded by the real command once for the module
(``tests/two_territories.py``); each territory's coordinator is the demo's own account. Every
view set of the coordinators' Wagtail admin is walked (listing, inspect, edit, delete), the
site's pages are tried, and every download of the preparation, canteen and farmer pages.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.contrib.admin.utils import quote
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import NoReverseMatch, reverse
from wagtail.admin.viewsets import viewsets as admin_viewsets
from wagtail.documents.models import Document
from wagtail.documents.permissions import permission_policy as document_policy
from wagtail.images.models import Image
from wagtail.images.permissions import permission_policy as image_policy
from wagtail.images.tests.utils import get_test_image_file

from cms.models import HomePage, ProducerPage, RelayPointPage
from marche.accounts.tokens import api_token_create
from marche.canteens.models import Canteen, CanteenOrder, Invoice
from marche.catalog.models import Product
from marche.core.admin_access import ScopedModelViewSet
from marche.producers.models import Producer
from marche.relays.models import RelayPoint
from marche.territories.models import Territory
from tests.admin.test_coordinator_admin import producer_post, product_post
from tests.two_territories import (
    LOOS,
    OTHER,
    SLUGS,
    HostApi,
    account,
    open_cycle,
    place_demo_order,
    territories,
    two_demos,
)

__all__ = ["territories", "two_demos"]  # the fixtures

pytestmark = pytest.mark.django_db


def scoped_viewsets(client: Client) -> list[ScopedModelViewSet]:
    client.get("/admin/")  # the admin's URLs, and so its view sets, are registered
    found = [v for v in admin_viewsets.viewsets if isinstance(v, ScopedModelViewSet)]
    assert len(found) >= 10
    return found


def objects_of(viewset: ScopedModelViewSet, slug: str) -> Any:
    lookup = f"{viewset.territory_lookup}__slug" if viewset.territory_lookup else "slug"
    return viewset.model._default_manager.filter(**{lookup: slug}).order_by("pk")


def object_url(viewset: ScopedModelViewSet, view: str, pk: Any) -> str | None:
    try:
        return reverse(viewset.get_url_name(view), args=(quote(pk),))
    except NoReverseMatch:
        return None


def links(viewset: ScopedModelViewSet, objects: Any) -> set[str]:
    urls = set()
    for pk in objects.values_list("pk", flat=True):
        for view in ("edit", "inspect"):
            url = object_url(viewset, view, pk)
            if url:
                urls.add(url)
    return urls


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coordinators_admin_listings_hold_none_of_the_other_territorys_objects(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    place_demo_order(slug)
    place_demo_order(OTHER[slug])
    client.force_login(account(slug, "coordinator"))
    checked = 0
    for viewset in scoped_viewsets(client):
        response = client.get(reverse(viewset.get_url_name("index")))
        if viewset.needs_local_currency and not territories[slug].local_currency_enabled:
            assert response.status_code == 302, viewset.name  # refused: no local currency
            continue
        assert response.status_code == 200, viewset.name
        html = response.content.decode()
        leaked = [url for url in links(viewset, objects_of(viewset, OTHER[slug])) if url in html]
        assert not leaked, viewset.name
        own = links(viewset, objects_of(viewset, slug))
        if own:
            assert any(url in html for url in own), viewset.name
            checked += 1
    assert checked >= 8  # producers, products, relays, hours, cycles, offers, orders, fleet...


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coordinator_cannot_open_change_or_delete_the_other_territorys_objects(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    place_demo_order(OTHER[slug])
    client.force_login(account(slug, "coordinator"))
    tried = 0
    for viewset in scoped_viewsets(client):
        other = objects_of(viewset, OTHER[slug]).first()
        if other is None:
            continue
        before = viewset.model._default_manager.count()
        for view in ("inspect", "edit", "delete", "history", "usage", "refund"):
            url = object_url(viewset, view, other.pk)
            if url is None:
                continue
            assert client.get(url).status_code in {302, 403, 404}, (viewset.name, view)
            if view in {"edit", "delete", "refund"}:
                assert client.post(url, {}).status_code in {302, 403, 404}, (viewset.name, view)
            tried += 1
        assert viewset.model._default_manager.count() == before, viewset.name
        assert viewset.model._default_manager.filter(pk=other.pk).exists(), viewset.name
    assert tried >= 20


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coordinator_cannot_create_a_product_for_the_other_territorys_producer(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    own = Product.objects.filter(producer__territory__slug=slug).order_by("pk").first()
    other_producer = Producer.objects.filter(territory__slug=OTHER[slug]).order_by("pk").first()
    client.force_login(account(slug, "coordinator"))
    count = Product.objects.count()

    refused = client.post(
        reverse("admin_products:add"),
        product_post(own, producer=other_producer.pk, slug="produit-isolation", name="Isolé"),
    )
    accepted = client.post(
        reverse("admin_products:add"),
        product_post(own, slug="produit-isolation", name="Isolé"),
    )

    assert refused.status_code == 200  # the form again, with its error
    assert accepted.status_code == 302
    assert Product.objects.count() == count + 1
    assert Product.objects.get(slug="produit-isolation").producer_id == own.producer_id


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coordinator_cannot_move_a_producer_to_the_other_territory(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    producer = Producer.objects.filter(territory__slug=slug).order_by("pk").first()
    client.force_login(account(slug, "coordinator"))
    url = reverse("admin_producers:edit", args=[producer.pk])

    moved = client.post(url, producer_post(producer, territory=territories[OTHER[slug]].pk))
    renamed = client.post(url, producer_post(producer, production="Endives"))

    assert moved.status_code == 200  # the form again, with its error
    assert renamed.status_code == 302
    producer.refresh_from_db()
    assert (producer.territory.slug, producer.production) == (slug, "Endives")


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coordinator_cannot_add_relay_hours_to_the_other_territorys_relay_point(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    from marche.relays.models import RelayOpeningHours

    own_relay = RelayPoint.objects.filter(territory__slug=slug).order_by("pk").first()
    other_relay = RelayPoint.objects.filter(territory__slug=OTHER[slug]).order_by("pk").first()
    client.force_login(account(slug, "coordinator"))
    url = reverse("admin_relay_hours:add")
    count = RelayOpeningHours.objects.count()
    hours = {"weekday": "6", "opens_at": "07:00", "closes_at": "08:00"}

    refused = client.post(url, {"relay_point": other_relay.pk, **hours})
    accepted = client.post(url, {"relay_point": own_relay.pk, **hours})

    assert refused.status_code == 200  # the form again, with its error
    assert accepted.status_code == 302
    assert RelayOpeningHours.objects.count() == count + 1
    assert not RelayOpeningHours.objects.filter(relay_point=other_relay, opens_at="07:00").exists()


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coordinator_cannot_edit_the_other_territorys_site_pages(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    own_home = HomePage.objects.get(territory__slug=slug)
    other_home = HomePage.objects.get(territory__slug=OTHER[slug])
    client.force_login(account(slug, "coordinator"))
    title = other_home.title

    assert client.get(f"/admin/pages/{own_home.pk}/edit/").status_code == 200
    assert client.get(f"/admin/pages/{other_home.pk}/edit/").status_code in {302, 403}
    posted = client.post(
        f"/admin/pages/{other_home.pk}/edit/", {"title": "Piraté", "slug": other_home.slug}
    )
    assert posted.status_code in {302, 403}
    other_home.refresh_from_db()
    assert other_home.title == title
    assert client.post(f"/admin/pages/{other_home.pk}/delete/").status_code in {302, 403}
    for view in ("view_draft", "history", "revisions", "unpublish", "move", "copy"):
        path = f"/admin/pages/{other_home.pk}/{view}/"
        assert client.get(path).status_code in {302, 403, 404}, path
    assert HomePage.objects.filter(pk=other_home.pk).exists()


def test_the_django_admin_is_closed_to_coordinators(
    client: Client, territories: dict[str, Territory]
) -> None:
    client.force_login(account("dunkerque", "coordinator"))
    for path in ("/django-admin/", "/django-admin/orders/order/", "/django-admin/accounts/user/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login/" in response["Location"], path


# --- exports --------------------------------------------------------------------------------


def rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    text = response.content.decode("utf-8-sig")
    return list(
        csv.reader(io.StringIO(text), delimiter=";" if ";" in text.splitlines()[0] else ",")
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_preparation_lists_of_the_other_territory_are_not_found(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    mine, theirs = place_demo_order(slug), place_demo_order(OTHER[slug])
    client.force_login(account(slug, "coordinator"))
    own_cycle, other_cycle = mine.order.cycle, theirs.order.cycle
    own_producer, other_producer = mine.offer.product.producer, theirs.offer.product.producer
    own_relay, other_relay = mine.order.relay_point, theirs.order.relay_point

    own_packing = client.get(f"/preparation/{own_cycle.pk}/relais/{own_relay.pk}/colisage.csv")
    text = own_packing.content.decode("utf-8-sig")
    assert own_packing.status_code == 200
    assert mine.order.reference in text
    assert theirs.order.reference not in text
    own_pick = client.get(
        f"/preparation/{own_cycle.pk}/producteurs/{own_producer.pk}/cueillette.csv"
    )
    assert own_pick.status_code == 200
    assert theirs.offer.product.name not in own_pick.content.decode("utf-8-sig") or (
        theirs.offer.product.name == mine.offer.product.name
    )
    refused = [
        f"/preparation/{other_cycle.pk}/",
        f"/preparation/{other_cycle.pk}/relais/{other_relay.pk}/",
        f"/preparation/{other_cycle.pk}/relais/{other_relay.pk}/colisage.csv",
        f"/preparation/{other_cycle.pk}/relais/{other_relay.pk}/colisage.pdf",
        f"/preparation/{other_cycle.pk}/producteurs/{other_producer.pk}/",
        f"/preparation/{other_cycle.pk}/producteurs/{other_producer.pk}/cueillette.csv",
        f"/preparation/{other_cycle.pk}/producteurs/{other_producer.pk}/cueillette.pdf",
        # Its own cycle with the other's relay point or producer.
        f"/preparation/{own_cycle.pk}/relais/{other_relay.pk}/colisage.csv",
        f"/preparation/{own_cycle.pk}/producteurs/{other_producer.pk}/cueillette.csv",
    ]
    for path in refused:
        assert client.get(path).status_code == 404, path
    # The planning pages: another territory's cycle is not found, as if it did not exist.
    for path in (
        f"/logistique/cycles/{other_cycle.pk}/plan/",
        f"/logistique/cycles/{other_cycle.pk}/plan/etat.json",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/logistique/cycles/{own_cycle.pk}/plan/").status_code == 200


@pytest.mark.parametrize("slug", SLUGS)
def test_a_farmer_cannot_export_the_other_territorys_offers(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    farmer = account(slug, "farmer")
    own_producer = Producer.objects.filter(memberships__user=farmer).first()
    other_producer = Producer.objects.filter(territory__slug=OTHER[slug]).order_by("pk").first()
    own_cycle, other_cycle = open_cycle(slug), open_cycle(OTHER[slug])
    client.force_login(farmer)

    own = client.get(f"/producteur/{own_producer.pk}/cycles/{own_cycle.pk}/offres.csv")
    assert own.status_code == 200
    for path in (
        f"/producteur/{other_producer.pk}/cycles/{other_cycle.pk}/offres.csv",
        f"/producteur/{own_producer.pk}/cycles/{other_cycle.pk}/offres.csv",
    ):
        assert client.get(path).status_code in {403, 404}, path


def test_canteen_invoices_and_delivery_notes_stay_in_their_territory(
    client: Client, territories: dict[str, Territory]
) -> None:
    invoice = Invoice.objects.filter(canteen__territory__slug="loos-en-gohelle").first()
    order = CanteenOrder.objects.filter(cycle__territory__slug="loos-en-gohelle").first()
    assert invoice is not None and order is not None
    paths = [
        f"/cantine/factures/{invoice.pk}/pdf/",
        f"/cantine/livraisons/{order.pk}/bon-de-livraison.pdf",
        f"/cantine/livraisons/{order.pk}/",
        f"/cantine/{invoice.canteen_id}/egalim/",
        f"/cantine/{invoice.canteen_id}/",
    ]
    client.force_login(account("loos-en-gohelle", "coordinator"))
    assert client.get(paths[0]).status_code == 200
    assert client.get(paths[1]).status_code == 200
    client.force_login(account("dunkerque", "coordinator"))
    for path in paths:
        assert client.get(path).status_code in {403, 404}, path
    # The lists of invoices and canteens hold none of Loos's canteens.
    loos_canteens = set(
        territories["loos-en-gohelle"].canteens.values_list("name", flat=True)
    ) - set(territories["dunkerque"].canteens.values_list("name", flat=True))
    assert loos_canteens
    for path in ("/cantine/factures/impayes/", "/cantine/egalim/", "/cantine/"):
        response = client.get(path)
        if response.status_code == 200:
            html = response.content.decode()
            assert not [name for name in loos_canteens if name in html], path


@pytest.mark.parametrize("slug", SLUGS)
def test_the_wagtail_explorer_search_and_reports_show_none_of_the_other_sites_pages(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    own_home = HomePage.objects.get(territory__slug=slug)
    own = list(ProducerPage.objects.descendant_of(own_home).values_list("title", flat=True))
    other = set(
        ProducerPage.objects.not_descendant_of(own_home).values_list("title", flat=True)
    ) - set(own)
    assert own and other
    client.force_login(account(slug, "coordinator"))
    for path, params in (
        ("/admin/pages/search/", {"q": "ferme"}),
        ("/admin/reports/site-history/", {}),
        ("/admin/pages/", {}),
        (f"/admin/pages/{own_home.pk}/", {}),
    ):
        response = client.get(path, params)
        if response.status_code != 200:
            assert response.status_code in {302, 403}, path
            continue
        html = response.content.decode()
        assert not [title for title in other if title in html], path
    found = client.get("/admin/pages/search/", {"q": "ferme"}).content.decode()
    assert any(title in found for title in own)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_page_chooser_offers_only_the_coordinators_own_site(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    own_home = HomePage.objects.get(territory__slug=slug)
    other_home = HomePage.objects.get(territory__slug=OTHER[slug])
    own = set(ProducerPage.objects.descendant_of(own_home).values_list("title", flat=True))
    other = set(ProducerPage.objects.descendant_of(other_home).values_list("title", flat=True))
    other -= own
    assert own and other
    own_index = ProducerPage.objects.descendant_of(own_home).first().get_parent()
    other_index = ProducerPage.objects.descendant_of(other_home).first().get_parent()
    client.force_login(account(slug, "coordinator"))

    pages = {
        "root": client.get(reverse("wagtailadmin_choose_page")),
        "own": client.get(reverse("wagtailadmin_choose_page_child", args=[own_index.pk])),
        "other": client.get(reverse("wagtailadmin_choose_page_child", args=[other_index.pk])),
        "search": client.get(reverse("wagtailadmin_choose_page_search"), {"q": "ferme"}),
    }

    html = {}
    for name, response in pages.items():
        assert response.status_code in {200, 404}, name
        is_json = response.get("Content-Type", "").startswith("application/json")
        html[name] = response.json()["html"] if is_json else response.content.decode()
    assert own_home.title in html["root"]
    assert other_home.title not in html["root"]
    assert any(title in html["own"] for title in own)
    assert any(title in html["search"] for title in own)
    for name, text in html.items():
        assert not [title for title in other if title in text], name


@pytest.mark.parametrize("slug", SLUGS)
def test_the_currency_menu_shows_only_where_the_territory_has_a_local_currency(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    client.force_login(account(slug, "coordinator"))

    sidebar = client.get("/admin/").content.decode()

    assert '"name": "market"' in sidebar or "Marché" in sidebar  # the sidebar is there
    shown = '"name": "local-currency"' in sidebar
    assert shown == territories[slug].local_currency_enabled


def test_the_canteen_api_answers_not_found_for_the_other_territorys_canteen_and_cycle(
    client: Client, territories: dict[str, Territory]
) -> None:
    manager = Canteen.objects.filter(territory__slug="loos-en-gohelle", managers__isnull=False)
    own = manager.order_by("pk").first()
    assert own is not None
    user = own.managers.order_by("pk").first()
    other = Canteen.objects.filter(territory__slug="dunkerque").order_by("pk").first()
    token_api = HostApi(client, LOOS, api_token_create(user=user, name="test")[1])
    listed = token_api.get("/cantines/")
    assert listed.status_code == 200, listed.content
    listed_ids = {item["id"] for item in listed.json()}
    assert own.pk in listed_ids
    assert other.pk not in listed_ids
    for path in (f"/cantines/{other.pk}/cycles", f"/cantines/{other.pk}/orders"):
        response = token_api.get(path)
        assert (response.status_code, response.json()["code"]) == (404, "canteen_not_found"), path
    other_cycle = open_cycle("dunkerque")
    offers = token_api.get(f"/cantines/{own.pk}/cycles/{other_cycle.pk}/offers")
    assert (offers.status_code, offers.json()["code"]) == (404, "cycle_not_found")
    count = CanteenOrder.objects.count()
    placed = token_api.send(
        "post",
        f"/cantines/{own.pk}/orders",
        {"cycle_id": other_cycle.pk, "lines": []},
        headers={"Idempotency-Key": "isolation-canteen"},
    )
    assert placed.status_code in {404, 422}, placed.content
    assert CanteenOrder.objects.count() == count
    # The canteen's own pages: the other territory's cycle is not found either.
    client.force_login(user)
    assert client.get(f"/cantine/{own.pk}/").status_code == 200
    assert client.get(f"/cantine/{own.pk}/cycles/{other_cycle.pk}/").status_code == 404
    assert client.get(f"/cantine/{other.pk}/").status_code in {403, 404}


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coordinator_cannot_see_or_change_the_other_territorys_images_and_documents(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    owner = account(OTHER[slug], "coordinator")
    image = Image.objects.create(
        title="Affiche du marché",
        file=get_test_image_file(),
        collection=image_policy.collections_user_has_permission_for(owner, "add").first(),
        uploaded_by_user=owner,
    )
    document = Document.objects.create(
        title="Charte des producteurs",
        file=ContentFile(b"charte", name="charte.txt"),
        collection=document_policy.collections_user_has_permission_for(owner, "add").first(),
        uploaded_by_user=owner,
    )
    client.force_login(owner)
    assert client.get(f"/admin/images/{image.pk}/").status_code == 200
    assert client.get(f"/admin/documents/edit/{document.pk}/").status_code == 200

    client.force_login(account(slug, "coordinator"))
    assert "Affiche du marché" not in client.get("/admin/images/").content.decode()
    assert "Charte des producteurs" not in client.get("/admin/documents/").content.decode()
    for path in (
        f"/admin/images/{image.pk}/",
        f"/admin/images/{image.pk}/delete/",
        f"/admin/documents/edit/{document.pk}/",
        f"/admin/documents/delete/{document.pk}/",
    ):
        assert client.get(path).status_code in {302, 403, 404}, path
        assert client.post(path, {"title": "Changé"}).status_code in {302, 403, 404}, path
    image.refresh_from_db()
    document.refresh_from_db()
    assert (image.title, document.title) == ("Affiche du marché", "Charte des producteurs")


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coordinators_page_editor_offers_only_their_territorys_producers_and_relays(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    own_home = HomePage.objects.get(territory__slug=slug)
    page = ProducerPage.objects.descendant_of(own_home).order_by("pk").first()
    relay_page = RelayPointPage.objects.descendant_of(own_home).order_by("pk").first()
    client.force_login(account(slug, "coordinator"))

    choices = {}
    for edited, field in ((page, "producer"), (relay_page, "relay_point"), (own_home, "territory")):
        html = client.get(f"/admin/pages/{edited.pk}/edit/").content.decode()
        select = re.search(rf'<select name="{field}"[^>]*>(.*?)</select>', html, re.DOTALL)
        assert select is not None, field
        choices[field] = {int(v) for v in re.findall(r'<option value="(\d+)"', select.group(1))}

    assert choices["producer"] == set(
        Producer.objects.filter(territory__slug=slug).values_list("pk", flat=True)
    )
    assert choices["relay_point"] == set(
        RelayPoint.objects.filter(territory__slug=slug).values_list("pk", flat=True)
    )
    assert choices["territory"] == {territories[slug].pk}
