from __future__ import annotations

import io
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse

from logistics.models import Depot, DriverShift, Vehicle
from marche.accounts.models import Role, User
from marche.canteens.models import Canteen
from marche.catalog.models import (
    Allergen,
    EgalimLabel,
    Origin,
    Product,
    ProductCertification,
    ProductVariant,
    Unit,
)
from marche.catalog.selectors import product_best_label, product_labels_valid_on
from marche.cycles.models import Basket, BasketItem, CycleSchedule, Offer, OrderCycle
from marche.demo.loaders import DEMO_PASSWORD
from marche.demo.spec import DEFAULT_SPEC
from marche.producers.models import Producer, ProducerKind
from marche.relays.models import PickupSlot, RelayDay, RelayOpeningHours, RelayPoint
from marche.territories.models import Territory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
# A Thursday morning, between the Tuesday 20:00 cutoff and the Friday 08:00 opening.
THURSDAY = datetime(2026, 11, 26, 10, 0, tzinfo=PARIS)

MODELS = (
    Territory,
    Producer,
    Product,
    ProductVariant,
    ProductCertification,
    RelayPoint,
    RelayOpeningHours,
    RelayDay,
    PickupSlot,
    Canteen,
    Vehicle,
    DriverShift,
    User,
    CycleSchedule,
    OrderCycle,
    Offer,
    Basket,
    BasketItem,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def open_cycle() -> OrderCycle:
    """The cycle open at load time: the latest delivery (the others are the canteens' past)."""
    return OrderCycle.objects.latest("delivery_date")


def load(**options: object) -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(autouse=True)
def frozen_time():  # type: ignore[no-untyped-def]
    with time_machine.travel(THURSDAY, tick=False) as traveller:
        yield traveller


EXPECTED_COUNTS = {
    "Territory": 1,
    "Producer": 5,
    "Product": 20,
    "ProductVariant": 2,
    # 3 + 5 + 3 organic products of the Bioloos farms, 1 "fermier", 9 expired HVE.
    "ProductCertification": 21,
    "RelayPoint": 10,
    # Pickups from Monday to Saturday, 16:00-19:00.
    "RelayOpeningHours": 60,
    "RelayDay": 10,
    "PickupSlot": 60,
    "Canteen": 7,
    "Vehicle": 4,
    # Each of the 4 vehicles has its driver from Monday to Saturday.
    "DriverShift": 24,
    # A household, a solidarity household, a farmer, two canteen managers, 4 drivers, a
    # relay point's keeper, a coordinator.
    "User": 12,
    "CycleSchedule": 1,
    # The open cycle and the canteens' history: the nursery school's last four Thursdays out
    # of zone B's holidays (19, 12, 5 November, 22 October; 29 October is in the Toussaint
    # holidays), the seniors' residence's last two.
    "OrderCycle": 5,
    # Delivered on 3 December: 20 products less strawberries, lettuce, parsley, chives; then
    # the canteens' history: 8 products a week for the school, apples twice for the residence.
    "Offer": 50,
    "Basket": 2,
    "BasketItem": 9,
}


def test_demo_builds_the_loos_en_gohelle_territory() -> None:
    output = load()
    assert counts() == EXPECTED_COUNTS
    territory = Territory.objects.get()
    assert (territory.name, territory.insee_code, territory.local_currency_code) == (
        "Loos-en-Gohelle",
        "62528",
        "MAN",
    )
    assert (territory.latitude, territory.longitude) == (Decimal("50.458000"), Decimal("2.792000"))
    assert "mot de passe : " + DEMO_PASSWORD in output
    assert "Cycle ouvert : Livraison du jeudi 03/12/2026, 16 offres, 2 paniers composés" in output
    assert "solidaire@demo.test" in output
    assert "coordination@demo.test" in output


def test_the_demo_accounts_are_listed_with_their_roles_in_french() -> None:
    output = load()
    listed = output.split("Comptes de démonstration")[1].splitlines()[1:]
    rows = [line.split() for line in listed]
    assert ["Foyer", "foyer@demo.test"] in rows
    assert ["Producteur", "producteur@demo.test"] in rows
    assert ["Coordinateur", "coordination@demo.test"] in rows
    assert any(row[:3] == ["Gestionnaire", "de", "cantine"] for row in rows)
    assert not any(word in output for word in ("household", "farmer", "canteen_manager"))


def test_relay_points_stand_at_real_places() -> None:
    load()
    relay = RelayPoint.objects.get(slug="loos-bureau-de-poste")
    # La Poste site "LOOS EN GOHELLE BP", 22 rue Roger Salengro (places-lensois.csv, P023).
    assert (relay.latitude, relay.longitude) == (Decimal("50.456204"), Decimal("2.793448"))
    assert relay.address == "22 Rue Roger Salengro"
    assert relay.city == "Loos-en-Gohelle"
    assert [str(hours) for hours in relay.opening_hours.order_by("weekday")] == [
        f"{day} 16:00–19:00"
        for day in ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi")
    ]
    assert (relay.capacity_per_day, relay.slot_minutes, relay.slot_capacity) == (40, 30, 8)
    slots = PickupSlot.objects.filter(relay_point=relay, date=date(2026, 12, 3))
    assert [(slot.starts_at, slot.capacity) for slot in slots.order_by("starts_at")] == [
        (time(16, 0), 8),
        (time(16, 30), 8),
        (time(17, 0), 8),
        (time(17, 30), 8),
        (time(18, 0), 8),
        (time(18, 30), 8),
    ]


def test_bioloos_collective_and_its_farms() -> None:
    load()
    bioloos = Producer.objects.get(slug="bioloos")
    assert bioloos.kind == ProducerKind.COLLECTIVE
    assert sorted(bioloos.member_farms.values_list("slug", flat=True)) == [
        "ferme-de-la-plaine",
        "ferme-des-terrils",
        "ferme-du-chemin-vert",
    ]
    assert Producer.objects.get(slug="micro-ferme-cocagne").kind == ProducerKind.MICRO_FARM
    strawberries = Product.objects.get(slug="fraises")
    assert (strawberries.unit, strawberries.unit_price, strawberries.season_months) == (
        "piece",
        Decimal("4.20"),
        [5, 6, 7],
    )


def test_one_account_per_role_linked_to_what_it_acts_on() -> None:
    load()
    assert sorted(set(User.objects.values_list("role", flat=True))) == sorted(Role.values)
    farmer = User.objects.get(role=Role.FARMER)
    assert list(farmer.producers.values_list("slug", flat=True)) == ["ferme-du-chemin-vert"]
    manager = User.objects.get(email="cantine@demo.test")
    assert list(manager.managed_canteens.values_list("slug", flat=True)) == ["college-rene-cassin"]
    manager = User.objects.get(email="cantine-maternelle@demo.test")
    assert list(manager.managed_canteens.values_list("slug", flat=True)) == [
        "cantine-maternelle-loos"
    ]
    keeper = User.objects.get(role=Role.RELAY_KEEPER)
    assert list(keeper.kept_relay_points.values_list("slug", flat=True)) == ["loos-bureau-de-poste"]
    assert all(user.check_password(DEMO_PASSWORD) for user in User.objects.all())
    assert list(User.objects.filter(is_staff=True).values_list("role", flat=True)) == [
        "coordinator"
    ]


def test_rerunning_changes_nothing() -> None:
    load()
    before = counts()
    ids = sorted(RelayPoint.objects.values_list("pk", flat=True))
    offer_ids = sorted(Offer.objects.values_list("pk", flat=True))
    Producer.objects.filter(slug="bioloos").update(name="Renommé")
    load()
    assert counts() == before == EXPECTED_COUNTS
    assert sorted(RelayPoint.objects.values_list("pk", flat=True)) == ids
    assert sorted(Offer.objects.values_list("pk", flat=True)) == offer_ids
    assert Producer.objects.get(slug="bioloos").name == "Bioloos"


def test_rerunning_keeps_the_stock_already_sold(frozen_time) -> None:  # type: ignore[no-untyped-def]
    load()
    Offer.objects.filter(product__slug="carottes").update(quantity_sold=Decimal("7"))
    frozen_time.shift(3600)
    load()
    carrots = Offer.objects.get(product__slug="carottes", cycle=open_cycle())
    assert (carrots.quantity_available, carrots.quantity_sold) == (Decimal("120"), Decimal("7"))


def test_canteens_are_named_in_the_spec() -> None:
    load()
    assert list(Canteen.objects.order_by("name").values_list("name", flat=True)) == [
        "Cantine de l'école maternelle de Loos-en-Gohelle",
        "Cantine du collège Jean Jaurès",
        "Cantine du collège Jean Zay",
        "Cantine du collège Langevin-Wallon",
        "Cantine du collège Pierre et Marie Curie",
        "Cantine du collège René Cassin",
        "Résidence autonomie (foyer-logement) de Loos-en-Gohelle",
    ]


def test_relay_points_the_depot_and_the_canteens_have_an_illustrative_phone() -> None:
    load()
    phones = [
        *RelayPoint.objects.order_by("slug").values_list("phone", flat=True),
        *Canteen.objects.order_by("slug").values_list("phone", flat=True),
        *Depot.objects.values_list("phone", flat=True),
    ]
    assert len(phones) == 18
    assert all(phone.startswith("03 53 01 ") for phone in phones)
    assert len(set(phones)) == 18
    relay = RelayPoint.objects.get(slug="loos-bureau-de-poste")
    assert (relay.contact_name, relay.phone) == ("", "03 53 01 10 01")
    assert Depot.objects.get().contact == "Accueil de la plateforme · 03 53 01 30 01"


def test_labels_allergens_and_origin_of_the_catalogue() -> None:
    load()
    on = THURSDAY.date()
    potatoes = Product.objects.get(slug="pommes-de-terre")
    assert product_labels_valid_on(product=potatoes, on=on) == [EgalimLabel.BIO]
    certification = potatoes.certifications.get()
    assert (certification.certificate_reference, certification.valid_from) == (
        "FR-BIO-01 DEMO-2026-0101",
        date(2026, 1, 1),
    )
    assert certification.valid_until == date(2027, 12, 31)
    assert (potatoes.origin, potatoes.origin_detail) == (Origin.FRANCE, "Loos-en-Gohelle")
    eggs = Product.objects.get(slug="oeufs-plein-air")
    assert product_labels_valid_on(product=eggs, on=on) == [EgalimLabel.BIO, EgalimLabel.FERMIER]
    assert product_best_label(product=eggs, on=on) == EgalimLabel.BIO
    assert eggs.allergens == [Allergen.EGGS]
    # The micro-farm's HVE certificate ran out in February 2025: it counts for nothing now.
    jam = Product.objects.get(slug="confiture-fraises")
    assert product_best_label(product=jam, on=on) is None
    assert product_best_label(product=jam, on=date(2024, 6, 1)) == EgalimLabel.HVE
    assert jam.allergens == []
    soup = Product.objects.get(slug="soupe-legumes")
    assert (soup.allergens, soup.allergen_labels()) == (["celery"], ["Céleri"])
    assert Product.objects.get(slug="farine-ble-t80").allergen_labels() == [
        "Céréales contenant du gluten"
    ]
    assert Product.objects.get(slug="poireaux").origin_detail == "Hulluch"


def test_variants_and_variable_weight() -> None:
    load()
    potatoes = Product.objects.get(slug="pommes-de-terre")
    assert [
        (variant.name, variant.content, variant.discount_percent)
        for variant in potatoes.variants.all()
    ] == [
        ("Sac de 1 kg", Decimal("1.000"), Decimal("0.00")),
        ("Cagette de 5 kg", Decimal("5.000"), Decimal("10.00")),
    ]
    squash = Product.objects.get(slug="potimarron")
    assert (
        squash.unit,
        squash.unit_price,
        squash.is_variable_weight,
        squash.estimated_weight_kg,
    ) == (Unit.PIECE, Decimal("2.90"), True, Decimal("1.200"))


def test_an_open_cycle_with_offers_in_season_and_composed_baskets() -> None:
    load()
    schedule = CycleSchedule.objects.get()
    assert (
        schedule.delivery_weekday,
        schedule.opens_weekday,
        schedule.opens_time,
        schedule.closes_weekday,
        schedule.closes_time,
    ) == (3, 4, time(8, 0), 1, time(20, 0))
    cycle = open_cycle()
    assert cycle.schedule == schedule
    assert cycle.is_open(THURSDAY)
    # Loaded between a cutoff and the next opening: the cycle opens early, at midnight.
    assert (cycle.opens_at, cycle.closes_at, cycle.delivery_date) == (
        datetime(2026, 11, 26, 0, 0, tzinfo=PARIS),
        datetime(2026, 12, 1, 20, 0, tzinfo=PARIS),
        date(2026, 12, 3),
    )
    assert cycle.name == "Livraison du jeudi 03/12/2026"
    carrots = cycle.offers.get(product__slug="carottes")
    assert (carrots.unit_price, carrots.quantity_available) == (Decimal("2.60"), Decimal("120"))
    assert not cycle.offers.filter(product__slug__in=["fraises", "laitue"]).exists()
    baskets = {basket.name: basket for basket in cycle.baskets.all()}
    assert {name: (b.price, b.solidarity_price) for name, b in baskets.items()} == {
        "Panier légumes": (Decimal("15.00"), Decimal("7.50")),
        "Petit panier": (Decimal("9.00"), Decimal("4.50")),
    }
    assert [
        (item.offer.product.slug, item.quantity)
        for item in baskets["Panier légumes"].items.order_by("pk")
    ] == [
        ("pommes-de-terre", Decimal("1.500")),
        ("carottes", Decimal("1.000")),
        ("poireaux", Decimal("1.000")),
        ("chicons", Decimal("0.500")),
        ("oignons-jaunes", Decimal("0.500")),
    ]
    assert [
        (item.offer.product.slug, item.quantity)
        for item in baskets["Petit panier"].items.order_by("pk")
    ] == [
        ("pommes-de-terre", Decimal("1.000")),
        ("carottes", Decimal("0.500")),
        ("poireaux", Decimal("0.500")),
        ("mache", Decimal("1.000")),
    ]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 27, 8, 0, tzinfo=PARIS),  # the Friday opening itself
        datetime(2026, 11, 28, 9, 0, tzinfo=PARIS),  # a Saturday
        datetime(2026, 12, 1, 19, 59, tzinfo=PARIS),  # just before the Tuesday cutoff
    ],
)
def test_in_an_opening_window_the_cycle_keeps_its_scheduled_opening(
    frozen_time,  # type: ignore[no-untyped-def]
    moment: datetime,
) -> None:
    frozen_time.move_to(moment)
    load()
    cycle = open_cycle()
    assert (cycle.opens_at, cycle.closes_at, cycle.delivery_date) == (
        datetime(2026, 11, 27, 8, 0, tzinfo=PARIS),
        datetime(2026, 12, 1, 20, 0, tzinfo=PARIS),
        date(2026, 12, 3),
    )


