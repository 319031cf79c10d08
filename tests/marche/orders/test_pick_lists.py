"""Pick lists per producer and packing lists per relay point, their CSV and PDF."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from marche.accounts.models import Role, User
from marche.catalog.models import Unit
from marche.cycles.models import Basket, Offer, OrderCycle
from marche.orders import exports
from marche.orders.models import Order, OrderStatus
from marche.orders.selectors import (
    Destination,
    PickList,
    PickQuantity,
    PickRow,
    packing_list_for_relay,
    pick_list_for_producer,
)
from marche.orders.services import cart_set_item, order_cancel, order_place
from marche.producers.models import Producer, ProducerKind, ProducerMembership
from marche.relays.models import PickupSlot, RelayPoint
from marche.relays.services import pickup_slots_ensure
from tests.factories import (
    BasketFactory,
    BasketItemFactory,
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    RelayPointFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@dataclass
class Prep:
    """A cycle after its cutoff: a collective with a member farm, a micro-farm, two relays."""

    cycle: OrderCycle
    bioloos: Producer  # collective: potatoes
    marais: Producer  # member farm of Bioloos: carrots
    cocagne: Producer  # micro-farm: eggs, butternut and cauliflower (variable weight)
    carrots: Offer
    potatoes: Offer
    eggs: Offer
    butternut: Offer
    cauliflower: Offer
    basket: Basket
    mairie: RelayPoint
    poste: RelayPoint
    mairie_slot: PickupSlot
    poste_slot: PickupSlot
    alice: Order  # Mairie: a basket, 1.5 kg carrots, 2 dozen eggs
    bob: Order  # Poste: 2 butternuts, 1 cauliflower, 1 kg carrots
    farmer_marais: User
    farmer_bioloos: User
    farmer_cocagne: User
    coordinator: User
    driver: User


def _order(prep_cycle, user, relay, slot, items, key):
    for offer_or_basket, count in items:
        field = "basket_id" if isinstance(offer_or_basket, Basket) else "offer_id"
        cart_set_item(
            customer=user,
            cycle_id=prep_cycle.pk,
            count=Decimal(count),
            **{field: offer_or_basket.pk},
        )
    order, _start = order_place(
        customer=user,
        cycle_id=prep_cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=slot.pk,
        payment_method="pickup",
        idempotency_key=key,
    )
    return order


def close(cycle: OrderCycle) -> None:
    """Move the cycle's cutoff into the past (orders were placed while it was open)."""
    now = timezone.now()
    OrderCycle.objects.filter(pk=cycle.pk).update(
        opens_at=now - timedelta(days=3), closes_at=now - timedelta(hours=1)
    )
    cycle.refresh_from_db()


def person(**kwargs) -> User:
    """A saved user (the factory sets the password without saving it; logins need it)."""
    user = UserFactory(**kwargs)
    user.save()
    return user


def farmer_of(producer: Producer, email: str) -> User:
    user = person(email=email, role=Role.FARMER)
    ProducerMembership.objects.create(producer=producer, user=user)
    return user


