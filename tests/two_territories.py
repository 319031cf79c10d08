"""Both demo territories loaded once per test module, and the helpers of the isolation tests.

``load_demo --territory dunkerque`` then ``load_demo`` run once per module that uses
``territories``, inside a transaction each test's own nests in, rolled back after the module
(about 6 s instead of 6 s per test). Orders go through the marketplace services, on each
demo's own open cycle, relay point and household.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from marche.accounts.models import User
from marche.accounts.tokens import api_token_create
from marche.cycles.models import Offer, OrderCycle
from marche.cycles.selectors import cycle_list_open
from marche.orders.models import Order
from marche.orders.services import cart_set_item, order_place
from marche.relays.models import RelayPoint
from marche.relays.services import pickup_slots_ensure
from marche.territories.models import Territory
from tests.marche.api.conftest import Api

LOOS = "loos.localhost:8000"
DUNKERQUE = "dunkerque.localhost:8000"
HOSTS = {"loos-en-gohelle": LOOS, "dunkerque": DUNKERQUE}
OTHER = {"loos-en-gohelle": "dunkerque", "dunkerque": "loos-en-gohelle"}
# The demo accounts of each territory (marche/demo/data/*.toml, [[accounts]]).
ACCOUNTS = {
    "loos-en-gohelle": {
        "household": "foyer@demo.test",
        "farmer": "producteur@demo.test",
        "coordinator": "coordination@demo.test",
    },
    "dunkerque": {
        "household": "foyer-dunkerque@demo.test",
        "farmer": "producteur-dunkerque@demo.test",
        "coordinator": "coordination-dunkerque@demo.test",
    },
}
SLUGS = tuple(HOSTS)


@pytest.fixture(scope="module")
def two_demos(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Both demo territories, loaded once; rolled back (and the caches emptied) after."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("load_demo", territory="dunkerque", stdout=io.StringIO())
            call_command("load_demo", stdout=io.StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            cache.clear()


@pytest.fixture
def territories(two_demos: None, db: None) -> dict[str, Territory]:
    return {territory.slug: territory for territory in Territory.objects.all()}


def account(slug: str, role: str) -> User:
    return User.objects.get(email=ACCOUNTS[slug][role])


def host_get(client: Client, host: str, path: str, **params: Any) -> Any:
    """A page as runserver serves it on port 8000 under that hostname."""
    return client.get(path, params, HTTP_HOST=host, SERVER_PORT="8000")


class HostApi(Api):
    """The JSON API client of tests/marche/api, at one territory's hostname."""

    def __init__(self, client: Client, host: str, token: str | None = None) -> None:
        super().__init__(client, token)
        self.host = host

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {**super()._headers(headers), "Host": self.host}


def api_as(client: Client, slug: str, role: str | None = None, *, host: str = "") -> HostApi:
    """The API at ``host`` (the territory's own by default), with a token of its ``role``."""
    token = api_token_create(user=account(slug, role), name="test")[1] if role else None
    return HostApi(client, host or HOSTS[slug], token)


def open_cycle(slug: str) -> OrderCycle:
    territory = Territory.objects.get(slug=slug)
    cycle = cycle_list_open(territory=territory, now=timezone.now()).first()
    assert cycle is not None, f"the {slug} demo has no open cycle"
    return cycle


def orderable_offer(cycle: OrderCycle) -> Offer:
    """An offer of the cycle with stock for a few units, sold by the unit (not weighed)."""
    offers = Offer.objects.filter(cycle=cycle, product__producer__is_active=True).order_by("pk")
    for offer in offers.select_related("product"):
        left = offer.quantity_available
        if not offer.product.is_variable_weight and (left is None or left >= 5):
            return offer
    raise AssertionError(f"no orderable offer in {cycle}")


def active_relay(slug: str) -> RelayPoint:
    return RelayPoint.objects.filter(territory__slug=slug, is_active=True).order_by("pk").first()


@dataclass
class Placed:
    order: Order
    offer: Offer


def place_demo_order(slug: str, *, payment_method: str = "pickup") -> Placed:
    """The territory's demo household orders enough of one offer of its open cycle."""
    cycle = open_cycle(slug)
    offer = orderable_offer(cycle)
    relay = active_relay(slug)
    slot = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)[0]
    customer = account(slug, "household")
    # Enough units to reach the cycle's minimum order.
    count = max(
        Decimal("1"),
        (cycle.minimum_order_amount / offer.unit_price).to_integral_value(ROUND_CEILING),
    )
    cart_set_item(customer=customer, cycle_id=cycle.pk, count=count, offer_id=offer.pk)
    order, _start = order_place(
        customer=customer,
        cycle_id=cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=slot.pk,
        payment_method=payment_method,
        idempotency_key=f"isolation-{slug}-{payment_method}",
    )
    return Placed(order=order, offer=offer)
