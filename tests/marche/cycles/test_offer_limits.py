"""Limits on farmers' offers: unusual prices, maximum per order, withdrawal, database bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from marche.catalog.models import Unit
from marche.cycles.errors import (
    InvalidMaxPerOrder,
    InvalidQuantity,
    MaxPerOrderExceeded,
    OfferWithdrawn,
    OutOfStock,
    PriceUnusual,
    QuantityBelowCommitted,
)
from marche.cycles.models import Offer, StockHold
from marche.cycles.selectors import offer_list_for_shop, offer_usual_price
from marche.cycles.services import (
    offer_publish,
    offer_save,
    offer_update,
    offer_withdraw,
    stock_confirm,
    stock_hold,
)
from marche.orders.models import CartItem, OrderLine
from tests.factories import OfferFactory, OrderCycleFactory, ProductFactory
from tests.marche.cycles.test_offer_save import NOW, Farm, farm  # noqa: F401

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple[object, ...]]:
    return list(
        Offer.objects.order_by("pk").values_list(
            "pk",
            "unit_price",
            "quantity_available",
            "quantity_held",
            "quantity_sold",
            "max_per_order",
            "withdrawn_at",
            "updated_at",
        )
    )


def save(farm: Farm, **kwargs) -> Offer:  # noqa: F811
    values = {
        "user": farm.farmer,
        "cycle_id": farm.cycle.pk,
        "product_id": farm.carrots.pk,
        "unit_price": Decimal("2.80"),
        "quantity_available": Decimal("25"),
        "now": NOW,
    }
    values.update(kwargs)
    return offer_save(**values)


# Unusual prices ---------------------------------------------------------------------------


def test_a_price_a_hundred_times_too_high_is_not_saved_until_confirmed(farm: Farm) -> None:  # noqa: F811
    # The catalogue price of carrots is 2.50 €/kg and they were never offered before.
    with pytest.raises(PriceUnusual) as refused:
        save(farm, unit_price=Decimal("280.00"))
    assert refused.value.code == "price_unusual"
    assert refused.value.status == 400
    assert refused.value.message == (
        "Carottes : 280,00 € est très loin du prix habituel (2,50 €). Vérifiez la virgule, "
        "puis cochez « Je confirme ce prix » pour l'enregistrer."
    )
    assert refused.value.params == {"price": "280.00", "usual_price": "2.50", "factor": "3"}
    assert Offer.objects.count() == 0

    offer = save(farm, unit_price=Decimal("280.00"), confirm_price=True)
    offer.refresh_from_db()
    assert offer.unit_price == Decimal("280.00")
    # Saving it again at the same price asks nothing more.
    save(farm, unit_price=Decimal("280.00"), quantity_available=Decimal("30"))


def test_a_price_far_below_is_unusual_too_and_within_the_factor_is_not(farm: Farm) -> None:  # noqa: F811
    with pytest.raises(PriceUnusual):
        save(farm, unit_price=Decimal("0.28"))  # "0,28" for 2,80
    assert Offer.objects.count() == 0
    save(farm, unit_price=Decimal("7.50"))  # exactly 3 × 2.50: allowed
    offer = save(farm, unit_price=Decimal("0.84"))  # 2.50 / 3 = 0.833...: allowed
    offer.refresh_from_db()
    assert offer.unit_price == Decimal("0.84")


def test_usual_price_is_the_median_of_the_latest_offers_in_other_cycles(farm: Farm) -> None:  # noqa: F811
    for index, price in enumerate(["4.00", "4.20", "40.00", "4.10"]):
        cycle = OrderCycleFactory(
            territory=farm.producer.territory,
            opens_at=datetime(2026, 10, 1 + index, tzinfo=UTC),
            closes_at=datetime(2026, 10, 5 + index, tzinfo=UTC),
            delivery_date=datetime(2026, 10, 6 + index).date(),
        )
        OfferFactory(cycle=cycle, product=farm.carrots, unit_price=Decimal(price))
    # One mistaken 40.00 does not move a median: (4.10 + 4.20) / 2.
    assert offer_usual_price(product=farm.carrots) == Decimal("4.15")
    with pytest.raises(PriceUnusual) as refused:
        save(farm, unit_price=Decimal("1.30"))  # 1.30 × 3 < 4.15
    assert refused.value.params["usual_price"] == "4.15"
    save(farm, unit_price=Decimal("12.40"))  # below 3 × 4.15


def test_the_factor_is_a_setting(farm: Farm, settings) -> None:  # noqa: F811
    settings.MARCHE_OFFER_PRICE_FACTOR = "10"
    save(farm, unit_price=Decimal("24.00"))
    with pytest.raises(PriceUnusual):
        save(farm, product_id=farm.leeks.pk, unit_price=Decimal("26.00"))


def test_api_services_refuse_an_unusual_price_without_confirm_price(farm: Farm) -> None:  # noqa: F811
    before = snapshot()
    with pytest.raises(PriceUnusual):
        offer_publish(
            user=farm.farmer,
            product_id=farm.carrots.pk,
            cycle_id=farm.cycle.pk,
            unit_price=Decimal("395.00"),
            quantity_available=Decimal("5"),
            now=NOW,
        )
    assert snapshot() == before == []
    offer = offer_publish(
        user=farm.farmer,
        product_id=farm.carrots.pk,
        cycle_id=farm.cycle.pk,
        unit_price=Decimal("3.95"),
        quantity_available=Decimal("5"),
        now=NOW,
    )
    before = snapshot()
    with pytest.raises(PriceUnusual):
        offer_update(user=farm.farmer, offer_id=offer.pk, unit_price=Decimal("395.00"), now=NOW)
    assert snapshot() == before
    updated = offer_update(
        user=farm.farmer,
        offer_id=offer.pk,
        unit_price=Decimal("395.00"),
        confirm_price=True,
        now=NOW,
    )
    assert updated.unit_price == Decimal("395.00")


def test_below_committed_is_reported_before_an_unusual_price(farm: Farm) -> None:  # noqa: F811
    offer = save(farm, quantity_available=Decimal("10"))
    stock_hold(offer_id=offer.pk, quantity=Decimal("4"), key="a", now=NOW)
    with pytest.raises(QuantityBelowCommitted):
        save(farm, unit_price=Decimal("280.00"), quantity_available=Decimal("3"))


# Pieces take whole numbers ----------------------------------------------------------------


def test_a_product_sold_by_the_piece_refuses_a_fraction(farm: Farm) -> None:  # noqa: F811
    eggs = ProductFactory(producer=farm.producer, name="Œufs", slug="oeufs", unit=Unit.DOZEN)
    with pytest.raises(InvalidQuantity) as refused:
        save(
            farm, product_id=eggs.pk, unit_price=Decimal("2.50"), quantity_available=Decimal("1.5")
        )
    assert refused.value.message == "Œufs se vend à l'unité : la quantité est un nombre entier."
    assert Offer.objects.count() == 0
    with pytest.raises(InvalidMaxPerOrder):
        save(
            farm,
            product_id=eggs.pk,
            unit_price=Decimal("2.50"),
            quantity_available=None,
            max_per_order=Decimal("2.5"),
        )
    assert Offer.objects.count() == 0


# Maximum per order of on-demand offers --------------------------------------------------


def test_on_demand_offer_gets_the_default_maximum_and_stock_hold_enforces_it(
    farm: Farm,  # noqa: F811
) -> None:
    offer = save(farm, quantity_available=None)
    offer.refresh_from_db()
    assert offer.max_per_order == Decimal("50.000")
    with pytest.raises(MaxPerOrderExceeded) as refused:
        stock_hold(offer_id=offer.pk, quantity=Decimal("1000000"), key="huge", now=NOW)
    assert (refused.value.code, refused.value.status) == ("max_per_order_exceeded", 409)
    assert refused.value.message == (
        "Carottes : 50 kg au plus par commande (ce produit est préparé à la demande)."
    )
    assert refused.value.params == {"max_per_order": "50.000"}
    offer.refresh_from_db()
    assert (offer.quantity_held, offer.quantity_sold) == (Decimal("0"), Decimal("0"))
    assert not StockHold.objects.exists()

    stock_hold(offer_id=offer.pk, quantity=Decimal("50"), key="ok", now=NOW)
    offer.refresh_from_db()
    assert offer.quantity_held == Decimal("50")


def test_the_farmer_sets_the_maximum_per_order(farm: Farm) -> None:  # noqa: F811
    offer = save(farm, quantity_available=None, max_per_order=Decimal("5"))
    assert offer.max_per_order == Decimal("5")
    with pytest.raises(MaxPerOrderExceeded):
        stock_hold(offer_id=offer.pk, quantity=Decimal("5.5"), key="a", now=NOW)
    offer = save(farm, quantity_available=None)  # no maximum given: unchanged
    assert offer.max_per_order == Decimal("5")
    for bad in (Decimal("0"), Decimal("10000.001"), Decimal("-1")):
        with pytest.raises(InvalidMaxPerOrder):
            save(farm, quantity_available=None, max_per_order=bad)
    offer.refresh_from_db()
    assert offer.max_per_order == Decimal("5")


def test_absurd_quantities_are_refused_without_a_server_error() -> None:
    offer = OfferFactory(quantity_available=None)
    for quantity in (Decimal("9999999"), Decimal("1E+30")):
        with pytest.raises(InvalidQuantity):
            stock_hold(offer_id=offer.pk, quantity=quantity, key=f"q{quantity}")
    offer.refresh_from_db()
    assert offer.quantity_held == Decimal("0")


def test_a_published_stock_is_not_limited_per_order() -> None:
    offer = OfferFactory(quantity_available=Decimal("100"), max_per_order=Decimal("5"))
    stock_hold(offer_id=offer.pk, quantity=Decimal("60"), key="a")
    offer.refresh_from_db()
    assert offer.quantity_held == Decimal("60")


def test_on_demand_counters_stay_within_the_database_bounds() -> None:
    offer = OfferFactory(quantity_available=None, max_per_order=Decimal("10000"))
    Offer.objects.filter(pk=offer.pk).update(quantity_sold=Decimal("995000"))
    with pytest.raises(OutOfStock):
        stock_hold(offer_id=offer.pk, quantity=Decimal("6000"), key="a")
    stock_hold(offer_id=offer.pk, quantity=Decimal("5000"), key="b")


# Withdrawal -------------------------------------------------------------------------------


def test_a_withdrawn_offer_leaves_the_shop_and_cannot_be_held(farm: Farm) -> None:  # noqa: F811
    carrots = save(farm, quantity_available=Decimal("10"))
    leeks = save(farm, product_id=farm.leeks.pk, unit_price=Decimal("1.80"))
    sold_out = OfferFactory(
        cycle=farm.cycle,
        product=ProductFactory(producer=farm.producer, slug="celeri"),
        quantity_available=Decimal("2"),
    )
    stock_confirm(
        hold_id=stock_hold(offer_id=sold_out.pk, quantity=Decimal("2"), key="s", now=NOW).pk,
        now=NOW,
    )
    offer_withdraw(user=farm.farmer, offer_id=carrots.pk, now=NOW)

    # Sold out stays listed (as sold out); withdrawn is not listed at all.
    assert {o.pk for o in offer_list_for_shop(cycle=farm.cycle)} == {leeks.pk, sold_out.pk}
    with pytest.raises(OfferWithdrawn) as refused:
        stock_hold(offer_id=carrots.pk, quantity=Decimal("1"), key="late", now=NOW)
    assert refused.value.code == "offer_withdrawn"
    carrots.refresh_from_db()
    assert (carrots.withdrawn_at, carrots.quantity_available, carrots.quantity_held) == (
        NOW,
        Decimal("0"),
        Decimal("0"),
    )

    # Saving it again from the dashboard puts it back on sale.
    again = save(farm, quantity_available=Decimal("8"))
    assert again.withdrawn_at is None
    assert carrots.pk in {o.pk for o in offer_list_for_shop(cycle=farm.cycle)}


def test_withdrawing_twice_keeps_the_first_time(farm: Farm) -> None:  # noqa: F811
    offer = save(farm)
    offer_withdraw(user=farm.farmer, offer_id=offer.pk, now=NOW)
    later = datetime(2026, 11, 27, 9, tzinfo=UTC)
    again = offer_withdraw(user=farm.farmer, offer_id=offer.pk, now=later)
    assert again.withdrawn_at == NOW


# The database refuses absurd amounts -------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"unit_price": Decimal("100000.01")},
        {"unit_price": Decimal("0")},
        {"quantity_available": Decimal("1000000.001")},
        {"quantity_available": Decimal("-1")},
        {"quantity_sold": Decimal("1000000.001"), "quantity_available": None},
        {"max_per_order": Decimal("0")},
        {"max_per_order": Decimal("10000.001")},
    ],
)
def test_offer_check_constraints(change) -> None:
    offer = OfferFactory()
    before = snapshot()
    with pytest.raises(IntegrityError), transaction.atomic():
        Offer.objects.filter(pk=offer.pk).update(**change)
    assert snapshot() == before


def test_cart_item_and_order_line_check_constraints() -> None:
    from marche.orders.models import Cart
    from tests.factories import UserFactory

    offer = OfferFactory()
    cart = Cart.objects.create(customer=UserFactory(), cycle=offer.cycle)
    item = CartItem.objects.create(cart=cart, offer=offer, count=Decimal("10000"))
    with pytest.raises(IntegrityError), transaction.atomic():
        CartItem.objects.filter(pk=item.pk).update(count=Decimal("10000.001"))
    item.refresh_from_db()
    assert item.count == Decimal("10000")
    constraints = {c.name: c for c in OrderLine._meta.constraints}
    assert str(constraints["line_count_in_range"].condition) == (
        "(AND: ('count__gt', 0), ('count__lte', Decimal('10000')))"
    )
    assert str(constraints["line_quantity_in_range"].condition) == (
        "(AND: ('quantity__gt', 0), ('quantity__lte', Decimal('1000000')))"
    )
