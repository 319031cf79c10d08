"""Canteen invoices in the browser: the manager downloads the month's Factur-X invoice, the
farmer records the transfers received on a phone (decimal comma, a refusal in French), the
coordinator reads the aged list of what is unpaid."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from facturx import get_facturx_xml_from_pdf
from lxml import etree

from marche.accounts.models import Role, User
from marche.canteens.facturx import NS
from marche.canteens.invoicing import invoices_issue_month
from marche.canteens.models import Invoice, InvoiceStatus
from marche.producers.models import ProducerMembership
from tests.factories import TerritoryFactory
from tests.factories.canteens import CanteenFactory
from tests.marche.canteens.test_invoicing import deliver, make_producer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "un-mot-de-passe-long"
PHONE = {"width": 390, "height": 844}
NOW = datetime(2026, 12, 14, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def invoiced(db: None) -> Invoice:
    """November delivered to the nursery-school canteen by a Bioloos farm, invoiced on 1/12."""
    territory = TerritoryFactory(name="Loos-en-Gohelle", slug="loos-en-gohelle")
    canteen = CanteenFactory(
        territory=territory,
        name="Cantine maternelle Basly",
        buyer_siret="32212231800015",
        buyer_service_code="CANTINES",
    )
    farm = make_producer(territory, name="Ferme des Hirondelles")
    deliver(
        canteen,
        farm,
        date(2026, 11, 3),
        [
            ("Carottes bio", "12.5", "1.8750", "5.50"),
            ("Pommes de terre bio", "20", "1.1234", "5.50"),
        ],
    )
    deliver(
        canteen,
        farm,
        date(2026, 11, 17),
        [("Carottes bio", "7.25", "1.8750", "5.50"), ("Jus de pomme", "6", "2.4167", "20")],
    )
    invoice = invoices_issue_month(year=2026, month=11, today=date(2026, 12, 1))[0]
    manager = User.objects.create_user(
        "cantine@example.test", PASSWORD, role=Role.CANTEEN_MANAGER, first_name="Nadia"
    )
    canteen.managers.add(manager)
    farmer = User.objects.create_user(
        "ferme@example.test", PASSWORD, role=Role.FARMER, first_name="Jeanne"
    )
    ProducerMembership.objects.create(producer=farm, user=farmer)
    User.objects.create_user(
        "coordination@example.test", PASSWORD, role=Role.COORDINATOR, territory=territory
    )
    return invoice


def _log_in(page, base: str, email: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/compte/connexion/?next={next_url}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def test_invoice_downloaded_paid_in_two_transfers_and_aged_list(  # type: ignore[no-untyped-def]
    page, phone, live_server, invoiced: Invoice, artifacts_dir: Path, tmp_path: Path
) -> None:
    with time_machine.travel(NOW, tick=True):
        # The canteen manager: the invoice, and its Factur-X PDF.
        _log_in(page, live_server.url, "cantine@example.test", "/cantine/factures/")
        row = page.locator("[data-invoice='2026-0001']")
        assert row.locator("[data-total]").inner_text() == "80,17 €"
        assert row.locator("[data-due]").inner_text() == "80,17 €"
        assert "À payer" in row.inner_text()
        page.screenshot(path=str(artifacts_dir / "canteen-invoices-manager.png"), full_page=True)
        with page.expect_download() as download:
            row.locator("[data-download]").click()
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        assert path.name == "facture-" + invoiced.issuer.slug + "-2026-0001.pdf"
        _name, xml = get_facturx_xml_from_pdf(path.read_bytes(), check_xsd=True)
        root = etree.fromstring(xml)
        assert root.xpath("string(//ram:GrandTotalAmount)", namespaces=NS) == "80.17"

        # The farmer, on a phone: a first transfer typed with a comma, then too much.
        _log_in(phone, live_server.url, "ferme@example.test", "/cantine/factures/producteur/")
        form = phone.locator("[data-payment-form='2026-0001']")
        form.locator("summary").click()
        amount = form.locator("input[name=amount]")
        assert amount.get_attribute("inputmode") == "decimal"
        amount.fill("50,17")
        form.locator("input[name=reference]").fill("VIR MAIRIE 4512")
        form.get_by_role("button", name="Enregistrer le paiement").click()
        phone.wait_for_selector(
            "text=Paiement de 50,17 € enregistré pour la facture 2026-0001 ; "
            "reste à payer : 30,00 €."
        )
        assert Invoice.objects.get(pk=invoiced.pk).amount_paid == Decimal("50.17")
        assert phone.locator("[data-invoice='2026-0001'] [data-due]").inner_text() == "30,00 €"
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.screenshot(
            path=str(artifacts_dir / "canteen-invoices-farmer-phone.png"), full_page=True
        )

        form = phone.locator("[data-payment-form='2026-0001']")
        form.locator("summary").click()
        form.locator("input[name=amount]").fill("31")
        form.get_by_role("button", name="Enregistrer le paiement").click()
        # Said in the invoice's form, open again with what was typed.
        alert = phone.locator("[data-payment-form='2026-0001'] .message.error")
        alert.wait_for()
        assert alert.inner_text() == "Ce paiement dépasse ce qui reste à payer : 30,00 €."
        assert form.locator("input[name=amount]").input_value() == "31"
        assert Invoice.objects.get(pk=invoiced.pk).amount_paid == Decimal("50.17")
        phone.screenshot(
            path=str(artifacts_dir / "canteen-invoices-overpayment-phone.png"), full_page=True
        )

        # The coordinator: the aged list, then the rest recorded from there.
        coordinator = page.context.browser.new_context(
            locale="fr-FR", viewport={"width": 1280, "height": 900}
        ).new_page()
        _log_in(
            coordinator, live_server.url, "coordination@example.test", "/cantine/factures/impayes/"
        )
        assert coordinator.locator("[data-aged-total]").inner_text() == "30,00 €"
        assert (
            coordinator.locator("[data-bucket='not_due'] [data-bucket-total]").inner_text()
            == "30,00 €"
        )
        coordinator.screenshot(
            path=str(artifacts_dir / "canteen-invoices-aged.png"), full_page=True
        )
        form = coordinator.locator("[data-payment-form='2026-0001']")
        form.locator("summary").click()
        form.locator("input[name=amount]").fill("30,00")
        form.get_by_role("button", name="Enregistrer le paiement").click()
        coordinator.wait_for_selector(
            "text=Paiement de 30,00 € enregistré : la facture 2026-0001 est soldée."
        )
        assert coordinator.locator("text=Aucune facture impayée.").count() == 1
        invoice = Invoice.objects.get(pk=invoiced.pk)
        assert (invoice.status, invoice.amount_paid) == (InvoiceStatus.PAID, Decimal("80.17"))
        coordinator.context.close()

        page.reload()
        assert "Payée le" in page.locator("[data-invoice='2026-0001']").inner_text()
