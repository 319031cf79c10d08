"""EGalim shares of a canteen's year: golden figures computed by hand from stated values.

Each purchase is a delivered ``CanteenOrderLine``: its value is quantity delivered × unit
price HT rounded to the cent, it counts once under its highest label as snapshot at the
sale, and "local" counts for nothing toward the 50 %.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marche.accounts.models import Role
from marche.canteens.egalim import (
    InvalidYear,
    Target,
    departement_of,
    egalim_overview,
    egalim_year,
    is_local,
    parse_year,
)
from marche.canteens.models import CanteenOrder, CanteenOrderStatus
from marche.catalog.models import (
    EgalimLabel,
    EgalimTier,
    ProductCertification,
    ProductFamily,
    Unit,
)
from marche.producers.models import Producer
from tests.factories import (
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    TerritoryFactory,
    UserFactory,
)
from tests.factories.canteens import (
    CanteenFactory,
    CanteenOrderFactory,
    CanteenOrderLineFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal


def order_for(canteen, day: date, **kwargs) -> CanteenOrder:  # type: ignore[no-untyped-def]
    """The canteen's order delivered on ``day`` (one per cycle, so one cycle per day)."""
    order = CanteenOrder.objects.filter(canteen=canteen, delivery_date=day).first()
    if order is None:
        cycle = OrderCycleFactory(territory=canteen.territory, delivery_date=day)
        order = CanteenOrderFactory(canteen=canteen, cycle=cycle, **kwargs)
    return order


def purchase(  # type: ignore[no-untyped-def]
    canteen,
    day: date,
    *,
    name: str,
    family: str,
    labels: list[str],
    delivered: str | None,
    price: str,
    producer: Producer | None = None,
    origin: str = "FRANCE",
    unit: str = Unit.KG,
    order: CanteenOrder | None = None,
):
    """A line delivered (or not, ``delivered=None``) to the canteen on ``day``."""
    order = order or order_for(canteen, day)
    producer = producer or ProducerFactory(territory=canteen.territory, postcode="59000")
    product = ProductFactory(producer=producer, name=name, family=family, unit=unit)
    offer = OfferFactory(cycle=order.cycle, product=product)
    return CanteenOrderLineFactory(
        order=order,
        offer=offer,
        name=name,
        family=family,
        labels=labels,
        origin=origin,
        quantity_ordered=max(D(delivered or "1"), D("1")),
        quantity_delivered=None if delivered is None else D(delivered),
        unit_price_ht=D(price),
    )


# --- the golden rules ---------------------------------------------------------------------


def test_a_product_both_organic_and_fair_trade_counts_once_as_organic():
    canteen = CanteenFactory()
    purchase(
        canteen,
        date(2026, 3, 2),
        name="Chocolat noir",
        family=ProductFamily.OTHER,
        labels=["COMMERCE_EQUITABLE", "BIO"],
        delivered="10",
        price="2.0000",
    )

    report = egalim_year(canteen=canteen, year=2026)

    assert report.total == D("20.00")
    assert report.figures.by_tier[EgalimTier.ORGANIC] == D("20.00")
    assert report.figures.by_tier[EgalimTier.OTHER] == D("0")
    assert report.organic.value == D("20.00")
    assert report.egalim.value == D("20.00")  # once, not 40
    assert report.organic.percent == D("100")
    assert report.egalim.percent == D("100")


def test_a_product_only_local_counts_for_nothing_toward_the_fifty_percent():
    canteen = CanteenFactory(postcode="62750")
    baker = ProducerFactory(territory=canteen.territory, postcode="62300")  # Lens, same dép.
    purchase(
        canteen,
        date(2026, 3, 2),
        name="Pain de campagne",
        family=ProductFamily.BAKERY,
        labels=[],
        delivered="75",
        price="1.1000",
        producer=baker,
        unit=Unit.PIECE,
    )

    report = egalim_year(canteen=canteen, year=2026)

    assert report.total == D("82.50")
    assert report.figures.local == D("82.50")  # shown apart…
    assert report.figures.short_circuit == D("82.50")
    assert report.egalim.value == D("0")  # …and counts for nothing
    assert report.egalim.percent == D("0")
    assert not report.egalim.is_met
    assert report.figures.by_tier[None] == D("82.50")


