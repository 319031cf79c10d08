"""Two demo territories side by side: each one's pages, shop and API show only its own data.

Both demo territories are loaded by the real command once for the module
(``tests/two_territories.py``); orders are placed through the marketplace services.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from cms.models import ArticlePage, HomePage
from logistics.models import Depot, PlanRoute, PlanStop
from logistics.services import plan_compute
from marche.accounts.models import User
from marche.canteens.models import CanteenOrder
from marche.canteens.notifications import canteen_notification_enqueue
from marche.catalog.models import Product
from marche.cycles.models import Basket, Offer
from marche.orders.models import Cart, CartItem, Order
from marche.orders.services import cart_set_item, order_cancel
from marche.producers.models import Producer
from marche.relays.models import PickupSlot, RelayPoint
from marche.relays.services import pickup_slots_ensure
from marche.territories.models import Territory
from tests.two_territories import (
    HOSTS,
    OTHER,
    SLUGS,
    HostApi,
    account,
    active_relay,
    api_as,
    host_get,
    open_cycle,
    orderable_offer,
    place_demo_order,
    territories,
    two_demos,
)

__all__ = ["territories", "two_demos"]  # the fixtures

pytestmark = pytest.mark.django_db


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


# --- API lists ------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_public_api_lists_at_a_hostname_hold_that_territorys_objects_only(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    api = api_as(client, slug)
    own, other = territories[slug], territories[OTHER[slug]]

    producers = ids(api.get("/producers", page_size=100))
    assert producers == set(own.producers.filter(is_active=True).values_list("pk", flat=True))
    products = ids(api.get("/products", page_size=100))
    assert products
    assert products <= set(
        Product.objects.filter(producer__territory=own).values_list("pk", flat=True)
    )
    cycles = ids(api.get("/cycles", page_size=100))
    assert open_cycle(slug).pk in cycles
    assert not cycles & set(other.order_cycles.values_list("pk", flat=True))
    # The other territory's slug as a filter gives nothing either.
    assert ids(api.get("/producers", territory=other.slug)) == set()
    assert ids(api.get("/cycles", territory=other.slug)) == set()


@pytest.mark.parametrize("slug", SLUGS)
def test_public_api_answers_not_found_for_the_other_territorys_cycle_and_relay(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    api = api_as(client, slug)
    own_cycle, other_cycle = open_cycle(slug), open_cycle(OTHER[slug])
    assert ids(api.get(f"/cycles/{own_cycle.pk}/offers", page_size=100))
    for path in (f"/cycles/{other_cycle.pk}/offers", f"/cycles/{other_cycle.pk}/baskets"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "cycle_not_found"
    own_relay, other_relay = active_relay(slug), active_relay(OTHER[slug])
    own_slots = api.get(
        f"/relay-points/{own_relay.pk}/slots", date=own_cycle.delivery_date.isoformat()
    )
    assert own_slots.status_code == 200
    response = api.get(
        f"/relay-points/{other_relay.pk}/slots", date=other_cycle.delivery_date.isoformat()
    )
    assert response.status_code == 404
    assert response.json()["code"] == "relay_point_not_found"


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("role", ["household", "farmer", "coordinator"])
def test_signed_in_people_read_their_own_territory_whatever_the_hostname(
    client: Client, territories: dict[str, Territory], slug: str, role: str
) -> None:
    other = territories[OTHER[slug]]
    user = account(slug, role)
    client.force_login(user)
    # Signed in on the other territory's site: still their own territory's lists.
    api = HostApi(client, HOSTS[OTHER[slug]])
    producers = ids(api.get("/producers", page_size=100))
    assert producers
    assert not producers & set(other.producers.values_list("pk", flat=True))
    cycles = ids(api.get("/cycles", page_size=100))
    assert open_cycle(slug).pk in cycles
    assert not cycles & set(other.order_cycles.values_list("pk", flat=True))


@pytest.mark.parametrize("slug", SLUGS)
def test_a_households_orders_and_a_farmers_offers_are_their_own(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    mine, theirs = place_demo_order(slug), place_demo_order(OTHER[slug])
    household = api_as(client, slug, "household", host=HOSTS[OTHER[slug]])
    references = {o["reference"] for o in household.get("/me/orders").json()["items"]}
    assert references == {mine.order.reference}
    response = household.get(f"/me/orders/{theirs.order.reference}")
    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"

    farmer = api_as(client, slug, "farmer")
    offers = ids(farmer.get("/me/offers", page_size=100))
    assert offers
    assert offers <= set(
        Offer.objects.filter(cycle__territory__slug=slug).values_list("pk", flat=True)
    )


# --- API writes -----------------------------------------------------------------------------


def counts() -> dict[str, int]:
    return {
        "carts": Cart.objects.count(),
        "items": CartItem.objects.count(),
        "orders": Order.objects.count(),
        "offers": Offer.objects.count(),
        "baskets": Basket.objects.count(),
        "slots": PickupSlot.objects.count(),
    }


@pytest.mark.parametrize("slug", SLUGS)
def test_a_household_cannot_fill_a_cart_in_the_other_territorys_cycle(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    other_cycle = open_cycle(OTHER[slug])
    other_offer = orderable_offer(other_cycle)
    api = api_as(client, slug, "household", host=HOSTS[OTHER[slug]])
    before = counts()

    response = api.send(
        "put", f"/me/cart?cycle={other_cycle.pk}", {"offer_id": other_offer.pk, "count": "1"}
    )

    assert response.status_code == 404, response.content
    assert response.json()["code"] == "cycle_not_found"
    assert counts() == before
    read = api.get("/me/cart", cycle=other_cycle.pk)
    assert read.status_code == 404
    assert read.json()["code"] == "cycle_not_found"
    # Its own cycle takes the same request.
    own_cycle = open_cycle(slug)
    own = api.send(
        "put",
        f"/me/cart?cycle={own_cycle.pk}",
        {"offer_id": orderable_offer(own_cycle).pk, "count": "1"},
    )
    assert own.status_code == 200, own.content


@pytest.mark.parametrize("slug", SLUGS)
def test_a_household_cannot_order_in_the_other_territorys_cycle_or_relay(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    own_cycle, other_cycle = open_cycle(slug), open_cycle(OTHER[slug])
    other_relay = active_relay(OTHER[slug])
    other_slot = pickup_slots_ensure(relay_point=other_relay, on=other_cycle.delivery_date)[0]
    own_relay = active_relay(slug)
    own_slot = pickup_slots_ensure(relay_point=own_relay, on=own_cycle.delivery_date)[0]
    customer = account(slug, "household")
    cart_set_item(
        customer=customer,
        cycle_id=own_cycle.pk,
        count=Decimal("3"),
        offer_id=orderable_offer(own_cycle).pk,
    )
    api = api_as(client, slug, "household")
    before = counts()

    at_other_relay = api.send(
        "post",
        "/me/orders",
        {
            "cycle_id": own_cycle.pk,
            "relay_point_id": other_relay.pk,
            "pickup_slot_id": other_slot.pk,
            "payment_method": "pickup",
        },
        headers={"Idempotency-Key": "isolation-relay"},
    )
    in_other_cycle = api.send(
        "post",
        "/me/orders",
        {
            "cycle_id": other_cycle.pk,
            "relay_point_id": own_relay.pk,
            "pickup_slot_id": own_slot.pk,
            "payment_method": "pickup",
        },
        headers={"Idempotency-Key": "isolation-cycle"},
    )

    assert at_other_relay.status_code == 404, at_other_relay.content
    assert at_other_relay.json()["code"] == "relay_point_not_found"
    assert in_other_cycle.status_code == 404, in_other_cycle.content
    assert in_other_cycle.json()["code"] == "cycle_not_found"
    assert counts() == before


@pytest.mark.parametrize("slug", SLUGS)
def test_a_farmer_cannot_publish_or_change_offers_of_the_other_territory(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    other_cycle = open_cycle(OTHER[slug])
    other_offer = orderable_offer(other_cycle)
    farmer = account(slug, "farmer")
    own_product = Product.objects.filter(producer__memberships__user=farmer).first()
    assert own_product is not None
    api = api_as(client, slug, "farmer")
    before = counts()
    price = other_offer.unit_price

    published = api.send(
        "post",
        "/me/offers",
        {"product_id": own_product.pk, "cycle_id": other_cycle.pk, "unit_price": "2.00"},
    )
    changed = api.send("patch", f"/me/offers/{other_offer.pk}", {"unit_price": "9.99"})

    assert published.status_code in {404, 403}, published.content
    assert published.json()["code"] in {"cycle_not_found", "not_your_producer"}
    assert changed.status_code in {404, 403}, changed.content
    assert changed.json()["code"] in {"offer_not_found", "not_your_producer"}
    other_offer.refresh_from_db()
    assert other_offer.unit_price == price
    assert counts() == before


# --- pages ----------------------------------------------------------------------------------


def visible(response: Any) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("slug", SLUGS)
def test_the_other_territorys_producer_relay_and_article_pages_are_not_found_here(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    host, other = HOSTS[slug], OTHER[slug]
    other_producer = Producer.objects.filter(territory__slug=other).order_by("pk").first()
    own_producer = Producer.objects.filter(territory__slug=slug).order_by("pk").first()
    assert host_get(client, host, f"/producteurs/{own_producer.slug}/").status_code == 200
    if not Producer.objects.filter(territory__slug=slug, slug=other_producer.slug).exists():
        response = host_get(client, host, f"/producteurs/{other_producer.slug}/")
        assert response.status_code == 404
    other_relay, own_relay = active_relay(other), active_relay(slug)
    assert host_get(client, host, f"/points-relais/{own_relay.slug}/").status_code == 200
    assert host_get(client, host, f"/points-relais/{other_relay.slug}/").status_code == 404
    # The news: this site's articles, none of the other's.
    news = visible(host_get(client, host, "/actualites/"))
    own_home = HomePage.objects.get(territory__slug=slug)
    own_titles = set(
        ArticlePage.objects.live().descendant_of(own_home).values_list("title", flat=True)
    )
    other_titles = (
        set(ArticlePage.objects.live().not_descendant_of(own_home).values_list("title", flat=True))
        - own_titles
    )
    assert own_titles and other_titles
    assert all(title in news for title in own_titles)
    assert not [title for title in other_titles if title in news]
    # The catalogue's search: "pommes" links to this territory's products only.
    found = host_get(client, host, "/catalogue/", q="pommes").content.decode()
    products = Product.objects.filter(name__icontains="pomme")
    own = [p.pk for p in products.filter(producer__territory__slug=slug)]
    other_ids = [p.pk for p in products.filter(producer__territory__slug=other)]
    assert own and other_ids
    assert any(f"/catalogue/produit/{pk}/" in found for pk in own)
    assert not [pk for pk in other_ids if f"/catalogue/produit/{pk}/" in found]


@pytest.mark.parametrize("slug", SLUGS)
def test_a_households_cart_page_and_add_button_refuse_the_other_territorys_cycle(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    other_cycle, own_cycle = open_cycle(OTHER[slug]), open_cycle(slug)
    other_offer = orderable_offer(other_cycle)
    client.force_login(account(slug, "household"))
    before = counts()

    page = host_get(client, HOSTS[OTHER[slug]], f"/commander/panier/{other_cycle.pk}/")
    added = client.post(
        "/commander/panier/ajouter/",
        {"cycle": other_cycle.pk, "offer": other_offer.pk, "count": "1"},
        HTTP_HOST=HOSTS[OTHER[slug]],
    )

    assert page.status_code == 404
    assert added.status_code in {302, 404}
    assert counts() == before
    assert host_get(client, HOSTS[slug], f"/commander/panier/{own_cycle.pk}/").status_code == 200


# --- e-mails --------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_an_orders_e_mails_go_to_its_own_territorys_people_only(
    territories: dict[str, Territory],
    slug: str,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        placed = place_demo_order(slug)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=placed.order.pk, by=placed.order.customer)

    recipients = [address for message in mailoutbox for address in message.to]
    assert recipients == [placed.order.customer.email] * 2  # confirmed, then cancelled
    own_people = set(User.objects.filter(territory__slug=slug).values_list("email", flat=True))
    assert set(recipients) <= own_people
    assert not [m for m in mailoutbox if territories[OTHER[slug]].name in m.subject]


def test_a_canteen_orders_e_mail_goes_to_its_own_managers_only(
    territories: dict[str, Territory],
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
) -> None:
    order = CanteenOrder.objects.filter(canteen__managers__isnull=False).order_by("pk").first()
    assert order is not None
    slug = order.canteen.territory.slug

    with django_capture_on_commit_callbacks(execute=True):
        canteen_notification_enqueue(
            canteen_id=order.canteen_id,
            event="confirmed",
            ref="isolation",
            data={"order_id": order.pk},
        )

    recipients = {address for message in mailoutbox for address in message.to}
    assert recipients == set(order.canteen.managers.values_list("email", flat=True))
    assert recipients <= set(
        User.objects.filter(territory__slug=slug).values_list("email", flat=True)
    )


# --- routing --------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_a_cycles_delivery_plan_holds_its_own_territorys_stops_and_vehicles_only(
    territories: dict[str, Territory], slug: str
) -> None:
    mine, theirs = place_demo_order(slug), place_demo_order(OTHER[slug])
    cycle = mine.order.cycle
    other = territories[OTHER[slug]]

    plan = plan_compute(
        cycle_id=cycle.pk, time_limit=1, now=cycle.closes_at + timedelta(minutes=1)
    ).plan

    routes = list(PlanRoute.objects.filter(plan=plan).select_related("vehicle"))
    assert routes
    assert {route.vehicle.territory_id for route in routes} == {territories[slug].pk}
    stops = list(PlanStop.objects.filter(route__plan=plan))
    assert mine.order.relay_point.name in {stop.name for stop in stops}
    other_places = {
        (p.latitude, p.longitude)
        for model in (RelayPoint, Producer, Depot)
        for p in model.objects.filter(territory=other)
    }
    assert not [s.name for s in stops if (s.latitude, s.longitude) in other_places]
    other_names = {r.name for r in other.relay_points.all()} | {
        p.name for p in other.producers.all()
    }
    assert not [s.name for s in stops if s.name in other_names]
    assert theirs.order.reference not in str([stop.manifest for stop in stops])


@pytest.mark.parametrize("slug", SLUGS)
def test_the_other_territorys_coordinator_and_driver_cannot_follow_a_plan(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    cycle = place_demo_order(slug).order.cycle
    plan = plan_compute(
        cycle_id=cycle.pk, time_limit=1, now=cycle.closes_at + timedelta(minutes=1)
    ).plan
    route = PlanRoute.objects.filter(plan=plan).order_by("pk").first()
    assert route is not None
    own = api_as(client, slug, "coordinator")
    assert own.get(f"/logistique/plans/{plan.pk}/avancement").status_code == 200
    assert own.get(f"/logistique/tournees/{route.pk}").status_code == 200

    other = api_as(client, OTHER[slug], "coordinator")
    progress = other.get(f"/logistique/plans/{plan.pk}/avancement")
    state = other.get(f"/logistique/tournees/{route.pk}")
    started = other.send("post", f"/logistique/tournees/{route.pk}/depart", {})

    assert (progress.status_code, progress.json()["code"]) == (404, "plan_not_found")
    assert (state.status_code, state.json()["code"]) == (404, "route_not_found")
    # Starting it is refused too, as a round that does not exist.
    assert (started.status_code, started.json()["code"]) == (404, "route_not_found")
    route.refresh_from_db()
    assert route.started_at is None
    client.force_login(account(OTHER[slug], "coordinator"))
    assert client.get(f"/chauffeur/tournees/{route.pk}/feuille.pdf").status_code == 404
    assert client.get(f"/chauffeur/tournees/{route.pk}/").status_code == 404


# --- the other roles' pages -----------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_each_roles_pages_refuse_the_other_territorys_objects(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    theirs = place_demo_order(OTHER[slug])
    other_cycle, other_relay = theirs.order.cycle, theirs.order.relay_point
    other_producer = theirs.offer.product.producer

    client.force_login(account(slug, "household"))
    assert host_get(client, HOSTS[slug], "/commander/commandes/").status_code == 200
    for path in (
        f"/commander/commandes/{theirs.order.reference}/",
        f"/relais/commande/{theirs.order.reference}/",
    ):
        assert host_get(client, HOSTS[OTHER[slug]], path).status_code == 404, path
    cancelled = client.post(f"/commander/commandes/{theirs.order.reference}/annuler/")
    assert cancelled.status_code == 404
    theirs.order.refresh_from_db()
    assert theirs.order.status == "confirmed"

    client.force_login(account(slug, "farmer"))
    own_producer = Producer.objects.filter(memberships__user=account(slug, "farmer")).first()
    assert (
        client.get(f"/producteur/{own_producer.pk}/cycles/{open_cycle(slug).pk}/").status_code
        == 200
    )
    assert client.get(f"/producteur/{other_producer.pk}/cycles/{other_cycle.pk}/").status_code in {
        403,
        404,
    }

    client.force_login(account(slug, "coordinator"))
    index = client.get("/preparation/").content.decode()
    assert f"/preparation/{open_cycle(slug).pk}/" in index
    assert f"/preparation/{other_cycle.pk}/" not in index
    pickup_page = client.get(f"/relais/{active_relay(slug).slug}/")
    assert pickup_page.status_code == 200
    # the header names the coordinator's territory on the relay pages too
    brand = re.search(r'class="brand"[^>]*>(.*?)</a>', pickup_page.content.decode(), re.S)
    assert brand is not None
    assert territories[slug].name in brand.group(1)
    # Another territory's relay point is not found on the pickup pages, as if it did not exist.
    assert client.get(f"/relais/{other_relay.slug}/").status_code == 404
    handed = client.post(f"/relais/{other_relay.slug}/remis/", {"order": theirs.order.pk})
    assert handed.status_code == 404
    theirs.order.refresh_from_db()
    assert theirs.order.status == "confirmed"
    planning = client.get("/logistique/").content.decode()
    assert f"/logistique/cycles/{other_cycle.pk}/" not in planning


@pytest.mark.parametrize("slug", SLUGS)
def test_a_sites_sitemap_lists_its_own_pages_only(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    sitemap = host_get(client, HOSTS[slug], "/sitemap.xml").content.decode()
    own = Producer.objects.filter(territory__slug=slug).values_list("slug", flat=True)
    other = Producer.objects.filter(territory__slug=OTHER[slug]).values_list("slug", flat=True)
    assert any(f"/producteurs/{s}/" in sitemap for s in own)
    assert not [s for s in other if f"/producteurs/{s}/" in sitemap]
