"""factory_boy factories for the domain models."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from marche.catalog.models import Category, Product, ProductFamily, Unit
from marche.cycles.models import Offer, OrderCycle
from marche.producers.models import Producer, ProducerKind
from marche.territories.models import Territory


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Commune {n}")
    slug = factory.Sequence(lambda n: f"commune-{n}")
    latitude = Decimal("50.458000")
    longitude = Decimal("2.792000")


class ProducerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Producer

    territory = factory.SubFactory(TerritoryFactory)
    name = factory.Sequence(lambda n: f"Ferme {n}")
    slug = factory.Sequence(lambda n: f"ferme-{n}")
    kind = ProducerKind.FARM
    latitude = Decimal("50.458440")
    longitude = Decimal("2.786470")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = "Légumes"
    slug = "legumes"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    producer = factory.SubFactory(ProducerFactory)
    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Légume {n}")
    slug = factory.Sequence(lambda n: f"legume-{n}")
    family = ProductFamily.FRUIT_VEGETABLES
    unit = Unit.KG
    unit_price = Decimal("2.50")


class OrderCycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderCycle

    territory = factory.SubFactory(TerritoryFactory)
    name = factory.Sequence(lambda n: f"Semaine {n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    delivery_date = factory.LazyFunction(lambda: (timezone.now() + timedelta(days=3)).date())


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    cycle = factory.SubFactory(OrderCycleFactory)
    product = factory.SubFactory(ProductFactory)
    unit_price = Decimal("2.50")
    quantity_available = Decimal("10")