def test_a_label_that_lapsed_after_the_sale_still_counts():
    canteen = CanteenFactory()
    producer = ProducerFactory(territory=canteen.territory)
    product = ProductFactory(producer=producer, name="Lait entier", family=ProductFamily.DAIRY)
    ProductCertification.objects.create(
        product=product,
        label=EgalimLabel.BIO,
        certificate_reference="FR-BIO-01-2025-001",
        valid_from=date(2025, 1, 1),
        valid_until=date(2026, 3, 31),
    )
    with time_machine.travel(date(2026, 3, 2), tick=False):
        order = order_for(canteen, date(2026, 3, 3))
        # The factory snapshots the labels valid on the day of sale, as the service does.
        line = CanteenOrderLineFactory(
            order=order,
            offer=OfferFactory(cycle=order.cycle, product=product),
            quantity_delivered=D("40"),
            unit_price_ht=D("1.0500"),
        )
    assert line.labels == ["BIO"]

    with time_machine.travel(date(2026, 6, 15), tick=False):
        assert not product.is_organic  # the certificate has lapsed since
        report = egalim_year(canteen=canteen, year=2026)

    assert report.total == D("42.00")
    assert report.organic.value == D("42.00")
    assert report.organic.is_met


def test_a_label_obtained_after_the_sale_does_not_count():
    canteen = CanteenFactory()
    line = purchase(
        canteen,
        date(2026, 3, 2),
        name="Pommes",
        family=ProductFamily.FRUIT_VEGETABLES,
        labels=[],
        delivered="10",
        price="1.5000",
    )
    ProductCertification.objects.create(
        product=line.product,
        label=EgalimLabel.BIO,
        certificate_reference="FR-BIO-01-2026-777",
        valid_from=date(2026, 3, 10),
        valid_until=date(2027, 3, 10),
    )

    report = egalim_year(canteen=canteen, year=2026)

    assert report.organic.value == D("0")
    assert report.total == D("15.00")


# --- a realistic month --------------------------------------------------------------------

# A nursery-school canteen's November 2026 (90 meals a day), as (name, family, labels,
# quantity delivered, unit price HT, local producer?). Values are rounded per line, half up.
NOVEMBER = [
    ("Carottes", ProductFamily.FRUIT_VEGETABLES, ["BIO"], "42.5", "1.8500", False),  # 78.63
    ("Pommes", ProductFamily.FRUIT_VEGETABLES, ["HVE"], "60", "1.4200", False),  # 85.20
    ("Chocolat", ProductFamily.OTHER, ["BIO", "COMMERCE_EQUITABLE"], "3", "12.3000", False),
    ("Poulet", ProductFamily.MEAT_POULTRY, ["LABEL_ROUGE"], "18.4", "9.8750", False),  # 181.70
    ("Comté", ProductFamily.DAIRY, ["AOCAOP"], "4.25", "14.2000", False),  # 60.35
    ("Lait", ProductFamily.DAIRY, ["BIO"], "120", "1.0500", False),  # 126.00
    ("Pain", ProductFamily.BAKERY, [], "75", "1.1000", True),  # 82.50, local only
    ("Pommes de terre", ProductFamily.FRUIT_VEGETABLES, [], "100", "0.6500", True),  # 65.00
    ("Cabillaud", ProductFamily.SEAFOOD, ["PECHE_DURABLE"], "7.5", "16.9000", False),  # 126.75
    ("Jus de pomme", ProductFamily.DRINKS, ["PERFORMANCE"], "24", "2.3125", False),  # 55.50
]


