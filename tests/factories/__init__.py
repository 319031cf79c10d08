"""factory_boy factories for the domain models."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from marche.accounts.models import Role, User
from marche.catalog.models import Category, Product, ProductFamily, ProductVariant, Unit
from marche.cycles.models import Basket, BasketItem, Offer, OrderCycle
from marche.producers.models import Producer, ProducerKind
from marche.relays.models import RelayKind, RelayOpeningHours, RelayPoint
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


class ProductVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Sac {n}")
    content = Decimal("5")


class BasketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Basket

    cycle = factory.SubFactory(OrderCycleFactory)
    name = factory.Sequence(lambda n: f"Panier légumes {n}")
    price = Decimal("15.00")
    solidarity_price = Decimal("7.50")


class BasketItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BasketItem

    basket = factory.SubFactory(BasketFactory)
    offer = factory.SubFactory(OfferFactory, cycle=factory.SelfAttribute("..basket.cycle"))
    quantity = Decimal("1")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"foyer{n}@example.test")
    role = Role.HOUSEHOLD
    first_name = "Camille"
    last_name = "Dupont"
    password = factory.django.Password("mot-de-passe-test")


class RelayPointFactory(factory.django.DjangoModelFactory):
    """A relay point open every day 16:00-19:00 (three one-hour slots)."""

    class Meta:
        model = RelayPoint
        skip_postgeneration_save = True

    territory = factory.SubFactory(TerritoryFactory)
    name = factory.Sequence(lambda n: f"Relais {n}")
    slug = factory.Sequence(lambda n: f"relais-{n}")
    kind = RelayKind.PARTNER_SHOP
    latitude = Decimal("50.458000")
    longitude = Decimal("2.792000")
    capacity_per_day = 30
    slot_capacity = 10

    @factory.post_generation
    def hours(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        from datetime import time

        RelayOpeningHours.objects.bulk_create(
            RelayOpeningHours(relay_point=self, weekday=day, opens_at=time(16), closes_at=time(19))
            for day in range(7)
        )
