"""The canteen manager's pages and the producer's canteen pages, through the test client.

The ``kitchen`` world (conftest): Monday 9 March 2026, a cycle open until Wednesday 20:00,
delivered Thursday 12 March; carrots (kg, 1,20 € HT, minimum 5 kg, organic) and yoghurts
(pieces, 0,35 € HT, minimum 50, milk) sold to canteens, apples not.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marche.canteens import services
from marche.canteens.models import (
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    LineStatus,
    SkippedWeek,
    StandingOrder,
    StandingOrderLine,
)
from marche.catalog.models import Product
from marche.cycles.models import Offer
from tests.factories import OrderCycleFactory, UserFactory
from tests.factories.canteens import (
    CanteenFactory,
    CanteenOrderFactory,
    CanteenOrderLineFactory,
)
from tests.marche.canteens.conftest import PARIS, Kitchen

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def order_url(kitchen: Kitchen) -> str:
    return reverse("canteens:order_form", args=[kitchen.canteen.pk, kitchen.cycle.pk])


def sold(offer: Offer) -> Decimal:
    return Offer.objects.get(pk=offer.pk).quantity_sold


# --- access ----------------------------------------------------------------------------------


def test_a_manager_of_one_canteen_lands_on_its_space(kitchen: Kitchen) -> None:
    response = client_for(kitchen.manager).get(reverse("canteens:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("canteens:space", args=[kitchen.canteen.pk])


def test_a_manager_of_two_canteens_picks_one(kitchen: Kitchen) -> None:
    other = CanteenFactory(territory=kitchen.canteen.territory, name="Foyer Arago")
    other.managers.add(kitchen.manager)
    response = client_for(kitchen.manager).get(reverse("canteens:home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("canteens:space", args=[other.pk]) in page
    assert reverse("canteens:space", args=[kitchen.canteen.pk]) in page


def test_others_are_refused(kitchen: Kitchen) -> None:
    household = UserFactory(role="household")
    assert client_for(household).get(reverse("canteens:home")).status_code == 403
    stranger = CanteenFactory(territory=kitchen.canteen.territory)
    response = client_for(kitchen.manager).get(reverse("canteens:space", args=[stranger.pk]))
    assert response.status_code == 403
    # The farmer's canteen pages refuse a canteen manager.
    assert client_for(kitchen.manager).get(reverse("canteens:producer_index")).status_code == 403


def test_the_account_page_links_a_manager_to_the_canteen_space(kitchen: Kitchen) -> None:
    page = client_for(kitchen.manager).get(reverse("accounts:dashboard")).content.decode()
    assert reverse("canteens:space", args=[kitchen.canteen.pk]) in page


def test_the_producer_dashboard_links_to_canteen_lines_and_wholesale_prices(
    kitchen: Kitchen,
) -> None:
    page = client_for(kitchen.farmer).get(reverse("producers:dashboard")).content.decode()
    assert reverse("canteens:producer_index") in page
    assert reverse("canteens:producer_wholesale", args=[kitchen.farm.pk]) in page
    assert reverse("canteens:invoice_list_producer") in page


def test_the_account_page_links_a_coordinator_to_rounds_egalim_and_unpaid_invoices(
    kitchen: Kitchen,
) -> None:
    coordinator = UserFactory(role="coordinator", territory=kitchen.canteen.territory)
    page = client_for(coordinator).get(reverse("accounts:dashboard")).content.decode()
    for name in ("planning:index", "canteens:egalim_index", "canteens:invoice_aged"):
        assert reverse(name) in page
    household = client_for(UserFactory()).get(reverse("accounts:dashboard")).content.decode()
    assert reverse("canteens:invoice_aged") not in household


# --- the space and the order form -----------------------------------------------------------


def test_the_space_says_the_cycle_is_deliverable_or_why_not(kitchen: Kitchen) -> None:
    client = client_for(kitchen.manager)
    url = reverse("canteens:space", args=[kitchen.canteen.pk])
    page = client.get(url).content.decode()
    assert f'data-cycle="{kitchen.cycle.pk}" data-deliverable="yes"' in page
    assert "Livrable entre 07:30 et 10:00" in page
    SkippedWeek.objects.create(canteen=kitchen.canteen, week_start=date(2026, 3, 9))
    page = client.get(url).content.decode()
    assert 'data-deliverable="no"' in page
    assert 'data-reason="week_skipped"' in page
    assert "Semaine sautée" in page


def test_the_order_form_lists_the_offers_for_canteens_by_producer(
    kitchen: Kitchen, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(kitchen.manager)
    with django_assert_max_num_queries(20):
        response = client.get(order_url(kitchen))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'name="q-{kitchen.carrots.pk}"' in page
    assert f'name="q-{kitchen.yoghurts.pk}"' in page
    assert f'name="q-{kitchen.apples.pk}"' not in page  # no wholesale price
    assert "1,20 € HT / kg" in page
    assert "minimum 5 kg" in page
    assert "Reste 100 kg" in page
    assert 'data-label="BIO"' in page
    assert "Allergènes : Lait" in page
    assert page.index("Ferme du Pommier") < page.index("Laiterie des Terrils")
    assert 'inputmode="decimal"' in page


def test_a_quantity_typed_with_a_decimal_comma_places_the_order(kitchen: Kitchen) -> None:
    client = client_for(kitchen.manager)
    response = client.post(
        order_url(kitchen),
        {f"q-{kitchen.carrots.pk}": "12,5", f"q-{kitchen.yoghurts.pk}": "", "note": "Merci"},
    )
    order = CanteenOrder.objects.get(canteen=kitchen.canteen, cycle=kitchen.cycle)
    assert response.status_code == 302
    assert response["Location"] == reverse("canteens:order", args=[kitchen.canteen.pk, order.pk])
    assert [(line.name, line.quantity_ordered) for line in order.lines.all()] == [
        ("Carottes", Decimal("12.500"))
    ]
    assert order.note == "Merci"
    assert sold(kitchen.carrots) == Decimal("12.500")
    page = client.get(response["Location"]).content.decode()
    assert "À confirmer" in page
    assert "12,5 kg" in page
    assert "Total : 15,00 € HT" in page


def test_a_quantity_under_the_minimum_is_refused_at_its_field_and_changes_nothing(
    kitchen: Kitchen,
) -> None:
    response = client_for(kitchen.manager).post(
        order_url(kitchen),
        {f"q-{kitchen.carrots.pk}": "12", f"q-{kitchen.yoghurts.pk}": "20"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    message = "Yaourts nature : 50 pièces au minimum par commande de cantine."
    assert f'id="err-{kitchen.yoghurts.pk}" role="alert">{message}' in page
    assert 'aria-invalid="true"' in page
    assert 'value="20"' in page  # what was typed comes back
    assert not CanteenOrder.objects.exists()
    assert not CanteenOrderLine.objects.exists()
    assert (sold(kitchen.carrots), sold(kitchen.yoghurts)) == (Decimal("0"), Decimal("0"))


def test_a_mistyped_quantity_is_refused_in_french(kitchen: Kitchen) -> None:
    response = client_for(kitchen.manager).post(
        order_url(kitchen), {f"q-{kitchen.carrots.pk}": "douze"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    # The message names the product and stands at its field, like the other refusals.
    assert f'id="err-{kitchen.carrots.pk}" role="alert">Carottes : ' in page
    assert "doit être un nombre" in page
    assert 'value="douze"' in page
    assert not CanteenOrder.objects.exists()


def test_emptying_a_field_takes_the_line_off(kitchen: Kitchen) -> None:
    client = client_for(kitchen.manager)
    client.post(
        order_url(kitchen), {f"q-{kitchen.carrots.pk}": "10", f"q-{kitchen.yoghurts.pk}": "60"}
    )
    page = client.get(order_url(kitchen)).content.decode()
    assert f'name="q-{kitchen.carrots.pk}" value="10"' in page
    client.post(
        order_url(kitchen), {f"q-{kitchen.carrots.pk}": "", f"q-{kitchen.yoghurts.pk}": "60"}
    )
    order = CanteenOrder.objects.get()
    assert [line.name for line in order.lines.all()] == ["Yaourts nature"]
    assert sold(kitchen.carrots) == Decimal("0")


def test_cancel_before_the_cutoff_and_not_after(kitchen: Kitchen, time_machine) -> None:  # type: ignore[no-untyped-def]
    client = client_for(kitchen.manager)
    client.post(order_url(kitchen), {f"q-{kitchen.carrots.pk}": "10"})
    order = CanteenOrder.objects.get()
    cancel = reverse("canteens:order_cancel", args=[kitchen.canteen.pk, order.pk])
    detail = reverse("canteens:order", args=[kitchen.canteen.pk, order.pk])
    assert "Annuler la commande" in client.get(detail).content.decode()
    time_machine.move_to(datetime(2026, 3, 11, 20, 0, tzinfo=PARIS), tick=False)
    response = client.post(cancel, follow=True)
    assert "ne peut plus être annulée" in response.content.decode()
    order.refresh_from_db()
    assert order.status == CanteenOrderStatus.SUBMITTED
    assert sold(kitchen.carrots) == Decimal("10.000")
    assert "Annuler la commande" not in client.get(detail).content.decode()
    time_machine.move_to(datetime(2026, 3, 10, 9, 0, tzinfo=PARIS), tick=False)
    client.post(cancel)
    order.refresh_from_db()
    assert order.status == CanteenOrderStatus.CANCELLED
    assert sold(kitchen.carrots) == Decimal("0.000")
    page = client.get(detail).content.decode()
    assert "data-cancelled" in page and "data-total" not in page


def test_a_delivered_order_totals_what_arrived(kitchen: Kitchen) -> None:
    client = client_for(kitchen.manager)
    client.post(order_url(kitchen), {f"q-{kitchen.carrots.pk}": "10"})
    order = CanteenOrder.objects.get()
    # 10 kg due at 1,20 € HT, 7,5 kg arrived: the total is what will be invoiced.
    order.lines.update(quantity_delivered=Decimal("7.5"), shortfall_reason="gel")
    CanteenOrder.objects.filter(pk=order.pk).update(status=CanteenOrderStatus.DELIVERED)
    page = client.get(reverse("canteens:order", args=[kitchen.canteen.pk, order.pk])).content
    assert "Total livré : 9,00 € HT" in page.decode()


# --- standing order and skipped weeks -------------------------------------------------------


def standing_url(kitchen: Kitchen) -> str:
    return reverse("canteens:standing", args=[kitchen.canteen.pk])


def products(kitchen: Kitchen) -> tuple[Product, Product]:
    return kitchen.carrots.product, kitchen.yoghurts.product


def test_the_standing_order_is_saved_from_typed_quantities(kitchen: Kitchen) -> None:
    carrots, yoghurts = products(kitchen)
    client = client_for(kitchen.manager)
    page = client.get(standing_url(kitchen)).content.decode()
    assert f'name="q-{carrots.pk}"' in page
    assert 'value="2026-03-16"' in page  # next Monday by default
    # The coming holidays of zone B, from the calendar file.
    assert "Vacances de Printemps : du 11 avril 2026 au 26 avril 2026" in page
    response = client.post(
        standing_url(kitchen),
        {f"q-{carrots.pk}": "12,5", f"q-{yoghurts.pk}": "90", "starts_on": "2026-03-16"},
    )
    assert response.status_code == 302
    standing = StandingOrder.objects.get(canteen=kitchen.canteen)
    assert standing.starts_on == date(2026, 3, 16)
    assert standing.ends_on is None
    assert sorted((line.product.name, line.quantity) for line in standing.lines.all()) == [
        ("Carottes", Decimal("12.500")),
        ("Yaourts nature", Decimal("90.000")),
    ]
    page = client.get(standing_url(kitchen)).content.decode()
    assert f'name="q-{carrots.pk}" value="12,5"' in page


def test_a_standing_line_under_the_minimum_is_refused_and_changes_nothing(
    kitchen: Kitchen,
) -> None:
    carrots, yoghurts = products(kitchen)
    client = client_for(kitchen.manager)
    client.post(standing_url(kitchen), {f"q-{carrots.pk}": "10", "starts_on": "2026-03-16"})
    before = list(StandingOrderLine.objects.values_list("product_id", "quantity"))
    response = client.post(
        standing_url(kitchen),
        {f"q-{carrots.pk}": "3", f"q-{yoghurts.pk}": "90", "starts_on": "2026-03-16"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert (
        f'id="err-{carrots.pk}" role="alert">Carottes : 5 kg au minimum par commande de cantine.'
        in page
    )
    assert list(StandingOrderLine.objects.values_list("product_id", "quantity")) == before


def test_an_end_before_the_start_is_refused_at_the_date(kitchen: Kitchen) -> None:
    carrots, _yoghurts = products(kitchen)
    response = client_for(kitchen.manager).post(
        standing_url(kitchen),
        {f"q-{carrots.pk}": "10", "starts_on": "2026-03-16", "ends_on": "2026-03-01"},
    )
    assert response.status_code == 400
    assert "La date de fin doit venir après la date de début." in response.content.decode()
    assert not StandingOrder.objects.exists()


def test_a_week_is_skipped_then_delivered_again(kitchen: Kitchen) -> None:
    client = client_for(kitchen.manager)
    skip = reverse("canteens:week_skip", args=[kitchen.canteen.pk])
    response = client.post(skip, {"week": "2026-03-25", "reason": "Classe verte"})
    assert response.status_code == 302
    week = SkippedWeek.objects.get()
    assert (week.week_start, week.reason) == (date(2026, 3, 23), "Classe verte")
    assert (
        "Semaine du 23 mars 2026 — Classe verte"
        in client.get(standing_url(kitchen)).content.decode()
    )
    refused = client.post(skip, {"week": "2026-03-02"})
    assert refused.status_code == 400
    assert "Cette semaine est passée" in refused.content.decode()
    assert SkippedWeek.objects.count() == 1
    client.post(reverse("canteens:week_unskip", args=[kitchen.canteen.pk, "2026-03-23"]))
    assert not SkippedWeek.objects.exists()


def test_a_week_whose_order_is_placed_is_not_skipped_and_the_page_says_why(
    kitchen: Kitchen, placed: CanteenOrderLine
) -> None:
    """Skipping it would say "no delivery" while the order is still delivered and invoiced."""
    client = client_for(kitchen.manager)
    skip = reverse("canteens:week_skip", args=[kitchen.canteen.pk])
    refused = client.post(skip, {"week": kitchen.cycle.delivery_date.isoformat()})
    page = refused.content.decode()
    assert refused.status_code == 400
    assert f"La commande {placed.order.reference} est déjà passée pour cette semaine" in page
    assert not SkippedWeek.objects.exists()
    services.order_cancel(order=placed.order, user=kitchen.manager)
    assert client.post(skip, {"week": kitchen.cycle.delivery_date.isoformat()}).status_code == 302
    assert SkippedWeek.objects.count() == 1


# --- the producer's side ---------------------------------------------------------------------


@pytest.fixture
def placed(kitchen: Kitchen) -> CanteenOrderLine:
    order = services.order_place(
        canteen=kitchen.canteen,
        cycle=kitchen.cycle,
        quantities={kitchen.carrots.pk: "20"},
        user=kitchen.manager,
    )
    return order.lines.get()


def answer_url(kitchen: Kitchen, line: CanteenOrderLine) -> str:
    return reverse("canteens:producer_line_answer", args=[kitchen.farm.pk, line.pk])


def test_the_producer_sees_the_lines_to_answer(kitchen: Kitchen, placed: CanteenOrderLine) -> None:
    client = client_for(kitchen.farmer)
    index = client.get(reverse("canteens:producer_index")).content.decode()
    assert 'data-pending="1"' in index
    page = client.get(
        reverse("canteens:producer_lines", args=[kitchen.farm.pk, kitchen.cycle.pk])
    ).content.decode()
    assert "Maternelle Basly" in page
    assert "Commandé : 20 kg à 1,20 € HT / kg" in page


def test_the_producer_adjusts_a_line_with_a_note_and_the_manager_sees_it(
    kitchen: Kitchen, placed: CanteenOrderLine
) -> None:
    response = client_for(kitchen.farmer).post(
        answer_url(kitchen, placed),
        {"action": "adjust", "quantity": "12,5", "note": "Gel sur la parcelle"},
    )
    assert response.status_code == 302
    placed.refresh_from_db()
    assert (placed.status, placed.quantity_confirmed, placed.producer_note) == (
        LineStatus.ADJUSTED,
        Decimal("12.500"),
        "Gel sur la parcelle",
    )
    assert sold(kitchen.carrots) == Decimal("12.500")
    page = (
        client_for(kitchen.manager)
        .get(reverse("canteens:order", args=[kitchen.canteen.pk, placed.order_id]))
        .content.decode()
    )
    assert "Ajustée par le producteur" in page
    assert "Confirmé : 12,5 kg" in page
    assert "« Gel sur la parcelle »" in page


def test_confirm_and_refuse_buttons(kitchen: Kitchen, placed: CanteenOrderLine) -> None:
    client = client_for(kitchen.farmer)
    client.post(answer_url(kitchen, placed), {"action": "confirm", "quantity": "3"})
    placed.refresh_from_db()
    assert (placed.status, placed.quantity_confirmed) == (LineStatus.CONFIRMED, Decimal("20"))
    client.post(answer_url(kitchen, placed), {"action": "refuse", "quantity": ""})
    placed.refresh_from_db()
    assert (placed.status, placed.quantity_confirmed) == (LineStatus.REFUSED, Decimal("0"))
    assert sold(kitchen.carrots) == Decimal("0")


def test_an_answer_above_the_order_is_refused_at_its_line(
    kitchen: Kitchen, placed: CanteenOrderLine
) -> None:
    response = client_for(kitchen.farmer).post(
        answer_url(kitchen, placed), {"action": "adjust", "quantity": "25", "note": "x"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert (
        f'role="alert" id="err-{placed.pk}">Vous ne pouvez pas confirmer plus que les 20 kg '
        "commandés." in page
    )
    placed.refresh_from_db()
    assert (placed.status, placed.quantity_confirmed) == (LineStatus.PENDING, None)
    assert sold(kitchen.carrots) == Decimal("20.000")


def test_after_the_cutoff_the_lines_cannot_change(
    kitchen: Kitchen, placed: CanteenOrderLine, time_machine
) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(kitchen.cycle.closes_at + timedelta(minutes=1), tick=False)
    client = client_for(kitchen.farmer)
    page = client.get(
        reverse("canteens:producer_lines", args=[kitchen.farm.pk, kitchen.cycle.pk])
    ).content.decode()
    assert "Le cycle est clos" in page
    assert "answer-form" not in page
    response = client.post(answer_url(kitchen, placed), {"action": "refuse"})
    assert response.status_code == 400
    placed.refresh_from_db()
    assert placed.status == LineStatus.PENDING


def test_a_farmer_of_another_producer_is_refused(
    kitchen: Kitchen, placed: CanteenOrderLine
) -> None:
    outsider = UserFactory(role="farmer")
    assert (
        client_for(outsider).post(answer_url(kitchen, placed), {"action": "refuse"}).status_code
        == 403
    )
    placed.refresh_from_db()
    assert placed.status == LineStatus.PENDING


def test_wholesale_prices_and_minimums_are_set_per_product(kitchen: Kitchen) -> None:
    carrots, apples = kitchen.carrots.product, kitchen.apples.product
    url = reverse("canteens:producer_wholesale", args=[kitchen.farm.pk])
    client = client_for(kitchen.farmer)
    page = client.get(url).content.decode()
    assert f'name="p{carrots.pk}-price" value="1,20"' in page
    response = client.post(
        url,
        {
            f"p{carrots.pk}-price": "1,35",
            f"p{carrots.pk}-minimum": "4,5",
            f"p{apples.pk}-price": "2",
            f"p{apples.pk}-minimum": "10",
        },
    )
    assert response.status_code == 302
    carrots.refresh_from_db()
    apples.refresh_from_db()
    assert (carrots.wholesale_price, carrots.wholesale_minimum) == (Decimal("1.35"), Decimal("4.5"))
    assert (apples.wholesale_price, apples.wholesale_minimum) == (Decimal("2"), Decimal("10"))


def test_a_bad_wholesale_price_is_refused_and_nothing_is_saved(kitchen: Kitchen) -> None:
    carrots, apples = kitchen.carrots.product, kitchen.apples.product
    url = reverse("canteens:producer_wholesale", args=[kitchen.farm.pk])
    response = client_for(kitchen.farmer).post(
        url,
        {
            f"p{carrots.pk}-price": "0,90",
            f"p{carrots.pk}-minimum": "5",
            f"p{apples.pk}-price": "-2",
            f"p{apples.pk}-minimum": "10",
        },
    )
    assert response.status_code == 400
    assert "Un nombre négatif n'est pas accepté ici." in unescape(response.content.decode())
    carrots.refresh_from_db()
    apples.refresh_from_db()
    assert (carrots.wholesale_price, apples.wholesale_price) == (Decimal("1.2000"), None)


def test_an_empty_wholesale_price_stops_selling_to_canteens(kitchen: Kitchen) -> None:
    carrots, apples = kitchen.carrots.product, kitchen.apples.product
    client_for(kitchen.farmer).post(
        reverse("canteens:producer_wholesale", args=[kitchen.farm.pk]),
        {
            f"p{carrots.pk}-price": "",
            f"p{carrots.pk}-minimum": "5",
            f"p{apples.pk}-price": "",
            f"p{apples.pk}-minimum": "1",
        },
    )
    carrots.refresh_from_db()
    assert carrots.wholesale_price is None
    page = client_for(kitchen.manager).get(order_url(kitchen)).content.decode()
    assert f'name="q-{kitchen.carrots.pk}"' not in page


def test_the_space_names_the_holiday_and_the_missing_window(kitchen: Kitchen) -> None:
    holiday_cycle = OrderCycleFactory(
        territory=kitchen.canteen.territory,
        name="Livraison du 16 avril",
        opens_at=datetime(2026, 3, 6, 8, 0, tzinfo=PARIS),
        closes_at=datetime(2026, 4, 14, 20, 0, tzinfo=PARIS),
        delivery_date=date(2026, 4, 16),
    )
    client = client_for(kitchen.manager)
    page = unescape(
        client.get(reverse("canteens:space", args=[kitchen.canteen.pk])).content.decode()
    )
    assert f'data-cycle="{holiday_cycle.pk}" data-deliverable="no"' in page
    assert "Vacances scolaires : Vacances de Printemps." in page
    # Nothing can be ordered for it: the form says why and a post changes nothing.
    url = reverse("canteens:order_form", args=[kitchen.canteen.pk, holiday_cycle.pk])
    assert f'name="q-{kitchen.carrots.pk}"' not in client.get(url).content.decode()
    assert client.post(url, {f"q-{kitchen.carrots.pk}": "10"}).status_code == 400
    assert not CanteenOrder.objects.exists()
    kitchen.canteen.delivery_windows.filter(weekday=3).delete()
    page = client.get(reverse("canteens:space", args=[kitchen.canteen.pk])).content.decode()
    assert 'data-reason="not_a_delivery_day"' in page
    assert "Pas de créneau de livraison le jeudi." in page


def test_the_list_pages_cost_the_same_queries_however_many_orders(kitchen: Kitchen) -> None:
    def queries(client: Client, url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    manager, farmer = client_for(kitchen.manager), client_for(kitchen.farmer)
    space = reverse("canteens:space", args=[kitchen.canteen.pk])
    lines = reverse("canteens:producer_lines", args=[kitchen.farm.pk, kitchen.cycle.pk])
    services.order_place(
        canteen=kitchen.canteen,
        cycle=kitchen.cycle,
        quantities={kitchen.carrots.pk: "10"},
        user=kitchen.manager,
    )
    few = (queries(manager, space), queries(farmer, lines))
    for _ in range(3):
        order = CanteenOrderFactory(canteen=kitchen.canteen)
        CanteenOrderLineFactory(order=order)
        CanteenOrderLineFactory(order=order)
        other = CanteenFactory(territory=kitchen.canteen.territory)
        CanteenOrderLineFactory(
            order=CanteenOrderFactory(canteen=other, cycle=kitchen.cycle), offer=kitchen.carrots
        )
    assert (queries(manager, space), queries(farmer, lines)) == few


def test_the_space_links_to_the_invoices_and_the_egalim_dashboard(kitchen: Kitchen) -> None:
    page = (
        client_for(kitchen.manager)
        .get(reverse("canteens:space", args=[kitchen.canteen.pk]))
        .content.decode()
    )
    assert f'href="{reverse("canteens:invoice_list")}" data-link="invoices"' in page
    assert (
        f'href="{reverse("canteens:egalim", args=[kitchen.canteen.pk])}" data-link="egalim"' in page
    )


def test_a_cancelled_order_can_be_placed_again_before_the_cutoff(kitchen: Kitchen) -> None:
    client = client_for(kitchen.manager)
    client.post(order_url(kitchen), {f"q-{kitchen.carrots.pk}": "10"})
    order = CanteenOrder.objects.get()
    client.post(reverse("canteens:order_cancel", args=[kitchen.canteen.pk, order.pk]))
    page = client.get(order_url(kitchen)).content.decode()
    assert f'name="q-{kitchen.carrots.pk}" value=""' in page  # the cancelled lines are gone
    response = client.post(order_url(kitchen), {f"q-{kitchen.yoghurts.pk}": "60"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == CanteenOrderStatus.SUBMITTED
    assert [(line.name, line.quantity_ordered) for line in order.lines.all()] == [
        ("Yaourts nature", Decimal("60.000"))
    ]
    assert (sold(kitchen.carrots), sold(kitchen.yoghurts)) == (Decimal("0"), Decimal("60"))


def test_the_standing_order_page_says_when_a_product_is_in_season(kitchen: Kitchen) -> None:
    Product.objects.filter(pk=kitchen.carrots.product_id).update(season_months=[10, 11, 1])
    page = client_for(kitchen.manager).get(standing_url(kitchen)).content.decode()
    assert "Livré en saison : janvier, octobre, novembre." in page
