"""API shapes of carts and orders."""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class CartLineOut(Schema):
    cart_item_id: int | None
    kind: str
    name: str
    count: Decimal
    quantity: Decimal
    unit: str
    unit_price: Decimal
    total: Decimal
    offer_id: int | None = None
    variant_id: int | None = None
    basket_id: int | None = None
    is_solidarity_price: bool
    price_per_kg: Decimal | None
    estimated_weight_kg: Decimal | None

    @staticmethod
    def resolve_offer_id(obj: Any) -> int | None:
        return obj.offer.pk if obj.offer is not None else None

    @staticmethod
    def resolve_variant_id(obj: Any) -> int | None:
        return obj.variant.pk if obj.variant is not None else None

    @staticmethod
    def resolve_basket_id(obj: Any) -> int | None:
        return obj.basket.pk if obj.basket is not None else None


class CartOut(Schema):
    cycle_id: int
    lines: list[CartLineOut]
    total: Decimal
    has_estimates: bool = Field(description="Vrai si un produit à poids variable reste à peser.")


class CartItemIn(Schema):
    offer_id: int | None = None
    variant_id: int | None = None
    basket_id: int | None = None
    count: Decimal = Field(
        max_digits=10,
        decimal_places=3,
        description="Nombre d'articles (ou quantité au kg/litre) ; 0 retire.",
    )


class OrderPlaceIn(Schema):
    cycle_id: int
    relay_point_id: int
    pickup_slot_id: int
    payment_method: str = Field("pickup", description="Code du moyen de paiement.")
    payment_options: dict[str, str] = Field(
        default_factory=dict,
        description="Options du moyen de paiement, transmises telles quelles (ex. mannes).",
    )


class RelayPointBriefOut(Schema):
    id: int
    name: str
    address: str = Field(alias="full_address")


class PickupSlotBriefOut(Schema):
    id: int
    date: date
    starts_at: time
    ends_at: time


class OrderComponentOut(Schema):
    name: str
    unit: str
    quantity: Decimal


class OrderLineOut(Schema):
    kind: str
    name: str
    unit: str
    count: Decimal
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    total: Decimal
    is_solidarity_price: bool
    price_per_kg: Decimal | None
    estimated_weight_kg: Decimal | None
    weight_kg: Decimal | None
    components: list[OrderComponentOut]

    @staticmethod
    def resolve_components(obj: Any) -> list[Any]:
        return list(obj.components.all())


class OrderOut(Schema):
    reference: str
    status: str
    cycle_id: int
    delivery_date: date = Field(alias="cycle.delivery_date")
    relay_point: RelayPointBriefOut
    pickup_slot: PickupSlotBriefOut
    payment_method: str
    total: Decimal
    is_final: bool = Field(
        description="Faux tant que des produits à poids variable restent à peser."
    )
    expires_at: datetime
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        lines = getattr(obj, "top_lines", None)
        if lines is None:
            lines = obj.lines.filter(parent__isnull=True).prefetch_related("components")
        return list(lines)


class OrderPlacedOut(Schema):
    order: OrderOut
    payment_redirect_url: str | None = Field(
        None, description="Page de paiement où envoyer le foyer, si le moyen en demande une."
    )
    replayed: bool = Field(description="Vrai si cette clé d'idempotence avait déjà servi.")
