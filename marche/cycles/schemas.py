"""API shapes of order cycles, offers and composed baskets."""

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from ninja import Field, Schema
from pydantic import ConfigDict

from marche.core.schemas import DecimalOut, Id, Price, Stock
from marche.orders.services import variant_item_price

# A variable-weight product (``is_variable_weight``) is sold by the piece and paid by weight:
# its offer's price is per kg, its quantities count pieces.
UNIT = "Unité du produit : kg, piece, bunch, dozen ou litre."
PRICE = (
    "Prix TTC (€) par unité du produit ; au kg pour un produit à poids variable "
    "(is_variable_weight), dont le prix final est fixé à la pesée."
)
QUANTITY = (
    "Quantité dans l'unité du produit ; en pièces pour un produit à poids variable "
    "(environ estimated_weight_kg chacune)."
)


class CycleOut(Schema):
    id: int
    name: str
    territory: str = Field(alias="territory.slug")
    opens_at: datetime
    closes_at: datetime
    delivery_date: date
    minimum_order_amount: DecimalOut
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
    estimated_weight_kg: DecimalOut | None


class VariantOut(Schema):
    id: int
    name: str
    content: DecimalOut = Field(description="Contenu d'un article, dans l'unité du produit.")
    discount_percent: DecimalOut
    item_price: DecimalOut = Field(description="Prix TTC d'un article (€).")


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
    unit: str = Field(alias="product.unit", description=UNIT)
    unit_price: DecimalOut = Field(description=PRICE)
    quantity_available: DecimalOut | None = Field(description=f"{QUANTITY} Vide : à la demande.")
    quantity_remaining: DecimalOut | None
    on_demand: bool
    max_per_order: DecimalOut = Field(
        description="À la demande : la plus grande quantité qu'une commande peut prendre."
    )
    variants: list[VariantOut]

    @staticmethod
    def resolve_on_demand(obj: Any) -> bool:
        return obj.quantity_available is None

    @staticmethod
    def resolve_variants(obj: Any) -> list[VariantOut]:
        return _variants(obj)


class FarmerOfferOut(OfferOut):
    quantity_held: DecimalOut
    quantity_sold: DecimalOut
    withdrawn: bool = Field(description="Retirée de la vente : absente de la boutique.")

    @staticmethod
    def resolve_withdrawn(obj: Any) -> bool:
        return obj.withdrawn_at is not None


class OfferCreateIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"cycle_id": 4, "product_id": 8, "unit_price": "2,80", "quantity_available": "12"}
            ]
        }
    )

    cycle_id: Id
    product_id: Id
    unit_price: Price = Field(description=PRICE)
    quantity_available: Stock | None = Field(
        None, description=f"{QUANTITY} Vide ou null : à la demande."
    )
    max_per_order: Stock | None = Field(
        None,
        description="À la demande : le maximum par commande (absent : la valeur par défaut).",
    )
    confirm_price: bool = Field(
        False,
        description="Confirme un prix très éloigné du prix habituel (sinon ``price_unusual``).",
    )


class OfferUpdateIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"unit_price": "2,60"}, {"quantity_available": None}]}
    )

    unit_price: Price | None = Field(None, description=f"{PRICE} Absent : inchangé.")
    quantity_available: Stock | None = Field(
        None, description=f"{QUANTITY} null : à la demande ; absent : inchangé."
    )
    max_per_order: Stock | None = Field(
        None,
        description="À la demande : le maximum par commande (absent : inchangé).",
    )
    confirm_price: bool = Field(
        False,
        description="Confirme un prix très éloigné du prix habituel (sinon ``price_unusual``).",
    )


class BasketItemOut(Schema):
    offer_id: int
    product_id: int = Field(alias="offer.product_id")
    product_name: str = Field(alias="offer.product.name")
    unit: str = Field(alias="offer.product.unit")
    quantity: DecimalOut


class BasketOut(Schema):
    id: int
    cycle_id: int
    name: str
    description: str
    price: DecimalOut
    solidarity_price: DecimalOut | None
    vat_rate: DecimalOut
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
