"""An open cycle with two producers, a farmer of one of them, a household, and their tokens."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client

from marche.accounts.models import Role, User
from marche.accounts.tokens import api_token_create
from marche.catalog.models import Product, Unit
from marche.cycles.models import Basket, Offer, OrderCycle
from marche.producers.models import Producer, ProducerMembership
from marche.relays.models import PickupSlot, RelayPoint
from marche.relays.services import pickup_slots_ensure
from tests.factories import (
    BasketFactory,
    BasketItemFactory,
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    ProductVariantFactory,
    RelayPointFactory,
    UserFactory,
)


@dataclass
class ApiMarket:
    cycle: OrderCycle
    relay: RelayPoint
    slots: list[PickupSlot]
    basket: Basket
    farm: Producer  # the farmer's producer
    other_farm: Producer
    leeks: Product  # the farm's, not offered yet
    carrots: Offer  # the farm's: kg, 2.50 €/kg, 10 kg, a 5 kg bag at 10 % off
    eggs: Offer  # the other farm's: dozen, 4.20 €, 5 dozen
    farmer: User
    household: User
    farmer_token: str
    household_token: str


@pytest.fixture
def api_market(db: None) -> ApiMarket:
    cycle = OrderCycleFactory()
    farm = ProducerFactory(territory=cycle.territory, name="Ferme du Louvre")
    other_farm = ProducerFactory(territory=cycle.territory, name="Ferme des Terrils")
    relay = RelayPointFactory(territory=cycle.territory)
    slots = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)
    carrot = ProductFactory(producer=farm, name="Carottes", unit=Unit.KG)
    ProductVariantFactory(
        product=carrot, name="Sac de 5 kg", content=Decimal("5"), discount_percent=Decimal("10")
    )
    carrots = OfferFactory(
        cycle=cycle,
        product=carrot,
        unit_price=Decimal("2.50"),
        quantity_available=Decimal("10"),
    )
    eggs = OfferFactory(
        cycle=cycle,
        product=ProductFactory(producer=other_farm, name="Œufs", unit=Unit.DOZEN),
        unit_price=Decimal("4.20"),
        quantity_available=Decimal("5"),
    )
    basket = BasketFactory(cycle=cycle, name="Panier de saison", price=Decimal("15.00"))
    BasketItemFactory(basket=basket, offer=carrots, quantity=Decimal("2"))
    farmer = UserFactory(email="fermier@example.test", role=Role.FARMER)
    ProducerMembership.objects.create(producer=farm, user=farmer)
    household = UserFactory(email="foyer@example.test")
    return ApiMarket(
        cycle=cycle,
        relay=relay,
        slots=slots,
        basket=basket,
        farm=farm,
        other_farm=other_farm,
        leeks=ProductFactory(producer=farm, name="Poireaux", unit=Unit.BUNCH),
        carrots=carrots,
        eggs=eggs,
        farmer=farmer,
        household=household,
        farmer_token=api_token_create(user=farmer, name="test")[1],
        household_token=api_token_create(user=household, name="test")[1],
    )


class Api:
    """A test client speaking JSON to /api/v1/ with an optional bearer token."""

    def __init__(self, client: Client, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        return out

    def get(self, path: str, headers: dict[str, str] | None = None, **params: object):
        return self.client.get(f"/api/v1{path}", params, headers=self._headers(headers))

    def send(self, method: str, path: str, body: object, headers: dict[str, str] | None = None):
        return getattr(self.client, method)(
            f"/api/v1{path}", body, content_type="application/json", headers=self._headers(headers)
        )


@pytest.fixture
def public(client: Client) -> Api:
    return Api(client)


@pytest.fixture
def as_farmer(client: Client, api_market: ApiMarket) -> Api:
    return Api(client, api_market.farmer_token)


@pytest.fixture
def as_household(client: Client, api_market: ApiMarket) -> Api:
    return Api(client, api_market.household_token)
