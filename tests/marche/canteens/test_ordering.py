"""Canteens' bulk orders: placing, replacing, cancelling, stock, snapshots and refusals."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from marche.canteens import selectors, services
from marche.canteens.errors import (
    BelowWholesaleMinimum,
    CanteenInactive,
    CycleClosed,
    InsufficientStock,
    NotADeliveryDay,
    NotCanteenManager,
    NotSoldToCanteens,
    OrderEmpty,
    ProducerInactive,
    SchoolHoliday,
)
from marche.canteens.models import (
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    DeliveryWindow,
    LineStatus,
    SkippedWeek,
)
from marche.core.numbers import InvalidNumber
from marche.cycles.models import Offer
from tests.factories import OfferFactory, OrderCycleFactory, ProductFactory, UserFactory
from tests.factories.canteens import CanteenManagerFactory
from tests.marche.canteens.conftest import PARIS, Kitchen

pytestmark = pytest.mark.django_db


def _state() -> tuple[object, ...]:
    """Everything a refusal must leave unchanged."""
    return (
        list(CanteenOrder.objects.order_by("pk").values()),
        list(CanteenOrderLine.objects.order_by("pk").values()),
        list(Offer.objects.order_by("pk").values_list("pk", "quantity_sold", "quantity_held")),
    )


def _sold(offer: Offer) -> Decimal:
    offer.refresh_from_db()
    return offer.quantity_sold


def _place(k: Kitchen, quantities: dict, **kwargs: object) -> CanteenOrder:
    return services.order_place(
        canteen=k.canteen, cycle=k.cycle, quantities=quantities, user=k.manager, **kwargs
    )


def test_an_order_snapshots_each_line_and_sells_the_stock(kitchen: Kitchen) -> None:
    k = kitchen
    order = _place(
        k, {k.carrots.pk: "12,5", str(k.yoghurts.pk): "90"}, note="Livrer à la porte de la cuisine"
    )
    assert order.reference == f"C-2026-{order.pk:05d}"
    assert order.status == CanteenOrderStatus.SUBMITTED
    assert order.delivery_date == date(2026, 3, 12)
    assert (order.window_starts_at, order.window_ends_at) == (time(7, 30), time(10))
    assert order.placed_by == k.manager
    assert order.note == "Livrer à la porte de la cuisine"
    carrots, yoghurts = order.lines.order_by("name")
    assert carrots.quantity_ordered == Decimal("12.500")
    assert carrots.quantity_confirmed is None
    assert carrots.status == LineStatus.PENDING
    assert carrots.unit_price_ht == Decimal("1.2000")
    assert carrots.vat_rate == Decimal("5.50")
    assert carrots.labels == ["BIO", "HVE"]
    assert carrots.family == "FRUITS_ET_LEGUMES"
    assert carrots.origin == "FRANCE"
    assert carrots.allergens == []
    assert carrots.is_chilled is False
    assert carrots.weight_per_unit_kg == Decimal("1.000")
    assert carrots.producer == k.farm
    assert yoghurts.name == "Yaourts nature"
    assert yoghurts.unit == "piece"
    assert yoghurts.allergens == ["milk"]
    assert yoghurts.is_chilled is True
    assert yoghurts.weight_per_unit_kg == Decimal("0.125")
    assert yoghurts.family == "PRODUITS_LAITIERS"
    assert yoghurts.labels == []
    assert _sold(k.carrots) == Decimal("12.5")
    assert _sold(k.yoghurts) == Decimal("90")


def test_replacing_moves_the_stock_by_the_difference_and_zero_removes_a_line(
    kitchen: Kitchen,
) -> None:
    k = kitchen
    order = _place(k, {k.carrots.pk: "20", k.yoghurts.pk: "100"})
    again = _place(k, {k.carrots.pk: "8"})
    assert again.pk == order.pk
    assert again.reference == order.reference
    assert _sold(k.carrots) == Decimal("8")
    assert _sold(k.yoghurts) == Decimal("100")  # not named: unchanged
    _place(k, {k.yoghurts.pk: "0"})
    assert list(order.lines.values_list("name", flat=True)) == ["Carottes"]
    assert _sold(k.yoghurts) == Decimal("0")
    assert CanteenOrder.objects.count() == 1


def test_an_unchanged_quantity_keeps_the_producers_answer(kitchen: Kitchen) -> None:
    k = kitchen
    order = _place(k, {k.carrots.pk: "20", k.yoghurts.pk: "100"})
    line = order.lines.get(offer=k.carrots)
    services.line_answer(line=line, quantity="15", user=k.farmer)
    _place(k, {k.carrots.pk: "20,000", k.yoghurts.pk: "120"})
    line.refresh_from_db()
    assert (line.status, line.quantity_confirmed) == (LineStatus.ADJUSTED, Decimal("15.000"))
    assert _sold(k.carrots) == Decimal("15")
    # A new quantity goes back to the producer: the due quantity is the ordered one again.
    _place(k, {k.carrots.pk: "30"})
    line.refresh_from_db()
    assert (line.status, line.quantity_confirmed) == (LineStatus.PENDING, None)
    assert _sold(k.carrots) == Decimal("30")


def test_removing_every_line_cancels_the_order_and_placing_again_reopens_it(
    kitchen: Kitchen,
) -> None:
    k = kitchen
    order = _place(k, {k.carrots.pk: "10"})
    _place(k, {k.carrots.pk: "0"})
    order.refresh_from_db()
    assert order.status == CanteenOrderStatus.CANCELLED
    assert _sold(k.carrots) == 0
    again = _place(k, {k.yoghurts.pk: "60"})
    assert again.pk == order.pk
    assert again.status == CanteenOrderStatus.SUBMITTED
    assert again.cancelled_at is None
    assert list(again.lines.values_list("name", flat=True)) == ["Yaourts nature"]


def test_an_order_with_nothing_in_it_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    with pytest.raises(OrderEmpty) as raised:
        _place(k, {k.carrots.pk: "0"})
    assert raised.value.code == "canteen_order_empty"
    assert CanteenOrder.objects.count() == 0


def test_cancelling_gives_the_stock_back(kitchen: Kitchen) -> None:
    k = kitchen
    order = _place(k, {k.carrots.pk: "10", k.yoghurts.pk: "100"})
    services.order_cancel(order=order, user=k.manager)
    order.refresh_from_db()
    assert order.status == CanteenOrderStatus.CANCELLED
    assert order.cancelled_at is not None
    assert (_sold(k.carrots), _sold(k.yoghurts)) == (0, 0)
    services.order_cancel(order=order, user=k.manager)  # idempotent
    assert (_sold(k.carrots), _sold(k.yoghurts)) == (0, 0)


def test_cancelling_after_the_cutoff_is_refused(kitchen: Kitchen, time_machine) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    order = _place(k, {k.carrots.pk: "10"})
    time_machine.move_to(datetime(2026, 3, 11, 20, 0, tzinfo=PARIS), tick=False)
    before = _state()
    with pytest.raises(CycleClosed) as raised:
        services.order_cancel(order=order, user=k.manager)
    assert raised.value.code == "cycle_closed"
    assert _state() == before


def test_someone_else_cannot_cancel(kitchen: Kitchen) -> None:
    k = kitchen
    order = _place(k, {k.carrots.pk: "10"})
    before = _state()
    with pytest.raises(NotCanteenManager):
        services.order_cancel(order=order, user=CanteenManagerFactory())
    assert _state() == before


# --- refusals: a French message, a stable code, nothing changed ------------------------------


def _refused(k: Kitchen, quantities: dict, error: type, code: str, *, user=None) -> str:  # type: ignore[no-untyped-def]
    before = _state()
    with pytest.raises(error) as raised:
        services.order_place(
            canteen=k.canteen, cycle=k.cycle, quantities=quantities, user=user or k.manager
        )
    assert raised.value.code == code
    assert _state() == before
    return raised.value.message


def test_only_a_manager_of_the_canteen_may_order(kitchen: Kitchen) -> None:
    k = kitchen
    message = _refused(
        k, {k.carrots.pk: "10"}, NotCanteenManager, "not_canteen_manager", user=UserFactory()
    )
    assert message == "Vous ne gérez pas cette cantine : vous ne pouvez pas commander pour elle."


def test_a_closed_cycle_is_refused(kitchen: Kitchen, time_machine) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    _place(k, {k.carrots.pk: "10"})
    time_machine.move_to(datetime(2026, 3, 11, 20, 0, 1, tzinfo=PARIS), tick=False)
    message = _refused(k, {k.carrots.pk: "20"}, CycleClosed, "cycle_closed")
    assert message.startswith("Ce cycle de commande n'est pas ouvert")


def test_a_cycle_not_open_yet_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    k.cycle.opens_at = datetime(2026, 3, 9, 12, 0, tzinfo=PARIS)
    k.cycle.save()
    _refused(k, {k.carrots.pk: "10"}, CycleClosed, "cycle_closed")


def test_a_day_without_a_window_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    DeliveryWindow.objects.filter(canteen=k.canteen, weekday=3).delete()
    message = _refused(k, {k.carrots.pk: "10"}, NotADeliveryDay, "not_a_delivery_day")
    assert message == (
        "Maternelle Basly n'est pas livrée le jeudi 12 mars 2026 : "
        "pas de créneau de livraison ce jour-là."
    )


def test_a_delivery_in_the_school_holidays_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    k.cycle.delivery_date = date(2026, 4, 16)  # zone B spring holidays: 11 to 26 April
    k.cycle.save()
    message = _refused(k, {k.carrots.pk: "10"}, SchoolHoliday, "school_holiday")
    assert message == (
        "Le jeudi 16 avril 2026 tombe pendant les vacances scolaires "
        "(Vacances de Printemps, zone B)."
    )


def test_a_canteen_without_zone_is_delivered_in_the_holidays(kitchen: Kitchen) -> None:
    k = kitchen
    k.cycle.delivery_date = date(2026, 4, 16)
    k.cycle.save()
    k.canteen.school_zone = ""
    k.canteen.save()
    order = _place(k, {k.carrots.pk: "10"})
    assert order.delivery_date == date(2026, 4, 16)


def test_a_product_without_wholesale_price_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    message = _refused(
        k, {k.carrots.pk: "10", k.apples.pk: "10"}, NotSoldToCanteens, "not_sold_to_canteens"
    )
    assert message == "Pommes n'est pas vendu aux cantines dans ce cycle."


def test_an_offer_of_another_cycle_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    other = OfferFactory(
        cycle=OrderCycleFactory(territory=k.cycle.territory), product=k.carrots.product
    )
    _refused(k, {other.pk: "10"}, NotSoldToCanteens, "not_sold_to_canteens")


def test_a_withdrawn_offer_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    Offer.objects.filter(pk=k.carrots.pk).update(withdrawn_at=datetime(2026, 3, 8, tzinfo=PARIS))
    _refused(k, {k.carrots.pk: "10"}, NotSoldToCanteens, "not_sold_to_canteens")


def test_a_quantity_under_the_minimum_is_refused_saying_the_minimum(kitchen: Kitchen) -> None:
    k = kitchen
    message = _refused(
        k,
        {k.yoghurts.pk: "60", k.carrots.pk: "4,5"},
        BelowWholesaleMinimum,
        "below_wholesale_minimum",
    )
    assert message == "Carottes : 5 kg au minimum par commande de cantine."
    message = _refused(k, {k.yoghurts.pk: "49"}, BelowWholesaleMinimum, "below_wholesale_minimum")
    assert message == "Yaourts nature : 50 pièces au minimum par commande de cantine."


def test_more_than_the_stock_is_refused_saying_what_is_left(kitchen: Kitchen) -> None:
    k = kitchen
    Offer.objects.filter(pk=k.carrots.pk).update(quantity_sold=Decimal("62.5"))
    message = _refused(k, {k.carrots.pk: "40"}, InsufficientStock, "insufficient_stock")
    assert message == "Stock insuffisant pour Carottes : il en reste 37,5 kg."


def test_raising_a_line_counts_what_the_order_already_holds(kitchen: Kitchen) -> None:
    k = kitchen
    _place(k, {k.carrots.pk: "60"})
    Offer.objects.filter(pk=k.carrots.pk).update(quantity_sold=Decimal("90"))  # 30 more sold
    message = _refused(k, {k.carrots.pk: "80"}, InsufficientStock, "insufficient_stock")
    assert message == "Stock insuffisant pour Carottes : il en reste 70 kg."
    _place(k, {k.carrots.pk: "70"})
    assert _sold(k.carrots) == Decimal("100")


def test_a_closed_producer_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    k.dairy.is_active = False
    k.dairy.save()
    message = _refused(k, {k.yoghurts.pk: "60"}, ProducerInactive, "producer_inactive")
    assert message == "Yaourts nature : le producteur ou le produit n'est plus en activité."


def test_an_inactive_canteen_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    k.canteen.is_active = False
    k.canteen.save()
    _refused(k, {k.carrots.pk: "10"}, CanteenInactive, "canteen_inactive")


@pytest.mark.parametrize("typed", ["dix", "1e3", "2,5", "-3"])
def test_a_mistyped_count_is_refused(kitchen: Kitchen, typed: str) -> None:
    k = kitchen
    _refused(k, {k.yoghurts.pk: typed}, InvalidNumber, "invalid_number")


def test_a_refusal_on_a_later_line_leaves_the_earlier_ones_unwritten(kitchen: Kitchen) -> None:
    k = kitchen
    _place(k, {k.carrots.pk: "10"})
    Offer.objects.filter(pk=k.yoghurts.pk).update(quantity_sold=Decimal("480"))
    _refused(k, {k.carrots.pk: "50", k.yoghurts.pk: "60"}, InsufficientStock, "insufficient_stock")


# --- selectors -------------------------------------------------------------------------------


def test_canteen_offers_are_the_wholesale_ones_in_stock(
    kitchen: Kitchen, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    closed = ProductFactory(
        producer=k.dairy, name="Beurre", wholesale_price=Decimal("8"), is_active=False
    )
    OfferFactory(cycle=k.cycle, product=closed)
    sold_out = ProductFactory(producer=k.farm, name="Poireaux", wholesale_price=Decimal("2"))
    OfferFactory(
        cycle=k.cycle,
        product=sold_out,
        quantity_available=Decimal("10"),
        quantity_sold=Decimal("10"),
    )
    with django_assert_num_queries(2):
        offers = selectors.canteen_offers(canteen=k.canteen, cycle=k.cycle)
        labels = {
            o.product.name: [str(label.value) for label in o.product.valid_labels] for o in offers
        }
    assert labels == {"Carottes": ["BIO", "HVE"], "Yaourts nature": []}


def test_canteen_cycles_say_why_a_day_is_not_deliverable(kitchen: Kitchen) -> None:
    k = kitchen
    territory = k.cycle.territory
    opens = datetime(2026, 3, 6, tzinfo=PARIS)
    closes = datetime(2026, 3, 20, tzinfo=PARIS)
    saturday = OrderCycleFactory(
        territory=territory, opens_at=opens, closes_at=closes, delivery_date=date(2026, 3, 14)
    )
    holiday = OrderCycleFactory(
        territory=territory, opens_at=opens, closes_at=closes, delivery_date=date(2026, 4, 14)
    )
    skipped = OrderCycleFactory(
        territory=territory, opens_at=opens, closes_at=closes, delivery_date=date(2026, 3, 19)
    )
    SkippedWeek.objects.create(canteen=k.canteen, week_start=date(2026, 3, 16))
    choices = {c.cycle.pk: c for c in selectors.canteen_cycles(canteen=k.canteen)}
    assert choices[k.cycle.pk].deliverable is True
    assert choices[k.cycle.pk].window.weekday == 3
    assert (choices[saturday.pk].code, choices[saturday.pk].reason) == (
        "not_a_delivery_day",
        "Pas de créneau de livraison le samedi.",
    )
    assert choices[holiday.pk].holiday == "Vacances de Printemps"
    assert choices[holiday.pk].reason == "Vacances scolaires : Vacances de Printemps."
    assert choices[skipped.pk].skipped is True
    assert choices[skipped.pk].code == "week_skipped"


def test_canteen_orders_read_their_lines_in_two_queries(
    kitchen: Kitchen, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    _place(k, {k.carrots.pk: "10", k.yoghurts.pk: "100"})
    second = OrderCycleFactory(
        territory=k.cycle.territory,
        opens_at=k.cycle.opens_at,
        closes_at=k.cycle.closes_at + timedelta(days=7),
        delivery_date=date(2026, 3, 19),
    )
    offer = OfferFactory(cycle=second, product=k.carrots.product, quantity_available=Decimal("50"))
    services.order_place(
        canteen=k.canteen, cycle=second, quantities={offer.pk: "6"}, user=k.manager
    )
    with django_assert_num_queries(2):
        orders = list(selectors.canteen_orders(canteen=k.canteen))
        names = [[line.producer.name for line in order.lines.all()] for order in orders]
    assert [order.delivery_date for order in orders] == [date(2026, 3, 19), date(2026, 3, 12)]
    assert names == [["Ferme du Pommier"], ["Ferme du Pommier", "Laiterie des Terrils"]]