def build_november(canteen) -> None:  # type: ignore[no-untyped-def]
    local = ProducerFactory(territory=canteen.territory, postcode="62750")
    distant = ProducerFactory(territory=canteen.territory, postcode="59000")
    days = [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23)]
    for index, (name, family, labels, delivered, price, is_local_) in enumerate(NOVEMBER):
        purchase(
            canteen,
            days[index % len(days)],
            name=name,
            family=family,
            labels=labels,
            delivered=delivered,
            price=price,
            producer=local if is_local_ else distant,
        )
    # What counts for nothing: a line refused (0 delivered), a line not delivered yet, a
    # cancelled order, and a purchase of the year before.
    purchase(
        canteen,
        days[0],
        name="Poires",
        family=ProductFamily.FRUIT_VEGETABLES,
        labels=["BIO"],
        delivered="0",
        price="2.0000",
    )
    purchase(
        canteen,
        days[1],
        name="Navets",
        family=ProductFamily.FRUIT_VEGETABLES,
        labels=["BIO"],
        delivered=None,
        price="2.0000",
    )
    cancelled = order_for(canteen, date(2026, 11, 30), status=CanteenOrderStatus.CANCELLED)
    purchase(
        canteen,
        date(2026, 11, 30),
        name="Beurre",
        family=ProductFamily.DAIRY,
        labels=["BIO"],
        delivered="5",
        price="9.0000",
        order=cancelled,
    )
    purchase(
        canteen,
        date(2025, 12, 15),
        name="Clémentines",
        family=ProductFamily.FRUIT_VEGETABLES,
        labels=["BIO"],
        delivered="30",
        price="2.5000",
    )


def test_exact_percentages_on_a_realistic_month(django_assert_num_queries):
    canteen = CanteenFactory(postcode="62750", organic_target_percent=D("20"))
    build_november(canteen)

    with django_assert_num_queries(1):
        report = egalim_year(canteen=canteen, year=2026)

    organic = D("78.63") + D("36.90") + D("126.00")  # carrots (78.625 rounds up), chocolate, milk
    siqo = D("181.70") + D("60.35")
    other = D("85.20") + D("126.75")
    externalities = D("55.50")
    unlabelled = D("82.50") + D("65.00")
    total = organic + siqo + other + externalities + unlabelled
    assert (organic, siqo, other, total) == (D("241.53"), D("242.05"), D("211.95"), D("898.53"))

    assert report.total == total
    assert report.figures.lines == 10
    assert report.figures.by_tier == {
        EgalimTier.ORGANIC: organic,
        EgalimTier.SIQO: siqo,
        EgalimTier.OTHER: other,
        EgalimTier.EXTERNALITIES: externalities,
        None: unlabelled,
    }
    assert report.egalim.value == D("751.03")
    # Exact ratios, rounded only for display (down to the tenth).
    assert report.organic.percent == organic * 100 / total
    assert report.organic.percent_shown == D("26.8")  # 26.8805…
    assert report.egalim.percent_shown == D("83.5")  # 83.5842…
    assert report.organic.is_met and report.egalim.is_met
    assert report.organic_own is None  # the canteen's own target is the law's
    assert report.figures.local == D("147.50")
    assert report.figures.local_percent_shown == D("16.4")  # 16.4157…
    assert report.figures.short_circuit == total

    families = {row.code: row.figures for row in report.families}
    assert list(families) == list(ProductFamily.values)
    vegetables = families[ProductFamily.FRUIT_VEGETABLES]
    assert vegetables.total == D("228.83")
    assert vegetables.organic == D("78.63")
    assert vegetables.egalim == D("163.83")
    assert vegetables.organic_percent_shown == D("34.3")  # 34.3617…
    assert families[ProductFamily.DAIRY].organic == D("126.00")
    assert families[ProductFamily.DAIRY].egalim == D("186.35")
    assert families[ProductFamily.BAKERY].egalim == D("0")
    assert families[ProductFamily.CHARCUTERIE].total == D("0")
    assert sum(f.total for f in families.values()) == total

    # December 2025's purchase is in 2025 only.
    assert egalim_year(canteen=canteen, year=2025).total == D("75.00")


def test_the_computation_is_one_query_whatever_the_number_of_lines(django_assert_num_queries):
    canteen = CanteenFactory()
    build_november(canteen)
    for week in range(20):
        purchase(
            canteen,
            date(2026, 1, 5 + week % 20),
            name=f"Légume {week}",
            family=ProductFamily.FRUIT_VEGETABLES,
            labels=["BIO"],
            delivered="1",
            price="1.0000",
        )

    with django_assert_num_queries(1):
        report = egalim_year(canteen=canteen, year=2026)
    assert report.figures.lines == 30


def test_the_canteens_own_organic_target_is_shown_beside_the_law():
    canteen = CanteenFactory(organic_target_percent=D("100"))
    build_november(canteen)

    report = egalim_year(canteen=canteen, year=2026)

    assert report.organic.target == D("20") and report.organic.is_met
    assert report.organic_own is not None
    assert report.organic_own.target == D("100")
    assert not report.organic_own.is_met


