"""The canteen models' own rules: SIRET check digit, windows per weekday, line quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from marche.canteens.models import DeliveryWindow
from tests.factories.canteens import CanteenFactory, CanteenOrderLineFactory

pytestmark = pytest.mark.django_db


def test_a_siret_with_a_wrong_check_digit_is_refused():
    canteen = CanteenFactory(siret="73282932000075")
    with pytest.raises(ValidationError) as raised:
        canteen.full_clean()
    assert raised.value.error_dict["siret"][0].code == "invalid_siret"


def test_a_valid_siret_passes():
    CanteenFactory(siret="73282932000074").full_clean()


def test_a_canteen_has_one_window_per_weekday():
    canteen = CanteenFactory()
    assert canteen.delivery_windows.count() == 5
    first = canteen.delivery_windows.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryWindow.objects.create(
            canteen=canteen, weekday=0, starts_at=first.starts_at, ends_at=first.ends_at
        )


def test_the_quantity_due_is_the_confirmed_one_once_answered():
    line = CanteenOrderLineFactory(quantity_ordered=Decimal("10"))
    assert line.quantity_due == Decimal("10")
    line.quantity_confirmed = Decimal("6")
    line.quantity_delivered = Decimal("5")
    assert line.quantity_due == Decimal("6")
    assert line.shortfall == Decimal("1")
