"""Producers confirm, adjust or refuse each canteen line before the cutoff; silence confirms."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from django.core import mail

from marche.canteens import selectors, services
from marche.canteens.errors import (
    AnswerAboveOrdered,
    AnswerTooLate,
    InsufficientStock,
    NotProducerMember,
    OrderCancelled,
)
from marche.canteens.models import CanteenOrder, CanteenOrderLine, CanteenOrderStatus, LineStatus
from marche.canteens.tasks import canteen_orders_housekeeping
from marche.core.numbers import InvalidNumber
from marche.cycles.models import Offer
from marche.producers.models import ProducerMembership
from marche.territories.models import Territory
from tests.factories import UserFactory
from tests.marche.canteens.conftest import PARIS, Kitchen

pytestmark = pytest.mark.django_db

CUTOFF = datetime(2026, 3, 11, 20, 0, tzinfo=PARIS)


@pytest.fixture
def order(kitchen: Kitchen) -> CanteenOrder:
    return services.order_place(
        canteen=kitchen.canteen,
        cycle=kitchen.cycle,
        quantities={kitchen.carrots.pk: "20", kitchen.yoghurts.pk: "100"},
        user=kitchen.manager,
    )


def _line(order: CanteenOrder, name: str) -> CanteenOrderLine:
    return order.lines.get(name=name)


def _sold(offer: Offer) -> Decimal:
    offer.refresh_from_db()
    return offer.quantity_sold


def _state() -> tuple[object, ...]:
    return (
        list(CanteenOrder.objects.order_by("pk").values()),
        list(CanteenOrderLine.objects.order_by("pk").values()),
        list(Offer.objects.order_by("pk").values_list("pk", "quantity_sold")),
    )


def test_confirming_adjusting_and_refusing(kitchen: Kitchen, order: CanteenOrder) -> None:
    k = kitchen
    dairyman = UserFactory(role="farmer")
    ProducerMembership.objects.create(producer=k.dairy, user=dairyman)
    carrots = services.line_answer(
        line=_line(order, "Carottes"), quantity="12,5", user=k.farmer, note="Gel"
    )
    assert (carrots.status, carrots.quantity_confirmed) == (LineStatus.ADJUSTED, Decimal("12.5"))
    assert (carrots.producer_note, carrots.answered_by) == ("Gel", k.farmer)
    assert carrots.answered_at == datetime(2026, 3, 9, 10, 0, tzinfo=PARIS)
    assert _sold(k.carrots) == Decimal("12.5")
    order.refresh_from_db()
    assert order.status == CanteenOrderStatus.SUBMITTED  # the yoghurts wait
    carrots = services.line_answer(line=carrots, quantity="20", user=k.farmer)
    assert (carrots.status, _sold(k.carrots)) == (LineStatus.CONFIRMED, Decimal("20"))
    yoghurts = services.line_answer(
        line=_line(order, "Yaourts nature"), quantity="0", user=dairyman
    )
    assert (yoghurts.status, yoghurts.quantity_confirmed) == (LineStatus.REFUSED, Decimal("0"))
    assert _sold(k.yoghurts) == 0
    order.refresh_from_db()
    assert order.status == CanteenOrderStatus.CONFIRMED
    assert [line.quantity_due for line in order.lines.order_by("name")] == [
        Decimal("20"),
        Decimal("0"),
    ]


def test_each_answer_mails_the_managers_once(
    kitchen: Kitchen, order: CanteenOrder, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    second = UserFactory(email="chef@example.test", role="canteen_manager")
    k.canteen.managers.add(second)
    sender = "Cantines du territoire <cantines@exemple.test>"
    Territory.objects.filter(pk=k.canteen.territory_id).update(email_sender=sender)
    with django_capture_on_commit_callbacks(execute=True):
        services.line_answer(line=_line(order, "Carottes"), quantity="15", user=k.farmer)
    assert sorted(m.to[0] for m in mail.outbox) == ["cantine@example.test", "chef@example.test"]
    assert {m.from_email for m in mail.outbox} == {sender}  # the canteen's territory's sender
    message = mail.outbox[0]
    assert message.subject == f"Commande {order.reference} : réponse du producteur pour Carottes"
    assert "Ferme du Pommier livrera 15 kg de Carottes au lieu de 20." in message.body
    assert "- Yaourts nature : commandé 100 pièces, en attente de réponse" in message.body
    with django_capture_on_commit_callbacks(execute=True):
        services.line_answer(line=_line(order, "Carottes"), quantity="0", user=k.farmer)
    assert len(mail.outbox) == 4
    assert "Ferme du Pommier ne pourra pas livrer Carottes." in mail.outbox[-1].body


def test_an_adjustment_above_the_order_is_refused(kitchen: Kitchen, order: CanteenOrder) -> None:
    before = _state()
    with pytest.raises(AnswerAboveOrdered) as raised:
        services.line_answer(line=_line(order, "Carottes"), quantity="20,5", user=kitchen.farmer)
    assert raised.value.code == "answer_above_ordered"
    assert raised.value.message == "Vous ne pouvez pas confirmer plus que les 20 kg commandés."
    assert _state() == before


def test_only_a_member_of_the_lines_producer_answers(kitchen: Kitchen, order: CanteenOrder) -> None:
    before = _state()
    with pytest.raises(NotProducerMember) as raised:
        services.line_answer(
            line=_line(order, "Yaourts nature"), quantity="50", user=kitchen.farmer
        )
    assert raised.value.code == "not_producer_member"
    with pytest.raises(NotProducerMember):
        services.line_answer(line=_line(order, "Carottes"), quantity="5", user=kitchen.manager)
    assert _state() == before


def test_an_answer_after_the_cutoff_is_refused(
    kitchen: Kitchen, order: CanteenOrder, time_machine
) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(CUTOFF, tick=False)
    before = _state()
    with pytest.raises(AnswerTooLate) as raised:
        services.line_answer(line=_line(order, "Carottes"), quantity="5", user=kitchen.farmer)
    assert raised.value.code == "answer_too_late"
    assert _state() == before


def test_an_answer_to_a_cancelled_order_is_refused(kitchen: Kitchen, order: CanteenOrder) -> None:
    services.order_cancel(order=order, user=kitchen.manager)
    before = _state()
    with pytest.raises(OrderCancelled):
        services.line_answer(line=_line(order, "Carottes"), quantity="5", user=kitchen.farmer)
    assert _state() == before


def test_a_mistyped_answer_is_refused(kitchen: Kitchen, order: CanteenOrder) -> None:
    before = _state()
    with pytest.raises(InvalidNumber):
        services.line_answer(
            line=_line(order, "Carottes"), quantity="beaucoup", user=kitchen.farmer
        )
    assert _state() == before


def test_raising_an_answer_again_needs_the_stock(kitchen: Kitchen, order: CanteenOrder) -> None:
    k = kitchen
    line = services.line_answer(line=_line(order, "Carottes"), quantity="5", user=k.farmer)
    Offer.objects.filter(pk=k.carrots.pk).update(quantity_sold=Decimal("95"))  # 90 to others
    before = _state()
    with pytest.raises(InsufficientStock) as raised:
        services.line_answer(line=line, quantity="20", user=k.farmer)
    assert raised.value.message == "Stock insuffisant pour Carottes : il en reste 10 kg."
    assert _state() == before


def test_silence_confirms_at_the_cutoff_idempotently(
    kitchen: Kitchen, order: CanteenOrder, time_machine, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    services.line_answer(line=_line(order, "Carottes"), quantity="12", user=k.farmer)
    assert services.orders_confirm_at_cutoff(cycle=k.cycle) == 0  # not yet
    time_machine.move_to(CUTOFF, tick=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.orders_confirm_at_cutoff(cycle=k.cycle) == 1
    order.refresh_from_db()
    assert order.status == CanteenOrderStatus.CONFIRMED
    assert sorted(order.lines.values_list("name", "status", "quantity_confirmed")) == [
        ("Carottes", LineStatus.ADJUSTED, Decimal("12.000")),
        ("Yaourts nature", LineStatus.CONFIRMED, Decimal("100.000")),
    ]
    assert (_sold(k.carrots), _sold(k.yoghurts)) == (Decimal("12"), Decimal("100"))
    [message] = mail.outbox
    assert message.subject == f"Commande {order.reference} confirmée"
    assert "entre 07:30 et 10:00" in message.body
    with django_capture_on_commit_callbacks(execute=True):
        assert services.orders_confirm_at_cutoff(cycle=k.cycle) == 0
        assert canteen_orders_housekeeping() == {"created": 0, "confirmed": 0}
    assert len(mail.outbox) == 1


def test_the_housekeeping_task_confirms_after_the_cutoff(
    kitchen: Kitchen, order: CanteenOrder, time_machine
) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(CUTOFF, tick=False)
    assert canteen_orders_housekeeping() == {"created": 0, "confirmed": 1}
    order.refresh_from_db()
    assert order.status == CanteenOrderStatus.CONFIRMED


def test_a_producer_sees_its_canteen_lines(
    kitchen: Kitchen, order: CanteenOrder, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    k = kitchen
    with django_assert_num_queries(1):
        lines = [
            (line.order.canteen.name, line.name, line.quantity_ordered)
            for line in selectors.producer_canteen_lines(producer=k.farm, cycle=k.cycle)
        ]
    assert lines == [("Maternelle Basly", "Carottes", Decimal("20.000"))]
    services.order_cancel(order=order, user=k.manager)
    assert list(selectors.producer_canteen_lines(producer=k.farm)) == []


def test_plain_text_e_mails_keep_apostrophes_and_ampersands_as_typed():
    """Text e-mails are not HTML: a canteen named with an apostrophe reads as typed."""
    from marche.core.mail import render_text

    body = render_text(
        "canteens/emails/left_out.txt",
        {
            "canteen": {"name": "Cantine de l'école"},
            "cycle": {"delivery_date": None},
            "left_out": [{"name": "Pain & brioche", "reason": "pas d'offre"}],
            "order": None,
        },
    )
    assert "Cantine de l'école" in body
    assert "- Pain & brioche (pas d'offre)" in body
    assert "&#x27;" not in body and "&amp;" not in body


def test_the_closing_of_the_cycle_for_planning_confirms_the_waiting_canteen_orders(
    kitchen: Kitchen, order: CanteenOrder, time_machine
) -> None:  # type: ignore[no-untyped-def]
    """Planning reads confirmed orders: the closing does not wait for the canteens' beat."""
    from logistics.services import cycle_close_due

    time_machine.move_to(CUTOFF, tick=False)
    assert cycle_close_due(now=CUTOFF) == [kitchen.cycle.pk]
    order.refresh_from_db()
    assert order.status == CanteenOrderStatus.CONFIRMED
    assert set(order.lines.values_list("status", flat=True)) == {LineStatus.CONFIRMED}
    assert cycle_close_due(now=CUTOFF) == []