def test_a_tuesday_evening_load_opens_the_following_cycle(frozen_time) -> None:  # type: ignore[no-untyped-def]
    frozen_time.move_to(datetime(2026, 12, 1, 20, 0, tzinfo=PARIS))  # the cutoff itself
    load()
    cycle = open_cycle()
    assert (cycle.opens_at, cycle.closes_at, cycle.delivery_date) == (
        datetime(2026, 12, 1, 0, 0, tzinfo=PARIS),
        datetime(2026, 12, 8, 20, 0, tzinfo=PARIS),
        date(2026, 12, 10),
    )


def test_one_household_pays_the_solidarity_price_the_other_does_not() -> None:
    load()
    on = date(2026, 12, 3)
    regular = User.objects.get(email="foyer@demo.test")
    eligible = User.objects.get(email="solidaire@demo.test")
    assert (regular.solidarity_until, regular.is_solidarity_eligible(on)) == (None, False)
    assert (eligible.role, eligible.solidarity_until) == (Role.HOUSEHOLD, date(2027, 11, 26))
    assert eligible.is_solidarity_eligible(on)


def test_a_broken_spec_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    for name in ("places-lensois.csv", "communes-lensois.csv"):
        (tmp_path / name).write_bytes((DEFAULT_SPEC.parent / name).read_bytes())
    broken = tmp_path / "broken.toml"
    broken.write_text(
        DEFAULT_SPEC.read_text(encoding="utf-8").replace('place = "P034"', 'place = "P999"'),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="Lieu inconnu : P999"):
        load(spec=broken)
    assert set(counts().values()) == {0}