def build_prep(*, closed: bool = True) -> Prep:
    cycle = OrderCycleFactory(name="Semaine 48")
    territory = cycle.territory
    bioloos = ProducerFactory(
        territory=territory, name="Bioloos", slug="bioloos", kind=ProducerKind.COLLECTIVE
    )
    marais = ProducerFactory(
        territory=territory, name="Ferme du Marais", slug="marais", collective=bioloos
    )
    cocagne = ProducerFactory(
        territory=territory, name="Cocagne", slug="cocagne", kind=ProducerKind.MICRO_FARM
    )

    def offer(producer, name, unit, price, **product):
        return OfferFactory(
            cycle=cycle,
            product=ProductFactory(producer=producer, name=name, unit=unit, **product),
            unit_price=Decimal(price),
            quantity_available=Decimal("50"),
        )

    carrots = offer(marais, "Carottes", Unit.KG, "2.50")
    potatoes = offer(bioloos, "Pommes de terre", Unit.KG, "1.80")
    eggs = offer(cocagne, "Œufs", Unit.DOZEN, "4.20")
    butternut = offer(
        cocagne,
        "Butternut",
        Unit.PIECE,
        "2.90",
        is_variable_weight=True,
        estimated_weight_kg=Decimal("1.200"),
    )
    cauliflower = offer(
        cocagne,
        "Chou-fleur",
        Unit.PIECE,
        "3.00",
        is_variable_weight=True,
        estimated_weight_kg=Decimal("0.800"),
    )
    basket = BasketFactory(
        cycle=cycle, name="Panier de saison", price=Decimal("15.00"), solidarity_price=None
    )
    BasketItemFactory(basket=basket, offer=potatoes, quantity=Decimal("2"))
    BasketItemFactory(basket=basket, offer=carrots, quantity=Decimal("1"))
    mairie = RelayPointFactory(territory=territory, name="Mairie", slug="mairie")
    poste = RelayPointFactory(territory=territory, name="Poste", slug="poste")
    mairie_slot = pickup_slots_ensure(relay_point=mairie, on=cycle.delivery_date)[0]
    poste_slot = pickup_slots_ensure(relay_point=poste, on=cycle.delivery_date)[1]

    alice_user = person(email="alice@example.test", first_name="Alice", last_name="Durand")
    bob_user = person(
        email="bob@example.test", first_name="Bob", last_name="Martin", phone="0601020304"
    )
    alice = _order(
        cycle,
        alice_user,
        mairie,
        mairie_slot,
        [(basket, "1"), (carrots, "1.5"), (eggs, "2")],
        "alice",
    )
    bob = _order(
        cycle,
        bob_user,
        poste,
        poste_slot,
        [(butternut, "2"), (cauliflower, "1"), (carrots, "1")],
        "bob",
    )
    # Neither a cancelled order nor an unpaid one is picked or packed.
    denis = person(email="denis@example.test")
    cancelled = _order(cycle, denis, mairie, mairie_slot, [(carrots, "2"), (eggs, "1")], "d")
    order_cancel(order_id=cancelled.pk, by=denis)
    emma = person(email="emma@example.test")
    unpaid = _order(cycle, emma, poste, poste_slot, [(carrots, "3"), (potatoes, "4")], "e")
    Order.objects.filter(pk=unpaid.pk).update(status=OrderStatus.PENDING)
    if closed:
        close(cycle)
    return Prep(
        cycle=cycle,
        bioloos=bioloos,
        marais=marais,
        cocagne=cocagne,
        carrots=carrots,
        potatoes=potatoes,
        eggs=eggs,
        butternut=butternut,
        cauliflower=cauliflower,
        basket=basket,
        mairie=mairie,
        poste=poste,
        mairie_slot=mairie_slot,
        poste_slot=poste_slot,
        alice=alice,
        bob=bob,
        farmer_marais=farmer_of(marais, "marais@example.test"),
        farmer_bioloos=farmer_of(bioloos, "bioloos@example.test"),
        farmer_cocagne=farmer_of(cocagne, "cocagne@example.test"),
        coordinator=person(email="coord@example.test", role=Role.COORDINATOR),
        driver=person(email="driver@example.test", role=Role.DRIVER),
    )


@pytest.fixture
def prep() -> Prep:
    return build_prep()


def quantities(pick_list) -> list[tuple[str, str, list[tuple[str, Decimal]], Decimal]]:
    return [
        (
            row.producer_name,
            row.product_name,
            [(d.destination.name, d.quantity) for d in row.destinations],
            row.total,
        )
        for row in pick_list.rows
    ]


