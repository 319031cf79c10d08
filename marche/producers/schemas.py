"""API shapes of producers."""

from decimal import Decimal

from ninja import Schema


class ProducerOut(Schema):
    id: int
    name: str
    slug: str
    kind: str
    territory: str
    collective_id: int | None
    description: str
    production: str
    website: str
    city: str
    latitude: Decimal
    longitude: Decimal
    accepts_local_currency: bool
    product_count: int

    @staticmethod
    def resolve_territory(obj: object) -> str:
        return obj.territory.slug  # type: ignore[attr-defined]