def test_refused_where_demo_data_is_not_allowed(settings) -> None:  # type: ignore[no-untyped-def]
    settings.MARCHE_DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="MARCHE_DEMO_ALLOWED"):
        load()
    assert set(counts().values()) == {0}


def test_the_demo_household_shops_the_open_cycle(client) -> None:  # type: ignore[no-untyped-def]
    load()
    client.force_login(User.objects.get(email="foyer@demo.test"))
    page = client.get(reverse("orders:shop")).content.decode()
    assert page.count("data-offer=") == 16
    assert page.count('<span class="badge">bio</span>') == 11
    assert 'data-basket="Panier légumes"' in page and 'data-basket="Petit panier"' in page
    assert "2,90 € / kg" in page


def test_each_vehicle_has_its_driver_on_the_days_relays_open() -> None:
    output = load()
    shifts = DriverShift.objects.select_related("vehicle", "driver")
    by_vehicle: dict[str, set[tuple[str, int, time, time]]] = {}
    for shift in shifts:
        by_vehicle.setdefault(shift.vehicle.slug, set()).add(
            (shift.driver.email, shift.weekday, shift.starts_at, shift.ends_at)
        )
    days = range(6)
    assert by_vehicle == {
        "utilitaire-1": {("livreur@demo.test", d, time(6, 30), time(13, 0)) for d in days},
        "utilitaire-2": {("livreur2@demo.test", d, time(6, 30), time(13, 0)) for d in days},
        "triporteur-1": {("livreur3@demo.test", d, time(8, 0), time(18, 0)) for d in days},
        "triporteur-2": {("livreur4@demo.test", d, time(8, 0), time(16, 0)) for d in days},
    }
    assert set(User.objects.filter(driver_shifts__isnull=False).values_list("role", flat=True)) == {
        Role.DRIVER
    }
    listed = output.split("Comptes de démonstration")[1]
    for number in ("", "2", "3", "4"):
        assert f"livreur{number}@demo.test" in listed


