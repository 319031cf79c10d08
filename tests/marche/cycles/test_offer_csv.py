from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from marche.catalog.models import Unit
from marche.cycles.errors import CycleClosed, NotYourProducer
from marche.cycles.models import Offer
from marche.cycles.offer_csv import RowError, offer_csv_export, offer_csv_import
from marche.cycles.services import stock_hold
from tests.factories import OfferFactory, ProducerFactory, ProductFactory, UserFactory
from tests.marche.cycles.test_offer_save import NOW, Farm, farm  # noqa: F401

pytestmark = pytest.mark.django_db

HEADER = "produit;nom;unité;prix;quantité\r\n"  # the earlier layout, still read
HEADER6 = "produit;nom;unité;prix;quantité;max par commande\r\n"


@pytest.fixture
def stocked(farm: Farm) -> Farm:  # noqa: F811
    """Carrots on sale (2.50 €/kg, 10 kg); leeks in the catalogue, not offered; eggs on demand."""
    OfferFactory(
        cycle=farm.cycle,
        product=farm.carrots,
        unit_price=Decimal("2.50"),
        quantity_available=Decimal("10"),
    )
    eggs = ProductFactory(producer=farm.producer, name="Œufs", slug="oeufs", unit=Unit.DOZEN)
    OfferFactory(
        cycle=farm.cycle, product=eggs, unit_price=Decimal("4.20"), quantity_available=None
    )
    ProductFactory(producer=farm.producer, name="Vieux produit", slug="vieux", is_active=False)
    ProductFactory(producer=ProducerFactory(territory=farm.producer.territory), slug="pommes")
    return farm


def state(shop: Farm) -> list[tuple[object, ...]]:
    return list(
        Offer.objects.filter(cycle=shop.cycle)
        .order_by("product__slug")
        .values_list(
            "product__slug", "unit_price", "quantity_available", "quantity_held", "updated_at"
        )
    )


def export(shop: Farm) -> str:
    return offer_csv_export(user=shop.farmer, producer_id=shop.producer.pk, cycle_id=shop.cycle.pk)


def do_import(shop: Farm, content: bytes | str, **kwargs):
    values = {
        "user": shop.farmer,
        "producer_id": shop.producer.pk,
        "cycle_id": shop.cycle.pk,
        "content": content,
        "now": NOW,
    }
    values.update(kwargs)
    return offer_csv_import(**values)


def test_export_lists_active_products_with_offers_bom_and_semicolons(stocked: Farm) -> None:
    assert export(stocked) == (
        "\ufeff"
        "produit;nom;unité;prix;quantité;max par commande\r\n"
        "carottes;Carottes;kg;2,50;10;\r\n"
        "oeufs;Œufs;douzaine;4,20;;50\r\n"
        "poireaux;Poireaux;kg;;;\r\n"
    )


def test_export_is_for_members_only(stocked: Farm) -> None:
    with pytest.raises(NotYourProducer):
        offer_csv_export(
            user=UserFactory(), producer_id=stocked.producer.pk, cycle_id=stocked.cycle.pk
        )


def test_importing_the_export_unchanged_changes_nothing_but_updated_at(stocked: Farm) -> None:
    before = [row[:4] for row in state(stocked)]
    report = do_import(stocked, export(stocked).encode("utf-8"))
    assert (report.ok, report.errors, report.saved) == (True, [], 2)
    assert [row[:4] for row in state(stocked)] == before


def test_import_updates_creates_and_sets_on_demand(stocked: Farm) -> None:
    content = (
        "\ufeff"
        + HEADER
        + "carottes;Carottes;kg;2,80;\r\n"
        + "oeufs;Œufs;douzaine;4.30;12\r\n"
        + "poireaux;Poireaux;kg;1,90;7,5\r\n"
        + ";;;;\r\n"
    )
    report = do_import(stocked, content.encode("utf-8"))
    assert (report.errors, report.saved) == ([], 3)
    assert [row[:3] for row in state(stocked)] == [
        ("carottes", Decimal("2.80"), None),
        ("oeufs", Decimal("4.30"), Decimal("12.000")),
        ("poireaux", Decimal("1.90"), Decimal("7.500")),
    ]


def test_rows_left_out_or_without_price_for_unoffered_products_are_untouched(
    stocked: Farm,
) -> None:
    before = state(stocked)
    report = do_import(stocked, HEADER + "poireaux;Poireaux;kg;;\r\n")
    assert (report.errors, report.saved) == ([], 0)
    assert state(stocked) == before


