"""The "ma cantine" export: the 2026 purchase import by SIRET, each delivered line once.

The value checks use the constraints of the platform's published Table Schema
(betagouv/ma-cantine, ``data/schemas/imports/achats_siret_2026.json``), copied here.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.models import QuerySet
from django.urls import reverse

from marche.accounts.models import Role
from marche.canteens import macantine
from marche.canteens.macantine import COLUMNS, macantine_export_create
from marche.canteens.models import CanteenOrderLine, MaCantineExport
from marche.catalog.models import ProductFamily
from tests.factories import ProducerFactory, UserFactory
from tests.factories.canteens import CanteenFactory
from tests.marche.canteens.test_egalim import build_november, purchase

pytestmark = pytest.mark.django_db

D = Decimal
SCHEMA_COLUMNS = [
    "siret",
    "description",
    "fournisseur",
    "date",
    "prix_ht",
    "famille_produits",
    "categories_egalim",
    "origine",
    "est_circuit_court",
    "est_local",
    "definition_local",
]
LABELS = (
    "BIO|LABEL_ROUGE|AOCAOP|IGP|STG|HVE|PECHE_DURABLE|RUP|COMMERCE_EQUITABLE|FERMIER|"
    "EXTERNALITES|PERFORMANCE"
)
PATTERNS = {
    "famille_produits": (
        r"^ *(VIANDES_VOLAILLES|CHARCUTERIE|PRODUITS_DE_LA_MER|FRUITS_ET_LEGUMES|"
        r"PRODUITS_LAITIERS|BOULANGERIE|BOISSONS|AUTRES) *$"
    ),
    "categories_egalim": rf"^ *({LABELS})( *, *({LABELS}))* *$",
    "origine": r"^ *(EUROPE|FRANCE) *$",
    "definition_local": r"^ *(AUTOUR_SERVICE|DEPARTEMENT|REGION|PAT|AUTRE) *$",
}
SIRET = "73282932000074"
OTHER_SIRET = "35600000000048"  # valid under La Poste's own check rule (python-stdnum)


def read_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def check_against_schema(row: dict[str, str]) -> None:
    """Every value of one row is one the platform's schema accepts."""
    assert re.fullmatch(r"[0-9]{14}", row["siret"]), row
    assert row["description"].strip() and row["fournisseur"].strip(), row
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date"]), row
    date.fromisoformat(row["date"])
    assert re.fullmatch(r"\d+\.\d{2}", row["prix_ht"]), row
    assert D(row["prix_ht"]) > 0
    assert re.match(PATTERNS["famille_produits"], row["famille_produits"]), row
    for column in ("categories_egalim", "origine"):
        assert row[column] == "" or re.match(PATTERNS[column], row[column]), row
    assert row["est_circuit_court"] in ("OUI", ""), row
    assert row["est_local"] in ("OUI", ""), row
    if row["est_local"] == "OUI":  # "Obligatoire si l'achat est renseigné comme est_local"
        assert re.match(PATTERNS["definition_local"], row["definition_local"]), row
    else:
        assert row["definition_local"] == "", row