def pdf_text(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, " ".join(text.split())


# --- pick lists -----------------------------------------------------------------------------


def test_farm_pick_list_sums_items_and_basket_components_per_relay(prep) -> None:
    pick_list = pick_list_for_producer(producer=prep.marais, cycle=prep.cycle)
    # Mairie: 1 kg in Alice's basket + 1.5 kg à la carte; Poste: Bob's 1 kg. Denis's
    # cancelled 2 kg and Emma's unpaid 3 kg do not count.
    assert quantities(pick_list) == [
        (
            "Ferme du Marais",
            "Carottes",
            [("Mairie", Decimal("2.5")), ("Poste", Decimal("1"))],
            Decimal("3.5"),
        )
    ]
    assert pick_list.includes_member_farms is False
    assert pick_list.rows[0].destinations[0].destination == Destination(
        kind="relay_point", pk=prep.mairie.pk, name="Mairie"
    )


def test_collective_pick_list_includes_its_member_farms(prep) -> None:
    pick_list = pick_list_for_producer(producer=prep.bioloos, cycle=prep.cycle)
    assert quantities(pick_list) == [
        ("Bioloos", "Pommes de terre", [("Mairie", Decimal("2"))], Decimal("2")),
        (
            "Ferme du Marais",
            "Carottes",
            [("Mairie", Decimal("2.5")), ("Poste", Decimal("1"))],
            Decimal("3.5"),
        ),
    ]
    assert pick_list.includes_member_farms is True
    assert [d.name for d in pick_list.destinations] == ["Mairie", "Poste"]


def test_variable_weight_products_are_picked_in_pieces_and_unordered_offers_show_zero(
    prep,
) -> None:
    OfferFactory(
        cycle=prep.cycle,
        product=ProductFactory(producer=prep.cocagne, name="Confiture", unit=Unit.PIECE),
    )
    pick_list = pick_list_for_producer(producer=prep.cocagne, cycle=prep.cycle)
    assert quantities(pick_list) == [
        ("Cocagne", "Butternut", [("Poste", Decimal("2"))], Decimal("2")),
        ("Cocagne", "Chou-fleur", [("Poste", Decimal("1"))], Decimal("1")),
        ("Cocagne", "Confiture", [], Decimal("0")),
        ("Cocagne", "Œufs", [("Mairie", Decimal("2"))], Decimal("2")),
    ]
    assert [row.unit_label for row in pick_list.rows] == ["pièce", "pièce", "pièce", "douzaine"]


def test_pick_list_takes_three_queries_however_many_offers(django_assert_num_queries) -> None:
    prep = build_prep(closed=False)
    for n in range(5):
        offer = OfferFactory(
            cycle=prep.cycle, product=ProductFactory(producer=prep.marais, name=f"Radis {n}")
        )
        _order(
            prep.cycle,
            person(),
            prep.poste,
            prep.poste_slot,
            [(offer, "1")],
            f"radis-{n}",
        )
    close(prep.cycle)
    with django_assert_num_queries(3):
        pick_list = pick_list_for_producer(producer=prep.bioloos, cycle=prep.cycle)
    assert len(pick_list.rows) == 7


# --- packing lists --------------------------------------------------------------------------


def test_packing_list_shows_each_basket_with_components_weights_and_payment(prep) -> None:
    packing = packing_list_for_relay(relay_point=prep.poste, cycle=prep.cycle)
    assert [o.reference for o in packing.orders] == [prep.bob.reference]
    bob = packing.orders[0]
    assert (bob.customer_name, bob.customer_phone, bob.slot_starts_at.hour) == (
        "Bob Martin",
        "0601020304",
        17,
    )
    assert (bob.total, bob.is_final) == (Decimal("11.86"), False)
    assert (bob.payment_method_label, bob.payment_status_label) == (
        "Paiement au retrait",
        "en attente",
    )
    assert [
        (line.name, line.count, line.estimated_weight_kg, line.weight_kg, line.total)
        for line in bob.lines
    ] == [
        ("Butternut", Decimal("2"), Decimal("2.4"), None, Decimal("6.96")),
        ("Chou-fleur", Decimal("1"), Decimal("0.8"), None, Decimal("2.40")),
        ("Carottes", Decimal("1"), None, None, Decimal("2.50")),
    ]
    assert packing.lines_left_to_weigh == 2

    mairie = packing_list_for_relay(relay_point=prep.mairie, cycle=prep.cycle)
    alice = mairie.orders[0]
    assert [o.customer_name for o in mairie.orders] == ["Alice Durand"]
    basket = alice.lines[0]
    assert (basket.kind, basket.name, basket.total) == (
        "basket",
        "Panier de saison",
        Decimal("15.00"),
    )
    assert [(c.name, c.quantity, c.producer_name) for c in basket.components] == [
        ("Carottes", Decimal("1"), "Ferme du Marais"),
        ("Pommes de terre", Decimal("2"), "Bioloos"),
    ]
    assert [line.name for line in alice.lines] == ["Panier de saison", "Carottes", "Œufs"]
    assert (alice.total, alice.is_final) == (Decimal("27.15"), True)


def test_packing_list_takes_three_queries_however_many_orders(django_assert_num_queries) -> None:
    prep = build_prep(closed=False)
    for n in range(4):
        _order(
            prep.cycle,
            person(),
            prep.poste,
            prep.poste_slot,
            [(prep.basket, "1"), (prep.butternut, "1")],
            f"more-{n}",
        )
    close(prep.cycle)
    with django_assert_num_queries(3):
        packing = packing_list_for_relay(relay_point=prep.poste, cycle=prep.cycle)
    assert len(packing.orders) == 5


# --- CSV ------------------------------------------------------------------------------------


def test_pick_list_csv_is_excel_friendly_french_csv(prep) -> None:
    content = exports.pick_list_csv(pick_list_for_producer(producer=prep.marais, cycle=prep.cycle))
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.decode("utf-8") == (
        "\ufeffProducteur;Produit;Unité;Destination;Type de destination;Quantité\r\n"
        "Ferme du Marais;Carottes;kg;Mairie;point relais;2,5\r\n"
        "Ferme du Marais;Carottes;kg;Poste;point relais;1\r\n"
        "Ferme du Marais;Carottes;kg;Total;;3,5\r\n"
    )


def test_packing_list_csv_has_one_row_per_line_and_component(prep) -> None:
    poste = exports.packing_list_csv(
        packing_list_for_relay(relay_point=prep.poste, cycle=prep.cycle)
    )
    day = f"{prep.cycle.delivery_date:%d/%m/%Y}"
    ref = prep.bob.reference
    start = f"{day} 17:00-18:00;{ref};Bob Martin;0601020304;à la carte;"
    end = ";11,86;non;Paiement au retrait;en attente"
    lines = poste.decode("utf-8").split("\r\n")
    assert lines == [
        "\ufeff" + ";".join(map(str, exports.PACKING_HEADERS)),
        start + "Butternut;2;2;pièce;Cocagne;2,4;;2,90;6,96" + end,
        start + "Chou-fleur;1;1;pièce;Cocagne;0,8;;3,00;2,40" + end,
        start + "Carottes;1;1;kg;Ferme du Marais;;;;2,50" + end,
        "",
    ]
    mairie = exports.packing_list_csv(
        packing_list_for_relay(relay_point=prep.mairie, cycle=prep.cycle)
    ).decode("utf-8")
    rows = [row.split(";") for row in mairie.split("\r\n")[1:-1]]
    assert [(r[4], r[5], r[7], r[13]) for r in rows] == [
        ("panier composé", "Panier de saison", "1", "15,00"),
        ("contenu de panier", "Carottes", "1", "0,00"),
        ("contenu de panier", "Pommes de terre", "2", "0,00"),
        ("à la carte", "Carottes", "1,5", "3,75"),
        ("à la carte", "Œufs", "2", "8,40"),
    ]
    assert {r[2] for r in rows} == {"Alice Durand"}
    assert {r[14] for r in rows} == {"27,15"}


def test_csv_cells_typed_by_people_cannot_become_formulas(prep) -> None:
    customer = prep.bob.customer
    customer.first_name, customer.last_name = '=HYPERLINK("http://x")', ""
    customer.phone = "+33 6 01 02 03 04"
    customer.save()
    content = exports.packing_list_csv(
        packing_list_for_relay(relay_point=prep.poste, cycle=prep.cycle)
    ).decode("utf-8")
    row = next(csv.reader(io.StringIO(content.split("\r\n")[1]), delimiter=";"))
    assert row[2:4] == ['\'=HYPERLINK("http://x")', "'+33 6 01 02 03 04"]


@pytest.mark.parametrize(
    ("value", "text"),
    [("2.500", "2,5"), ("10.000", "10"), ("0.800", "0,8"), ("1E+1", "10"), ("0.000", "0")],
)
def test_french_quantities(value: str, text: str) -> None:
    assert exports.fr_quantity(Decimal(value)) == text


# --- PDF ------------------------------------------------------------------------------------


def test_pick_list_pdf_is_a4_with_title_table_and_page_numbers(prep) -> None:
    content = exports.pick_list_pdf(pick_list_for_producer(producer=prep.bioloos, cycle=prep.cycle))
    reader, text = pdf_text(content)
    assert content.startswith(b"%PDF")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert "Liste de cueillette — Bioloos" in text
    assert "Cycle : Semaine 48" in text
    assert "fermes membres du collectif" in text
    for expected in ("Pommes de terre", "Point relais Mairie", "Total à récolter", "3,5 kg"):
        assert expected in text
    assert "Page 1 / 1" in text


def test_long_pick_list_pdf_numbers_every_page() -> None:
    producer = Producer(name="Bioloos", slug="bioloos")
    cycle = OrderCycle(
        name="Semaine 48", delivery_date=timezone.localdate(), closes_at=timezone.now()
    )
    mairie = Destination(kind="relay_point", pk=1, name="Mairie")
    rows = tuple(
        PickRow(
            offer_id=n,
            producer_name="Bioloos",
            product_name=f"Légume {n:03d}",
            unit="kg",
            unit_label="kg",
            is_variable_weight=False,
            total=Decimal(n),
            destinations=(PickQuantity(destination=mairie, quantity=Decimal(n)),),
        )
        for n in range(1, 61)
    )
    reader, text = pdf_text(
        exports.pick_list_pdf(PickList(producer=producer, cycle=cycle, rows=rows))
    )
    pages = len(reader.pages)
    assert pages >= 2
    assert f"Page 1 / {pages}" in reader.pages[0].extract_text()
    assert f"Page {pages} / {pages}" in reader.pages[-1].extract_text()
    assert "Légume 060" in text


def test_packing_list_pdf_has_baskets_payment_and_relay_signature_box(prep) -> None:
    _reader, text = pdf_text(
        exports.packing_list_pdf(packing_list_for_relay(relay_point=prep.mairie, cycle=prep.cycle))
    )
    assert "Liste de colisage — Point relais Mairie" in text
    assert f"Alice Durand — {prep.alice.reference}" in text
    for expected in (
        "Panier de saison",
        "dont Pommes de terre",
        "Œufs",
        "27,15",
        "Paiement au retrait — en attente — à encaisser 27,15 €",
        "Réception par le point relais",
        "Signature du point relais",
        "Page 1 / 1",
    ):
        assert expected in text
    _reader, poste = pdf_text(
        exports.packing_list_pdf(packing_list_for_relay(relay_point=prep.poste, cycle=prep.cycle))
    )
    assert "estimé 2,4 kg — à peser" in poste
    assert "Total (estimé)" in poste
