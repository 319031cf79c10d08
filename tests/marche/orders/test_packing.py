"""Weighing variable-weight lines at packing, and recording pickups at the relay point."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from marche.errors import DomainError
from marche.orders import exports
from marche.orders.models import Order, OrderLine, OrderStatus
from marche.orders.packing import (
    InvalidWeight,
    LineNotFound,
    NotVariableWeight,
    OrderNotWeighable,
    WeighingNotAllowed,
    WeighingTooEarly,
    order_line_weigh,
)
from marche.orders.selectors import PackingLine, packing_list_for_relay
from marche.payments.models import Payment, PaymentStatus
from marche.payments.services import (
    InvalidPickupMeans,
    OrderNotCollectable,
    PickupNotAllowed,
    PickupTooEarly,
    WeighingRequired,
    order_collect,
)
from tests.factories import OrderCycleFactory
from tests.locking import RowHeld
from tests.marche.orders.test_pick_lists import Prep, build_prep, close, pdf_text, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def prep() -> Prep:
    return build_prep()


def line(prep: Prep, name: str, order: Order | None = None) -> OrderLine:
    return OrderLine.objects.get(order=order or prep.bob, name=name)


def state(order: Order) -> dict[str, object]:
    """Everything a refused weighing or pickup must leave unchanged."""
    order.refresh_from_db()
    return {
        "order": (order.status, order.total, order.is_final),
        "lines": list(
            OrderLine.objects.filter(order=order).order_by("pk").values_list("weight_kg", "total")
        ),
        "payments": list(
            Payment.objects.filter(order=order)
            .order_by("pk")
            .values_list("amount", "status", "means", "recorded_by_id", "recorded_at")
        ),
        "mails": len(mail.outbox),
    }


def weighed_mails() -> list[str]:
    return [m.subject for m in mail.outbox if "prix final" in m.subject]


def test_weighing_recomputes_line_order_and_payment_and_mails_once_when_final(
    prep, django_capture_on_commit_callbacks
) -> None:
    butternut, cauliflower = line(prep, "Butternut"), line(prep, "Chou-fleur")
    # Estimated: 2 × 1.2 kg × 2.90 = 6.96; 0.8 kg × 3.00 = 2.40; carrots 2.50.
    assert (prep.bob.total, prep.bob.is_final) == (Decimal("11.86"), False)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        weighed = order_line_weigh(
            line_id=butternut.pk, weight_kg=Decimal("2.355"), by=prep.farmer_cocagne
        )
    # 2.355 × 2.90 = 6.8295 → 6.83 ; 6.83 + 2.40 + 2.50
    assert (weighed.weight_kg, weighed.total) == (Decimal("2.355"), Decimal("6.83"))
    prep.bob.refresh_from_db()
    assert (prep.bob.total, prep.bob.is_final) == (Decimal("11.73"), False)
    assert Payment.objects.get(order=prep.bob).amount == Decimal("11.73")
    assert callbacks == [] and weighed_mails() == []

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order_line_weigh(line_id=cauliflower.pk, weight_kg=Decimal("0.912"), by=prep.coordinator)
    # 0.912 × 3.00 = 2.736 → 2.74 ; 6.83 + 2.74 + 2.50
    prep.bob.refresh_from_db()
    assert (prep.bob.total, prep.bob.is_final) == (Decimal("12.07"), True)
    payment = Payment.objects.get(order=prep.bob)
    assert (payment.amount, payment.status) == (Decimal("12.07"), PaymentStatus.PENDING)
    assert len(callbacks) == 1
    assert weighed_mails() == [f"Commande {prep.bob.reference} : prix final après pesée"]
    body = mail.outbox[-1].body
    assert mail.outbox[-1].to == ["bob@example.test"]
    assert "12,07 €" in body and "(estimé)" not in body

    # A correction of a final order recomputes but does not mail again.
    with django_capture_on_commit_callbacks(execute=True):
        order_line_weigh(line_id=cauliflower.pk, weight_kg=Decimal("1"), by=prep.coordinator)
    prep.bob.refresh_from_db()
    assert (prep.bob.total, prep.bob.is_final) == (Decimal("12.33"), True)
    assert Payment.objects.get(order=prep.bob).amount == Decimal("12.33")
    assert len(weighed_mails()) == 1


def test_a_collective_member_weighs_its_member_farms_lines() -> None:
    from marche.catalog.models import Unit
    from tests.factories import OfferFactory, ProductFactory
    from tests.marche.orders.test_pick_lists import _order

    fresh = build_prep(closed=False)
    leek = OfferFactory(
        cycle=fresh.cycle,
        product=ProductFactory(
            producer=fresh.marais,
            name="Poireau",
            unit=Unit.PIECE,
            is_variable_weight=True,
            estimated_weight_kg=Decimal("0.500"),
        ),
        unit_price=Decimal("4.00"),
    )
    order = _order(fresh.cycle, person(), fresh.poste, fresh.poste_slot, [(leek, "1")], "l")
    close(fresh.cycle)
    leek_line = line(fresh, "Poireau", order)
    weighed = order_line_weigh(
        line_id=leek_line.pk, weight_kg=Decimal("0.430"), by=fresh.farmer_bioloos
    )
    assert weighed.total == Decimal("1.72")
    with pytest.raises(WeighingNotAllowed):
        order_line_weigh(line_id=leek_line.pk, weight_kg=Decimal("1"), by=fresh.farmer_cocagne)


@pytest.mark.parametrize(
    ("weight", "error"),
    [
        (Decimal("0"), InvalidWeight),
        (Decimal("-1.2"), InvalidWeight),
        (Decimal("1.2345"), InvalidWeight),
        (Decimal("NaN"), InvalidWeight),
        (1.2, InvalidWeight),
        ("1.2", InvalidWeight),
    ],
)
def test_invalid_weights_are_refused_and_change_nothing(prep, weight, error) -> None:
    before = state(prep.bob)
    with pytest.raises(error) as refused:
        order_line_weigh(line_id=line(prep, "Butternut").pk, weight_kg=weight, by=prep.coordinator)
    assert refused.value.code == "invalid_weight"
    assert state(prep.bob) == before


def test_weighing_refusals_have_codes_and_change_nothing(prep) -> None:
    butternut = line(prep, "Butternut")
    carrots = line(prep, "Carottes")
    cases = [
        (dict(line_id=carrots.pk, by=prep.coordinator), NotVariableWeight, "not_variable_weight"),
        (
            dict(line_id=butternut.pk, by=prep.farmer_marais),
            WeighingNotAllowed,
            "weighing_not_allowed",
        ),
        (dict(line_id=butternut.pk, by=prep.driver), WeighingNotAllowed, "weighing_not_allowed"),
        (
            dict(line_id=butternut.pk, by=prep.bob.customer),
            WeighingNotAllowed,
            "weighing_not_allowed",
        ),
        (dict(line_id=999_999, by=prep.coordinator), LineNotFound, "line_not_found"),
        (
            dict(
                line_id=butternut.pk,
                by=prep.coordinator,
                now=prep.cycle.closes_at - timedelta(minutes=1),
            ),
            WeighingTooEarly,
            "weighing_too_early",
        ),
    ]
    before = state(prep.bob)
    for kwargs, error, code in cases:
        with pytest.raises(error) as refused:
            order_line_weigh(weight_kg=Decimal("2.300"), **kwargs)
        assert isinstance(refused.value, DomainError) and refused.value.code == code
        assert state(prep.bob) == before


def test_a_collected_or_cancelled_order_is_not_weighed(prep) -> None:
    Order.objects.filter(pk=prep.bob.pk).update(status=OrderStatus.COLLECTED)
    before = state(prep.bob)
    with pytest.raises(OrderNotWeighable):
        order_line_weigh(
            line_id=line(prep, "Butternut").pk, weight_kg=Decimal("2"), by=prep.coordinator
        )
    assert state(prep.bob) == before


# --- pickup ---------------------------------------------------------------------------------


def test_pickup_records_cash_payment_and_collects_idempotently(prep) -> None:
    at = timezone.now()
    order = order_collect(order_id=prep.alice.pk, means="cash", by=prep.driver, now=at)
    assert order.status == OrderStatus.COLLECTED
    payment = Payment.objects.get(order=prep.alice)
    assert (
        payment.amount,
        payment.status,
        payment.means,
        payment.recorded_by_id,
        payment.recorded_at,
    ) == (Decimal("27.15"), PaymentStatus.SUCCEEDED, "cash", prep.driver.pk, at)
    before = state(prep.alice)
    again = order_collect(order_id=prep.alice.pk, means="cheque", by=prep.coordinator)
    assert again.status == OrderStatus.COLLECTED
    assert state(prep.alice) == before
    assert Payment.objects.filter(order=prep.alice).count() == 1


def test_pickup_after_weighing_cashes_the_final_total_by_cheque(prep) -> None:
    for name, weight in (("Butternut", "2.355"), ("Chou-fleur", "0.912")):
        order_line_weigh(
            line_id=line(prep, name).pk, weight_kg=Decimal(weight), by=prep.coordinator
        )
    order_collect(order_id=prep.bob.pk, means="cheque", by=prep.coordinator)
    payment = Payment.objects.get(order=prep.bob)
    assert (payment.amount, payment.means, payment.status) == (
        Decimal("12.07"),
        "cheque",
        PaymentStatus.SUCCEEDED,
    )


def test_with_mannes_already_paid_the_pickup_asks_only_the_rest(prep) -> None:
    Payment.objects.create(
        order=prep.bob,
        method="local_currency",
        currency="MNE",
        amount=Decimal("5.00"),
        status=PaymentStatus.SUCCEEDED,
    )
    for name, weight in (("Butternut", "2.355"), ("Chou-fleur", "0.912")):
        order_line_weigh(
            line_id=line(prep, name).pk, weight_kg=Decimal(weight), by=prep.coordinator
        )
    pickup = Payment.objects.get(order=prep.bob, method="pickup")
    assert pickup.amount == Decimal("7.07")  # 12.07 less 5 mannes
    from marche.orders.selectors import packing_list_for_relay

    packed = packing_list_for_relay(relay_point=prep.poste, cycle=prep.cycle).orders[0]
    assert (packed.total, packed.amount_to_collect) == (Decimal("12.07"), Decimal("7.07"))
    order_collect(order_id=prep.bob.pk, means="cash", by=prep.driver)
    pickup.refresh_from_db()
    assert (pickup.amount, pickup.status) == (Decimal("7.07"), PaymentStatus.SUCCEEDED)


def test_pickup_refusals_have_codes_and_change_nothing(prep) -> None:
    early = prep.cycle.closes_at - timedelta(minutes=1)
    cases = [
        (prep.alice, dict(means="cash", by=prep.farmer_cocagne), PickupNotAllowed),
        (prep.alice, dict(means="cash", by=prep.alice.customer), PickupNotAllowed),
        (prep.alice, dict(means="card", by=prep.driver), InvalidPickupMeans),
        (prep.alice, dict(means=None, by=prep.driver), InvalidPickupMeans),
        (prep.alice, dict(means="cash", by=prep.driver, now=early), PickupTooEarly),
        (prep.bob, dict(means="cash", by=prep.driver), WeighingRequired),
    ]
    for order, kwargs, error in cases:
        before = state(order)
        with pytest.raises(error):
            order_collect(order_id=order.pk, **kwargs)
        assert state(order) == before
    Order.objects.filter(pk=prep.alice.pk).update(status=OrderStatus.CANCELLED)
    before = state(prep.alice)
    with pytest.raises(OrderNotCollectable) as refused:
        order_collect(order_id=prep.alice.pk, means="cash", by=prep.driver)
    assert refused.value.code == "order_not_collectable"
    assert state(prep.alice) == before


def test_an_order_paid_online_is_collected_without_means(prep) -> None:
    Order.objects.filter(pk=prep.alice.pk).update(payment_method="card")
    Payment.objects.filter(order=prep.alice).update(method="card", status=PaymentStatus.SUCCEEDED)
    order = order_collect(order_id=prep.alice.pk, means=None, by=prep.driver)
    assert order.status == OrderStatus.COLLECTED
    assert list(Payment.objects.filter(order=prep.alice).values_list("method", "means")) == [
        ("card", "")
    ]


# --- concurrency ----------------------------------------------------------------------------


def weigh_together(lines: list[tuple[int, str]], by) -> list[str]:
    """Weigh each line in its own thread and connection, all released at the same instant."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(lines))
    errors: list[str] = []

    def weigher(line_id: int, weight: str) -> None:
        try:
            barrier.wait(timeout=30)
            order_line_weigh(line_id=line_id, weight_kg=Decimal(weight), by=by)
        except Exception as error:  # pragma: no cover - reported by the assertion below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=weigher, args=line) for line in lines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def slow_recompute(monkeypatch, *, timeout: float = 1.0):
    """Make the window between writing a line and summing the order as wide as a slow request.

    The two weighings meet at a barrier after writing their line, so without the order lock
    both sum the order before either commits, however loaded the machine is. With the lock
    the second one cannot reach it: the first waits out the timeout and goes on. The control
    (no lock) passes a long timeout: both always arrive, however late a loaded machine lets
    the second one in, so the race it shows never depends on timing.
    """
    import contextlib
    import threading

    from marche.orders import packing

    original = packing._order_recompute
    meeting = threading.Barrier(2, timeout=timeout)

    def slow(order):
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        original(order)

    monkeypatch.setattr(packing, "_order_recompute", slow)


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_lines_weighed_at_once_give_the_right_total_and_one_mail(monkeypatch) -> None:
    prep = build_prep()
    slow_recompute(monkeypatch)
    lines = [(line(prep, "Butternut").pk, "2.355"), (line(prep, "Chou-fleur").pk, "0.912")]
    assert weigh_together(lines, prep.coordinator) == []
    prep.bob.refresh_from_db()
    assert (prep.bob.total, prep.bob.is_final) == (Decimal("12.07"), True)
    assert Payment.objects.get(order=prep.bob).amount == Decimal("12.07")
    assert len(weighed_mails()) == 1


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_order_lock_the_race_is_real(monkeypatch) -> None:
    from marche.orders import packing

    prep = build_prep()
    slow_recompute(monkeypatch, timeout=30.0)
    monkeypatch.setattr(
        packing,
        "_lock_order",
        lambda order_id: Order.objects.select_related("cycle").filter(pk=order_id).first(),
    )
    lines = [(line(prep, "Butternut").pk, "2.355"), (line(prep, "Chou-fleur").pk, "0.912")]
    assert weigh_together(lines, prep.coordinator) == []
    prep.bob.refresh_from_db()
    # Each weighing summed the order before the other committed: one weight is lost from
    # the total, the order never becomes final and the household is never told.
    assert prep.bob.total in {Decimal("11.73"), Decimal("12.20")}
    assert prep.bob.is_final is False
    assert weighed_mails() == []


