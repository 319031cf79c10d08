"""Invoice pages: who sees which invoice, PDF downloads, payments recorded from the page."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from marche.accounts.models import Role
from marche.canteens.invoicing import invoices_issue_month
from marche.canteens.models import Invoice, InvoicePayment, InvoiceStatus
from marche.producers.models import ProducerMembership
from tests.factories import TerritoryFactory, UserFactory
from tests.factories.canteens import CanteenFactory
from tests.marche.canteens.test_invoicing import ISSUED, deliver, make_producer

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 20, 10, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def _frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """Two canteens of one territory, each invoiced by its farm; a canteen elsewhere."""
    territory = TerritoryFactory()
    ours = CanteenFactory(territory=territory, name="Cantine Basly")
    theirs = CanteenFactory(territory=territory, name="Résidence Les Tilleuls")
    farm = make_producer(territory)
    other_farm = make_producer(territory, name="Ferme voisine", siret="80156026900012")
    far = CanteenFactory(name="Cantine lointaine")
    far_farm = make_producer(far.territory, name="Ferme lointaine", siret="32212231800015")
    deliver(ours, farm, date(2026, 11, 3), [("Carottes", "10", "2.0000", "5.50")])
    deliver(theirs, other_farm, date(2026, 11, 4), [("Œufs", "60", "0.3000", "5.50")])
    deliver(far, far_farm, date(2026, 11, 5), [("Pommes", "5", "1.0000", "5.50")])
    invoices_issue_month(year=2026, month=11, today=ISSUED)
    manager = UserFactory(role=Role.CANTEEN_MANAGER, email="gestion@example.test")
    ours.managers.add(manager)
    farmer = UserFactory(role=Role.FARMER, email="ferme@example.test")
    ProducerMembership.objects.create(producer=farm, user=farmer)
    coordinator = UserFactory(role=Role.COORDINATOR, territory=territory)
    return {
        "ours": Invoice.objects.get(canteen=ours),
        "theirs": Invoice.objects.get(canteen=theirs),
        "far": Invoice.objects.get(canteen=far),
        "manager": manager,
        "farmer": farmer,
        "coordinator": coordinator,
    }


def _numbers(response) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(
        invoice.number + "/" + invoice.canteen.name for invoice in response.context["invoices"]
    )


def test_a_canteen_manager_sees_and_downloads_only_their_canteens_invoices(client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world["manager"])

    page = client.get(reverse("canteens:invoice_list"))

    assert page.status_code == 200
    assert _numbers(page) == ["2026-0001/Cantine Basly"]
    html = page.content.decode()
    assert "21,10" in html and reverse("canteens:invoice_pdf", args=[world["ours"].pk]) in html
    pdf = client.get(reverse("canteens:invoice_pdf", args=[world["ours"].pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content == bytes(world["ours"].pdf)
    assert 'filename="facture-' in pdf["Content-Disposition"]
    # Another canteen's invoice, in the territory or not: not found, nothing leaks.
    for other in ("theirs", "far"):
        assert (
            client.get(reverse("canteens:invoice_pdf", args=[world[other].pk])).status_code == 404
        )
    assert client.get(reverse("canteens:invoice_pdf", args=[999999])).status_code == 404
    # A manager records no payment.
    response = client.post(
        reverse("canteens:invoice_payment", args=[world["ours"].pk]),
        {"amount": "21,10", "received_on": "2026-12-10", "key": "k"},
    )
    assert response.status_code == 403
    assert InvoicePayment.objects.count() == 0


def test_pages_are_refused_to_whom_they_are_not_for(client, world) -> None:  # type: ignore[no-untyped-def]
    household = UserFactory()
    client.force_login(household)
    for name in ("invoice_list", "invoice_list_producer", "invoice_aged"):
        assert client.get(reverse(f"canteens:{name}")).status_code == 403
    # Refused before the lookup: an id that exists and one that does not answer alike.
    assert client.get(reverse("canteens:invoice_pdf", args=[world["ours"].pk])).status_code == 403
    assert client.get(reverse("canteens:invoice_pdf", args=[999999])).status_code == 403
    client.logout()
    response = client.get(reverse("canteens:invoice_pdf", args=[world["ours"].pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_producer_records_a_payment_typed_with_a_comma(client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world["farmer"])
    page = client.get(reverse("canteens:invoice_list_producer"))
    assert _numbers(page) == ["2026-0001/Cantine Basly"]
    assert 'inputmode="decimal"' in page.content.decode()
    invoice = world["ours"]
    url = reverse("canteens:invoice_payment", args=[invoice.pk])

    response = client.post(
        url,
        {"amount": "10,10", "received_on": "2026-12-15", "reference": "VIR 123", "key": "f-1"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("canteens:invoice_list_producer")
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("10.10") and invoice.status == InvoiceStatus.ISSUED
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("10,10" in m and "2026-0001" in m and "11,00" in m for m in messages)
    # The same form posted twice: one payment.
    client.post(url, {"amount": "10,10", "received_on": "2026-12-15", "key": "f-1"})
    assert InvoicePayment.objects.count() == 1
    client.post(url, {"amount": "11", "received_on": "2026-12-16", "key": "f-2"})
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_on) == (InvoiceStatus.PAID, date(2026, 12, 16))


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"amount": "0", "received_on": "2026-12-15"}, "supérieur à zéro"),
        ({"amount": "-3", "received_on": "2026-12-15"}, "supérieur à zéro"),
        ({"amount": "30", "received_on": "2026-12-15"}, "dépasse"),
        ({"amount": "deux", "received_on": "2026-12-15"}, "nombre"),
        ({"amount": "5", "received_on": ""}, "date"),
        ({"amount": "5", "received_on": "2026-12-31"}, "futur"),
    ],
)
def test_a_refused_payment_comes_back_with_its_message_and_changes_nothing(  # type: ignore[no-untyped-def]
    client, world, data, fragment
) -> None:
    client.force_login(world["farmer"])
    invoice = world["ours"]
    back = reverse("canteens:invoice_list_producer")

    response = client.post(
        reverse("canteens:invoice_payment", args=[invoice.pk]),
        {**data, "key": "k", "next": back},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{back}#facture-{invoice.pk}"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(messages) == 1 and fragment in messages[0], messages
    assert messages[0].startswith(f"Facture {invoice.number} : ")
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.status) == (Decimal("0.00"), InvoiceStatus.ISSUED)
    assert InvoicePayment.objects.count() == 0
    # The list shows that invoice's form open again, with what was typed and the reason.
    page = client.get(back).content.decode()
    assert f'id="facture-{invoice.pk}" data-payment-form="{invoice.number}" open' in page
    assert f'id="payment-error-{invoice.pk}"' in page
    if data.get("amount"):
        assert f'value="{data["amount"]}" aria-invalid="true"' in page
    # Shown once: a reload is a fresh form.
    assert 'aria-invalid="true"' not in client.get(back).content.decode()


def test_a_producer_cannot_touch_another_producers_invoice(client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world["farmer"])
    for other in ("theirs", "far"):
        pk = world[other].pk
        assert client.get(reverse("canteens:invoice_pdf", args=[pk])).status_code == 404
        response = client.post(
            reverse("canteens:invoice_payment", args=[pk]),
            {"amount": "1", "received_on": "2026-12-15", "key": f"x-{pk}"},
        )
        assert response.status_code == 404
    assert InvoicePayment.objects.count() == 0


def test_a_coordinator_sees_the_aged_list_of_the_territory_and_records_payments(
    client, world
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world["coordinator"])

    page = client.get(reverse("canteens:invoice_aged"))

    assert page.status_code == 200
    aged = page.context["aged"]
    # Due on 31/12/2026: not yet late on 20/12.
    assert [(r.invoice.number, r.invoice.canteen.name) for r in aged.buckets[0].rows] == [
        ("2026-0001", "Cantine Basly"),
        ("2026-0001", "Résidence Les Tilleuls"),
    ]
    assert aged.total_due == Decimal("40.09")  # 21.10 + 18.99
    html = page.content.decode()
    assert "40,09" in html and "Cantine lointaine" not in html
    filtered = client.get(reverse("canteens:invoice_aged"), {"cantine": world["theirs"].canteen_id})
    assert filtered.context["aged"].total_due == Decimal("18.99")
    assert client.get(reverse("canteens:invoice_pdf", args=[world["theirs"].pk])).status_code == 200
    assert client.get(reverse("canteens:invoice_pdf", args=[world["far"].pk])).status_code == 404

    response = client.post(
        reverse("canteens:invoice_payment", args=[world["theirs"].pk]),
        {"amount": "18,99", "received_on": "2026-12-19", "key": "c-1"},
    )
    assert response["Location"] == reverse("canteens:invoice_aged")
    assert Invoice.objects.get(pk=world["theirs"].pk).status == InvoiceStatus.PAID
    far = client.post(
        reverse("canteens:invoice_payment", args=[world["far"].pk]),
        {"amount": "1", "received_on": "2026-12-19", "key": "c-2"},
    )
    assert far.status_code == 404


def test_list_pages_do_not_grow_queries_with_invoices(
    client, world, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world["coordinator"])
    client.get(reverse("canteens:invoice_aged"))
    with django_assert_max_num_queries(12) as first:
        client.get(reverse("canteens:invoice_aged"))
    territory = world["ours"].canteen.territory
    for n in range(3):
        canteen = CanteenFactory(territory=territory)
        deliver(
            canteen, world["ours"].issuer, date(2026, 11, 10 + n), [("Navets", "2", "1", "5.5")]
        )
    invoices_issue_month(year=2026, month=11, today=ISSUED)
    with django_assert_max_num_queries(len(first.captured_queries)):
        page = client.get(reverse("canteens:invoice_aged"))
    assert page.context["aged"].count == 5


def test_the_canteen_and_producer_lists_do_not_grow_queries(  # type: ignore[no-untyped-def]
    client, world, django_assert_max_num_queries
) -> None:
    invoice = world["ours"]
    pages = [
        (world["manager"], reverse("canteens:invoice_list")),
        (world["farmer"], reverse("canteens:invoice_list_producer")),
    ]
    counts = []
    for user, url in pages:
        client.force_login(user)
        client.get(url)
        with django_assert_max_num_queries(12) as before:
            client.get(url)
        counts.append(len(before.captured_queries))
    # Three more months invoiced to the same canteen by the same farm.
    for month in (8, 9, 10):
        deliver(
            invoice.canteen, invoice.issuer, date(2026, month, 7), [("Navets", "2", "1", "5.5")]
        )
        invoices_issue_month(year=2026, month=month, today=date(2026, month + 1, 1))
    for (user, url), count in zip(pages, counts, strict=True):
        client.force_login(user)
        with django_assert_max_num_queries(count):
            page = client.get(url)
        assert len(page.context["invoices"]) == 4
