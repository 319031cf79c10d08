"""Prices typed the French way, thousands included, in the site's forms and the admin's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django import forms
from django.forms import modelform_factory
from django.utils import translation

from marche.catalog.models import Product
from marche.core.admin_access import ScopedAdminModelForm
from marche.core.numbers import InvalidNumber, parse_decimal
from marche.producers.forms import NumberField
from tests.factories import UserFactory

ENGLISH_WAY = (
    "Le prix s'écrit avec une virgule avant les décimales et une espace (ou rien) entre les "
    "milliers, par exemple 1\u00a0234,56."
)
FRENCH_WAYS = ["1 234,56", "1\u202f234,56", "1234,56", "1.234,56", "1234.56"]


@pytest.mark.parametrize("text", [*FRENCH_WAYS, "1.234,56 €"])
def test_a_price_past_a_thousand_is_read_however_a_french_person_groups_it(text: str) -> None:
    assert parse_decimal(text, "price") == Decimal("1234.56")


def test_dotted_thousands_need_the_decimal_comma_and_groups_of_three() -> None:
    assert parse_decimal("12.345,6", "stock") == Decimal("12345.600")
    assert parse_decimal("1.234", "weight") == Decimal("1.234")  # a decimal dot, as before
    for text in ("1.23,5", "1.2345,6", "1.2.3"):
        with pytest.raises(InvalidNumber):
            parse_decimal(text, "stock")


def test_the_english_way_round_is_refused_with_the_expected_format() -> None:
    with translation.override("fr"), pytest.raises(InvalidNumber) as refused:
        parse_decimal("1,234.56", "price")
    assert refused.value.message == ENGLISH_WAY


class PriceForm(forms.Form):
    price = NumberField(kind="price")


@pytest.mark.parametrize("text", FRENCH_WAYS)
def test_the_site_forms_accept_each_french_way(text: str) -> None:
    form = PriceForm({"price": text})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["price"] == Decimal("1234.56")


def test_the_site_forms_refuse_the_english_way_with_the_format() -> None:
    with translation.override("fr"):
        form = PriceForm({"price": "1,234.56"})
        assert not form.is_valid()
    assert form.errors["price"] == [ENGLISH_WAY]


def _admin_product_form(text: str) -> forms.ModelForm:
    form_class = modelform_factory(Product, form=ScopedAdminModelForm, fields=["unit_price"])
    return form_class({"unit_price": text}, for_user=UserFactory(is_superuser=True))


@pytest.mark.django_db
@pytest.mark.parametrize("text", FRENCH_WAYS)
def test_the_admin_price_field_accepts_each_french_way(text: str) -> None:
    with translation.override("fr"):
        form = _admin_product_form(text)
        assert form.is_valid(), form.errors
    assert form.cleaned_data["unit_price"] == Decimal("1234.56")


@pytest.mark.django_db
def test_the_admin_price_field_says_what_it_expects() -> None:
    with translation.override("fr"):
        english = _admin_product_form("1,234.56")
        garbage = _admin_product_form("douze")
        assert not english.is_valid() and not garbage.is_valid()
    assert english.errors["unit_price"] == [ENGLISH_WAY.replace("Le prix", "La valeur")]
    assert garbage.errors["unit_price"] == ["La valeur doit être un nombre, par exemple 2,50."]
