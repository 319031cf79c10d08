"""A line declared missing at packing no longer counts as sold."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marche.cycles.models import HoldStatus, Offer
from marche.orders.models import OrderLine
from marche.orders.packing import order_line_mark_missing
from tests.marche.orders.test_pick_lists import build_prep

pytestmark = pytest.mark.django_db


def sold(offer: Offer) -> tuple[Decimal, Decimal]:
    offer.refresh_from_db()
    return offer.quantity_held, offer.quantity_sold


def test_a_missing_line_gives_its_quantity_back_to_the_offer_once() -> None:
    prep = build_prep()
    # Alice ordered 1.5 kg of carrots and a basket holding 4 kg; Bob 1 kg; all confirmed.
    assert sold(prep.carrots) == (Decimal("0"), Decimal("6.500"))
    line = OrderLine.objects.get(order=prep.bob, name="Carottes")
    assert line.hold is not None and line.hold.status == HoldStatus.CONFIRMED

    order_line_mark_missing(line_id=line.pk, by=prep.coordinator)

    assert sold(prep.carrots) == (Decimal("0"), Decimal("5.500"))
    line.hold.refresh_from_db()
    assert line.hold.status == HoldStatus.RETURNED
    # Declaring it again returns nothing more.
    order_line_mark_missing(line_id=line.pk, by=prep.coordinator)
    assert sold(prep.carrots) == (Decimal("0"), Decimal("5.500"))
    # The other producers' counters did not move.
    assert sold(prep.eggs)[1] == Decimal("2.000")