def test_a_file_with_one_bad_row_changes_nothing(stocked: Farm) -> None:
    before = state(stocked)
    content = (
        HEADER
        + "carottes;Carottes;kg;3,00;20\r\n"
        + "poireaux;Poireaux;kg;1,90;-3\r\n"
        + "oeufs;Œufs;douzaine;4,50;6\r\n"
    )
    report = do_import(stocked, content.encode("utf-8"))
    assert report.saved == 0
    assert [str(error) for error in report.errors] == [
        "Ligne 3 : quantité invalide « -3 » : un nombre positif (au plus 3 décimales), "
        "0 pour retirer de la vente, ou vide pour « à la demande »."
    ]
    assert state(stocked) == before


def test_every_error_is_reported_with_its_line_number(stocked: Farm) -> None:
    stock_hold(
        offer_id=Offer.objects.get(product__slug="carottes").pk,
        quantity=Decimal("4"),
        key="h",
        now=NOW,
    )
    before = state(stocked)
    content = (
        HEADER
        + "carottes;Carottes;kg;2,50;3\r\n"  # 2: below the 4 kg held
        + "navets;Navets;kg;2,00;5\r\n"  # 3: unknown
        + "pommes;Pommes;kg;2,00;5\r\n"  # 4: another producer's product
        + "vieux;Vieux;kg;2,00;5\r\n"  # 5: retired
        + "poireaux;Poireaux;kg;-1;5\r\n"  # 6: negative price
        + "oeufs;Œufs;douzaine;abc;5\r\n"  # 7: unreadable price
        + "\r\n"  # 8: blank, ignored
        + "poireaux;Poireaux;kg;2,00;-2\r\n"  # 9: already listed line 6 (checked first)
        + "oeufs;Œufs;douzaine;;\r\n"  # 10: price removed from an offer on sale
        + "carottes;Carottes\r\n"  # 11: too few columns
        + ";Sans identifiant;kg;1;1\r\n"  # 12: empty identifier
    )
    report = do_import(stocked, content)
    assert [(e.line, e.message) for e in report.errors] == [
        (2, "quantité 3 inférieure à 4, déjà réservé ou vendu."),
        (3, "produit inconnu « navets »."),
        (4, "produit inconnu « pommes »."),
        (5, "produit inconnu « vieux »."),
        (6, "prix invalide « -1 » : un montant positif, au centime près."),
        (7, "prix invalide « abc » : un montant positif, au centime près."),
        (9, "le produit « poireaux » figure déjà ligne 6."),
        (10, "le produit « oeufs » figure déjà ligne 7."),
        (11, "2 colonnes au lieu de 5."),
        (12, "la colonne « produit » est vide."),
    ]
    assert report.saved == 0
    assert state(stocked) == before


def test_price_removed_from_an_offer_on_sale_is_an_error(stocked: Farm) -> None:
    before = state(stocked)
    report = do_import(stocked, HEADER + "oeufs;Œufs;douzaine;;\r\n")
    assert [str(e) for e in report.errors] == [
        "Ligne 2 : prix manquant : « oeufs » est déjà en vente dans ce cycle ; pour arrêter "
        "de le vendre, mettez sa quantité à 0."
    ]
    report = do_import(stocked, HEADER + "poireaux;Poireaux;kg;;5\r\n")
    assert [str(e) for e in report.errors] == ["Ligne 2 : prix manquant pour « poireaux »."]
    assert state(stocked) == before


def test_wrong_header_or_separator_is_refused(stocked: Farm) -> None:
    # Separators other than ";", "," and tab are not read; nor is a header not ours.
    before = state(stocked)
    expected = [
        "Ligne 1 : en-tête attendu « produit;nom;unité;prix;quantité;max par commande » "
        "(colonnes séparées par des points-virgules, des virgules ou des tabulations)."
    ]
    report = do_import(stocked, "produit|nom|unité|prix|quantité\r\ncarottes|C|kg|3|5\r\n")
    assert [str(e) for e in report.errors] == expected
    report = do_import(stocked, "product;name;unit;price;quantity\r\ncarottes;C;kg;3;5\r\n")
    assert [str(e) for e in report.errors] == expected
    assert do_import(stocked, b"").errors[0].line == 1
    assert state(stocked) == before


