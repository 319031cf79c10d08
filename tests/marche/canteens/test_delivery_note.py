"""The delivery note (bon de livraison): lines, allergens, delivered quantities, who may read it,
and the manager's page that records or corrects the delivery."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from marche.accounts.models import Role
from marche.canteens.delivery import delivery_record
from marche.canteens.models import CanteenOrder, CanteenOrderLine, Invoice, InvoiceLine
from tests.factories import UserFactory
from tests.logistics.canteen_fixtures import CanteenWorld, build_canteen_world

pytestmark = pytest.mark.django_db


def _text(content: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _note_url(cw: CanteenWorld) -> str:
    return f"/cantine/livraisons/{cw.order.pk}/bon-de-livraison.pdf"


def test_before_delivery_the_note_lists_lines_allergens_and_an_empty_delivered_column(
    artifacts_dir: Any,
) -> None:
    cw = build_canteen_world()
    response = _client(cw.manager).get(_note_url(cw))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    (artifacts_dir / "bon-de-livraison-avant.pdf").write_bytes(response.content)
    text = _text(response.content)
    assert "Bon de livraison C-2026-00042" in text
    assert "créneau de réception 07:30–10:00" in text
    assert "École maternelle Jean-Macé" in text
    # Every supplier, with the lines: producer, designation, quantities, allergens.
    for supplier in ("Ferme Dupuis", "Laiterie des Terrils", "Fournil du 11/19"):
        assert supplier in text
    assert "Carottes des sables" in text and "aucun des 14 allergènes" in text
    assert "Lait" in text and "Céréales contenant du gluten, Graines de sésame" in text
    assert "FROID" in text
    assert "Quantités livrées à remplir à la réception." in text
    assert "Le chauffeur" in text and "Reçu par" in text
    assert "−" not in text  # no shortfall yet


def test_after_delivery_the_note_shows_delivered_quantities_and_shortfalls(
    artifacts_dir: Any,
) -> None:
    cw = build_canteen_world()
    delivery_record(
        order=cw.order,
        quantities={cw.carrots.pk: "18,5", cw.yoghurts.pk: "12", cw.bread.pk: "6"},
        reasons={cw.carrots.pk: "Cagette abîmée au chargement"},
        received_by="Mme Lemaire",
        user=cw.manager,
        key="livraison-note-01",
    )
    response = _client(cw.world.driver).get(_note_url(cw))
    assert response.status_code == 200
    (artifacts_dir / "bon-de-livraison-apres.pdf").write_bytes(response.content)
    text = _text(response.content)
    assert "reçue par Mme Lemaire" in text
    assert "18,5" in text and "−1,5 : Cagette abîmée au chargement" in text


@pytest.mark.parametrize("who", ["stranger_manager", "household", "other_driver"])
def test_the_note_is_not_found_for_others(who: str) -> None:
    cw = build_canteen_world()
    users = {
        "stranger_manager": UserFactory(
            email="autre-cantine@example.test", role=Role.CANTEEN_MANAGER
        ),
        "household": UserFactory(email="foyer-note@example.test"),
        "other_driver": UserFactory(email="autre-chauffeur@example.test", role=Role.DRIVER),
    }
    assert _client(users[who]).get(_note_url(cw)).status_code == 404
    assert _client(users[who]).get(f"/cantine/livraisons/{cw.order.pk}/").status_code == 404


def test_coordinators_read_the_note_and_the_driver_cannot_open_the_managers_page() -> None:
    cw = build_canteen_world()
    assert _client(cw.world.coordinator).get(_note_url(cw)).status_code == 200
    assert _client(cw.world.driver).get(f"/cantine/livraisons/{cw.order.pk}/").status_code == 404


def _lines(cw: CanteenWorld) -> list[tuple[Any, ...]]:
    return list(
        CanteenOrderLine.objects.filter(order=cw.order)
        .order_by("pk")
        .values_list("quantity_delivered", "shortfall_reason")
    )


def test_the_manager_records_the_delivery_on_the_page() -> None:
    cw = build_canteen_world()
    client = _client(cw.manager)
    page = client.get(f"/cantine/livraisons/{cw.order.pk}/").content.decode()
    assert f'name="qty-{cw.carrots.pk}"' in page and 'value="20"' in page
    assert "Graines de sésame" in page and "aucun des 14 allergènes" in page
    response = client.post(
        f"/cantine/livraisons/{cw.order.pk}/",
        {
            "key": "formulaire-0001",
            f"qty-{cw.carrots.pk}": "19,25",
            f"reason-{cw.carrots.pk}": "Poids au déchargement",
            f"qty-{cw.yoghurts.pk}": "12",
            f"qty-{cw.bread.pk}": "6",
            "received_by": "Sophie Lemaire",
        },
    )
    assert response.status_code == 302
    assert _lines(cw)[0] == (Decimal("19.250"), "Poids au déchargement")
    assert CanteenOrder.objects.get(pk=cw.order.pk).received_by == "Sophie Lemaire"


def test_a_refusal_on_the_page_keeps_what_was_typed_and_changes_nothing() -> None:
    cw = build_canteen_world()
    before = _lines(cw)
    response = _client(cw.manager).post(
        f"/cantine/livraisons/{cw.order.pk}/",
        {
            "key": "formulaire-0002",
            f"qty-{cw.carrots.pk}": "19",
            f"qty-{cw.yoghurts.pk}": "12",
            f"qty-{cw.bread.pk}": "6",
            "received_by": "Sophie Lemaire",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-error="shortfall_reason_missing"' in page
    assert "Carottes des sables" in page and 'value="19"' in page
    assert _lines(cw) == before


def test_an_invoiced_line_is_shown_locked_and_a_forged_change_is_refused() -> None:
    cw = build_canteen_world()
    delivery_record(
        order=cw.order,
        quantities={cw.carrots.pk: "20", cw.yoghurts.pk: "12", cw.bread.pk: "6"},
        reasons={},
        received_by="Mme Lemaire",
        user=cw.manager,
        key="livraison-note-02",
    )
    invoice = Invoice.objects.create(
        issuer=cw.carrots.producer,
        canteen=cw.canteen,
        number="F-2026-0007",
        sequence_year=2026,
        sequence_number=7,
        period_start=cw.order.delivery_date.replace(day=1),
        period_end=cw.order.delivery_date,
        issued_on=cw.order.delivery_date,
        due_on=cw.order.delivery_date,
        total_ht=Decimal("30.00"),
        total_vat=Decimal("1.65"),
        total_ttc=Decimal("31.65"),
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        order_line=cw.carrots,
        delivery_date=cw.order.delivery_date,
        description=cw.carrots.name,
        unit="kg",
        quantity=Decimal("20"),
        unit_price_ht=Decimal("1.5"),
        vat_rate=Decimal("5.5"),
        total_ht=Decimal("30.00"),
    )
    client = _client(cw.manager)
    page = client.get(f"/cantine/livraisons/{cw.order.pk}/").content.decode()
    assert re.search(rf'name="qty-{cw.carrots.pk}"[^>]* value="20" disabled>', page)
    assert not re.search(rf'name="qty-{cw.yoghurts.pk}"[^>]* disabled>', page)
    assert "facturée" in page
    before = _lines(cw)
    response = client.post(
        f"/cantine/livraisons/{cw.order.pk}/",
        {
            "key": "formulaire-0003",
            f"qty-{cw.carrots.pk}": "15",
            f"reason-{cw.carrots.pk}": "Erreur",
            "received_by": "Sophie Lemaire",
        },
    )
    assert response.status_code == 409
    assert 'data-error="already_invoiced"' in response.content.decode()
    assert _lines(cw) == before


def test_before_the_delivery_day_the_page_says_when_and_offers_no_form() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from marche.cycles.models import OrderCycle

    cw = build_canteen_world()
    tomorrow = timezone.localdate() + timedelta(days=1)
    CanteenOrder.objects.filter(pk=cw.order.pk).update(delivery_date=tomorrow)
    OrderCycle.objects.filter(pk=cw.order.cycle_id).update(delivery_date=tomorrow)
    page = _client(cw.manager).get(f"/cantine/livraisons/{cw.order.pk}/").content.decode()
    assert "data-too-early" in page
    assert "data-delivery-form" not in page
    assert "Bon de livraison (PDF)" in page
