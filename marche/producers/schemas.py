"""API shapes of producers."""

from ninja import Schema

from marche.core.schemas import DecimalOut


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
    latitude: DecimalOut
    longitude: DecimalOut
    accepts_local_currency: bool
    product_count: int

    @staticmethod
    def resolve_territory(obj: object) -> str:
        return obj.territory.slug  # type: ignore[attr-defined]
