"""The offers file: withdrawal round trips, whole pieces, capped errors, huge cells, injection."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from marche.cycles.models import Offer
from marche.cycles.offer_csv import MAX_ERRORS
from marche.cycles.services import offer_withdraw, stock_hold
from tests.factories import ProductFactory
from tests.marche.cycles.test_offer_csv import HEADER, HEADER6, do_import, export, stocked  # noqa: F401
from tests.marche.cycles.test_offer_save import NOW, Farm, farm  # noqa: F401

pytestmark = pytest.mark.django_db


def offers(shop: Farm) -> list[tuple[object, ...]]:
    return list(
        Offer.objects.filter(cycle=shop.cycle)
        .order_by("product__slug")
        .values_list(
            "product__slug",
            "unit_price",
            "quantity_available",
            "quantity_held",
            "max_per_order",
            "withdrawn_at",
        )
    )


def with_updated_at(shop: Farm) -> list[tuple[object, ...]]:
    return list(Offer.objects.filter(cycle=shop.cycle).order_by("pk").values_list("updated_at"))


def carrots(shop: Farm) -> Offer:
    return Offer.objects.get(cycle=shop.cycle, product__slug="carottes")


def test_withdrawn_offer_is_exported_as_zero_and_reimported_unchanged(stocked: Farm) -> None:  # noqa: F811
    stock_hold(offer_id=carrots(stocked).pk, quantity=Decimal("2"), key="h", now=NOW)
    offer_withdraw(user=stocked.farmer, offer_id=carrots(stocked).pk, now=NOW)
    content = export(stocked)
    assert content.splitlines()[1] == "carottes;Carottes;kg;2,50;0;"
    before = offers(stocked)

    report = do_import(stocked, content.encode("utf-8"))

    assert (report.errors, report.ignored) == ([], [])
    assert offers(stocked) == before
    assert before[0] == (
        "carottes",
        Decimal("2.50"),
        Decimal("2.000"),  # what buyers hold stays theirs
        Decimal("2.000"),
        Decimal("50.000"),
        NOW,
    )


def test_a_file_exported_before_a_withdrawal_does_not_put_the_product_back(
    stocked: Farm,  # noqa: F811
) -> None:
    content = export(stocked)  # carrots: 10 kg on sale
    offer_withdraw(user=stocked.farmer, offer_id=carrots(stocked).pk, now=NOW)
    before = offers(stocked)

    report = do_import(stocked, content)

    assert report.errors == []
    assert [str(notice) for notice in report.ignored] == [
        "Ligne 2 : « carottes » est retiré de la vente : ligne ignorée. Pour le remettre en "
        "vente, enregistrez-le depuis le tableau de bord."
    ]
    assert offers(stocked) == before
    assert carrots(stocked).withdrawn_at == NOW


def test_export_then_import_unchanged_gives_the_same_offers(stocked: Farm) -> None:  # noqa: F811
    before = offers(stocked)
    report = do_import(stocked, export(stocked))
    assert (report.errors, report.saved, report.withdrawn) == ([], 2, 0)
    assert offers(stocked) == before
    assert export(stocked) == export(stocked)


def test_quantity_zero_withdraws_an_offer_on_sale(stocked: Farm) -> None:  # noqa: F811
    report = do_import(stocked, HEADER + "carottes;Carottes;kg;2,50;0\r\n")
    assert (report.errors, report.saved, report.withdrawn) == ([], 0, 1)
    offer = carrots(stocked)
    assert (offer.withdrawn_at, offer.quantity_available) == (NOW, Decimal("0"))
    # A product not on sale has nothing to withdraw: the line is left out.
    report = do_import(stocked, HEADER + "poireaux;Poireaux;kg;1,90;0\r\n")
    assert (report.errors, report.saved, report.withdrawn) == ([], 0, 0)
    assert not Offer.objects.filter(product__slug="poireaux").exists()


def test_pieces_take_whole_numbers(stocked: Farm) -> None:  # noqa: F811
    before = with_updated_at(stocked)
    report = do_import(stocked, HEADER + "oeufs;Œufs;douzaine;4,20;1,5\r\n")
    assert [str(error) for error in report.errors] == [
        "Ligne 2 : quantité invalide « 1,5 » : Œufs se vend à l'unité, indiquez un nombre "
        "entier (0 : retiré de la vente ; vide : à la demande)."
    ]
    assert with_updated_at(stocked) == before
    report = do_import(stocked, HEADER + "oeufs;Œufs;douzaine;4,20;12\r\n")
    assert report.errors == []
    assert Offer.objects.get(product__slug="oeufs").quantity_available == Decimal("12")


def test_maximum_per_order_column(stocked: Farm) -> None:  # noqa: F811
    report = do_import(stocked, HEADER6 + "oeufs;Œufs;douzaine;4,20;;12\r\n")
    assert report.errors == []
    assert Offer.objects.get(product__slug="oeufs").max_per_order == Decimal("12")
    before = offers(stocked)
    for bad, reason in (
        ("0", "La quantité doit être au moins 1."),
        ("2,5", "La quantité doit être un nombre entier."),
        ("20000", "La quantité ne peut pas dépasser 10\u00a0000."),
    ):
        report = do_import(stocked, HEADER6 + f"oeufs;Œufs;douzaine;4,20;;{bad}\r\n")
        assert [str(error) for error in report.errors] == [
            f"Ligne 2 : maximum par commande invalide « {bad} » : {reason}"
        ]
    assert offers(stocked) == before


def test_twenty_thousand_wrong_lines_give_fifty_errors_and_a_count(stocked: Farm) -> None:  # noqa: F811
    before = with_updated_at(stocked)
    content = HEADER + "".join(f"inconnu-{n};X;kg;1,00;1\r\n" for n in range(20_000))
    report = do_import(stocked, content)
    assert len(report.errors) == MAX_ERRORS == 50
    assert report.errors[0].line == 2
    assert str(report.errors[-1]) == "Ligne 51 : produit inconnu « inconnu-49 »."
    assert report.more_errors == 19_950
    assert with_updated_at(stocked) == before


def test_a_huge_cell_is_an_error_line_not_a_crash(stocked: Farm) -> None:  # noqa: F811
    before = with_updated_at(stocked)
    content = HEADER + "carottes;Carottes;kg;2,60;12\r\n" + "x" * 200_000 + ";n;kg;1;1\r\n"
    report = do_import(stocked, content)
    assert [str(error) for error in report.errors] == [
        "Ligne 3 : ligne illisible (cellule trop longue ou guillemet non fermé)."
    ]
    # A long cell the reader takes is quoted cut short.
    report = do_import(stocked, HEADER + "y" * 100_000 + ";n;kg;1;1\r\n")
    assert [str(error) for error in report.errors] == [
        f"Ligne 2 : produit inconnu « {'y' * 40}… »."
    ]
    report = do_import(stocked, HEADER + "carottes;Carottes;kg;" + "9" * 5000 + ";1\r\n")
    assert report.errors[0].message.startswith("prix invalide « 9999")
    assert with_updated_at(stocked) == before


def test_cells_that_would_run_as_formulas_are_neutralised_and_read_back(
    stocked: Farm,  # noqa: F811
) -> None:
    ProductFactory(
        producer=stocked.producer, slug="-radis", name='=HYPERLINK("http://x.test","Radis")'
    )
    ProductFactory(producer=stocked.producer, slug="zz", name="@SUM(1+1)")
    ProductFactory(producer=stocked.producer, slug="zzz", name="+33 6 00\tTab")
    rows = list(csv.reader(io.StringIO(export(stocked).removeprefix("\ufeff")), delimiter=";"))
    assert rows[1][:2] == ["'-radis", '\'=HYPERLINK("http://x.test","Radis")']
    assert rows[-2][1] == "'@SUM(1+1)"
    assert rows[-1][1] == "'+33 6 00\tTab"
    for row in rows[1:]:
        assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert not row[1].startswith(("=", "+", "-", "@", "\t", "\r"))

    rows[1][3:5] = ["1,20", "8"]  # offer the radishes, by their escaped identifier
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    report = do_import(stocked, "\ufeff" + buffer.getvalue())
    assert report.errors == []
    radishes = Offer.objects.get(product__slug="-radis")
    assert (radishes.unit_price, radishes.quantity_available) == (Decimal("1.20"), Decimal("8"))


def test_unusual_price_flags_the_line_and_needs_confirmation(stocked: Farm) -> None:  # noqa: F811
    before = with_updated_at(stocked)
    content = HEADER + "carottes;Carottes;kg;250;10\r\npoireaux;Poireaux;kg;1,80;5\r\n"
    report = do_import(stocked, content)
    assert report.unusual_prices is True
    assert [str(error) for error in report.errors] == [
        "Ligne 2 : Carottes : 250,00 € est très loin du prix habituel (2,50 €). Vérifiez la "
        "virgule, puis cochez « Je confirme les prix inhabituels de ce fichier » pour "
        "l'enregistrer."
    ]
    assert with_updated_at(stocked) == before
    assert not Offer.objects.filter(product__slug="poireaux").exists()

    report = do_import(stocked, content, confirm_prices=True)
    assert (report.errors, report.saved) == ([], 2)
    assert carrots(stocked).unit_price == Decimal("250.00")


def test_a_price_shown_with_the_euro_sign_is_read(stocked: Farm) -> None:  # noqa: F811
    report = do_import(stocked, HEADER + "carottes;Carottes;kg;2,60 €;10\r\n")
    assert report.errors == []
    assert carrots(stocked).unit_price == Decimal("2.60")
