"""Two demo territories side by side: drivers' check-offs, their e-mails and their refusals.

A check-off mails the territory's own households only, from its own sender, with links to its
own site; another territory's round, stop, cycle plan and relay point answer 404 (as if they
did not exist) and change nothing, while the same territory's round that is not one's own
keeps its 403. Both demo territories are loaded once for the module
(``tests/two_territories.py``); plans are computed by the real engine and published.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from logistics.checkoffs import CHECKED_KINDS, stop_check_off
from logistics.models import DeliveryPlan, PlanRoute, PlanStatus, PlanStop, StopCheckoff
from logistics.services import plan_compute
from marche.accounts.models import Role, User
from marche.accounts.tokens import api_token_create
from marche.orders.models import Order
from marche.relays.models import RelayPoint
from marche.territories.models import Territory
from marche.territories.selectors import territory_from_email
from tests.two_territories import (
    HOSTS,
    OTHER,
    SLUGS,
    HostApi,
    account,
    host_get,
    place_demo_order,
    territories,
    two_demos,
)

__all__ = ["territories", "two_demos"]  # the fixtures

pytestmark = pytest.mark.django_db

# The demo's senders (marche/demo/data/*.toml, [territory] email_sender).
SENDERS = {
    "loos-en-gohelle": "bonjour@loos-en-gohelle.demo.test",
    "dunkerque": "bonjour@dunkerque.demo.test",
}
URL = re.compile(r"https?://[^\s<>\"']+")


def published_plan(slug: str) -> tuple[Order, DeliveryPlan]:
    """The territory's demo household orders; its cycle's plan is computed and published."""
    order = place_demo_order(slug).order
    cycle = order.cycle
    plan = plan_compute(
        cycle_id=cycle.pk, time_limit=1, now=cycle.closes_at + timedelta(minutes=1)
    ).plan
    DeliveryPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.PUBLISHED)
    plan.refresh_from_db()
    return order, plan


def checked_stops(plan: DeliveryPlan) -> list[PlanStop]:
    return list(
        PlanStop.objects.filter(route__plan=plan, kind__in=CHECKED_KINDS)
        .select_related("route")
        .order_by("route__position", "position", "pk")
    )


def checker(route: PlanRoute, slug: str) -> User:
    """The route's driver, else the territory's coordinator (who may check off by phone)."""
    return route.driver if route.driver_id else account(slug, "coordinator")


def state(plan: DeliveryPlan) -> list[Any]:
    return [
        list(
            PlanStop.objects.filter(route__plan=plan)
            .order_by("pk")
            .values_list("pk", "status", "checked_at", "note", "delivered", "route_id", "position")
        ),
        list(
            PlanRoute.objects.filter(plan=plan)
            .order_by("pk")
            .values_list("pk", "started_at", "finished_at", "locked")
        ),
        list(DeliveryPlan.objects.filter(pk=plan.pk).values_list("status", "version")),
        StopCheckoff.objects.count(),
        DeliveryPlan.objects.count(),
    ]


# --- e-mails after check-offs ---------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_a_check_off_mails_its_own_households_from_its_sender_with_its_site_links(
    territories: dict[str, Territory],
    slug: str,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
) -> None:
    settings.MARCHE_SITE_URL = "http://127.0.0.1:8000"
    theirs = place_demo_order(OTHER[slug]).order  # the other territory has orders waiting too
    mine, plan = published_plan(slug)
    stops = checked_stops(plan)
    relay_stops = [stop for stop in stops if stop.place.startswith("relay:")]
    assert relay_stops
    now = timezone.now()

    # Every stop delivered (relay points, farms' pickups, canteens): the arrival e-mails.
    for index, stop in enumerate(stops):
        with django_capture_on_commit_callbacks(execute=True):
            stop_check_off(
                stop_id=stop.pk,
                key=f"isolation-{slug}-{stop.pk}",
                status="delivered",
                by=checker(stop.route, slug),
                recorded_at=now - timedelta(minutes=60 - index),
            )
    arrivals = len(mailoutbox)
    # Then the first relay stop told in trouble: the "could not be dropped" e-mails.
    with django_capture_on_commit_callbacks(execute=True):
        stop_check_off(
            stop_id=relay_stops[0].pk,
            key=f"isolation-{slug}-problem",
            status="problem",
            note="Rideau baissé",
            by=checker(relay_stops[0].route, slug),
            recorded_at=now,
        )

    assert arrivals > 0 and len(mailoutbox) > arrivals
    own_people = set(User.objects.filter(territory__slug=slug).values_list("email", flat=True))
    other_people = set(
        User.objects.filter(territory__slug=OTHER[slug]).values_list("email", flat=True)
    )
    recipients = [address for message in mailoutbox for address in message.to]
    assert mine.customer.email in recipients
    assert set(recipients) <= own_people
    assert not set(recipients) & other_people
    sender = territory_from_email(territory=territories[slug])
    assert SENDERS[slug] in sender
    assert {message.from_email for message in mailoutbox} == {sender}
    links = [url for message in mailoutbox for url in URL.findall(message.body)]
    assert len(links) >= len(mailoutbox)  # each e-mail links to the order
    # Loos's site is the default one, which the instance's own address serves (and where
    # its people signed in); Dunkerque's is reached at its hostname
    host = "127.0.0.1:8000" if slug == "loos-en-gohelle" else HOSTS[slug]
    assert {urlsplit(url).netloc for url in links} == {host}
    assert f"http://{host}/commander/commandes/{mine.reference}/" in links
    everything = " ".join(f"{m.subject} {m.body}" for m in mailoutbox)
    assert theirs.reference not in everything
    assert territories[OTHER[slug]].name not in everything


# --- the planning pages ---------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_the_other_territorys_planning_pages_are_not_found_and_change_nothing(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    _order, plan = published_plan(slug)
    DeliveryPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.DRAFT)
    plan.refresh_from_db()
    cycle = plan.cycle
    route = PlanRoute.objects.filter(plan=plan).order_by("pk").first()
    stop = PlanStop.objects.filter(route=route, kind="delivery").order_by("pk").first()
    assert route is not None and stop is not None
    base = f"/logistique/cycles/{cycle.pk}/plan/"
    missing = "/logistique/cycles/999999999/plan/"
    client.force_login(account(slug, "coordinator"))
    assert client.get(base).status_code == 200
    assert client.get(f"{base}etat.json").status_code == 200
    before = state(plan)

    client.force_login(account(OTHER[slug], "coordinator"))
    for path in (base, f"{base}etat.json"):
        assert client.get(path).status_code == 404, path
    assert client.get(missing).status_code == 404
    posts = {
        "calculer/": {"version": plan.version},
        "deplacer/": {
            "stop": stop.pk,
            "route": route.pk,
            "position": "1",
            "version": plan.version,
        },
        "verrouiller/": {"route": route.pk, "locked": "1", "version": plan.version},
        "decider/": {"place": stop.place, "decision": "other_day", "version": plan.version},
        "publier/": {"version": plan.version},
    }
    for action, data in posts.items():
        assert client.post(f"{base}{action}", data).status_code == 404, action
    assert state(plan) == before
    # The other territory's driver pages of the round are not found either.
    assert client.get(f"/chauffeur/tournees/{route.pk}/").status_code == 404


# --- the drivers' API -----------------------------------------------------------------------


def token_api(client: Client, user: User, host: str) -> HostApi:
    return HostApi(client, host, api_token_create(user=user, name="test")[1])


@pytest.mark.parametrize("slug", SLUGS)
def test_the_drivers_api_finds_no_round_or_stop_of_the_other_territory(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    _order, plan = published_plan(slug)
    stop = checked_stops(plan)[0]
    route = stop.route
    before = state(plan)
    check_off = {"key": f"isolation-api-{slug}", "status": "delivered"}
    nowhere = token_api(client, account(slug, "coordinator"), HOSTS[slug])
    no_stop = nowhere.send("post", "/logistique/etapes/999999999/pointage", check_off)
    no_route = nowhere.send("post", "/logistique/tournees/999999999/depart", {})
    assert (no_stop.status_code, no_stop.json()["code"]) == (404, "stop_not_found")
    assert (no_route.status_code, no_route.json()["code"]) == (404, "route_not_found")

    other_driver = User.objects.filter(territory__slug=OTHER[slug], role=Role.DRIVER).first()
    assert other_driver is not None
    for user in (other_driver, account(OTHER[slug], "coordinator")):
        api = token_api(client, user, HOSTS[OTHER[slug]])
        checked = api.send("post", f"/logistique/etapes/{stop.pk}/pointage", check_off)
        started = api.send("post", f"/logistique/tournees/{route.pk}/depart", {})
        read = api.get(f"/logistique/tournees/{route.pk}")
        # As if they did not exist: the same answers as ids nobody has.
        assert checked.status_code == 404, checked.content
        assert checked.json() == no_stop.json()
        assert started.status_code == 404, started.content
        assert started.json() == no_route.json()
        assert (read.status_code, read.json()["code"]) == (404, "route_not_found")
    assert state(plan) == before

    # A driver of the round's own territory who does not drive it: still forbidden (403).
    same = (
        User.objects.filter(territory__slug=slug, role=Role.DRIVER)
        .exclude(pk=route.driver_id)
        .first()
    )
    assert same is not None
    api = token_api(client, same, HOSTS[slug])
    refused = api.send("post", f"/logistique/etapes/{stop.pk}/pointage", check_off)
    not_started = api.send("post", f"/logistique/tournees/{route.pk}/depart", {})
    assert (refused.status_code, refused.json()["code"]) == (403, "route_not_yours")
    assert (not_started.status_code, not_started.json()["code"]) == (403, "route_not_yours")
    assert state(plan) == before


# --- the relay keeper's pickup page ---------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_the_other_territorys_relay_pickup_page_is_not_found_and_hands_nothing_over(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    theirs = place_demo_order(OTHER[slug]).order
    other_relay = theirs.relay_point
    assert not RelayPoint.objects.filter(territory__slug=slug, slug=other_relay.slug).exists()
    keeper = User.objects.get(territory__slug=slug, role=Role.RELAY_KEEPER)
    kept = list(keeper.kept_relay_points.all())
    assert kept and all(relay.territory.slug == slug for relay in kept)
    page = f"/relais/{other_relay.slug}/"
    payments = list(theirs.payments.order_by("pk").values_list("pk", "status", "amount"))

    for user in (keeper, account(slug, "coordinator")):
        client.force_login(user)
        assert host_get(client, HOSTS[slug], f"/relais/{kept[0].slug}/").status_code == 200
        for path in (page, f"{page}?territoire={OTHER[slug]}"):
            assert host_get(client, HOSTS[slug], path).status_code == 404, path
            assert host_get(client, HOSTS[OTHER[slug]], path).status_code == 404, path
        handed = client.post(
            f"{page}remis/",
            {"order": theirs.reference, "means": "cash", "present": "1"},
            HTTP_HOST=HOSTS[slug],
        )
        assert handed.status_code == 404
        theirs.refresh_from_db()
        assert theirs.status == "confirmed"
        assert list(theirs.payments.order_by("pk").values_list("pk", "status", "amount")) == (
            payments
        )

    # Its own territory's relay point that the keeper does not keep: refused (403).
    not_kept = (
        RelayPoint.objects.filter(territory__slug=slug, is_active=True)
        .exclude(pk__in=[relay.pk for relay in kept])
        .order_by("pk")
        .first()
    )
    assert not_kept is not None
    client.force_login(keeper)
    assert host_get(client, HOSTS[slug], f"/relais/{not_kept.slug}/").status_code == 403
