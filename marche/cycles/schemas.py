"""API shapes of order cycles, offers and composed baskets."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from ninja import Field, Schema

from marche.orders.services import variant_item_price


class CycleOut(Schema):
    id: int
    name: str
    territory: str = Field(alias="territory.slug")
    opens_at: datetime
    closes_at: datetime
    delivery_date: date
    minimum_order_amount: Decimal
    is_open: bool

    @staticmethod
    def resolve_is_open(obj: Any) -> bool:
        return bool(obj.is_open(timezone.now()))


class OfferProductOut(Schema):
    id: int
    name: str
    producer_id: int
    producer_name: str = Field(alias="producer.name")
    category: str = Field(alias="category.slug")
    family: str
    is_organic: bool
    is_variable_weight: bool
    estimated_weight_kg: Decimal | None


class VariantOut(Schema):
    id: int
    name: str
    content: Decimal = Field(description="Contenu d'un article, dans l'unité du produit.")
    discount_percent: Decimal
    item_price: Decimal = Field(description="Prix TTC d'un article (€).")


def _variants(offer: Any) -> list[VariantOut]:
    product = offer.product
    if product.is_variable_weight:
        return []  # sold by the piece, priced by weight: no variants
    variants = getattr(product, "active_variants", None)
    if variants is None:
        variants = list(product.variants.filter(is_active=True))
    return [
        VariantOut(
            id=variant.pk,
            name=variant.name,
            content=variant.content,
            discount_percent=variant.discount_percent,
            item_price=variant_item_price(offer=offer, variant=variant),
        )
        for variant in variants
    ]


class OfferOut(Schema):
    id: int
    cycle_id: int
    product: OfferProductOut
    unit: str = Field(alias="product.unit")
    unit_price: Decimal = Field(description="Prix TTC par unité (au kg si poids variable).")
    quantity_available: Decimal | None = Field(description="Vide : à la demande.")
    quantity_remaining: Decimal | None
    on_demand: bool
    variants: list[VariantOut]

    @staticmethod
    def resolve_on_demand(obj: Any) -> bool:
        return obj.quantity_available is None

    @staticmethod
    def resolve_variants(obj: Any) -> list[VariantOut]:
        return _variants(obj)


class FarmerOfferOut(OfferOut):
    quantity_held: Decimal
    quantity_sold: Decimal


class OfferCreateIn(Schema):
    cycle_id: int
    product_id: int
    unit_price: Decimal = Field(description="Prix TTC par unité (€).")
    quantity_available: Decimal | None = Field(
        None, max_digits=10, decimal_places=3, description="Vide ou null : à la demande."
    )


class OfferUpdateIn(Schema):
    unit_price: Decimal | None = None
    quantity_available: Decimal | None = Field(
        None,
        max_digits=10,
        decimal_places=3,
        description="null : à la demande ; absent : inchangé.",
    )


class BasketItemOut(Schema):
    offer_id: int
    product_id: int = Field(alias="offer.product_id")
    product_name: str = Field(alias="offer.product.name")
    unit: str = Field(alias="offer.product.unit")
    quantity: Decimal


class BasketOut(Schema):
    id: int
    cycle_id: int
    name: str
    description: str
    price: Decimal
    solidarity_price: Decimal | None
    vat_rate: Decimal
    is_available: bool = Field(description="Faux si un des produits du panier manque.")
    items: list[BasketItemOut]

    @staticmethod
    def resolve_items(obj: Any) -> list[Any]:
        return list(obj.items.all())

    @staticmethod
    def resolve_is_available(obj: Any) -> bool:
        return all(
            item.offer.quantity_remaining is None or item.offer.quantity_remaining >= item.quantity
            for item in obj.items.all()
        )
