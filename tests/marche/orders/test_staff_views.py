"""The preparation pages: who sees which list, downloads, weighing and pickup forms."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from marche.orders.models import OrderLine, OrderStatus
from marche.orders.services import cart_set_item, order_place
from marche.payments.models import Payment, PaymentStatus
from tests.marche.orders.test_pick_lists import Prep, _order, build_prep, close, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def prep() -> Prep:
    return build_prep()


def pick_url(prep: Prep, producer, suffix: str = "pick_list") -> str:
    return reverse(f"preparation:{suffix}", args=[prep.cycle.pk, producer.pk])


def packing_url(prep: Prep, relay, suffix: str = "packing_list") -> str:
    return reverse(f"preparation:{suffix}", args=[prep.cycle.pk, relay.pk])


def get_as(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_urls_are_mounted_under_preparation(prep) -> None:
    assert reverse("preparation:index") == "/preparation/"
    assert pick_url(prep, prep.marais, "pick_list_pdf") == (
        f"/preparation/{prep.cycle.pk}/producteurs/{prep.marais.pk}/cueillette.pdf"
    )
    assert packing_url(prep, prep.poste, "packing_list_csv") == (
        f"/preparation/{prep.cycle.pk}/relais/{prep.poste.pk}/colisage.csv"
    )


def test_anonymous_visitors_are_sent_to_login(client, prep) -> None:
    for url in (
        reverse("preparation:index"),
        pick_url(prep, prep.marais),
        pick_url(prep, prep.marais, "pick_list_csv"),
        packing_url(prep, prep.mairie, "packing_list_pdf"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_households_see_no_preparation_page(client, prep) -> None:
    client.force_login(prep.alice.customer)
    for url in (
        reverse("preparation:index"),
        reverse("preparation:cycle", args=[prep.cycle.pk]),
        pick_url(prep, prep.marais),
        packing_url(prep, prep.mairie),
        packing_url(prep, prep.mairie, "packing_list_csv"),
    ):
        assert client.get(url).status_code == 403


def test_a_farmer_sees_only_the_pick_lists_of_their_producers(client, prep) -> None:
    client.force_login(prep.farmer_marais)
    assert client.get(pick_url(prep, prep.marais)).status_code == 200
    assert client.get(pick_url(prep, prep.marais, "pick_list_csv")).status_code == 200
    assert client.get(pick_url(prep, prep.cocagne)).status_code == 403
    assert client.get(pick_url(prep, prep.cocagne, "pick_list_pdf")).status_code == 403
    # A member farm does not see its collective's list; the collective sees its farms'.
    assert client.get(pick_url(prep, prep.bioloos)).status_code == 403
    assert client.get(packing_url(prep, prep.mairie)).status_code == 403
    client.force_login(prep.farmer_bioloos)
    assert client.get(pick_url(prep, prep.bioloos)).status_code == 200
    assert client.get(pick_url(prep, prep.marais)).status_code == 200

    page = get_as(client, prep.farmer_marais, reverse("preparation:cycle", args=[prep.cycle.pk]))
    assert [p.name for p in page.context["producers"]] == ["Ferme du Marais"]
    assert page.context["relays"] == []


def test_the_coordinator_sees_every_list_of_the_cycle(client, prep) -> None:
    page = get_as(client, prep.coordinator, reverse("preparation:cycle", args=[prep.cycle.pk]))
    assert page.status_code == 200
    assert [p.name for p in page.context["producers"]] == [
        "Bioloos",
        "Cocagne",
        "Ferme du Marais",
    ]
    assert [(relay.name, count) for relay, count in page.context["relays"]] == [
        ("Mairie", 1),
        ("Poste", 1),
    ]
    html = page.content.decode()
    assert packing_url(prep, prep.mairie, "packing_list_pdf") in html
    assert pick_url(prep, prep.cocagne, "pick_list_csv") in html
    index = get_as(client, prep.coordinator, reverse("preparation:index"))
    assert prep.cycle in index.context["cycles"]


def test_a_coordinator_bound_to_another_territory_gets_404(client, prep) -> None:
    from tests.factories import TerritoryFactory

    other = person(role="coordinator", territory=TerritoryFactory())
    assert get_as(client, other, pick_url(prep, prep.marais)).status_code == 404


def test_downloads_are_the_exports(client, prep) -> None:
    client.force_login(prep.coordinator)
    csv = client.get(pick_url(prep, prep.marais, "pick_list_csv"))
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv["Content-Disposition"] == (
        f'attachment; filename="cueillette-{prep.cycle.delivery_date:%Y%m%d}-marais.csv"'
    )
    assert csv.content.decode("utf-8").endswith("Ferme du Marais;Carottes;kg;Total;;3,5\r\n")
    pdf = client.get(packing_url(prep, prep.poste, "packing_list_pdf"))
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    assert "Liste de colisage — Point relais Poste" in text
    assert "Bob Martin" in text
    driver_csv = get_as(client, prep.driver, packing_url(prep, prep.poste, "packing_list_csv"))
    assert driver_csv.status_code == 200
    assert prep.bob.reference in driver_csv.content.decode("utf-8")


def test_a_farmer_weighs_on_the_pick_list_with_a_decimal_comma(client, prep) -> None:
    page = get_as(client, prep.farmer_cocagne, pick_url(prep, prep.cocagne))
    butternut = OrderLine.objects.get(order=prep.bob, name="Butternut")
    weigh = reverse("preparation:line_weigh", args=[butternut.pk])
    assert weigh in page.content.decode()
    response = client.post(weigh, {"weight_kg": "2,355", "next": pick_url(prep, prep.cocagne)})
    assert response.status_code == 302 and response["Location"] == pick_url(prep, prep.cocagne)
    butternut.refresh_from_db()
    assert (butternut.weight_kg, butternut.total) == (Decimal("2.355"), Decimal("6.83"))
    prep.bob.refresh_from_db()
    assert prep.bob.total == Decimal("11.73")


def test_weighing_refusals_through_the_page_change_nothing(client, prep) -> None:
    butternut = OrderLine.objects.get(order=prep.bob, name="Butternut")
    weigh = reverse("preparation:line_weigh", args=[butternut.pk])
    client.force_login(prep.farmer_marais)
    assert client.post(weigh, {"weight_kg": "2"}).status_code == 403
    client.force_login(prep.farmer_cocagne)
    for bad in ("0", "-1", "abc", ""):
        response = client.post(weigh, {"weight_kg": bad}, follow=True)
        assert "Indiquez un poids positif" in response.content.decode()
    assert client.get(weigh).status_code == 405
    butternut.refresh_from_db()
    assert (butternut.weight_kg, butternut.total) == (None, Decimal("6.96"))


def test_the_relay_page_records_a_pickup_paid_cash(client, prep) -> None:
    page = get_as(client, prep.driver, packing_url(prep, prep.mairie))
    pickup = reverse("preparation:order_pickup", args=[prep.alice.pk])
    assert pickup in page.content.decode()
    client.force_login(prep.farmer_marais)
    assert client.post(pickup, {"means": "cash"}).status_code == 403
    client.force_login(prep.driver)
    response = client.post(
        pickup, {"means": "cash", "next": packing_url(prep, prep.mairie)}, follow=True
    )
    assert response.redirect_chain == [(packing_url(prep, prep.mairie), 302)]
    assert f"Commande {prep.alice.reference} retirée." in response.content.decode()
    prep.alice.refresh_from_db()
    assert prep.alice.status == OrderStatus.COLLECTED
    payment = Payment.objects.get(order=prep.alice)
    assert (payment.status, payment.means, payment.recorded_by_id) == (
        PaymentStatus.SUCCEEDED,
        "cash",
        prep.driver.pk,
    )
    # An unsafe "next" is never followed: the one handler of refused posts goes home.
    bob_pickup = reverse("preparation:order_pickup", args=[prep.bob.pk])
    refused = client.post(bob_pickup, {"means": "cash", "next": "https://evil.example/"})
    assert refused["Location"] == "/"
    prep.bob.refresh_from_db()
    assert prep.bob.status == OrderStatus.CONFIRMED  # not weighed yet


def test_the_packing_page_queries_do_not_grow_with_orders(client) -> None:
    prep = build_prep(closed=False)
    client.force_login(prep.coordinator)
    url = packing_url(prep, prep.poste)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    close(prep.cycle)
    one = count()
    from marche.orders.models import Order

    Order.objects.filter(pk=prep.bob.pk).update(status=OrderStatus.CONFIRMED)
    from marche.cycles.models import OrderCycle

    OrderCycle.objects.filter(pk=prep.cycle.pk).update(
        closes_at=prep.cycle.opens_at.replace(year=2100)
    )
    prep.cycle.refresh_from_db()
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
    assert count() == one


def test_demo_story_household_orders_farmer_picks_relay_packs(client) -> None:
    """A household orders a basket and two à la carte items for a relay point and a slot,
    a farmer sees them in the pick list, and the relay point's packing list shows them."""
    prep = build_prep(closed=False)
    household = person(email="camille@example.test", first_name="Camille", last_name="Leroy")
    cycle_id = prep.cycle.pk
    cart_set_item(customer=household, cycle_id=cycle_id, basket_id=prep.basket.pk, count=Decimal(1))
    cart_set_item(customer=household, cycle_id=cycle_id, offer_id=prep.carrots.pk, count=Decimal(2))
    cart_set_item(customer=household, cycle_id=cycle_id, offer_id=prep.eggs.pk, count=Decimal(1))
    order, _start = order_place(
        customer=household,
        cycle_id=cycle_id,
        relay_point_id=prep.mairie.pk,
        pickup_slot_id=prep.mairie_slot.pk,
        payment_method="pickup",
        idempotency_key="camille",
    )
    close(prep.cycle)

    pick = get_as(client, prep.farmer_marais, pick_url(prep, prep.marais))
    row = pick.context["pick_list"].rows[0]
    # Alice 1 + 1.5 and Camille 1 + 2 at the Mairie; Bob 1 at the Poste.
    assert [(d.destination.name, d.quantity) for d in row.destinations] == [
        ("Mairie", Decimal("5.5")),
        ("Poste", Decimal("1")),
    ]
    assert "5,5 kg" in pick.content.decode()

    packing = get_as(client, prep.coordinator, packing_url(prep, prep.mairie))
    html = packing.content.decode()
    camille = next(
        o for o in packing.context["packing_list"].orders if o.reference == order.reference
    )
    assert camille.customer_name == "Camille Leroy"
    assert [(line.name, line.count) for line in camille.lines] == [
        ("Panier de saison", Decimal("1")),
        ("Carottes", Decimal("2")),
        ("Œufs", Decimal("1")),
    ]
    assert [c.name for c in camille.lines[0].components] == ["Carottes", "Pommes de terre"]
    assert "Camille Leroy" in html and order.reference in html and "Panier de saison" in html


