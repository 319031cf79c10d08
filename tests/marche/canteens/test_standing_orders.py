"""Standing weekly orders: saving, ending, skipped weeks, and each cycle's order made from them."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command

from marche.canteens import services
from marche.canteens.errors import (
    BelowWholesaleMinimum,
    CanteenInactive,
    InvalidDates,
    NotCanteenManager,
    NotSoldToCanteens,
    ProducerInactive,
    WeekSkipped,
)
from marche.canteens.models import (
    CanteenOrder,
    CanteenOrderStatus,
    DeliveryWindow,
    SkippedWeek,
    StandingOrder,
    StandingOrderLine,
)
from marche.cycles.models import Offer
from tests.factories import OrderCycleFactory, ProducerFactory, ProductFactory, UserFactory
from tests.marche.canteens.conftest import PARIS, Kitchen

pytestmark = pytest.mark.django_db

START = date(2026, 3, 2)


def _save(k: Kitchen, quantities: dict, **kwargs: object) -> StandingOrder:
    kwargs.setdefault("starts_on", START)
    return services.standing_order_save(
        canteen=k.canteen, quantities=quantities, user=k.manager, **kwargs
    )


def _weekly(k: Kitchen) -> StandingOrder:
    return _save(k, {k.carrots.product_id: "12,5", str(k.yoghurts.product_id): "90"})


def _state() -> tuple[object, ...]:
    return (
        list(StandingOrder.objects.order_by("pk").values()),
        list(StandingOrderLine.objects.order_by("pk").values()),
        list(CanteenOrder.objects.order_by("pk").values()),
    )


def test_a_standing_order_keeps_a_weekly_quantity_per_product(kitchen: Kitchen) -> None:
    k = kitchen
    standing = _weekly(k)
    assert (standing.canteen, standing.starts_on, standing.ends_on) == (k.canteen, START, None)
    assert standing.is_active and standing.created_by == k.manager
    assert sorted(standing.lines.values_list("product__name", "quantity")) == [
        ("Carottes", Decimal("12.500")),
        ("Yaourts nature", Decimal("90.000")),
    ]


def test_saving_again_replaces_the_lines_of_the_running_standing_order(kitchen: Kitchen) -> None:
    k = kitchen
    standing = _weekly(k)
    again = _save(k, {k.carrots.product_id: "20", k.yoghurts.product_id: "0"})
    assert again.pk == standing.pk
    assert list(again.lines.values_list("product__name", "quantity")) == [
        ("Carottes", Decimal("20.000"))
    ]
    assert StandingOrder.objects.count() == 1


def _refused(k: Kitchen, quantities: dict, error: type, code: str, **kwargs: object) -> str:
    _weekly(k)
    before = _state()
    with pytest.raises(error) as raised:
        _save(k, quantities, **kwargs)
    assert raised.value.code == code
    assert _state() == before
    return raised.value.message


def test_a_standing_order_for_a_closed_producer_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    closed = ProducerFactory(territory=k.canteen.territory, name="Ferme fermée", is_active=False)
    beans = ProductFactory(producer=closed, name="Haricots", wholesale_price=Decimal("3"))
    message = _refused(k, {beans.pk: "10"}, ProducerInactive, "producer_inactive")
    assert message == (
        "Haricots : Ferme fermée ne vend plus ce produit ou n'est plus en activité ; "
        "il ne peut pas entrer dans une commande régulière."
    )


def test_an_inactive_product_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    beans = ProductFactory(
        producer=k.farm, name="Haricots", wholesale_price=Decimal("3"), is_active=False
    )
    _refused(k, {beans.pk: "10"}, ProducerInactive, "producer_inactive")


def test_a_product_not_sold_to_canteens_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    message = _refused(k, {k.apples.product_id: "10"}, NotSoldToCanteens, "not_sold_to_canteens")
    assert message == "Pommes n'est pas vendu aux cantines."


def test_a_product_of_another_territory_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    elsewhere = ProductFactory(wholesale_price=Decimal("3"))
    _refused(k, {elsewhere.pk: "10"}, NotSoldToCanteens, "not_sold_to_canteens")


def test_a_weekly_quantity_under_the_minimum_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    message = _refused(
        k, {k.carrots.product_id: "2"}, BelowWholesaleMinimum, "below_wholesale_minimum"
    )
    assert message == "Carottes : 5 kg au minimum par commande de cantine."


def test_an_end_before_the_start_is_refused(kitchen: Kitchen) -> None:
    k = kitchen
    _refused(
        k, {k.carrots.product_id: "10"}, InvalidDates, "invalid_dates", ends_on=date(2026, 3, 1)
    )


def test_only_a_manager_may_save_it(kitchen: Kitchen) -> None:
    k = kitchen
    _weekly(k)
    before = _state()
    with pytest.raises(NotCanteenManager):
        services.standing_order_save(
            canteen=k.canteen,
            quantities={k.carrots.product_id: "10"},
            starts_on=START,
            user=UserFactory(),
        )
    assert _state() == before


def test_an_inactive_canteen_cannot_save_one(kitchen: Kitchen) -> None:
    k = kitchen
    k.canteen.is_active = False
    k.canteen.save()
    with pytest.raises(CanteenInactive):
        _weekly(k)
    assert StandingOrder.objects.count() == 0


def test_ending_a_standing_order(kitchen: Kitchen) -> None:
    k = kitchen
    standing = _weekly(k)
    ended = services.standing_order_end(
        standing_order=standing, user=k.manager, ends_on=date(2026, 3, 31)
    )
    assert (ended.ends_on, ended.is_active) == (date(2026, 3, 31), True)
    ended = services.standing_order_end(standing_order=standing, user=k.manager)
    assert (ended.ends_on, ended.is_active) == (date(2026, 3, 9), False)


def test_skipping_a_week_names_its_monday_and_is_idempotent(kitchen: Kitchen) -> None:
    k = kitchen
    week = services.week_skip(
        canteen=k.canteen, week_start=date(2026, 3, 12), reason="Classe verte", user=k.manager
    )
    assert (week.week_start, week.reason, week.created_by) == (
        date(2026, 3, 9),
        "Classe verte",
        k.manager,
    )
    services.week_skip(canteen=k.canteen, week_start=date(2026, 3, 9), user=k.manager)
    assert SkippedWeek.objects.count() == 1
    assert services.week_unskip(canteen=k.canteen, week_start=date(2026, 3, 13), user=k.manager)
    assert not services.week_unskip(canteen=k.canteen, week_start=date(2026, 3, 9), user=k.manager)
    with pytest.raises(NotCanteenManager):
        services.week_skip(canteen=k.canteen, week_start=date(2026, 3, 9), user=UserFactory())
    assert SkippedWeek.objects.count() == 0


# --- materialising ---------------------------------------------------------------------------


def test_the_cycles_order_is_made_from_the_standing_order(kitchen: Kitchen) -> None:
    k = kitchen
    standing = _weekly(k)
    [order] = services.standing_orders_materialise(cycle=k.cycle)
    assert order.standing_order == standing
    assert order.placed_by is None
    assert order.status == CanteenOrderStatus.SUBMITTED
    assert order.reference == f"C-2026-{order.pk:05d}"
    assert sorted(order.lines.values_list("name", "quantity_ordered", "labels")) == [
        ("Carottes", Decimal("12.500"), ["BIO", "HVE"]),
        ("Yaourts nature", Decimal("90.000"), []),
    ]
    k.carrots.refresh_from_db()
    assert k.carrots.quantity_sold == Decimal("12.5")
    # A second run (the beat task, the command) makes nothing more.
    assert services.standing_orders_materialise(cycle=k.cycle) == []
    assert CanteenOrder.objects.count() == 1
    k.carrots.refresh_from_db()
    assert k.carrots.quantity_sold == Decimal("12.5")


def test_an_order_the_manager_placed_is_left_alone(kitchen: Kitchen) -> None:
    k = kitchen
    _weekly(k)
    placed = services.order_place(
        canteen=k.canteen, cycle=k.cycle, quantities={k.carrots.pk: "30"}, user=k.manager
    )
    assert services.standing_orders_materialise(cycle=k.cycle) == []
    assert list(placed.lines.values_list("name", flat=True)) == ["Carottes"]


def test_a_skipped_week_gets_no_order(kitchen: Kitchen) -> None:
    k = kitchen
    _weekly(k)
    services.week_skip(canteen=k.canteen, week_start=date(2026, 3, 9), user=k.manager)
    assert services.standing_orders_materialise(cycle=k.cycle) == []
    assert CanteenOrder.objects.count() == 0
    assert mail.outbox == []


def test_the_school_holidays_get_no_order(kitchen: Kitchen) -> None:
    k = kitchen
    _weekly(k)
    holiday = OrderCycleFactory(
        territory=k.cycle.territory,
        opens_at=k.cycle.opens_at,
        closes_at=datetime(2026, 4, 14, 20, tzinfo=PARIS),
        delivery_date=date(2026, 4, 16),  # zone B spring holidays
    )
    Offer.objects.create(
        cycle=holiday,
        product=k.carrots.product,
        unit_price=Decimal("2"),
        quantity_available=Decimal("50"),
    )
    assert services.standing_orders_materialise(cycle=holiday) == []
    k.canteen.school_zone = "A"  # zone A is back at school on 20 April, still off on the 16th
    k.canteen.save()
    assert services.standing_orders_materialise(cycle=holiday) == []
    k.canteen.school_zone = "C"  # zone C's holidays start on 18 April
    k.canteen.save()
    [order] = services.standing_orders_materialise(cycle=holiday)
    assert order.delivery_date == date(2026, 4, 16)


def test_a_day_without_window_gets_no_order(kitchen: Kitchen) -> None:
    k = kitchen
    _weekly(k)
    DeliveryWindow.objects.filter(canteen=k.canteen, weekday=3).delete()
    assert services.standing_orders_materialise(cycle=k.cycle) == []


def test_a_standing_order_not_started_or_ended_makes_nothing(kitchen: Kitchen) -> None:
    k = kitchen
    standing = _save(k, {k.carrots.product_id: "10"}, starts_on=date(2026, 3, 16))
    assert services.standing_orders_materialise(cycle=k.cycle) == []
    standing.starts_on, standing.ends_on = date(2026, 2, 2), date(2026, 3, 8)
    standing.save()
    assert services.standing_orders_materialise(cycle=k.cycle) == []


def test_products_not_offered_or_out_of_stock_are_left_out_and_mailed(
    kitchen: Kitchen, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    leeks = ProductFactory(producer=k.farm, name="Poireaux", wholesale_price=Decimal("2"))
    _save(
        k,
        {k.carrots.product_id: "12", k.yoghurts.product_id: "90", leeks.pk: "6"},
    )
    Offer.objects.filter(pk=k.yoghurts.pk).update(quantity_sold=Decimal("450"))
    with django_capture_on_commit_callbacks(execute=True):
        [order] = services.standing_orders_materialise(cycle=k.cycle)
    assert list(order.lines.values_list("name", flat=True)) == ["Carottes"]
    [message] = mail.outbox
    assert message.to == ["cantine@example.test"]
    assert message.subject == (
        "Maternelle Basly : produits absents de la commande régulière du 12 mars"
    )
    assert "- Poireaux (pas proposé dans ce cycle)" in message.body
    assert "- Yaourts nature (stock insuffisant)" in message.body
    assert f"La commande {order.reference} a été passée avec le reste" in message.body


def test_a_producer_closed_since_is_left_out(
    kitchen: Kitchen, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    _weekly(k)
    k.dairy.is_active = False
    k.dairy.save()
    with django_capture_on_commit_callbacks(execute=True):
        [order] = services.standing_orders_materialise(cycle=k.cycle)
    assert list(order.lines.values_list("name", flat=True)) == ["Carottes"]
    assert "- Yaourts nature (pas proposé dans ce cycle)" in mail.outbox[0].body


def test_a_minimum_raised_since_leaves_the_line_out(
    kitchen: Kitchen, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    _weekly(k)
    k.yoghurts.product.wholesale_minimum = Decimal("100")
    k.yoghurts.product.save()
    with django_capture_on_commit_callbacks(execute=True):
        [order] = services.standing_orders_materialise(cycle=k.cycle)
    assert list(order.lines.values_list("name", flat=True)) == ["Carottes"]
    assert (
        "- Yaourts nature (Yaourts nature : 100 pièces au minimum par commande de cantine.)"
        in mail.outbox[0].body
    )


def test_nothing_left_makes_no_order_but_says_so(
    kitchen: Kitchen, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    _weekly(k)
    Offer.objects.filter(pk__in=[k.carrots.pk, k.yoghurts.pk]).update(
        withdrawn_at=datetime(2026, 3, 8, tzinfo=PARIS)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.standing_orders_materialise(cycle=k.cycle) == []
    assert CanteenOrder.objects.count() == 0
    assert "Aucune commande n'a été passée pour cette livraison." in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        services.standing_orders_materialise(cycle=k.cycle)
    assert len(mail.outbox) == 1  # said once per cycle


def test_the_command_materialises_a_cycle(kitchen: Kitchen) -> None:
    k = kitchen
    _weekly(k)
    out = io.StringIO()
    call_command("canteen_standing_orders", "--cycle", str(k.cycle.pk), stdout=out)
    order = CanteenOrder.objects.get()
    assert out.getvalue().splitlines() == [
        f"Créée : {order.reference} — Maternelle Basly, livrée le 12/03/2026 (2 lignes)",
        "1 commande créée.",
    ]
    out = io.StringIO()
    call_command("canteen_standing_orders", stdout=out)
    assert out.getvalue().splitlines() == ["0 commande créée."]


def test_the_standing_path_refuses_a_skipped_week_and_changes_nothing(kitchen: Kitchen) -> None:
    k = kitchen
    standing = _weekly(k)
    services.week_skip(canteen=k.canteen, week_start=date(2026, 3, 9), user=k.manager)
    before = _state()
    with pytest.raises(WeekSkipped) as raised:
        services._order_write(
            canteen=k.canteen,
            cycle=k.cycle,
            quantities={k.carrots.pk: Decimal("10")},
            user=None,
            note="",
            now=datetime(2026, 3, 9, 10, tzinfo=PARIS),
            standing_order=standing,
        )
    assert raised.value.code == "week_skipped"
    assert raised.value.message == (
        "Cette semaine est sautée : la commande régulière n'y est pas livrée."
    )
    assert _state() == before


def test_a_skipped_week_only_concerns_the_standing_order(kitchen: Kitchen) -> None:
    k = kitchen
    services.week_skip(canteen=k.canteen, week_start=date(2026, 3, 9), user=k.manager)
    order = services.order_place(
        canteen=k.canteen, cycle=k.cycle, quantities={k.carrots.pk: "10"}, user=k.manager
    )
    assert order.delivery_date == date(2026, 3, 12)
