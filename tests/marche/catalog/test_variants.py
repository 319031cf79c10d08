"""Variants and variable weight: what the database itself refuses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from marche.catalog.models import Product, ProductVariant, Unit
from tests.factories import ProductFactory, ProductVariantFactory

pytestmark = pytest.mark.django_db


def test_a_product_sold_in_a_bag_and_a_crate() -> None:
    potatoes = ProductFactory(name="Pommes de terre", unit=Unit.KG)
    ProductVariantFactory(
        product=potatoes,
        name="Cagette de 5 kg",
        content=Decimal("5"),
        position=1,
        discount_percent=Decimal("10"),
    )
    ProductVariantFactory(product=potatoes, name="Sac de 1 kg", content=Decimal("1"), position=0)
    assert [(v.name, v.content, v.discount_percent) for v in potatoes.variants.all()] == [
        ("Sac de 1 kg", Decimal("1.000"), Decimal("0.00")),
        ("Cagette de 5 kg", Decimal("5.000"), Decimal("10.00")),
    ]


def test_two_variants_of_a_product_cannot_share_a_name() -> None:
    variant = ProductVariantFactory(name="Sac de 1 kg")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductVariant.objects.create(product=variant.product, name="Sac de 1 kg", content=1)
    assert ProductVariant.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "discount"),
    [(Decimal("0"), Decimal("0")), (Decimal("1"), Decimal("-1")), (Decimal("1"), Decimal("51"))],
)
def test_a_variant_needs_content_and_a_discount_of_at_most_half(
    content: Decimal, discount: Decimal
) -> None:
    product = ProductFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductVariant.objects.create(
            product=product, name="Cagette", content=content, discount_percent=discount
        )
    assert ProductVariant.objects.count() == 0


def test_a_variable_weight_product_is_a_piece_with_an_estimated_weight() -> None:
    squash = ProductFactory(
        name="Potimarron",
        unit=Unit.PIECE,
        unit_price=Decimal("2.90"),
        is_variable_weight=True,
        estimated_weight_kg=Decimal("1.2"),
    )
    squash.full_clean()
    assert Product.objects.filter(is_variable_weight=True).count() == 1


@pytest.mark.parametrize(
    ("unit", "weight"), [(Unit.KG, Decimal("1.2")), (Unit.PIECE, None), (Unit.BUNCH, Decimal("1"))]
)
def test_variable_weight_needs_a_piece_and_its_estimated_weight(
    unit: Unit, weight: Decimal | None
) -> None:
    existing = ProductFactory()
    product = Product(
        producer=existing.producer,
        category=existing.category,
        name="Courge",
        slug="courge",
        family=existing.family,
        unit=unit,
        unit_price=Decimal("2.90"),
        is_variable_weight=True,
        estimated_weight_kg=weight,
    )
    with pytest.raises(ValidationError) as refused:
        product.full_clean()
    assert (
        "Un produit à poids variable se compte à la pièce et indique le poids estimé d'une pièce."
        in refused.value.messages
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        product.save()
    assert Product.objects.filter(is_variable_weight=True).count() == 0