def test_what_is_missing_to_meet_a_target_counts_the_purchase_in_the_whole():
    target = Target(name="Bio", value=D("10"), total=D("100"), target=D("20"))
    # (10 + x) / (100 + x) = 20 % gives x = 12.50
    assert target.missing == D("12.50")
    assert (target.value + target.missing) * 100 == 20 * (target.total + target.missing)
    assert Target(name="Bio", value=D("20"), total=D("100"), target=D("20")).is_met
    assert not Target(name="Bio", value=D("19.99"), total=D("100"), target=D("20")).is_met
    assert not Target(name="Bio", value=D("0"), total=D("0"), target=D("20")).is_met


def test_an_empty_year_has_no_share():
    canteen = CanteenFactory()
    report = egalim_year(canteen=canteen, year=2026)
    assert report.is_empty
    assert report.total == D("0")
    assert report.organic.percent is None
    assert not report.egalim.is_met


# --- local, years ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postcode", "departement"),
    [
        ("62750", "62"),
        ("59000", "59"),
        ("20000", "2A"),
        ("20167", "2A"),
        ("20200", "2B"),
        ("97110", "971"),
        ("", ""),
        ("6275", ""),
        ("62 750", "62"),
        ("٦٢٧٥٠", ""),
    ],
)
def test_the_departement_is_read_from_the_postcode(postcode, departement):
    assert departement_of(postcode) == departement


def test_local_needs_both_postcodes():
    assert is_local(producer_postcode="62300", canteen_postcode="62750")
    assert not is_local(producer_postcode="59000", canteen_postcode="62750")
    assert not is_local(producer_postcode="", canteen_postcode="")


@pytest.mark.parametrize("text", ["20266", "deux", "1999", "2101", "2026.0", "²⁰²⁶"])
def test_a_bad_year_is_refused_with_a_french_message(text):
    with pytest.raises(InvalidYear) as raised:
        parse_year(text, default=2026)
    assert raised.value.code == "invalid_year"
    assert "année" in raised.value.message


def test_no_year_is_this_year():
    assert parse_year(None, default=2026) == 2026
    assert parse_year(" 2025 ", default=2026) == 2025


# --- the page ---------------------------------------------------------------------------------


def dashboard(canteen, year: int | None = 2026) -> str:  # type: ignore[no-untyped-def]
    url = reverse("canteens:egalim", kwargs={"canteen_id": canteen.pk})
    return url if year is None else f"{url}?annee={year}"


