"""The 14 allergens of EU regulation 1169/2011 on a product."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from marche.catalog.models import Allergen, Product, validate_allergens
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_the_fourteen_allergens_of_the_regulation() -> None:
    assert len(Allergen.values) == 14
    assert Allergen.GLUTEN.label == "Céréales contenant du gluten"
    assert Allergen.SULPHITES.label == "Anhydride sulfureux et sulfites"


def test_a_product_declares_its_allergens_and_shows_their_names_in_regulation_order() -> None:
    product = ProductFactory(allergens=[Allergen.MUSTARD, Allergen.CELERY])
    product.full_clean()
    product.refresh_from_db()
    assert product.allergens == ["mustard", "celery"]
    assert product.allergen_labels() == ["Céleri", "Moutarde"]


def test_no_allergen_by_default() -> None:
    product = ProductFactory()
    assert (product.allergens, product.allergen_labels()) == ([], [])


def test_an_unknown_allergen_code_is_refused_in_french() -> None:
    product = ProductFactory(allergens=["celery"])
    product.allergens = ["celery", "kiwi"]
    with pytest.raises(ValidationError) as refused:
        product.full_clean()
    assert refused.value.message_dict["allergens"] == [
        "Allergène inconnu : kiwi. Codes admis : gluten, crustaceans, eggs, fish, peanuts, "
        "soybeans, milk, nuts, celery, mustard, sesame, sulphites, lupin, molluscs."
    ]
    assert Product.objects.get(pk=product.pk).allergens == ["celery"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("celery", "Les allergènes sont une liste de codes."),
        ([1], "Les allergènes sont une liste de codes."),
        (["milk", "milk"], "Un allergène est indiqué deux fois."),
    ],
)
def test_malformed_allergen_lists_are_refused(value: object, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_allergens(value)
    assert refused.value.messages == [message]


def test_the_allergens_are_stored_as_a_json_list_on_every_database() -> None:
    ProductFactory(name="Pain", allergens=["gluten", "sesame"])
    ProductFactory(name="Carottes")
    assert list(Product.objects.order_by("name").values_list("name", "allergens")) == [
        ("Carottes", []),
        ("Pain", ["gluten", "sesame"]),
    ]