def test_staff_bound_to_another_territory_neither_weigh_nor_collect(prep) -> None:
    from tests.factories import TerritoryFactory

    elsewhere = TerritoryFactory()
    coordinator = person(role="coordinator", territory=elsewhere)
    driver = person(role="driver", territory=elsewhere)
    before_bob, before_alice = state(prep.bob), state(prep.alice)
    with pytest.raises(WeighingNotAllowed):
        order_line_weigh(line_id=line(prep, "Butternut").pk, weight_kg=Decimal("2"), by=coordinator)
    with pytest.raises(PickupNotAllowed):
        order_collect(order_id=prep.alice.pk, means="cash", by=driver)
    assert (state(prep.bob), state(prep.alice)) == (before_bob, before_alice)
    # Bound to this territory, they may.
    prep.coordinator.territory = prep.cycle.territory
    prep.coordinator.save()
    order_line_weigh(
        line_id=line(prep, "Butternut").pk, weight_kg=Decimal("2"), by=prep.coordinator
    )


# --- what the preparation pages say -----------------------------------------------------------


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_driver_sees_the_packing_lists_and_no_false_pick_list_message(client, prep) -> None:
    url = reverse("preparation:cycle", args=[prep.cycle.pk])
    client.force_login(prep.driver)
    page = _text(client.get(url))
    # The cycle has offers: a driver must not read that it has none. Pick lists are not
    # theirs; packing lists are.
    assert "Aucune offre" not in page
    assert "Listes de cueillette" not in page
    assert "<h2>Listes de colisage</h2>" in page
    for relay in (prep.mairie, prep.poste):
        assert reverse("preparation:packing_list", args=[prep.cycle.pk, relay.pk]) in page

    client.force_login(prep.coordinator)
    page = _text(client.get(url))
    assert "<h2>Listes de cueillette</h2>" in page
    assert "<h2>Listes de colisage</h2>" in page
    assert reverse("preparation:pick_list", args=[prep.cycle.pk, prep.cocagne.pk]) in page

    client.force_login(prep.farmer_cocagne)
    page = _text(client.get(url))
    assert reverse("preparation:pick_list", args=[prep.cycle.pk, prep.cocagne.pk]) in page
    assert "Listes de colisage" not in page