def test_the_manager_reads_every_figure_without_javascript(client):
    manager = UserFactory(role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(postcode="62750", managers=[manager])
    build_november(canteen)
    client.force_login(manager)

    response = client.get(dashboard(canteen))

    assert response.status_code == 200
    html = response.content.decode()
    assert "26,8&nbsp;%" in html  # organic
    assert "83,5&nbsp;%" in html  # EGalim
    assert "898,53 €" in html
    assert "241,53 €" in html
    assert "Objectif de la loi : 20 %" in html and "Objectif de la loi : 50 %" in html
    assert 'width="26.8"' in html  # the gauge is drawn by the server, with a dot
    assert 'x1="20.0"' in html and 'x1="50.0"' in html
    assert "Fruits et légumes" in html and "228,83 €" in html
    assert "147,50 €" in html  # local, shown apart
    # Chart.js from the project's own static files, and the data it draws.
    assert '<script defer src="/static/vendor/chartjs/chart.umd.min.js"></script>' in html
    assert 'id="egalim-chart-data"' in html
    assert "cdn" not in html.lower()
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp


def test_the_year_switch_shows_another_year(client):
    manager = UserFactory(role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(managers=[manager])
    build_november(canteen)
    client.force_login(manager)

    html = client.get(dashboard(canteen, 2025)).content.decode()

    assert "75,00 €" in html
    assert '<option value="2026">' in html and '<option value="2025" selected>' in html
    assert "?annee=2024" in html and "?annee=2026" in html


def test_an_empty_year_says_so(client):
    manager = UserFactory(role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(managers=[manager])
    client.force_login(manager)

    html = client.get(dashboard(canteen, 2024)).content.decode()

    assert "Aucun achat livré à cette cantine en 2024" in html
    assert "chart.umd.min.js" not in html


def test_a_bad_year_gets_the_french_message(client):
    manager = UserFactory(role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(managers=[manager])
    client.force_login(manager)

    response = client.get(dashboard(canteen) + "0")

    assert response.status_code == 400
    assert "Choisissez une année entre 2019 et 2100" in response.content.decode()


def test_coordinators_of_the_territory_see_it_others_do_not(client):
    canteen = CanteenFactory()
    other_territory = TerritoryFactory()
    allowed = [
        UserFactory(role=Role.COORDINATOR, territory=canteen.territory),
        UserFactory(role=Role.COORDINATOR, territory=None),
    ]
    refused = [
        UserFactory(role=Role.CANTEEN_MANAGER),  # manager of no canteen, or another one
        UserFactory(role=Role.HOUSEHOLD, territory=canteen.territory),
        UserFactory(role=Role.FARMER, territory=canteen.territory),
    ]
    for user in allowed:
        client.force_login(user)
        assert client.get(dashboard(canteen)).status_code == 200, user.email
    for user in refused:
        client.force_login(user)
        assert client.get(dashboard(canteen)).status_code == 403, user.email
    # another territory's coordinator is not told the canteen exists
    client.force_login(UserFactory(role=Role.COORDINATOR, territory=other_territory))
    assert client.get(dashboard(canteen)).status_code == 404
    exported = client.post(reverse("canteens:egalim_export", kwargs={"canteen_id": canteen.pk}))
    assert exported.status_code == 404


def test_anonymous_people_are_sent_to_log_in_and_unknown_canteens_are_404(client):
    canteen = CanteenFactory()
    response = client.get(dashboard(canteen))
    assert response.status_code == 302
    assert "/compte/connexion/" in response["Location"]

    client.force_login(UserFactory(role=Role.COORDINATOR, territory=None))
    missing = reverse("canteens:egalim", kwargs={"canteen_id": canteen.pk + 1000})
    assert client.get(missing).status_code == 404


def test_the_page_makes_as_many_queries_for_a_month_as_for_a_year(client):
    manager = UserFactory(role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(managers=[manager])
    build_november(canteen)
    client.force_login(manager)
    with CaptureQueriesContext(connection) as month:
        assert client.get(dashboard(canteen)).status_code == 200

    for week in range(40):
        purchase(
            canteen,
            date(2026, 1 + week % 10, 5),
            name=f"Légume {week}",
            family=ProductFamily.FRUIT_VEGETABLES,
            labels=["BIO"],
            delivered="1",
            price="1.0000",
        )
    with CaptureQueriesContext(connection) as year:
        assert client.get(dashboard(canteen)).status_code == 200

    assert len(year) == len(month)


def test_coordinators_list_their_territorys_canteens_with_the_years_shares(
    client, django_assert_num_queries
):
    first = CanteenFactory(name="Maternelle Basly", postcode="62750")
    second = CanteenFactory(name="Résidence", territory=first.territory, siret="")
    elsewhere = CanteenFactory(name="Ailleurs")
    build_november(first)
    build_november(elsewhere)
    client.force_login(UserFactory(role=Role.COORDINATOR, territory=first.territory))

    response = client.get(reverse("canteens:egalim_index") + "?annee=2026")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Maternelle Basly" in html and "Résidence" in html and "Ailleurs" not in html
    assert "898,53 €" in html and "26,8&nbsp;%" in html and "83,5&nbsp;%" in html
    assert "sans SIRET" in html
    assert f"/cantine/{first.pk}/egalim/?annee=2026" in html
    assert f"/cantine/{second.pk}/egalim/?annee=2026" in html
    with django_assert_num_queries(1):
        rows = egalim_overview(canteens=[first, second, elsewhere], year=2026)
    assert [figures.total for _canteen, figures in rows] == [
        D("898.53"),
        D("0"),
        D("898.53"),
    ]


def test_a_manager_of_one_canteen_goes_straight_to_its_dashboard(client):
    manager = UserFactory(role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(managers=[manager])
    client.force_login(manager)

    response = client.get(reverse("canteens:egalim_index") + "?annee=2025")

    assert response.status_code == 302
    assert response["Location"] == f"/cantine/{canteen.pk}/egalim/?annee=2025"
    client.force_login(UserFactory(role=Role.HOUSEHOLD))
    assert client.get(reverse("canteens:egalim_index")).status_code == 403
