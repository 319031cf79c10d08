"""The payments tests' markets: the orders' one, and the same with the manne switched on."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marche.producers.models import Producer
from tests.marche.mannes.conftest import new_key
from tests.marche.orders.conftest import Market, market  # noqa: F401 - shared fixture


@pytest.fixture
def manne_market(market: Market) -> Market:  # noqa: F811 - the fixture above
    """The market's territory runs the manne; the egg farm accepts it; 20 mannes earned."""
    from marche.accounts.models import Role
    from marche.mannes.services import manne_reward_declare, manne_reward_validate
    from tests.factories import UserFactory

    territory = market.cycle.territory
    territory.local_currency_enabled = True
    territory.local_currency_name, territory.local_currency_plural = "manne", "mannes"
    territory.local_currency_code = "MAN"
    territory.save()
    Producer.objects.filter(pk=market.eggs.product.producer_id).update(
        accepts_local_currency=True, territory=territory
    )
    market.eggs.product.producer.refresh_from_db()
    market.household.territory = territory
    market.household.save()
    request = manne_reward_declare(
        household=market.household,
        territory=territory,
        amount=Decimal("20"),
        reason="Jardin prêté",
        key=new_key("reward"),
    )
    manne_reward_validate(
        request_id=request.pk,
        coordinator=UserFactory(role=Role.COORDINATOR, territory=territory),
        key=new_key("ok"),
    )
    return market
