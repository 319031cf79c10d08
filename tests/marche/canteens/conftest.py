"""A canteen world: a territory, two farms with wholesale prices, an open cycle, a canteen.

Time is fixed at Monday 9 March 2026, 10:00 (Paris): the cycle opened on Friday 6, closes on
Wednesday 11 at 20:00 and is delivered on Thursday 12 March 2026, a school day in zone B.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from marche.accounts.models import User
from marche.canteens.models import Canteen
from marche.catalog.models import (
    Allergen,
    EgalimLabel,
    ProductCertification,
    ProductFamily,
    Unit,
)
from marche.cycles.models import Offer, OrderCycle
from marche.producers.models import Producer, ProducerMembership
from tests.factories import (
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    TerritoryFactory,
    UserFactory,
)
from tests.factories.canteens import CanteenFactory, CanteenManagerFactory

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 9, 10, 0, tzinfo=PARIS)
DELIVERY = date(2026, 3, 12)


@dataclass
class Kitchen:
    cycle: OrderCycle
    canteen: Canteen
    manager: User
    farm: Producer
    dairy: Producer
    farmer: User  # member of farm
    carrots: Offer  # kg, 1.20 € HT, 100 kg, minimum 5 kg, organic
    yoghurts: Offer  # pieces, 0.35 € HT, 500, minimum 50, milk, chilled, est. 0.125 kg
    apples: Offer  # kg, not sold to canteens (no wholesale price)


@pytest.fixture
def kitchen(db: None, time_machine) -> Kitchen:  # type: ignore[no-untyped-def]
    time_machine.move_to(NOW, tick=False)
    territory = TerritoryFactory()
    cycle = OrderCycleFactory(
        territory=territory,
        opens_at=datetime(2026, 3, 6, 8, 0, tzinfo=PARIS),
        closes_at=datetime(2026, 3, 11, 20, 0, tzinfo=PARIS),
        delivery_date=DELIVERY,
    )
    farm = ProducerFactory(territory=territory, name="Ferme du Pommier")
    dairy = ProducerFactory(territory=territory, name="Laiterie des Terrils")
    farmer = UserFactory(email="farmer@example.test", role="farmer")
    ProducerMembership.objects.create(producer=farm, user=farmer)
    carrots_product = ProductFactory(
        producer=farm,
        name="Carottes",
        unit=Unit.KG,
        wholesale_price=Decimal("1.2000"),
        wholesale_minimum=Decimal("5"),
        vat_rate=Decimal("5.50"),
    )
    ProductCertification.objects.create(
        product=carrots_product,
        label=EgalimLabel.BIO,
        certificate_reference="FR-BIO-01/123",
        valid_from=date(2025, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    ProductCertification.objects.create(
        product=carrots_product,
        label=EgalimLabel.HVE,
        certificate_reference="HVE-42",
        valid_from=date(2025, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    yoghurts_product = ProductFactory(
        producer=dairy,
        name="Yaourts nature",
        family=ProductFamily.DAIRY,
        unit=Unit.PIECE,
        wholesale_price=Decimal("0.3500"),
        wholesale_minimum=Decimal("50"),
        allergens=[Allergen.MILK.value],
        is_chilled=True,
        estimated_weight_kg=Decimal("0.125"),
    )
    apples_product = ProductFactory(producer=farm, name="Pommes", unit=Unit.KG)
    canteen = CanteenFactory(territory=territory, name="Maternelle Basly")
    manager = CanteenManagerFactory(email="cantine@example.test")
    canteen.managers.add(manager)
    return Kitchen(
        cycle=cycle,
        canteen=canteen,
        manager=manager,
        farm=farm,
        dairy=dairy,
        farmer=farmer,
        carrots=OfferFactory(
            cycle=cycle, product=carrots_product, quantity_available=Decimal("100")
        ),
        yoghurts=OfferFactory(
            cycle=cycle, product=yoghurts_product, quantity_available=Decimal("500")
        ),
        apples=OfferFactory(cycle=cycle, product=apples_product, quantity_available=Decimal("50")),
    )