def test_demo_story_on_the_demo_data(client, demo) -> None:
    """On the loaded demo: Camille orders a basket and two à la carte items, Jean (farmer)
    finds them in his pick list, and the relay point's packing list shows the basket."""
    from marche.accounts.models import User
    from marche.cycles.models import Basket, Offer, OrderCycle
    from marche.relays.models import PickupSlot

    household = User.objects.get(email="foyer@demo.test")
    farmer = User.objects.get(email="producteur@demo.test")
    coordinator = User.objects.get(email="coordination@demo.test")
    farm = farmer.producers.get()
    # The open cycle: the latest delivery (the earlier ones are the canteens' history).
    cycle = OrderCycle.objects.latest("delivery_date")
    basket = Basket.objects.filter(cycle=cycle, is_active=True).order_by("pk").first()
    offers = Offer.objects.filter(cycle=cycle, product__is_variable_weight=False)
    own = offers.filter(product__producer=farm).order_by("pk").first()
    other = offers.exclude(product__producer=farm).order_by("pk").first()
    slot = PickupSlot.objects.filter(date=cycle.delivery_date).order_by("pk").first()
    for kwargs in ({"basket_id": basket.pk}, {"offer_id": own.pk}, {"offer_id": other.pk}):
        cart_set_item(customer=household, cycle_id=cycle.pk, count=Decimal(1), **kwargs)
    order, _start = order_place(
        customer=household,
        cycle_id=cycle.pk,
        relay_point_id=slot.relay_point_id,
        pickup_slot_id=slot.pk,
        payment_method="pickup",
        idempotency_key="demo-story",
    )
    assert order.status == OrderStatus.CONFIRMED
    close(cycle)

    client.force_login(farmer)
    page = client.get(reverse("preparation:cycle", args=[cycle.pk]))
    assert farm in page.context["producers"]
    pick = client.get(reverse("preparation:pick_list", args=[cycle.pk, farm.pk]))
    row = next(r for r in pick.context["pick_list"].rows if r.offer_id == own.pk)
    in_basket = sum(
        (item.quantity for item in basket.items.all() if item.offer_id == own.pk), Decimal(0)
    )
    assert [(d.destination.pk, d.quantity) for d in row.destinations] == [
        (slot.relay_point_id, Decimal(1) + in_basket)
    ]

    client.force_login(coordinator)
    packing = client.get(reverse("preparation:packing_list", args=[cycle.pk, slot.relay_point_id]))
    (packed,) = packing.context["packing_list"].orders
    assert (packed.reference, packed.customer_name) == (order.reference, "Camille Dubois")
    assert [line.kind for line in packed.lines] == ["basket", "item", "item"]
    assert len(packed.lines[0].components) == basket.items.count()
    pdf = client.get(reverse("preparation:packing_list_pdf", args=[cycle.pk, slot.relay_point_id]))
    text = " ".join(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    assert f"Camille Dubois — {order.reference}" in text and basket.name in text