def test_empty_sections_say_what_is_missing_for_whom(client) -> None:
    prep = build_prep(closed=False)
    empty = OrderCycleFactory(territory=prep.cycle.territory, name="Semaine vide")
    url = reverse("preparation:cycle", args=[empty.pk])
    client.force_login(prep.driver)
    page = _text(client.get(url))
    assert "Listes de cueillette" not in page
    assert (
        '<p data-empty="packing">Aucune commande à préparer pour l\'instant : les commandes '
        "sont ouvertes jusqu'à la clôture.</p>"
    ) in page.replace("&#x27;", "'")
    close(empty)
    page = _text(client.get(url))
    assert '<p data-empty="packing">Aucune commande à préparer dans ce cycle.</p>' in page
    client.force_login(prep.coordinator)
    page = _text(client.get(url))
    assert '<p data-empty="picking">Aucune offre de producteur dans ce cycle.</p>' in page
    client.force_login(prep.farmer_cocagne)
    page = _text(client.get(url))
    assert '<p data-empty="picking">Aucune offre de vos fermes dans ce cycle.</p>' in page


def test_packing_list_labels_weights_as_weights_and_counts_as_counts(client, prep) -> None:
    client.force_login(prep.driver)
    mairie = _text(
        client.get(reverse("preparation:packing_list", args=[prep.cycle.pk, prep.mairie.pk]))
    )
    assert '<th scope="col" class="num">Quantité</th>' in mairie
    assert '<td class="num" data-label="Poids">1,5 kg</td>' in mairie  # carrots
    assert '<td class="num" data-label="Nombre">2 douzaines</td>' in mairie  # eggs
    assert '<td class="num" data-label="Nombre">1</td>' in mairie  # the composed basket
    assert '<td class="num" data-label="Poids">2 kg</td>' in mairie  # its potatoes
    assert 'data-label="Nombre">1,5 kg' not in mairie
    poste = _text(
        client.get(reverse("preparation:packing_list", args=[prep.cycle.pk, prep.poste.pk]))
    )
    # A variable-weight product is counted in pieces; its weight is in the Poids column.
    assert '<td class="num" data-label="Nombre">2 pièces</td>' in poste  # butternuts
    assert '<td class="num" data-label="Nombre">1 pièce</td>' in poste  # cauliflower
    assert "estimé 2,4 kg" in poste


