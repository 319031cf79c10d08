"""Coordinators of two territories, with the admin access the Coordination group gives."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marche.accounts.models import Role, User
from marche.core.admin_access import coordination_group_sync
from marche.orders.models import Order
from marche.orders.services import cart_set_item, order_place
from marche.relays.services import pickup_slots_ensure
from marche.territories.models import Territory
from tests.factories import (
    OfferFactory,
    OrderCycleFactory,
    RelayPointFactory,
    TerritoryFactory,
    UserFactory,
)


@pytest.fixture
def territory_a(db: None) -> Territory:
    return TerritoryFactory(name="Territoire A", slug="territoire-a")


@pytest.fixture
def territory_b(db: None) -> Territory:
    return TerritoryFactory(name="Territoire B", slug="territoire-b")


@pytest.fixture
def coordinator_a(territory_a: Territory) -> User:
    user = UserFactory(email="coord-a@example.test", role=Role.COORDINATOR, territory=territory_a)
    coordination_group_sync()
    return user


def place_order(*, territory: Territory, email: str) -> Order:
    """A household's order of 2 kg of an offer, in an open cycle of ``territory``."""
    cycle = OrderCycleFactory(territory=territory)
    offer = OfferFactory(cycle=cycle, product__producer__territory=territory)
    relay = RelayPointFactory(territory=territory)
    slot = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)[0]
    customer = UserFactory(email=email, territory=territory)
    cart_set_item(customer=customer, cycle_id=cycle.pk, count=Decimal("2"), offer_id=offer.pk)
    order, _start = order_place(
        customer=customer,
        cycle_id=cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=slot.pk,
        payment_method="pickup",
        idempotency_key=f"admin-test-{email}",
    )
    return order
