"""Two demo territories side by side: each one's canteen exports hold its own data only.

Loos's coordinator and Dunkerque's, each in turn: the Factur-X invoices, the "ma cantine"
purchase exports (made from the EGalim page, or for the whole territory by
``manage.py export_macantine``), the delivery notes and the lists leading to them hold none
of the other territory's canteens, and the other territory's are not fetched by id. Both demo
territories are loaded once for the module (``tests/two_territories.py``); each territory is
given the same delivered month of one canteen, invoiced by the real services.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from marche.canteens.invoicing import invoice_issue
from marche.canteens.macantine import macantine_export_create
from marche.canteens.models import (
    Canteen,
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    Invoice,
    MaCantineExport,
)
from marche.cycles.models import Offer
from marche.producers.models import Producer
from marche.territories.models import Territory
from tests.factories.canteens import CanteenOrderFactory, CanteenOrderLineFactory
from tests.two_territories import (
    OTHER,
    SLUGS,
    account,
    open_cycle,
    territories,
    two_demos,
)

__all__ = ["territories", "two_demos"]  # the fixtures

pytestmark = pytest.mark.django_db

# SIRETs whose Luhn check digit holds (invented): each territory's two canteens.
SIRETS = {
    "loos-en-gohelle": ("73282932000074", "51987654300017"),
    "dunkerque": ("40483304800022", "61234567800025"),
}


@dataclass
class History:
    canteen: Canteen
    order: CanteenOrder
    line: CanteenOrderLine
    invoice: Invoice
    wide: MaCantineExport  # made for the whole territory (manage.py export_macantine)
    export: MaCantineExport  # made later from the canteen's EGalim page


def last_month() -> tuple[int, int, date]:
    first = timezone.localdate().replace(day=1)
    end = first - timedelta(days=1)
    return end.year, end.month, end.replace(day=10)


def purchase(canteen: Canteen, offer: Offer, *, reference: str, quantity: str) -> CanteenOrderLine:
    """A delivered order of the canteen, last month, of one line of ``offer``.

    Each in a cycle of its own (a canteen orders once per cycle), of the canteen's territory.
    """
    day = last_month()[2]
    closes = timezone.make_aware(datetime.combine(day - timedelta(days=2), time(19)))
    order = CanteenOrderFactory(
        canteen=canteen,
        reference=reference,
        delivery_date=day,
        status=CanteenOrderStatus.DELIVERED,
        cycle__opens_at=closes - timedelta(days=7),
        cycle__closes_at=closes,
        cycle__delivery_date=day,
    )
    line: CanteenOrderLine = CanteenOrderLineFactory(
        order=order, offer=offer, quantity_delivered=Decimal(quantity)
    )
    return line


def delivered_month(slug: str) -> History:
    """Two canteens of the territory delivered last month by one of its producers; the first
    one's month invoiced; both exported in the territory's file, then the first one's new
    purchase exported from its page."""
    year, month, _day = last_month()
    cycle = open_cycle(slug)
    offer = (
        Offer.objects.filter(
            cycle=cycle,
            product__wholesale_price__isnull=False,
            product__producer__siret__gt="",
        )
        .select_related("product__producer")
        .order_by("pk")
        .first()
    )
    assert offer is not None, f"no wholesale offer of a producer with SIRET in {slug}"
    canteens = list(Canteen.objects.filter(territory__slug=slug).order_by("pk")[:2])
    assert len(canteens) == 2
    lines = []
    for canteen, siret in zip(canteens, SIRETS[slug], strict=True):
        Canteen.objects.filter(pk=canteen.pk).update(siret=siret)
        canteen.refresh_from_db()
        reference = f"C-ISOL-{slug[:4].upper()}-{canteen.pk}"
        lines.append(purchase(canteen, offer, reference=reference, quantity="12"))
    canteen, order = canteens[0], lines[0].order
    invoice = invoice_issue(issuer=offer.product.producer, canteen=canteen, year=year, month=month)
    coordinator = account(slug, "coordinator")
    (wide,) = macantine_export_create(territory=canteen.territory).exports
    line = purchase(canteen, offer, reference=f"{order.reference}-2", quantity="4")
    (export,) = macantine_export_create(canteen=canteen, user=coordinator).exports
    return History(canteen, order, line, invoice, wide, export)


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def pdf_text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(page.extract_text() for page in reader.pages)


def names_of(slug: str) -> set[str]:
    """What names the territory's canteens and producers: none may be in another's export."""
    territory = Territory.objects.get(slug=slug)
    other = Territory.objects.get(slug=OTHER[slug])
    own = {c.name for c in territory.canteens.all()} | {p.name for p in territory.producers.all()}
    mine = {c.name for c in other.canteens.all()} | {p.name for p in other.producers.all()}
    return own - mine


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coordinators_canteen_exports_hold_their_own_territory_only(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    mine, theirs = delivered_month(slug), delivered_month(OTHER[slug])
    other_names = names_of(OTHER[slug])
    other_sirets = set(
        Canteen.objects.filter(territory__slug=OTHER[slug])
        .exclude(siret="")
        .values_list("siret", flat=True)
    )
    own_sirets = set(
        Canteen.objects.filter(territory__slug=slug)
        .exclude(siret="")
        .values_list("siret", flat=True)
    )
    assert other_sirets and not other_sirets & own_sirets
    client.force_login(account(slug, "coordinator"))

    # The invoice (Factur-X PDF) and the delivery note of its own canteen.
    invoice = pdf_text(client.get(f"/cantine/factures/{mine.invoice.pk}/pdf/"))
    note = pdf_text(client.get(f"/cantine/livraisons/{mine.order.pk}/bon-de-livraison.pdf"))
    assert mine.invoice.number in invoice and mine.invoice.issuer.siret in invoice
    assert mine.order.reference in note
    other_producer_sirets = set(
        Producer.objects.filter(territory__slug=OTHER[slug])
        .exclude(siret="")
        .values_list("siret", flat=True)
    )
    assert other_producer_sirets
    for text in (invoice, note):
        assert not [name for name in other_names if name in text]
        assert not [n for n in other_sirets | other_producer_sirets if n in text]

    # "ma cantine" files: its canteen's, and the territory's file read from the canteen's page.
    egalim = f"/cantine/{mine.canteen.pk}/egalim/"
    for export in (mine.export, mine.wide):
        rows = csv_rows(client.get(f"{egalim}export/{export.pk}/"))
        assert rows[1:], export.pk
        assert {row[0] for row in rows[1:]} == {mine.canteen.siret}
        text = "\n".join(",".join(row) for row in rows)
        assert not [name for name in other_names if name in text]
    # The territory's whole file holds its own canteens only.
    wide_sirets = {row[0] for row in csv.reader(io.StringIO(mine.wide.content)) if row}
    assert wide_sirets - {"siret"} <= own_sirets
    # A new export from the page: its own canteen's new purchases only.
    year = last_month()[0]
    purchase(mine.canteen, mine.line.offer, reference=f"{mine.order.reference}-3", quantity="3")
    other_exports = MaCantineExport.objects.filter(territory__slug=OTHER[slug]).count()
    made = csv_rows(client.post(f"{egalim}export/", {"annee": str(year)}))
    assert {row[0] for row in made[1:]} == {mine.canteen.siret}
    assert MaCantineExport.objects.filter(territory__slug=OTHER[slug]).count() == other_exports

    # The lists leading to them: none of the other territory's canteens or files.
    aged = client.get("/cantine/factures/impayes/").content.decode()
    assert f"/cantine/factures/{mine.invoice.pk}/pdf/" in aged
    for path in ("/cantine/factures/impayes/", "/cantine/egalim/", egalim):
        html = aged if "impayes" in path else client.get(path).content.decode()
        assert not [name for name in other_names if name in html], path
        assert f"/cantine/factures/{theirs.invoice.pk}/pdf/" not in html, path
        for export in (theirs.export, theirs.wide):
            assert f"/egalim/export/{export.pk}/" not in html, path
        assert f"/cantine/{theirs.canteen.pk}/egalim/" not in html, path


@pytest.mark.parametrize("slug", SLUGS)
def test_a_coordinator_cannot_fetch_the_other_territorys_canteen_exports_by_id(
    client: Client, territories: dict[str, Territory], slug: str
) -> None:
    mine, theirs = delivered_month(slug), delivered_month(OTHER[slug])
    client.force_login(account(slug, "coordinator"))
    own_egalim = f"/cantine/{mine.canteen.pk}/egalim/"
    other_egalim = f"/cantine/{theirs.canteen.pk}/egalim/"
    assert client.get(f"/cantine/factures/{mine.invoice.pk}/pdf/").status_code == 200
    assert client.get(f"{own_egalim}export/{mine.export.pk}/").status_code == 200

    not_found = [
        f"/cantine/factures/{theirs.invoice.pk}/pdf/",
        f"/cantine/factures/{theirs.invoice.pk}/pdf/?voir=1",
        f"/cantine/livraisons/{theirs.order.pk}/bon-de-livraison.pdf",
        f"/cantine/livraisons/{theirs.order.pk}/",
        # Its own canteen's address with the other territory's export ids.
        f"{own_egalim}export/{theirs.export.pk}/",
        f"{own_egalim}export/{theirs.wide.pk}/",
    ]
    for path in not_found:
        response = client.get(path)
        assert response.status_code == 404, path
        assert theirs.line.name not in response.content.decode(errors="replace"), path
    # The other territory's canteen pages: refused.
    for path in (
        other_egalim,
        f"{other_egalim}export/{theirs.export.pk}/",
        f"{other_egalim}export/{theirs.wide.pk}/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert not response.get("Content-Disposition"), path
        assert theirs.canteen.siret not in response.content.decode(errors="replace"), path

    # Asking for the other canteen's export makes none, and marks none of its lines.
    purchase(
        theirs.canteen, theirs.line.offer, reference=f"{theirs.order.reference}-3", quantity="5"
    )
    exports = MaCantineExport.objects.count()
    unexported = CanteenOrderLine.objects.filter(exported__isnull=True).count()
    posted = client.post(f"{other_egalim}export/", {"annee": str(last_month()[0])})
    assert posted.status_code == 404
    assert MaCantineExport.objects.count() == exports
    assert CanteenOrderLine.objects.filter(exported__isnull=True).count() == unexported
    paid = client.post(
        f"/cantine/factures/{theirs.invoice.pk}/paiement/",
        {"amount": "1,00", "received_on": timezone.localdate().isoformat(), "key": "isolation-1"},
    )
    assert paid.status_code == 404
    theirs.invoice.refresh_from_db()
    assert theirs.invoice.amount_paid == Decimal("0")
