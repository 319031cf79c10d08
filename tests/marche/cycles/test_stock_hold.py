from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from marche.cycles.errors import (
    CycleClosed,
    HoldExpired,
    InvalidQuantity,
    OfferNotFound,
    OutOfStock,
)
from marche.cycles.models import HoldStatus, Offer, StockHold
from marche.cycles.services import (
    IdempotencyConflict,
    stock_confirm,
    stock_hold,
    stock_holds_expire,
    stock_release,
)
from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db


def counters(offer: Offer) -> tuple[Decimal, Decimal]:
    offer.refresh_from_db()
    return offer.quantity_held, offer.quantity_sold


def test_hold_then_confirm_moves_stock_from_held_to_sold() -> None:
    offer = OfferFactory(quantity_available=Decimal("10"))
    hold = stock_hold(offer_id=offer.pk, quantity=Decimal("2.5"), key="k1")
    assert counters(offer) == (Decimal("2.5"), Decimal("0"))
    assert offer.quantity_remaining == Decimal("7.5")
    stock_confirm(hold_id=hold.pk)
    assert counters(offer) == (Decimal("0"), Decimal("2.5"))
    stock_confirm(hold_id=hold.pk)  # replay: nothing moves twice
    assert counters(offer) == (Decimal("0"), Decimal("2.5"))


def test_release_gives_stock_back_once() -> None:
    offer = OfferFactory(quantity_available=Decimal("3"))
    hold = stock_hold(offer_id=offer.pk, quantity=Decimal("3"), key="k1")
    stock_release(hold_id=hold.pk)
    stock_release(hold_id=hold.pk)
    assert counters(offer) == (Decimal("0"), Decimal("0"))
    assert StockHold.objects.get().status == HoldStatus.RELEASED


def test_replayed_key_returns_the_first_hold() -> None:
    offer = OfferFactory(quantity_available=Decimal("10"))
    first = stock_hold(offer_id=offer.pk, quantity=Decimal("4"), key="same")
    again = stock_hold(offer_id=offer.pk, quantity=Decimal("4"), key="same")
    assert again.pk == first.pk
    assert counters(offer) == (Decimal("4"), Decimal("0"))
    with pytest.raises(IdempotencyConflict):
        stock_hold(offer_id=offer.pk, quantity=Decimal("5"), key="same")
    assert counters(offer) == (Decimal("4"), Decimal("0"))


def test_last_units_then_out_of_stock_changes_nothing() -> None:
    offer = OfferFactory(quantity_available=Decimal("5"))
    stock_hold(offer_id=offer.pk, quantity=Decimal("5"), key="a")
    with pytest.raises(OutOfStock) as excinfo:
        stock_hold(offer_id=offer.pk, quantity=Decimal("0.001"), key="b")
    assert excinfo.value.code == "out_of_stock"
    assert "Stock insuffisant" in excinfo.value.message
    assert counters(offer) == (Decimal("5"), Decimal("0"))
    assert StockHold.objects.count() == 1


def test_on_demand_offers_have_no_stock_limit_only_their_maximum_per_order() -> None:
    offer = OfferFactory(quantity_available=None, max_per_order=Decimal("1000"))
    stock_hold(offer_id=offer.pk, quantity=Decimal("1000"), key="a")
    stock_hold(offer_id=offer.pk, quantity=Decimal("1000"), key="b")
    assert counters(offer) == (Decimal("2000"), Decimal("0"))


@pytest.mark.parametrize("quantity", [Decimal("0"), Decimal("-1"), Decimal("NaN")])
def test_zero_negative_or_nan_quantity_is_refused(quantity: Decimal) -> None:
    offer = OfferFactory()
    with pytest.raises(InvalidQuantity):
        stock_hold(offer_id=offer.pk, quantity=quantity, key="a")
    assert counters(offer) == (Decimal("0"), Decimal("0"))
    assert not StockHold.objects.exists()


def test_unknown_offer_and_closed_cycle_are_refused() -> None:
    with pytest.raises(OfferNotFound):
        stock_hold(offer_id=999_999, quantity=Decimal("1"), key="a")
    offer = OfferFactory()
    with pytest.raises(CycleClosed):
        stock_hold(
            offer_id=offer.pk,
            quantity=Decimal("1"),
            key="b",
            now=offer.cycle.closes_at,
        )
    assert counters(offer) == (Decimal("0"), Decimal("0"))
    assert not StockHold.objects.exists()


def test_expired_holds_are_released_and_cannot_be_confirmed() -> None:
    offer = OfferFactory(quantity_available=Decimal("2"))
    now = timezone.now()
    hold = stock_hold(offer_id=offer.pk, quantity=Decimal("2"), key="a", now=now)
    later = now + timedelta(minutes=31)
    with pytest.raises(HoldExpired):
        stock_confirm(hold_id=hold.pk, now=later)
    assert stock_holds_expire(now=later) == 1
    assert stock_holds_expire(now=later) == 0
    assert counters(offer) == (Decimal("0"), Decimal("0"))
    with pytest.raises(HoldExpired):
        stock_confirm(hold_id=hold.pk, now=later)


def test_the_database_refuses_an_oversold_offer() -> None:
    offer = OfferFactory(quantity_available=Decimal("1"))
    with pytest.raises(IntegrityError):
        Offer.objects.filter(pk=offer.pk).update(quantity_sold=Decimal("2"))


def test_expiry_task_releases_through_celery(settings) -> None:  # type: ignore[no-untyped-def]
    from marche.cycles.tasks import expire_stock_holds

    offer = OfferFactory(quantity_available=Decimal("2"))
    stock_hold(
        offer_id=offer.pk, quantity=Decimal("2"), key="a", now=timezone.now() - timedelta(hours=1)
    )
    assert expire_stock_holds.delay().get(timeout=5) == 1
    assert counters(offer) == (Decimal("0"), Decimal("0"))
    assert "expire-stock-holds" in settings.CELERY_BEAT_SCHEDULE