def test_packing_list_pdf_says_quantity_with_agreeing_units(prep) -> None:
    _reader, poste = pdf_text(
        exports.packing_list_pdf(packing_list_for_relay(relay_point=prep.poste, cycle=prep.cycle))
    )
    assert "Désignation Quantité Producteur Poids" in poste
    assert "Butternut 2 pièces" in poste
    assert "Chou-fleur 1 pièce" in poste
    assert "1 commande" in poste and "commande(s)" not in poste
    _reader, mairie = pdf_text(
        exports.packing_list_pdf(packing_list_for_relay(relay_point=prep.mairie, cycle=prep.cycle))
    )
    assert "Carottes 1,5 kg" in mairie
    assert "Œufs 2 douzaines" in mairie


def test_pack_quantity_of_a_variant_gives_items_and_what_they_hold() -> None:
    def packing_line(**kw) -> PackingLine:  # type: ignore[no-untyped-def]
        values = {
            "line_id": 1,
            "kind": "item",
            "name": "Pommes de terre — Sac de 5 kg",
            "count": Decimal("2"),
            "quantity": Decimal("10"),
            "unit": "kg",
            "unit_label": "kg",
            "producer_name": "Bioloos",
            "producer_id": 1,
            "total": Decimal("18.00"),
            "price_per_kg": None,
            "estimated_weight_kg": None,
            "weight_kg": None,
        }
        values.update(kw)
        return PackingLine(**values)

    assert exports.pack_quantity(packing_line()) == "2 (10 kg)"
    assert exports.pack_quantity(packing_line(count=Decimal("3.5"), quantity=Decimal("3.5"))) == (
        "3,5 kg"
    )
    dozen = packing_line(count=Decimal("1"), quantity=Decimal("1"), unit="dozen")
    assert exports.pack_quantity(dozen) == "1 douzaine"
    assert exports.pack_quantity(packing_line(kind="basket", unit="", count=Decimal("2"))) == "2"


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_weighing_behind_a_held_order_lock_is_refused_busy_and_changes_nothing(settings) -> None:
    """The weighing waits at most the lock timeout, then says so; it never hangs or 500s."""
    from marche.core.locking import ServiceBusy
    from marche.orders.packing import order_line_mark_missing

    settings.MARCHE_LOCK_TIMEOUT_MS = 300
    prep = build_prep()
    butternut = line(prep, "Butternut")
    before = state(prep.bob)
    with RowHeld(prep.bob):  # a pickup being recorded
        with pytest.raises(ServiceBusy) as refused:
            order_line_weigh(line_id=butternut.pk, weight_kg=Decimal("2.355"), by=prep.coordinator)
        with pytest.raises(ServiceBusy):
            order_line_mark_missing(line_id=butternut.pk, by=prep.coordinator)
    assert refused.value.code == "service_busy"
    assert state(prep.bob) == before
    # Once the lock is released, the same weighing goes through.
    order_line_weigh(line_id=butternut.pk, weight_kg=Decimal("2.355"), by=prep.coordinator)
    assert line(prep, "Butternut").weight_kg == Decimal("2.355")
