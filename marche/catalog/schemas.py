"""API shapes of the catalogue."""

from ninja import Field, Schema

from marche.core.schemas import DecimalOut, Id


class ProductOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    producer_id: int
    producer_name: str = Field(alias="producer.name")
    category: str = Field(alias="category.slug")
    category_name: str = Field(alias="category.name")
    family: str
    unit: str
    unit_price: DecimalOut = Field(description="Prix TTC de référence par unité (€).")
    vat_rate: DecimalOut
    is_organic: bool
    season_months: list[int]
    is_variable_weight: bool
    estimated_weight_kg: DecimalOut | None


class ProductFilters(Schema):
    producer: Id | None = Field(None, description="Identifiant du producteur.")
    category: str | None = Field(None, description="Identifiant (slug) de la catégorie.")
    family: str | None = Field(None, description="Famille EGalim, ex. FRUITS_ET_LEGUMES.")