def export(tmp_path, *args: str, name: str = "achats.csv") -> tuple[str, str, object]:  # type: ignore[no-untyped-def]
    out = tmp_path / name
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("export_macantine", "--out", str(out), *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue(), out


def test_the_file_has_the_schemas_columns_and_values(tmp_path):
    canteen = CanteenFactory(siret=SIRET, postcode="62750")
    build_november(canteen)
    europe = purchase(
        canteen,
        date(2026, 11, 2),
        name="Lentilles, vertes",
        family=ProductFamily.OTHER,
        labels=["IGP"],
        delivered="5",
        price="3.4000",
        origin="EUROPE",
    )
    far = purchase(
        canteen,
        date(2026, 11, 2),
        name="Bananes",
        family=ProductFamily.FRUIT_VEGETABLES,
        labels=["BIO", "COMMERCE_EQUITABLE"],
        delivered="12",
        price="2.1000",
        origin="HORS_UE",
    )

    stdout, stderr, out = export(tmp_path)

    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # UTF-8 without BOM
    text = raw.decode("utf-8")
    assert text.splitlines()[0] == ",".join(SCHEMA_COLUMNS)
    header, rows = read_rows(text)
    assert header == SCHEMA_COLUMNS == list(COLUMNS)
    # November's 10 purchases, the two above, and December 2025's: refused, undelivered and
    # cancelled lines are not purchases.
    assert len(rows) == 13
    for row in rows:
        check_against_schema(row)
    assert {row["siret"] for row in rows} == {SIRET}
    assert "13 achat(s) exporté(s)" in stdout and stderr == ""

    by_name = {row["description"]: row for row in rows}
    assert by_name["Carottes"]["prix_ht"] == "78.63"  # 42.5 × 1.85 = 78.625, half up
    assert by_name["Carottes"]["date"] == "2026-11-02"
    assert by_name["Carottes"]["categories_egalim"] == "BIO"
    assert by_name["Comté"]["famille_produits"] == "PRODUITS_LAITIERS"  # UTF-8 kept
    assert by_name["Chocolat"]["categories_egalim"] == "BIO,COMMERCE_EQUITABLE"
    assert '"BIO,COMMERCE_EQUITABLE"' in text  # a comma list is quoted
    assert '"Lentilles, vertes"' in text
    assert by_name["Pain"]["categories_egalim"] == ""
    assert (by_name["Pain"]["est_local"], by_name["Pain"]["definition_local"]) == (
        "OUI",
        "DEPARTEMENT",
    )
    assert (by_name["Poulet"]["est_local"], by_name["Poulet"]["definition_local"]) == ("", "")
    assert all(row["est_circuit_court"] == "OUI" for row in rows)
    assert by_name["Carottes"]["origine"] == "FRANCE"
    assert by_name[europe.name]["origine"] == "EUROPE"
    assert by_name[far.name]["origine"] == ""  # HORS_UE has no code there
    assert by_name["Clémentines"]["date"] == "2025-12-15"
    assert by_name["Poulet"]["prix_ht"] == "181.70"
    assert by_name["Poulet"]["fournisseur"].startswith("Ferme ")  # no legal name: its name


def test_the_supplier_is_the_producers_legal_name_when_it_has_one(tmp_path):
    canteen = CanteenFactory(siret=SIRET)
    farm = ProducerFactory(
        territory=canteen.territory, name="Ferme du Marais", legal_name="EARL du Marais"
    )
    purchase(
        canteen,
        date(2026, 11, 2),
        name="Poireaux",
        family=ProductFamily.FRUIT_VEGETABLES,
        labels=["BIO"],
        delivered="8",
        price="2.2000",
        producer=farm,
    )

    _stdout, _stderr, out = export(tmp_path)

    _header, rows = read_rows(out.read_text(encoding="utf-8"))
    assert rows[0]["fournisseur"] == "EARL du Marais"
    assert rows[0]["prix_ht"] == "17.60"


def test_a_second_run_exports_nothing_new_and_says_so(tmp_path):
    canteen = CanteenFactory(siret=SIRET)
    build_november(canteen)

    export(tmp_path, name="premier.csv")
    first = MaCantineExport.objects.get()
    assert first.line_count == 11
    assert CanteenOrderLine.objects.filter(exported=first).count() == 11
    assert first.canteen is None and first.territory == canteen.territory

    stdout, _stderr, out = export(tmp_path, name="second.csv")

    assert "Aucun nouvel achat à exporter" in stdout
    assert not out.exists()
    assert MaCantineExport.objects.count() == 1

    # A line delivered afterwards goes, alone, into the next export.
    late = purchase(
        canteen,
        date(2026, 11, 27),
        name="Courges",
        family=ProductFamily.FRUIT_VEGETABLES,
        labels=["BIO"],
        delivered="20",
        price="1.2000",
    )
    stdout, _stderr, out = export(tmp_path, name="troisieme.csv")
    _header, rows = read_rows(out.read_text(encoding="utf-8"))
    assert [row["description"] for row in rows] == ["Courges"]
    late.refresh_from_db()
    assert late.exported == MaCantineExport.objects.latest("pk")
    assert "1 achat(s) exporté(s)" in stdout


def test_a_canteen_without_siret_is_skipped_and_reported(tmp_path):
    registered = CanteenFactory(siret=SIRET, name="Maternelle Basly")
    unregistered = CanteenFactory(siret="", name="Résidence Les Tilleuls")
    build_november(registered)
    build_november(unregistered)

    _stdout, stderr, out = export(tmp_path)

    _header, rows = read_rows(out.read_text(encoding="utf-8"))
    assert len(rows) == 11
    assert all(row["siret"] == SIRET for row in rows)  # never an empty siret
    assert "Résidence Les Tilleuls" in stderr and "sans SIRET : 11 achat(s)" in stderr
    assert not CanteenOrderLine.objects.filter(
        order__canteen=unregistered, exported__isnull=False
    ).exists()

    # Once it has its SIRET, its lines go at the next run.
    unregistered.siret = OTHER_SIRET
    unregistered.save()
    _stdout, stderr, out = export(tmp_path, name="suite.csv")
    _header, rows = read_rows(out.read_text(encoding="utf-8"))
    assert {row["siret"] for row in rows} == {OTHER_SIRET} and len(rows) == 11
    assert stderr == ""


def test_the_export_can_be_limited_to_a_canteen_or_a_territory(tmp_path):
    first = CanteenFactory(siret=SIRET, slug="maternelle")
    second = CanteenFactory(siret=OTHER_SIRET, slug="residence")
    build_november(first)
    build_november(second)

    export(tmp_path, "--canteen", "maternelle", "--territory", first.territory.slug)

    made = MaCantineExport.objects.get()
    assert made.canteen == first and made.line_count == 11
    assert not CanteenOrderLine.objects.filter(
        order__canteen=second, exported__isnull=False
    ).exists()

    _stdout, _stderr, out = export(tmp_path, "--territory", second.territory.slug, name="t.csv")
    _header, rows = read_rows(out.read_text(encoding="utf-8"))
    assert {row["siret"] for row in rows} == {OTHER_SIRET}


def test_an_unknown_canteen_or_territory_is_refused_in_french(tmp_path):
    CanteenFactory(siret=SIRET, slug="maternelle")
    with pytest.raises(CommandError, match="Cantine « nulle-part » introuvable"):
        export(tmp_path, "--canteen", "nulle-part")
    with pytest.raises(CommandError, match="Territoire « atlantide » introuvable"):
        export(tmp_path, "--territory", "atlantide")
    assert not MaCantineExport.objects.exists()


# --- the download button ------------------------------------------------------------------


def export_url(canteen) -> str:  # type: ignore[no-untyped-def]
    return reverse("canteens:egalim_export", kwargs={"canteen_id": canteen.pk})


def test_the_manager_downloads_the_export_and_again_later(client):
    manager = UserFactory(role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(siret=SIRET, slug="maternelle", managers=[manager])
    build_november(canteen)
    client.force_login(manager)

    response = client.post(export_url(canteen), {"annee": "2026"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    made = MaCantineExport.objects.get()
    assert response["Content-Disposition"] == (
        f'attachment; filename="ma-cantine-achats-maternelle-{made.created_at:%Y-%m-%d}-'
        f'{made.pk}.csv"'
    )
    header, rows = read_rows(response.content.decode("utf-8"))
    assert header == SCHEMA_COLUMNS and len(rows) == 11
    for row in rows:
        check_against_schema(row)
    assert (made.canteen, made.created_by, made.line_count) == (canteen, manager, 11)
    assert CanteenOrderLine.objects.filter(exported=made).count() == 11

    page = client.get(reverse("canteens:egalim", kwargs={"canteen_id": canteen.pk}))
    download = reverse(
        "canteens:egalim_export_download", kwargs={"canteen_id": canteen.pk, "export_id": made.pk}
    )
    assert download in page.content.decode()
    again = client.get(download)
    assert again.status_code == 200 and again.content == response.content

    # Nothing new: back to the page with a message, no export made.
    second = client.post(export_url(canteen), {"annee": "2026"}, follow=True)
    assert "Aucun nouvel achat à exporter" in second.content.decode()
    assert second.redirect_chain[-1][0].endswith("?annee=2026")
    assert MaCantineExport.objects.count() == 1


def test_a_canteen_without_siret_cannot_export(client):
    manager = UserFactory(role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(siret="", managers=[manager])
    build_november(canteen)
    client.force_login(manager)
    dashboard = reverse("canteens:egalim", kwargs={"canteen_id": canteen.pk})

    response = client.post(export_url(canteen), HTTP_REFERER=f"http://testserver{dashboard}")

    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "n&#x27;a pas de SIRET" in page or "n'a pas de SIRET" in page
    assert not MaCantineExport.objects.exists()
    assert not CanteenOrderLine.objects.filter(exported__isnull=False).exists()


def test_nobody_else_exports_or_downloads(client):
    manager = UserFactory(role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(siret=SIRET, managers=[manager])
    other = CanteenFactory(siret=OTHER_SIRET, managers=[UserFactory(role=Role.CANTEEN_MANAGER)])
    build_november(canteen)
    build_november(other)
    made = macantine_export_create(canteen=other).exports[0]

    client.force_login(manager)
    assert client.post(export_url(other)).status_code == 403
    # Another canteen's export is not found from this canteen's address.
    wrong = reverse(
        "canteens:egalim_export_download", kwargs={"canteen_id": canteen.pk, "export_id": made.pk}
    )
    assert client.get(wrong).status_code == 404
    client.force_login(UserFactory(role=Role.HOUSEHOLD))
    assert client.post(export_url(canteen)).status_code == 403
    assert MaCantineExport.objects.count() == 1
    assert not CanteenOrderLine.objects.filter(
        order__canteen=canteen, exported__isnull=False
    ).exists()


def test_the_export_address_takes_posts_only(client):
    manager = UserFactory(role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(siret=SIRET, managers=[manager])
    build_november(canteen)
    client.force_login(manager)
    assert client.get(export_url(canteen)).status_code == 405
    assert not MaCantineExport.objects.exists()


# --- two exports at once ----------------------------------------------------------------------


def race_exports(territory, runners: int = 4) -> tuple[list[MaCantineExport], list[BaseException]]:  # type: ignore[no-untyped-def]
    """Start ``runners`` exports of a territory at the same instant, each on its connection."""
    barrier = threading.Barrier(runners)
    made: list[MaCantineExport] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            result = macantine_export_create(territory=territory)
            with lock:
                made.extend(result.exports)
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return made, errors


def slow_files(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Writing the file takes a while, as a large one does: the runs overlap for sure."""
    write = macantine.csv_text

    def slow(rows):  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        return write(rows)

    monkeypatch.setattr(macantine, "csv_text", slow)


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_exports_at_once_never_send_a_line_twice(monkeypatch):
    assert connection.vendor == "postgresql"
    canteen = CanteenFactory(siret=SIRET)
    build_november(canteen)
    slow_files(monkeypatch)

    made, errors = race_exports(canteen.territory)

    assert errors == []
    assert len(made) == 1  # the others waited on the lines, then found nothing new
    assert made[0].line_count == 11
    assert CanteenOrderLine.objects.filter(exported=made[0]).count() == 11
    assert MaCantineExport.objects.count() == 1


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_lock_the_exports_collide(monkeypatch):
    """The control: without locking the lines, every run reads them all unexported."""
    assert connection.vendor == "postgresql"
    canteen = CanteenFactory(siret=SIRET)
    build_november(canteen)
    slow_files(monkeypatch)
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, **kwargs: self)

    made, errors = race_exports(canteen.territory)

    # Each run made its file of the same 11 lines; only the first to mark them committed,
    # the others failed on marking (the update counts the lines still unexported).
    assert len(made) == 1 and len(errors) >= 1
    assert all(isinstance(error, RuntimeError) for error in errors)
    assert MaCantineExport.objects.count() == 1


def test_a_territory_export_is_listed_on_each_canteens_page_with_its_own_rows_only(
    client, tmp_path
):
    manager = UserFactory(role=Role.CANTEEN_MANAGER)
    canteen = CanteenFactory(siret=SIRET, managers=[manager])
    neighbour = CanteenFactory(siret=OTHER_SIRET, territory=canteen.territory)
    build_november(canteen)
    build_november(neighbour)
    export(tmp_path)
    made = MaCantineExport.objects.get()
    assert made.canteen is None and made.line_count == 22
    client.force_login(manager)

    page = client.get(reverse("canteens:egalim", kwargs={"canteen_id": canteen.pk}))

    html = page.content.decode()
    download = reverse(
        "canteens:egalim_export_download", kwargs={"canteen_id": canteen.pk, "export_id": made.pk}
    )
    assert download in html
    assert "— 11 achats" in html and "export de tout le territoire" in html
    response = client.get(download)
    header, rows = read_rows(response.content.decode("utf-8"))
    assert header == SCHEMA_COLUMNS
    assert len(rows) == 11 and {row["siret"] for row in rows} == {SIRET}
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="ma-cantine-achats-{canteen.slug}-'
    )
    # A canteen with nothing in that export does not see it.
    lonely = CanteenFactory(siret=SIRET, territory=canteen.territory, managers=[manager])
    wrong = reverse(
        "canteens:egalim_export_download", kwargs={"canteen_id": lonely.pk, "export_id": made.pk}
    )
    assert client.get(wrong).status_code == 404
