"""API shapes of carts and orders."""

from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import ConfigDict, StringConstraints

from marche.core.schemas import Count, DecimalOut, Id, LocalTime


class CartLineOut(Schema):
    cart_item_id: int | None
    kind: str
    name: str
    count: DecimalOut
    quantity: DecimalOut
    unit: str
    unit_price: DecimalOut
    total: DecimalOut
    offer_id: int | None = None
    variant_id: int | None = None
    basket_id: int | None = None
    is_solidarity_price: bool
    price_per_kg: DecimalOut | None
    estimated_weight_kg: DecimalOut | None

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
    total: DecimalOut
    has_estimates: bool = Field(description="Vrai si un produit à poids variable reste à peser.")


class CartItemIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"offer_id": 12, "count": "1,5"}, {"basket_id": 3, "count": 1}]
        }
    )

    offer_id: Id | None = None
    variant_id: Id | None = None
    basket_id: Id | None = None
    count: Count = Field(
        description=(
            "Nombre d'articles (ou quantité au kg/litre), virgule ou point ; 0 retire. "
            'Lu comme sur le site : « 1,5 », "1.5" et 1.5 se valent.'
        ),
    )


ShortText = Annotated[str, StringConstraints(max_length=40)]


class OrderPlaceIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cycle_id": 4,
                    "relay_point_id": 2,
                    "pickup_slot_id": 17,
                    "payment_method": "pickup",
                }
            ]
        }
    )

    cycle_id: Id
    relay_point_id: Id
    pickup_slot_id: Id
    payment_method: ShortText = Field("pickup", description="Code du moyen de paiement.")
    payment_options: dict[ShortText, ShortText] = Field(
        default_factory=dict,
        max_length=10,
        description="Options du moyen de paiement, transmises telles quelles (ex. mannes).",
    )


class RelayPointBriefOut(Schema):
    id: int
    name: str
    address: str = Field(alias="full_address")


class PickupSlotBriefOut(Schema):
    id: int
    date: date
    starts_at: LocalTime
    ends_at: LocalTime


class OrderComponentOut(Schema):
    name: str
    unit: str
    quantity: DecimalOut


class OrderLineOut(Schema):
    kind: str
    name: str
    unit: str
    count: DecimalOut
    quantity: DecimalOut
    unit_price: DecimalOut
    vat_rate: DecimalOut
    total: DecimalOut
    is_solidarity_price: bool
    price_per_kg: DecimalOut | None
    estimated_weight_kg: DecimalOut | None
    weight_kg: DecimalOut | None
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
    total: DecimalOut
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
