from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from logistics.models import Vehicle
from marche.accounts.models import Role, User
from marche.canteens.models import Canteen
from marche.catalog.models import Product
from marche.demo.loaders import DEMO_PASSWORD
from marche.demo.spec import DEFAULT_SPEC
from marche.producers.models import Producer, ProducerKind
from marche.relays.models import RelayOpeningHours, RelayPoint
from marche.territories.models import Territory

pytestmark = pytest.mark.django_db

MODELS = (Territory, Producer, Product, RelayPoint, RelayOpeningHours, Canteen, Vehicle, User)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def load(**options: object) -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


def test_demo_builds_the_loos_en_gohelle_territory() -> None:
    output = load()
    assert counts() == {
        "Territory": 1,
        "Producer": 5,
        "Product": 19,
        "RelayPoint": 10,
        "RelayOpeningHours": 20,
        "Canteen": 7,
        "Vehicle": 4,
        "User": 5,
    }
    territory = Territory.objects.get()
    assert (territory.name, territory.insee_code, territory.local_currency_code) == (
        "Loos-en-Gohelle",
        "62528",
        "MAN",
    )
    assert (territory.latitude, territory.longitude) == (Decimal("50.458000"), Decimal("2.792000"))
    assert "mot de passe : " + DEMO_PASSWORD in output
    assert "coordination@demo.test" in output


def test_relay_points_stand_at_real_places() -> None:
    load()
    relay = RelayPoint.objects.get(slug="loos-bureau-de-poste")
    # La Poste site "LOOS EN GOHELLE BP", 22 rue Roger Salengro (places-lensois.csv, P023).
    assert (relay.latitude, relay.longitude) == (Decimal("50.456204"), Decimal("2.793448"))
    assert relay.address == "22 Rue Roger Salengro"
    assert relay.city == "Loos-en-Gohelle"
    assert [str(hours) for hours in relay.opening_hours.all()] == [
        "vendredi 16:30–19:00",
        "samedi 09:30–12:30",
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
    assert sorted(User.objects.values_list("role", flat=True)) == sorted(Role.values)
    farmer = User.objects.get(role=Role.FARMER)
    assert list(farmer.producers.values_list("slug", flat=True)) == ["ferme-du-chemin-vert"]
    manager = User.objects.get(role=Role.CANTEEN_MANAGER)
    assert list(manager.managed_canteens.values_list("slug", flat=True)) == ["college-rene-cassin"]
    assert all(user.check_password(DEMO_PASSWORD) for user in User.objects.all())
    assert list(User.objects.filter(is_staff=True).values_list("role", flat=True)) == [
        "coordinator"
    ]


def test_rerunning_changes_nothing() -> None:
    load()
    before = counts()
    ids = sorted(RelayPoint.objects.values_list("pk", flat=True))
    Producer.objects.filter(slug="bioloos").update(name="Renommé")
    load()
    assert counts() == before
    assert sorted(RelayPoint.objects.values_list("pk", flat=True)) == ids
    assert Producer.objects.get(slug="bioloos").name == "Bioloos"


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
