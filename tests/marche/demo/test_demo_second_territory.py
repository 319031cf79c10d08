"""A second demo territory, Dunkerque, loaded from its own TOML file beside Loos-en-Gohelle."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from wagtail.models import Page, Site

from cms.models import HomePage
from logistics.models import Depot, DriverShift, Vehicle
from marche.accounts.models import Role, User
from marche.catalog.models import Category, Product
from marche.cycles.models import Basket, Offer, OrderCycle
from marche.demo.spec import DATA_DIR, demo_territories
from marche.mannes.models import RewardActivity
from marche.producers.models import Producer
from marche.relays.models import RelayPoint
from marche.territories.models import Territory

pytestmark = pytest.mark.django_db

DUNKERQUE = DATA_DIR / "dunkerque.toml"


def load(**options: Any) -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


def rows(queryset: Any) -> list[tuple[str, ...]]:
    """The rows as text, sorted (empty values sort with the others)."""
    return sorted(tuple(str(value) for value in row) for row in queryset)


def snapshot() -> dict[str, Any]:
    """The demo rows that matter, by their natural keys (no primary keys, no timestamps)."""
    return {
        "territories": rows(
            Territory.objects.values_list("slug", "name", "local_currency_enabled")
        ),
        "categories": rows(Category.objects.values_list("slug", "name", "position")),
        "producers": rows(Producer.objects.values_list("territory__slug", "slug", "name")),
        "products": rows(
            Product.objects.values_list(
                "producer__territory__slug", "producer__slug", "slug", "name", "unit_price"
            )
        ),
        "relays": rows(
            RelayPoint.objects.values_list("territory__slug", "slug", "source_ref", "latitude")
        ),
        "users": rows(User.objects.values_list("email", "territory__slug", "role")),
        "cycles": rows(
            OrderCycle.objects.values_list("territory__slug", "name", "opens_at", "closes_at")
        ),
        "offers": rows(
            Offer.objects.values_list(
                "cycle__territory__slug", "product__slug", "unit_price", "quantity_available"
            )
        ),
        "baskets": rows(Basket.objects.values_list("cycle__territory__slug", "name", "price")),
        "depots": rows(Depot.objects.values_list("territory__slug", "slug", "latitude")),
        "vehicles": rows(Vehicle.objects.values_list("territory__slug", "slug")),
        "shifts": rows(
            DriverShift.objects.values_list("vehicle__territory__slug", "driver__email", "weekday")
        ),
        "activities": rows(RewardActivity.objects.values_list("territory__slug", "name")),
        "sites": rows(
            Site.objects.values_list(
                "hostname", "port", "is_default_site", "root_page__url_path", "site_name"
            )
        ),
        "homes": rows(HomePage.objects.values_list("url_path", "title", "territory__slug")),
        "pages": rows(Page.objects.values_list("url_path", "title", "live")),
    }


def test_the_shipped_territories_are_found_by_their_slug() -> None:
    assert demo_territories() == ["dunkerque", "loos-en-gohelle"]


def test_dunkerque_loads_from_its_own_file_at_real_places_without_local_currency() -> None:
    output = load(territory="dunkerque")

    assert "Territoire de démonstration prêt : Dunkerque" in output
    territory = Territory.objects.get()
    assert (territory.slug, territory.insee_code, territory.local_currency_enabled) == (
        "dunkerque",
        "59183",
        False,
    )
    relays = RelayPoint.objects.filter(territory=territory).order_by("slug")
    # La Poste's site ids of the real points P056 and P065 of places-lensois.csv.
    assert [(relay.slug, relay.source_ref, relay.city) for relay in relays] == [
        ("dunkerque-jean-bart", "10773A", "Dunkerque"),
        ("dunkerque-malo-carrefour-market", "12899D", "Dunkerque"),
    ]
    assert (relays[0].latitude, relays[0].longitude) == (Decimal("51.035174"), Decimal("2.381643"))
    depot = Depot.objects.get(territory=territory)
    # The station P090.
    assert (depot.slug, depot.latitude, depot.longitude) == (
        "plateforme-gare",
        Decimal("51.029268"),
        Decimal("2.369190"),
    )
    assert sorted(Vehicle.objects.filter(territory=territory).values_list("slug", flat=True)) == [
        "triporteur-1",
        "utilitaire-1",
    ]
    assert DriverShift.objects.filter(vehicle__territory=territory).count() == 12
    # Illustrative producers say so in their names.
    assert all("(démo)" in name for name in territory.producers.values_list("name", flat=True))
    cycle = OrderCycle.objects.get(territory=territory)
    assert cycle.name.startswith("Livraison du samedi ")
    assert cycle.delivery_date.weekday() == 5
    assert cycle.offers.count() == 9
    assert cycle.baskets.get().name == "Panier de la plaine"
    # No local currency: no reward activity, no manne page.
    assert not RewardActivity.objects.exists()
    assert not Page.objects.filter(slug="la-manne").exists()
    coordinator = User.objects.get(role=Role.COORDINATOR)
    assert (coordinator.email, coordinator.territory, coordinator.is_superuser) == (
        "coordination-dunkerque@demo.test",
        territory,
        False,
    )


def test_both_territories_load_in_either_order_and_idempotently() -> None:
    with transaction.atomic():
        load()
        load(territory="dunkerque")
        loos_first = snapshot()
        load(territory="dunkerque")
        load()
        assert snapshot() == loos_first
        transaction.set_rollback(True)

    load(territory="dunkerque")
    load(territory="loos-en-gohelle")
    dunkerque_first = snapshot()
    load(territory="loos-en-gohelle")
    load(territory="dunkerque")
    assert snapshot() == dunkerque_first
    assert dunkerque_first == loos_first

    assert [row[0] for row in loos_first["territories"]] == ["dunkerque", "loos-en-gohelle"]
    # The same product slug on both territories, each under its own producer.
    assert {
        (territory, producer)
        for territory, producer, slug, *_ in loos_first["products"]
        if slug == "pommes-de-terre"
    } == {("dunkerque", "ferme-des-moeres"), ("loos-en-gohelle", "ferme-des-terrils")}
    # Categories are shared, listed in the same order by both files.
    assert loos_first["categories"] == [
        ("epicerie", "Épicerie", "3"),
        ("fruits", "Fruits", "1"),
        ("herbes", "Herbes aromatiques", "2"),
        ("legumes", "Légumes", "0"),
        ("oeufs", "Œufs", "4"),
    ]
    # Each territory its own site, hostname and tree; Loos-en-Gohelle's is the default one.
    assert [row[:4] for row in loos_first["sites"]] == [
        ("dunkerque.localhost", "80", "False", "/dunkerque/"),
        ("loos.localhost", "80", "True", "/accueil/"),
    ]
    assert loos_first["homes"] == [
        ("/accueil/", "Marché local de Loos-en-Gohelle", "loos-en-gohelle"),
        ("/dunkerque/", "Marché local de Dunkerque", "dunkerque"),
    ]
    assert Page.objects.filter(url_path="/accueil/la-manne/").exists()
    assert not Page.objects.filter(url_path="/dunkerque/la-manne/").exists()
    assert not Page.objects.filter(
        url_path="/dunkerque/actualites/journee-jardins-partages/"
    ).exists()


def test_a_bad_territory_is_refused_in_french_and_changes_nothing() -> None:
    load()
    before = snapshot()

    with pytest.raises(CommandError) as refused:
        load(territory="lille")

    assert str(refused.value) == (
        "Territoire de démonstration inconnu : « lille ». "
        "Territoires connus : dunkerque, loos-en-gohelle"
    )
    assert snapshot() == before


def test_a_territory_naming_another_territorys_account_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    for name in ("places-lensois.csv", "communes-lensois.csv"):
        (tmp_path / name).write_bytes((DATA_DIR / name).read_bytes())
    spec = tmp_path / "dunkerque.toml"
    spec.write_text(
        DUNKERQUE.read_text(encoding="utf-8").replace(
            'email = "foyer-dunkerque@demo.test"', 'email = "foyer@demo.test"'
        ),
        encoding="utf-8",
    )
    load()
    before = snapshot()

    with pytest.raises(CommandError) as refused:
        load(spec=spec)

    assert str(refused.value) == (
        "Compte foyer@demo.test : déjà inscrit dans le territoire Loos-en-Gohelle"
    )

    assert snapshot() == before
    assert User.objects.get(email="foyer@demo.test").territory.slug == "loos-en-gohelle"


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (
            'products = ["pommes", "poires"]',
            'products = ["pommes", "chicons"]',
            "Article compote-pommes-poires : produit inconnu de Dunkerque : chicons",
        ),
        (
            'slug = "triporteur-malo"\nkind = "news"',
            'slug = "triporteur-malo"\nkind = "actualite"',
            "Article triporteur-malo : type inconnu « actualite » (recipe ou news)",
        ),
        (
            "days_ago = 6\n",
            "",
            "Article triporteur-malo illisible : 'days_ago'",
        ),
    ],
    ids=["unknown-product", "unknown-kind", "no-date"],
)
def test_a_bad_article_is_refused_in_french_and_changes_nothing(
    tmp_path: Path, old: str, new: str, error: str
) -> None:
    for name in ("places-lensois.csv", "communes-lensois.csv"):
        (tmp_path / name).write_bytes((DATA_DIR / name).read_bytes())
    text = DUNKERQUE.read_text(encoding="utf-8")
    assert text.count(old) == 1
    spec = tmp_path / "dunkerque.toml"
    spec.write_text(text.replace(old, new), encoding="utf-8")
    load()
    before = snapshot()

    with pytest.raises(CommandError) as refused:
        load(spec=spec)

    assert str(refused.value) == error
    assert snapshot() == before