@pytest.mark.parametrize(
    "content",
    [
        # LibreOffice's and Google Sheets' default: commas, decimal commas in quoted cells.
        'produit,nom,unité,prix,quantité\r\ncarottes,Carottes,kg,"2,60","12,5"\r\n'
        'oeufs,"Œufs, plein air",douzaine,"4,40",\r\npoireaux,Poireaux,kg,1.80,7\r\n',
        # Tabs, as a copy from a sheet saves them.
        "produit\tnom\tunité\tprix\tquantité\tmax par commande\r\n"
        "carottes\tCarottes\tkg\t2,60\t12,5\t\r\noeufs\tŒufs\tdouzaine\t4,40\t\t\r\n"
        "poireaux\tPoireaux\tkg\t1,80\t7\t\r\n",
        # Semicolons with unquoted decimal commas: never mistaken for a comma file.
        HEADER + "carottes;Carottes;kg;2,60;12,5\r\noeufs;Œufs;douzaine;4,40;\r\n"
        "poireaux;Poireaux;kg;1,80;7\r\n",
    ],
    ids=["comma", "tab", "semicolon"],
)
def test_comma_and_tab_separated_files_are_read(stocked: Farm, content: str) -> None:
    report = do_import(stocked, content.encode("utf-8"))
    assert (report.errors, report.saved) == ([], 3)
    assert [row[:3] for row in state(stocked)] == [
        ("carottes", Decimal("2.60"), Decimal("12.500")),
        ("oeufs", Decimal("4.40"), None),
        ("poireaux", Decimal("1.80"), Decimal("7.000")),
    ]


def test_unquoted_decimal_comma_in_a_comma_file_is_explained(stocked: Farm) -> None:
    before = state(stocked)
    report = do_import(stocked, "produit,nom,unité,prix,quantité\r\ncarottes,C,kg,2,60,12\r\n")
    assert [str(e) for e in report.errors] == [
        "Ligne 2 : 6 colonnes au lieu de 5. Dans un fichier séparé par des virgules, un nombre "
        'à virgule s\'écrit entre guillemets ("2,50") ou avec un point (2.50).'
    ]
    assert state(stocked) == before


def test_variable_weight_product_says_price_per_kg_and_pieces(stocked: Farm) -> None:
    ProductFactory(
        producer=stocked.producer,
        name="Potimarron",
        slug="potimarron",
        unit=Unit.PIECE,
        is_variable_weight=True,
        estimated_weight_kg=Decimal("1.200"),
    )
    rows = list(csv.reader(io.StringIO(export(stocked).removeprefix("\ufeff")), delimiter=";"))
    assert rows[4] == [
        "potimarron",
        "Potimarron",
        "prix au kg, quantité en pièces (environ 1,2 kg la pièce, prix final à la pesée)",
        "",
        "",
        "",
    ]
    # The long unit cell is for reading only: the file comes back in unchanged.
    rows[4][3:5] = ["2,90", "30"]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    report = do_import(stocked, buffer.getvalue())
    assert (report.errors, report.saved) == ([], 3)
    offer = Offer.objects.get(product__slug="potimarron")
    assert (offer.unit_price, offer.quantity_available) == (Decimal("2.90"), Decimal("30"))


def test_windows_1252_file_is_read(stocked: Farm) -> None:
    content = (HEADER + "oeufs;Œufs;douzaine;4,40;\r\n").encode("cp1252")
    report = do_import(stocked, content)
    assert (report.errors, report.saved) == ([], 1)
    assert Offer.objects.get(product__slug="oeufs").unit_price == Decimal("4.40")


def test_export_then_import_round_trips_through_a_spreadsheet_reader(stocked: Farm) -> None:
    rows = list(csv.reader(io.StringIO(export(stocked).removeprefix("\ufeff")), delimiter=";"))
    rows[3][3:5] = ["1,75", "12"]  # poireaux
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    report = do_import(stocked, "\ufeff" + buffer.getvalue())
    assert (report.errors, report.saved) == ([], 3)
    leeks = Offer.objects.get(product__slug="poireaux")
    assert (leeks.unit_price, leeks.quantity_available) == (Decimal("1.75"), Decimal("12.000"))


def test_import_refuses_non_members_and_closed_cycles_without_change(stocked: Farm) -> None:
    before = state(stocked)
    content = HEADER + "carottes;Carottes;kg;3,00;20\r\n"
    with pytest.raises(NotYourProducer):
        do_import(stocked, content, user=UserFactory())
    with pytest.raises(CycleClosed):
        do_import(stocked, content, now=datetime(2026, 12, 2, tzinfo=UTC))
    assert state(stocked) == before


def test_row_error_reads_in_french() -> None:
    assert str(RowError(4, "produit inconnu « x ».")) == "Ligne 4 : produit inconnu « x »."
