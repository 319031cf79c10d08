"""factory_boy factories for canteens, their orders and invoices' inputs."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import factory

from marche.canteens.models import (
    Canteen,
    CanteenKind,
    CanteenOrder,
    CanteenOrderLine,
    DeliveryWindow,
    SchoolZone,
)
from tests.factories import OfferFactory, TerritoryFactory, UserFactory


class CanteenFactory(factory.django.DjangoModelFactory):
    """A school canteen of zone B delivered Monday to Friday, 7:30–10:00."""

    class Meta:
        model = Canteen
        skip_postgeneration_save = True

    territory = factory.SubFactory(TerritoryFactory)
    name = factory.Sequence(lambda n: f"Cantine {n}")
    slug = factory.Sequence(lambda n: f"cantine-{n}")
    kind = CanteenKind.NURSERY_SCHOOL
    legal_name = factory.LazyAttribute(lambda o: f"Commune — {o.name}")
    # A SIRET whose Luhn check digit holds (invented).
    siret = "73282932000074"
    meals_per_day = 90
    school_zone = SchoolZone.B
    buyer_name = "Commune de Loos-en-Gohelle"
    buyer_address = "Place de la République\n62750 Loos-en-Gohelle"
    invoice_email = "factures@example.org"
    address = "1 rue de l'École"
    postcode = "62750"
    city = "Loos-en-Gohelle"
    latitude = Decimal("50.457500")
    longitude = Decimal("2.793000")

    @factory.post_generation
    def windows(obj, create, extracted, **kwargs):
        """``windows=[(weekday, start, end), ...]``; Monday to Friday 7:30–10:00 by default."""
        if not create:
            return
        rows = (
            extracted if extracted is not None else [(d, time(7, 30), time(10)) for d in range(5)]
        )
        DeliveryWindow.objects.bulk_create(
            DeliveryWindow(canteen=obj, weekday=day, starts_at=start, ends_at=end)
            for day, start, end in rows
        )

    @factory.post_generation
    def managers(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.managers.add(*extracted)


class CanteenManagerFactory(UserFactory):
    role = "canteen_manager"


class CanteenOrderFactory(factory.django.DjangoModelFactory):
    """An order for its cycle's delivery day (no check of windows: services do that)."""

    class Meta:
        model = CanteenOrder

    canteen = factory.SubFactory(CanteenFactory)
    cycle = factory.SubFactory(
        "tests.factories.OrderCycleFactory",
        territory=factory.SelfAttribute("..canteen.territory"),
    )
    reference = factory.Sequence(lambda n: f"C-TEST-{n:05d}")
    delivery_date = factory.LazyAttribute(lambda o: o.cycle.delivery_date)
    window_starts_at = time(7, 30)
    window_ends_at = time(10)


class CanteenOrderLineFactory(factory.django.DjangoModelFactory):
    """A line whose snapshots are read from its offer's product when not given."""

    class Meta:
        model = CanteenOrderLine

    order = factory.SubFactory(CanteenOrderFactory)
    offer = factory.SubFactory(OfferFactory, cycle=factory.SelfAttribute("..order.cycle"))
    product = factory.LazyAttribute(lambda o: o.offer.product)
    producer = factory.LazyAttribute(lambda o: o.offer.product.producer)
    name = factory.LazyAttribute(lambda o: o.offer.product.name)
    unit = factory.LazyAttribute(lambda o: o.offer.product.unit)
    quantity_ordered = Decimal("10")
    unit_price_ht = factory.LazyAttribute(
        lambda o: o.offer.product.wholesale_price or Decimal("2.0000")
    )
    vat_rate = factory.LazyAttribute(lambda o: o.offer.product.vat_rate)
    labels = factory.LazyAttribute(lambda o: [str(label) for label in o.offer.product.valid_labels])
    family = factory.LazyAttribute(lambda o: o.offer.product.family)
    origin = factory.LazyAttribute(lambda o: o.offer.product.origin)
    allergens = factory.LazyAttribute(lambda o: list(o.offer.product.allergens))
