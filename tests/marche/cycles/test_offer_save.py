from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connections

from marche.accounts.models import Role, User
from marche.catalog.models import Product
from marche.cycles.errors import (
    CycleClosed,
    CycleNotFound,
    InvalidPrice,
    InvalidQuantity,
    NotYourProducer,
    OfferNotFound,
    ProductNotFound,
    QuantityBelowCommitted,
)
from marche.cycles.models import Offer, OrderCycle
from marche.cycles.services import offer_save, offer_withdraw, stock_confirm, stock_hold
from marche.producers.models import Producer, ProducerMembership
from tests.factories import (
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    TerritoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@dataclass
class Farm:
    producer: Producer
    farmer: User
    carrots: Product
    leeks: Product
    cycle: OrderCycle  # open at NOW
    upcoming: OrderCycle  # opens after NOW
    closed: OrderCycle  # closed before NOW


@pytest.fixture
def farm(db: None) -> Farm:
    territory = TerritoryFactory(name="Loos-en-Gohelle", slug="loos")
    producer = ProducerFactory(territory=territory, name="Ferme du Marais")
    farmer = UserFactory(email="paysan@example.test", role=Role.FARMER)
    ProducerMembership.objects.create(producer=producer, user=farmer)

    def cycle(opens: datetime, closes: datetime, delivery: date) -> OrderCycle:
        return OrderCycleFactory(
            territory=territory, opens_at=opens, closes_at=closes, delivery_date=delivery
        )

    return Farm(
        producer=producer,
        farmer=farmer,
        carrots=ProductFactory(producer=producer, name="Carottes", slug="carottes"),
        leeks=ProductFactory(producer=producer, name="Poireaux", slug="poireaux"),
        cycle=cycle(
            datetime(2026, 11, 20, 7, tzinfo=UTC),
            datetime(2026, 12, 1, 17, tzinfo=UTC),
            date(2026, 12, 3),
        ),
        upcoming=cycle(
            datetime(2026, 11, 27, 7, tzinfo=UTC),
            datetime(2026, 12, 8, 17, tzinfo=UTC),
            date(2026, 12, 10),
        ),
        closed=cycle(
            datetime(2026, 11, 13, 7, tzinfo=UTC),
            datetime(2026, 11, 24, 17, tzinfo=UTC),
            date(2026, 11, 26),
        ),
    )


def fields(offer: Offer) -> tuple[object, ...]:
    offer.refresh_from_db()
    return (
        offer.unit_price,
        offer.quantity_available,
        offer.quantity_held,
        offer.quantity_sold,
        offer.updated_at,
    )


def save(farm: Farm, **kwargs) -> Offer:
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


def test_publishes_a_new_offer_with_price_and_quantity(farm: Farm) -> None:
    offer = save(farm)
    assert Offer.objects.count() == 1
    offer.refresh_from_db()
    assert (offer.cycle, offer.product) == (farm.cycle, farm.carrots)
    assert (offer.unit_price, offer.quantity_available) == (Decimal("2.80"), Decimal("25.000"))
    assert (offer.quantity_held, offer.quantity_sold) == (Decimal("0"), Decimal("0"))


def test_updates_the_existing_offer_and_on_demand_is_none(farm: Farm) -> None:
    first = save(farm)
    second = save(farm, unit_price=Decimal("3.10"), quantity_available=None)
    assert second.pk == first.pk
    assert Offer.objects.count() == 1
    assert (second.unit_price, second.quantity_available) == (Decimal("3.10"), None)


def test_publishes_in_an_upcoming_cycle_before_it_opens(farm: Farm) -> None:
    offer = save(farm, cycle_id=farm.upcoming.pk, quantity_available=Decimal("7.5"))
    assert (offer.cycle_id, offer.quantity_available) == (farm.upcoming.pk, Decimal("7.500"))


def test_quantity_may_go_down_to_held_plus_sold_but_not_below(farm: Farm) -> None:
    offer = save(farm, quantity_available=Decimal("10"))
    sold = stock_hold(offer_id=offer.pk, quantity=Decimal("3"), key="a", now=NOW)
    stock_confirm(hold_id=sold.pk, now=NOW)
    stock_hold(offer_id=offer.pk, quantity=Decimal("2.5"), key="b", now=NOW)
    before = fields(offer)

    with pytest.raises(QuantityBelowCommitted) as refused:
        save(farm, unit_price=Decimal("9.99"), quantity_available=Decimal("5.4"))

    assert refused.value.code == "quantity_below_committed"
    assert refused.value.status == 409
    assert refused.value.message == (
        "La quantité ne peut pas être inférieure à 5,5, déjà réservé ou vendu dans ce cycle."
    )
    assert fields(offer) == before  # neither the quantity nor the price changed

    saved = save(farm, unit_price=Decimal("2.90"), quantity_available=Decimal("5.5"))
    assert (saved.unit_price, saved.quantity_available, saved.quantity_remaining) == (
        Decimal("2.90"),
        Decimal("5.500"),
        Decimal("0.000"),
    )


@pytest.mark.parametrize(
    ("price", "quantity", "error", "message"),
    [
        (
            Decimal("0"),
            Decimal("5"),
            InvalidPrice,
            "Le prix doit être strictement positif, au centime près.",
        ),
        (
            Decimal("-1.00"),
            Decimal("5"),
            InvalidPrice,
            "Le prix doit être strictement positif, au centime près.",
        ),
        (
            Decimal("2.555"),
            Decimal("5"),
            InvalidPrice,
            "Le prix doit être strictement positif, au centime près.",
        ),
        (
            2.5,
            Decimal("5"),
            InvalidPrice,
            "Le prix doit être strictement positif, au centime près.",
        ),
        (
            Decimal("2.50"),
            Decimal("0"),
            InvalidQuantity,
            "La quantité doit être strictement positive (au plus 3 décimales), "
            "ou « à la demande ».",
        ),
        (
            Decimal("2.50"),
            Decimal("-3"),
            InvalidQuantity,
            "La quantité doit être strictement positive (au plus 3 décimales), "
            "ou « à la demande ».",
        ),
        (
            Decimal("2.50"),
            Decimal("1.0001"),
            InvalidQuantity,
            "La quantité doit être strictement positive (au plus 3 décimales), "
            "ou « à la demande ».",
        ),
        (
            Decimal("2.50"),
            Decimal("NaN"),
            InvalidQuantity,
            "La quantité doit être strictement positive (au plus 3 décimales), "
            "ou « à la demande ».",
        ),
    ],
)
def test_bad_price_or_quantity_is_refused_and_changes_nothing(
    farm: Farm, price, quantity, error, message
) -> None:
    offer = save(farm)
    before = fields(offer)
    with pytest.raises(error) as refused:
        save(farm, unit_price=price, quantity_available=quantity)
    assert refused.value.message == message
    assert fields(offer) == before
    # Nor is a new offer created from bad values.
    with pytest.raises(error):
        save(farm, product_id=farm.leeks.pk, unit_price=price, quantity_available=quantity)
    assert Offer.objects.count() == 1


def test_closed_cycle_is_refused_and_changes_nothing(farm: Farm) -> None:
    offer = OfferFactory(cycle=farm.closed, product=farm.carrots, unit_price=Decimal("2.50"))
    before = fields(offer)
    with pytest.raises(CycleClosed) as refused:
        save(farm, cycle_id=farm.closed.pk)
    assert refused.value.code == "cycle_closed"
    assert refused.value.message == (
        "Ce cycle de commande est clos : ses offres ne peuvent plus changer."
    )
    assert fields(offer) == before
    with pytest.raises(CycleClosed):
        save(farm, cycle_id=farm.closed.pk, product_id=farm.leeks.pk)
    assert Offer.objects.count() == 1


def test_closing_time_itself_is_closed(farm: Farm) -> None:
    with pytest.raises(CycleClosed):
        save(farm, now=farm.cycle.closes_at)
    assert Offer.objects.count() == 0


def test_another_producers_product_is_refused_with_403(farm: Farm) -> None:
    neighbour = ProducerFactory(territory=farm.producer.territory, name="Ferme voisine")
    their_product = ProductFactory(producer=neighbour, slug="pommes")
    their_offer = OfferFactory(cycle=farm.cycle, product=their_product)
    before = fields(their_offer)

    with pytest.raises(NotYourProducer) as refused:
        save(farm, product_id=their_product.pk)
    assert (refused.value.code, refused.value.status) == ("not_your_producer", 403)
    assert refused.value.message == (
        "Vous n'êtes pas membre de ce producteur : vous ne pouvez pas modifier ses offres."
    )
    assert fields(their_offer) == before

    with pytest.raises(NotYourProducer):
        offer_withdraw(user=farm.farmer, offer_id=their_offer.pk, now=NOW)
    assert fields(their_offer) == before


def test_a_household_without_membership_is_refused(farm: Farm) -> None:
    with pytest.raises(NotYourProducer):
        save(farm, user=UserFactory())
    assert Offer.objects.count() == 0


def test_unknown_or_retired_product_and_unknown_cycle_are_refused(farm: Farm) -> None:
    with pytest.raises(ProductNotFound) as refused:
        save(farm, product_id=987654)
    assert (refused.value.code, refused.value.status) == ("product_not_found", 404)
    assert refused.value.message == "Ce produit n'existe pas ou a été retiré du catalogue."

    Product.objects.filter(pk=farm.leeks.pk).update(is_active=False)
    with pytest.raises(ProductNotFound):
        save(farm, product_id=farm.leeks.pk)

    with pytest.raises(CycleNotFound) as refused_cycle:
        save(farm, cycle_id=987654)
    assert refused_cycle.value.code == "cycle_not_found"

    elsewhere = OrderCycleFactory(
        opens_at=farm.cycle.opens_at,
        closes_at=farm.cycle.closes_at,
        delivery_date=farm.cycle.delivery_date,
    )
    with pytest.raises(CycleNotFound):
        save(farm, cycle_id=elsewhere.pk)
    assert Offer.objects.count() == 0


def test_withdraw_sets_quantity_to_held_plus_sold(farm: Farm) -> None:
    offer = save(farm, quantity_available=None)
    sold = stock_hold(offer_id=offer.pk, quantity=Decimal("4"), key="a", now=NOW)
    stock_confirm(hold_id=sold.pk, now=NOW)
    stock_hold(offer_id=offer.pk, quantity=Decimal("1.5"), key="b", now=NOW)

    withdrawn = offer_withdraw(user=farm.farmer, offer_id=offer.pk, now=NOW)

    assert (
        withdrawn.quantity_available,
        withdrawn.quantity_held,
        withdrawn.quantity_sold,
        withdrawn.quantity_remaining,
        withdrawn.unit_price,
    ) == (Decimal("5.500"), Decimal("1.500"), Decimal("4.000"), Decimal("0.000"), Decimal("2.80"))


def test_withdraw_refusals_change_nothing(farm: Farm) -> None:
    with pytest.raises(OfferNotFound):
        offer_withdraw(user=farm.farmer, offer_id=987654, now=NOW)
    closed_offer = OfferFactory(cycle=farm.closed, product=farm.carrots)
    before = fields(closed_offer)
    with pytest.raises(CycleClosed):
        offer_withdraw(user=farm.farmer, offer_id=closed_offer.pk, now=NOW)
    assert fields(closed_offer) == before


# Races on PostgreSQL ----------------------------------------------------------------------

BUYERS = 20


def race_farmer_and_buyers(offer_id: int, farmer_action) -> dict[str, list[str]]:
    """BUYERS threads hold one unit each while one farmer thread acts, all released together."""
    barrier = threading.Barrier(BUYERS + 1)
    outcome: dict[str, list[str]] = {"buyers": [], "farmer": []}
    lock = threading.Lock()
    buyers_done = threading.Event()

    def run(side: str, action) -> None:
        try:
            if side == "buyers":
                action(barrier)
            else:
                action(barrier, buyers_done)
            result = "ok"
        except Exception as error:  # the outcome is what the test asserts
            result = getattr(error, "code", type(error).__name__)
        finally:
            connections.close_all()
        with lock:
            outcome[side].append(result)
            if len(outcome["buyers"]) == BUYERS:
                buyers_done.set()

    def buyer(index: int):
        def hold(barrier: threading.Barrier) -> None:
            barrier.wait(timeout=30)
            stock_hold(offer_id=offer_id, quantity=Decimal("1"), key=f"buyer-{index}", now=NOW)

        return hold

    threads = [threading.Thread(target=run, args=("buyers", buyer(i))) for i in range(BUYERS)]
    threads.append(threading.Thread(target=run, args=("farmer", farmer_action)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_lowering_quantity_while_buyers_hold_never_oversells_nor_crashes(farm: Farm) -> None:
    offer = save(farm, quantity_available=Decimal("30"))

    def lower(barrier: threading.Barrier, buyers_done: threading.Event) -> None:
        barrier.wait(timeout=30)
        save(farm, quantity_available=Decimal("10"))

    outcome = race_farmer_and_buyers(offer.pk, lower)

    offer.refresh_from_db()
    held = outcome["buyers"].count("ok")
    assert offer.quantity_held == Decimal(held)
    assert set(outcome["buyers"]) <= {"ok", "out_of_stock"}
    # Either the farmer came first (at most 10 held) or after more than 10: a clean refusal.
    if outcome["farmer"] == ["ok"]:
        assert (offer.quantity_available, held <= 10) == (Decimal("10.000"), True)
    else:
        assert outcome["farmer"] == ["quantity_below_committed"]
        assert (offer.quantity_available, held) == (Decimal("30.000"), BUYERS)
    assert offer.quantity_held + offer.quantity_sold <= offer.quantity_available


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_a_read_then_write_update_crashes_on_the_constraint(farm: Farm) -> None:
    """What offer_save must not do: check the counters in Python, then write unconditionally."""
    offer = save(farm, quantity_available=Decimal("30"))

    def read_then_write(barrier: threading.Barrier, buyers_done: threading.Event) -> None:
        current = Offer.objects.get(pk=offer.pk)
        assert current.quantity_held + current.quantity_sold <= Decimal("10")  # looks fine
        barrier.wait(timeout=30)
        buyers_done.wait(timeout=30)  # the request's latency: buyers hold meanwhile
        Offer.objects.filter(pk=offer.pk).update(quantity_available=Decimal("10"))

    outcome = race_farmer_and_buyers(offer.pk, read_then_write)

    assert outcome["buyers"] == ["ok"] * BUYERS
    assert outcome["farmer"] == ["IntegrityError"]
