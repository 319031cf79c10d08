"""API shapes of canteens, their offers, orders, standing orders and skipped weeks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import StringConstraints

from marche.core.schemas import DecimalOut, LocalTime, Stock

IdKey = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,17}$")]
Quantities = dict[IdKey, Stock]


class WindowOut(Schema):
    weekday: int = Field(description="0 = lundi … 6 = dimanche.")
    starts_at: LocalTime
    ends_at: LocalTime


class CanteenOut(Schema):
    id: int
    name: str
    slug: str
    kind: str
    territory: str
    school_zone: str = Field(description="A, B, C, ou vide (livrée pendant les vacances).")
    meals_per_day: int
    is_active: bool
    windows: list[WindowOut]

    @staticmethod
    def resolve_territory(obj: Any) -> str:
        return obj.territory.slug

    @staticmethod
    def resolve_windows(obj: Any) -> list[Any]:
        return sorted(obj.delivery_windows.all(), key=lambda w: w.weekday)


class CycleChoiceOut(Schema):
    cycle_id: int
    name: str
    opens_at: datetime
    closes_at: datetime
    delivery_date: date
    deliverable: bool
    code: str = Field(
        description="Vide si livrable ; sinon not_a_delivery_day, school_holiday ou week_skipped."
    )
    reason: str
    holiday: str | None
    window: WindowOut | None
    order_reference: str | None

    @staticmethod
    def resolve_cycle_id(obj: Any) -> int:
        return obj.cycle.pk

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.cycle.name

    @staticmethod
    def resolve_opens_at(obj: Any) -> datetime:
        return obj.cycle.opens_at

    @staticmethod
    def resolve_closes_at(obj: Any) -> datetime:
        return obj.cycle.closes_at

    @staticmethod
    def resolve_order_reference(obj: Any) -> str | None:
        return obj.order.reference if obj.order is not None else None


class CanteenOfferOut(Schema):
    id: int = Field(description="L'identifiant de l'offre, clé des quantités d'une commande.")
    product_id: int
    name: str
    producer: str
    family: str
    unit: str
    wholesale_price: DecimalOut = Field(description="Prix HT par unité (€).")
    wholesale_minimum: DecimalOut
    vat_rate: DecimalOut
    labels: list[str]
    allergens: list[str]
    is_chilled: bool
    remaining: DecimalOut | None = Field(description="Reste disponible ; null : à la demande.")

    @staticmethod
    def resolve_product_id(obj: Any) -> int:
        return obj.product_id

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.product.name

    @staticmethod
    def resolve_producer(obj: Any) -> str:
        return obj.product.producer.name

    @staticmethod
    def resolve_family(obj: Any) -> str:
        return obj.product.family

    @staticmethod
    def resolve_unit(obj: Any) -> str:
        return obj.product.unit

    @staticmethod
    def resolve_wholesale_price(obj: Any) -> Any:
        return obj.product.wholesale_price

    @staticmethod
    def resolve_wholesale_minimum(obj: Any) -> Any:
        return obj.product.wholesale_minimum

    @staticmethod
    def resolve_vat_rate(obj: Any) -> Any:
        return obj.product.vat_rate

    @staticmethod
    def resolve_labels(obj: Any) -> list[str]:
        return [label.value for label in obj.product.valid_labels]

    @staticmethod
    def resolve_allergens(obj: Any) -> list[str]:
        return list(obj.product.allergens or [])

    @staticmethod
    def resolve_is_chilled(obj: Any) -> bool:
        return obj.product.is_chilled

    @staticmethod
    def resolve_remaining(obj: Any) -> Any:
        return obj.quantity_remaining


class CanteenLineOut(Schema):
    id: int
    offer_id: int
    product_id: int
    producer: str
    name: str
    unit: str
    quantity_ordered: DecimalOut
    quantity_confirmed: DecimalOut | None
    quantity_delivered: DecimalOut | None
    status: str = Field(description="pending, confirmed, adjusted ou refused.")
    producer_note: str
    unit_price_ht: DecimalOut
    vat_rate: DecimalOut
    labels: list[str]
    family: str
    origin: str
    allergens: list[str]

    @staticmethod
    def resolve_producer(obj: Any) -> str:
        return obj.producer.name


class CanteenOrderOut(Schema):
    reference: str
    canteen_id: int
    cycle_id: int
    delivery_date: date
    window_starts_at: LocalTime
    window_ends_at: LocalTime
    status: str = Field(description="submitted, confirmed, delivered ou cancelled.")
    note: str
    standing_order_id: int | None
    lines: list[CanteenLineOut]

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())


class CanteenOrderIn(Schema):
    cycle_id: int = Field(ge=1, le=9_223_372_036_854_775_807)
    offers: Quantities = Field(
        description=(
            "Identifiant d'offre → quantité dans l'unité du produit ; 0 retire la ligne, une "
            "offre absente garde sa ligne."
        )
    )
    note: str = Field("", max_length=1000)


class StandingLineOut(Schema):
    product_id: int
    name: str
    producer: str
    unit: str
    quantity: DecimalOut

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.product.name

    @staticmethod
    def resolve_producer(obj: Any) -> str:
        return obj.product.producer.name

    @staticmethod
    def resolve_unit(obj: Any) -> str:
        return obj.product.unit


class StandingOrderOut(Schema):
    id: int
    starts_on: date
    ends_on: date | None
    is_active: bool
    lines: list[StandingLineOut]

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())


class StandingOrderIn(Schema):
    products: Quantities = Field(
        description="Identifiant de produit → quantité par semaine ; les lignes sont remplacées."
    )
    starts_on: date
    ends_on: date | None = None


class SkippedWeekOut(Schema):
    week_start: date = Field(description="Le lundi de la semaine sautée.")
    reason: str


class SkippedWeekIn(Schema):
    reason: str = Field("", max_length=120)
