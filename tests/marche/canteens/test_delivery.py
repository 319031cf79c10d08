"""Recording what a canteen received: quantities with decimal commas, shortfalls, who may."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any

import pytest

from logistics.models import PlanStatus
from marche.accounts.models import Role
from marche.canteens.delivery import delivery_record
from marche.canteens.models import (
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    DeliveryRecord,
    Invoice,
    InvoiceLine,
)
from marche.errors import DomainError
from tests.factories import UserFactory
from tests.factories.canteens import CanteenOrderLineFactory
from tests.logistics.canteen_fixtures import CanteenWorld, build_canteen_world

pytestmark = pytest.mark.django_db


def state(order: CanteenOrder) -> tuple[Any, ...]:
    """Everything a delivery record writes, to assert a refusal changed nothing."""
    order.refresh_from_db()
    return (
        order.status,
        order.delivered_at,
        order.received_by,
        order.delivery_recorded_by_id,
        list(
            CanteenOrderLine.objects.filter(order=order)
            .order_by("pk")
            .values_list("pk", "quantity_delivered", "shortfall_reason")
        ),
        DeliveryRecord.objects.count(),
    )


def record(w: CanteenWorld, user: Any = None, key: str = "livraison-0001", **kwargs: Any):
    values = {
        "quantities": {w.carrots.pk: "18,5", w.yoghurts.pk: "12", w.bread.pk: "6"},
        "reasons": {w.carrots.pk: "Cagette abîmée au chargement"},
        "received_by": "Mme Lemaire",
    }
    values.update(kwargs)
    return delivery_record(order=w.order, user=user or w.manager, key=key, **values)


def test_the_manager_records_quantities_typed_with_decimal_commas_and_a_shortfall() -> None:
    w = build_canteen_world()
    order = record(w)
    assert order.status == CanteenOrderStatus.DELIVERED
    assert order.received_by == "Mme Lemaire"
    assert order.delivery_recorded_by == w.manager
    assert order.delivered_at is not None
    lines = {line.pk: line for line in CanteenOrderLine.objects.filter(order=w.order)}
    assert lines[w.carrots.pk].quantity_delivered == Decimal("18.500")
    assert lines[w.carrots.pk].shortfall == Decimal("1.500")
    assert lines[w.carrots.pk].shortfall_reason == "Cagette abîmée au chargement"
    assert lines[w.yoghurts.pk].quantity_delivered == Decimal("12")
    assert lines[w.yoghurts.pk].shortfall_reason == ""


def test_the_same_key_again_changes_nothing() -> None:
    w = build_canteen_world()
    record(w)
    before = state(w.order)
    again = record(
        w, quantities={w.carrots.pk: "3", w.yoghurts.pk: "1", w.bread.pk: "1"}, reasons={}
    )
    assert again.pk == w.order.pk
    assert state(w.order) == before


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        (
            {"quantities": {"carrots": "20,5", "yoghurts": "12", "bread": "6"}},
            "delivered_above_due",
        ),
        (
            {"quantities": {"carrots": "18", "yoghurts": "12", "bread": "6"}, "reasons": {}},
            "shortfall_reason_missing",
        ),
        ({"quantities": {"carrots": "20", "yoghurts": "12"}}, "delivered_quantity_missing"),
        ({"quantities": {"carrots": "20", "yoghurts": "1,5", "bread": "6"}}, "invalid_number"),
        ({"quantities": {"carrots": "-1", "yoghurts": "12", "bread": "6"}}, "invalid_number"),
        ({"received_by": "  "}, "received_by_missing"),
    ],
)
def test_bad_input_is_refused_with_its_code_and_changes_nothing(
    changes: dict[str, Any], code: str
) -> None:
    w = build_canteen_world()
    ids = {"carrots": w.carrots.pk, "yoghurts": w.yoghurts.pk, "bread": w.bread.pk}
    if "quantities" in changes:
        changes["quantities"] = {ids[k]: v for k, v in changes["quantities"].items()}
    before = state(w.order)
    with pytest.raises(DomainError) as raised:
        record(w, **changes)
    assert raised.value.code == code
    assert raised.value.message  # in French, for people
    assert state(w.order) == before


def test_a_line_of_another_order_is_refused() -> None:
    w = build_canteen_world()
    other = CanteenOrderLineFactory()
    before = state(w.order)
    with pytest.raises(DomainError) as raised:
        record(w, quantities={other.pk: "1", w.carrots.pk: "20"})
    assert raised.value.code == "canteen_line_unknown"
    assert state(w.order) == before


def test_who_may_record_the_driver_of_the_round_managers_and_coordinators_only() -> None:
    w = build_canteen_world()
    stranger = UserFactory(email="autre-gestionnaire@example.test", role=Role.CANTEEN_MANAGER)
    other_driver = UserFactory(email="autre-chauffeur@example.test", role=Role.DRIVER)
    household = UserFactory(email="foyer@example.test")
    before = state(w.order)
    for user in (stranger, other_driver, household):
        with pytest.raises(DomainError) as raised:
            record(w, user=user, key=f"essai-{user.pk:04d}")
        assert raised.value.code == "delivery_not_allowed"
    assert state(w.order) == before
    record(w, user=w.world.driver, key="chauffeur-0001")
    record(w, user=w.world.coordinator, key="coordination-0001", received_by="M. Petit")
    w.order.refresh_from_db()
    assert w.order.delivery_recorded_by == w.world.coordinator


def test_the_driver_of_a_draft_plan_may_not_record() -> None:
    w = build_canteen_world(status=PlanStatus.DRAFT)
    before = state(w.order)
    with pytest.raises(DomainError) as raised:
        record(w, user=w.world.driver)
    assert raised.value.code == "delivery_not_allowed"
    assert state(w.order) == before


def test_without_the_rounds_hook_no_driver_may_record(settings: Any) -> None:
    # marche asks the rounds through MARCHE_CANTEEN_DRIVER_ROUND; empty, no round is known.
    w = build_canteen_world()
    settings.MARCHE_CANTEEN_DRIVER_ROUND = ""
    before = state(w.order)
    with pytest.raises(DomainError) as raised:
        record(w, user=w.world.driver)
    assert raised.value.code == "delivery_not_allowed"
    assert state(w.order) == before
    settings.MARCHE_CANTEEN_DRIVER_ROUND = "logistics.canteen_status.driver_round_drops_at_canteen"
    record(w, user=w.world.driver)
    w.order.refresh_from_db()
    assert w.order.delivery_recorded_by == w.world.driver


def test_an_invoiced_line_cannot_change_but_the_others_can() -> None:
    w = build_canteen_world()
    record(w)
    invoice = Invoice.objects.create(
        issuer=w.carrots.producer,
        canteen=w.canteen,
        number="F-2026-0001",
        sequence_year=2026,
        sequence_number=1,
        period_start=w.order.delivery_date.replace(day=1),
        period_end=w.order.delivery_date,
        issued_on=w.order.delivery_date,
        due_on=w.order.delivery_date,
        total_ht=Decimal("27.75"),
        total_vat=Decimal("1.53"),
        total_ttc=Decimal("29.28"),
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        order_line=w.carrots,
        delivery_date=w.order.delivery_date,
        description=w.carrots.name,
        unit="kg",
        quantity=Decimal("18.5"),
        unit_price_ht=Decimal("1.5"),
        vat_rate=Decimal("5.5"),
        total_ht=Decimal("27.75"),
    )
    before = state(w.order)
    with pytest.raises(DomainError) as raised:
        record(
            w,
            key="correction-0001",
            quantities={w.carrots.pk: "20", w.yoghurts.pk: "12", w.bread.pk: "6"},
            reasons={},
        )
    assert raised.value.code == "already_invoiced"
    assert "Carottes des sables" in raised.value.message
    assert state(w.order) == before
    # The same invoiced quantity and another line corrected: accepted.
    record(
        w,
        key="correction-0002",
        quantities={w.carrots.pk: "18,5", w.yoghurts.pk: "10", w.bread.pk: "6"},
        reasons={w.carrots.pk: "Cagette abîmée au chargement", w.yoghurts.pk: "Pots cassés"},
    )
    w.yoghurts.refresh_from_db()
    assert (w.yoghurts.quantity_delivered, w.yoghurts.shortfall_reason) == (
        Decimal("10"),
        "Pots cassés",
    )


def test_a_cancelled_order_is_not_delivered() -> None:
    w = build_canteen_world()
    CanteenOrder.objects.filter(pk=w.order.pk).update(status=CanteenOrderStatus.CANCELLED)
    before = state(w.order)
    with pytest.raises(DomainError) as raised:
        record(w)
    assert raised.value.code == "canteen_order_cancelled"
    assert state(w.order) == before


def test_each_recording_is_kept_with_its_key_who_and_what_and_outlives_the_outbox_pruning():
    """A replayed key changes nothing even long after: it is a delivery record, not a
    notification key that the outbox pruning deletes after 30 days."""
    from datetime import timedelta

    from django.utils import timezone

    from marche.core.outbox import outbox_prune

    w = build_canteen_world()
    record(w)
    outbox_prune(now=timezone.now() + timedelta(days=400))
    before = state(w.order)
    record(w, quantities={w.carrots.pk: "3", w.yoghurts.pk: "1", w.bread.pk: "1"}, reasons={})
    assert state(w.order) == before
    saved = DeliveryRecord.objects.get()
    assert (saved.order_id, saved.recorded_by_id, saved.received_by) == (
        w.order.pk,
        w.manager.pk,
        "Mme Lemaire",
    )
    assert saved.quantities[str(w.carrots.pk)] == {
        "delivered": "18.500",
        "reason": "Cagette abîmée au chargement",
    }
    # A correction with a new key is a second record: the history is kept.
    record(w, key="livraison-0002", quantities={w.carrots.pk: "19"})
    assert DeliveryRecord.objects.filter(order=w.order).count() == 2


def test_a_delivery_recorded_before_its_day_or_before_the_cutoff_is_refused_and_changes_nothing():
    """Recorded early, unconfirmed quantities would be invoiced and exported to ma cantine."""
    from datetime import timedelta

    from django.utils import timezone

    from marche.canteens.delivery import DeliveryTooEarly
    from marche.cycles.models import OrderCycle

    w = build_canteen_world()
    before = state(w.order)
    cycle = w.order.cycle
    # The day before delivery, the cycle closed: too early.
    on_the_eve = timezone.make_aware(
        datetime.combine(w.order.delivery_date - timedelta(days=1), time(18))
    )
    with pytest.raises(DeliveryTooEarly) as refused:
        delivery_record(
            order=w.order,
            quantities={w.carrots.pk: "18,5"},
            reasons={w.carrots.pk: "gel"},
            received_by="Mme Lemaire",
            user=w.manager,
            key="trop-tot-0001",
            at=on_the_eve,
        )
    assert refused.value.code == "delivery_too_early"
    assert w.order.delivery_date.strftime("%d/%m/%Y") in refused.value.message
    # On the day itself, but the cycle still open (its cutoff moved later): too early too.
    on_the_day = timezone.make_aware(datetime.combine(w.order.delivery_date, time(9)))
    OrderCycle.objects.filter(pk=cycle.pk).update(closes_at=on_the_day + timedelta(hours=1))
    with pytest.raises(DeliveryTooEarly):
        delivery_record(
            order=w.order,
            quantities={w.carrots.pk: "18,5"},
            reasons={w.carrots.pk: "gel"},
            received_by="Mme Lemaire",
            user=w.manager,
            key="trop-tot-0002",
            at=on_the_day,
        )
    assert state(w.order) == before