def test_rerunning_restores_the_drivers_shifts() -> None:
    load()
    first = set(DriverShift.objects.values_list("pk", "vehicle__slug", "driver__email", "weekday"))
    # Someone swapped two drivers on Monday and removed a Saturday shift in the admin.
    van_1, van_2 = (
        DriverShift.objects.get(vehicle__slug=slug, weekday=0)
        for slug in ("utilitaire-1", "utilitaire-2")
    )
    driver_1, driver_2 = van_1.driver, van_2.driver
    van_1.delete()
    van_2.driver = driver_1
    van_2.save()
    DriverShift.objects.create(
        vehicle=van_1.vehicle, driver=driver_2, weekday=0, starts_at=time(7), ends_at=time(12)
    )
    DriverShift.objects.filter(vehicle__slug="triporteur-2", weekday=5).delete()
    load()
    again = set(DriverShift.objects.values_list("vehicle__slug", "driver__email", "weekday"))
    assert again == {row[1:] for row in first}
    untouched = {
        row for row in first if row[3] != 0 and not (row[1] == "triporteur-2" and row[3] == 5)
    }
    assert untouched <= set(
        DriverShift.objects.values_list("pk", "vehicle__slug", "driver__email", "weekday")
    )


def test_two_farms_are_collected_on_the_round_and_fresh_products_are_chilled() -> None:
    load()
    collected = Producer.objects.filter(collected_on_round=True).order_by("slug")
    assert [(p.slug, p.collection_opens, p.collection_closes) for p in collected] == [
        ("ferme-de-la-plaine", time(7, 30), time(11, 0)),
        ("ferme-du-chemin-vert", time(7, 0), time(10, 0)),
    ]
    assert sorted(Product.objects.filter(is_chilled=True).values_list("slug", flat=True)) == [
        "oeufs-plein-air",
        "soupe-legumes",
    ]


def test_a_farm_collected_without_a_window_is_refused(tmp_path: Path) -> None:
    for name in ("places-lensois.csv", "communes-lensois.csv"):
        (tmp_path / name).write_bytes((DEFAULT_SPEC.parent / name).read_bytes())
    broken = tmp_path / "broken.toml"
    broken.write_text(
        DEFAULT_SPEC.read_text(encoding="utf-8").replace(
            'collection_window = ["07:00", "10:00"]', 'collection_window = ["10:00", "07:00"]'
        ),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="ferme-du-chemin-vert : enlevé pendant la tournée"):
        load(spec=broken)
    assert set(counts().values()) == {0}
