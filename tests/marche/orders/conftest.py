"""A small open cycle with a relay point, a basket and à la carte offers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from marche.accounts.models import User
from marche.catalog.models import Unit
from marche.cycles.models import Basket, Offer, OrderCycle
from marche.relays.models import PickupSlot, RelayPoint
from marche.relays.services import pickup_slots_ensure
from tests.factories import (
    BasketFactory,
    BasketItemFactory,
    OfferFactory,
    OrderCycleFactory,
    ProductFactory,
    RelayPointFactory,
    UserFactory,
)


@dataclass
class Market:
    cycle: OrderCycle
    relay: RelayPoint
    slots: list[PickupSlot]
    basket: Basket
    carrots: Offer  # kg, 2.50 €/kg, 10 kg
    eggs: Offer  # dozen, 4.20 €, 5 dozen
    household: User


@pytest.fixture
def market(db: None) -> Market:
    cycle = OrderCycleFactory()
    relay = RelayPointFactory(territory=cycle.territory)
    slots = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)
    carrots = OfferFactory(
        cycle=cycle,
        product=ProductFactory(name="Carottes", unit=Unit.KG),
        unit_price=Decimal("2.50"),
        quantity_available=Decimal("10"),
    )
    eggs = OfferFactory(
        cycle=cycle,
        product=ProductFactory(name="Œufs", unit=Unit.DOZEN),
        unit_price=Decimal("4.20"),
        quantity_available=Decimal("5"),
    )
    basket = BasketFactory(cycle=cycle, price=Decimal("15.00"), solidarity_price=Decimal("7.50"))
    potatoes = OfferFactory(
        cycle=cycle,
        product=ProductFactory(name="Pommes de terre", unit=Unit.KG),
        unit_price=Decimal("1.80"),
        quantity_available=Decimal("40"),
    )
    BasketItemFactory(basket=basket, offer=potatoes, quantity=Decimal("2"))
    BasketItemFactory(basket=basket, offer=carrots, quantity=Decimal("1"))
    return Market(
        cycle=cycle,
        relay=relay,
        slots=slots,
        basket=basket,
        carrots=carrots,
        eggs=eggs,
        household=UserFactory(),
    )
