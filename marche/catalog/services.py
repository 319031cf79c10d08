"""Writes of the catalogue: certifications, allergens and wholesale terms for canteens.

Whether a product is organic is never stored: it is read from its certifications valid on the
day asked (``marche.catalog.selectors.product_is_organic``), so an expired certificate needs
no update anywhere.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from marche.catalog.errors import (
    CertificationDatesInvalid,
    CertificationDuplicate,
    UnknownAllergen,
    WholesaleTermsInvalid,
)
from marche.catalog.models import (
    Allergen,
    EgalimLabel,
    Product,
    ProductCertification,
    validate_allergens,
)


def product_certification_create(
    *,
    product: Product,
    label: EgalimLabel,
    certificate_reference: str,
    valid_from: date,
    valid_until: date,
    certifier: str = "",
) -> ProductCertification:
    """Record a product's label with its certificate reference and validity dates."""
    if valid_until < valid_from:
        raise CertificationDatesInvalid()
    try:
        # The unique constraint decides, so two concurrent requests cannot both record it.
        with transaction.atomic():
            return ProductCertification.objects.create(
                product=product,
                label=label,
                certificate_reference=certificate_reference.strip(),
                certifier=certifier.strip(),
                valid_from=valid_from,
                valid_until=valid_until,
            )
    except IntegrityError as exc:
        raise CertificationDuplicate() from exc


def product_allergens_set(*, product: Product, allergens: list[str]) -> Product:
    """Declare the product's allergens (codes of ``Allergen``), stored in regulation order."""
    try:
        validate_allergens(allergens)
    except ValidationError as exc:
        raise UnknownAllergen(" ".join(exc.messages)) from exc
    product.allergens = [code for code in Allergen.values if code in allergens]
    product.save(update_fields=["allergens", "updated_at"])
    return product


def product_wholesale_set(*, product: Product, price: Decimal | None, minimum: Decimal) -> Product:
    """Set the price excluding VAT canteens pay per unit (None: not sold to canteens) and the
    smallest quantity a canteen line may take. Lines already ordered keep their own price."""
    if (price is not None and price <= 0) or minimum <= 0:
        raise WholesaleTermsInvalid()
    product.wholesale_price = price
    product.wholesale_minimum = minimum
    product.save(update_fields=["wholesale_price", "wholesale_minimum", "updated_at"])
    return product
