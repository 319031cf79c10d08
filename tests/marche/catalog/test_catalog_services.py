"""Catalogue services: certifications and allergens, refused with a code and a French message."""

from __future__ import annotations

from datetime import date

import pytest

from marche.catalog.errors import (
    CertificationDatesInvalid,
    CertificationDuplicate,
    UnknownAllergen,
)
from marche.catalog.models import EgalimLabel, Product, ProductCertification
from marche.catalog.selectors import product_is_organic
from marche.catalog.services import product_allergens_set, product_certification_create
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_a_bio_certificate_makes_the_product_organic_only_while_valid() -> None:
    product = ProductFactory()
    certification = product_certification_create(
        product=product,
        label=EgalimLabel.BIO,
        certificate_reference="  FR-BIO-01 12345 ",
        certifier="Organisme",
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    assert certification.certificate_reference == "FR-BIO-01 12345"
    assert product_is_organic(product=product, on=date(2026, 12, 31)) is True
    assert product_is_organic(product=Product.objects.get(), on=date(2027, 1, 1)) is False


def test_dates_in_the_wrong_order_are_refused_and_nothing_is_recorded() -> None:
    product = ProductFactory()
    with pytest.raises(CertificationDatesInvalid) as refused:
        product_certification_create(
            product=product,
            label=EgalimLabel.BIO,
            certificate_reference="FR-BIO-01 1",
            valid_from=date(2026, 6, 1),
            valid_until=date(2026, 5, 31),
        )
    assert refused.value.as_dict() == {
        "code": "certification_dates_invalid",
        "message": "La fin de validité du certificat précède son début.",
    }
    assert ProductCertification.objects.count() == 0


def test_the_same_certificate_twice_is_refused() -> None:
    product = ProductFactory()
    kwargs = {
        "product": product,
        "label": EgalimLabel.HVE,
        "certificate_reference": "HVE-1",
        "valid_from": date(2026, 1, 1),
        "valid_until": date(2026, 12, 31),
    }
    product_certification_create(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(CertificationDuplicate):
        product_certification_create(**kwargs)  # type: ignore[arg-type]
    assert ProductCertification.objects.count() == 1


def test_allergens_are_stored_in_regulation_order() -> None:
    product = ProductFactory()
    product_allergens_set(product=product, allergens=["sesame", "gluten"])
    assert Product.objects.get().allergens == ["gluten", "sesame"]


def test_an_unknown_allergen_is_refused_in_french_and_nothing_changes() -> None:
    product = ProductFactory(allergens=["milk"])
    with pytest.raises(UnknownAllergen) as refused:
        product_allergens_set(product=product, allergens=["milk", "kiwi"])
    assert refused.value.code == "unknown_allergen"
    assert refused.value.message.startswith("Allergène inconnu : kiwi.")
    assert Product.objects.get().allergens == ["milk"]
