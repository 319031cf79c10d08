"""A canteen's stop on the driver's phone: lines with allergens, the delivery recorded by the
check-off (API and plain form), replays, refusals; the route sheet and planning table."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from logistics.models import PlanStop, StopCheckoff, StopStatus
from logistics.planning_selectors import _manifest_text
from marche.canteens.models import (
    CanteenOrder,
    CanteenOrderLine,
    CanteenOrderStatus,
    DeliveryRecord,
)
from tests.logistics.canteen_fixtures import CanteenWorld, build_canteen_world

KEY = "5d0c7a1e-canteen-0001"


@pytest.fixture
def cw(db: None) -> CanteenWorld:
    return build_canteen_world()


def _session(user: Any) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/chauffeur/")
    return client, client.cookies["csrftoken"].value


def _post(client: Client, token: str, stop: PlanStop, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/logistique/etapes/{stop.pk}/pointage",
        json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )


def _body(cw: CanteenWorld, **canteen: Any) -> dict[str, Any]:
    payload = {
        "quantities": {
            str(cw.carrots.pk): "18,5",
            str(cw.yoghurts.pk): "12",
            str(cw.bread.pk): "6",
        },
        "reasons": {str(cw.carrots.pk): "Cagette abîmée"},
        "received_by": "Mme Lemaire",
    }
    payload.update(canteen)
    return {"key": KEY, "status": "delivered", "note": "", "canteen": payload}


def _state(cw: CanteenWorld) -> tuple[Any, ...]:
    cw.stop.refresh_from_db()
    order = CanteenOrder.objects.get(pk=cw.order.pk)
    return (
        cw.stop.status,
        cw.stop.checked_at,
        StopCheckoff.objects.count(),
        order.status,
        order.received_by,
        order.delivered_at,
        list(
            CanteenOrderLine.objects.filter(order=order)
            .order_by("pk")
            .values_list("quantity_delivered", "shortfall_reason")
        ),
        DeliveryRecord.objects.count(),
    )


def test_the_route_page_shows_the_canteen_lines_allergens_and_a_prefilled_form(
    cw: CanteenWorld,
) -> None:
    client = Client()
    client.force_login(cw.world.driver)
    page = client.get(f"/chauffeur/tournees/{cw.world.route.pk}/").content.decode()
    assert "École maternelle Jean-Macé" in page
    assert "créneau 07:30–10:00" in page
    assert "Cantine, commande C-2026-00042 : 3 lignes" in page
    assert "Allergènes : Lait" in page
    assert "Allergènes : Céréales contenant du gluten, Graines de sésame" in page
    assert "Allergènes : aucun des 14 allergènes" in page
    # Prefilled with the quantities due: 20 kg confirmed of 25 ordered.
    assert f'name="canteen-qty-{cw.carrots.pk}" data-canteen-qty="{cw.carrots.pk}" value="20"' in (
        page
    )
    assert 'name="received_by"' in page
    assert f"/cantine/livraisons/{cw.order.pk}/bon-de-livraison.pdf" in page


def test_checking_the_stop_off_records_the_delivery_once(cw: CanteenWorld) -> None:
    client, token = _session(cw.world.driver)
    first = _post(client, token, cw.stop, _body(cw))
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "delivered"
    order = CanteenOrder.objects.get(pk=cw.order.pk)
    assert order.status == CanteenOrderStatus.DELIVERED
    assert order.received_by == "Mme Lemaire"
    assert order.delivery_recorded_by == cw.world.driver
    cw.carrots.refresh_from_db()
    assert (cw.carrots.quantity_delivered, cw.carrots.shortfall_reason) == (
        Decimal("18.500"),
        "Cagette abîmée",
    )
    before = _state(cw)
    # The phone sends it again (acknowledgement lost): nothing changes.
    replay = _post(client, token, cw.stop, _body(cw, quantities={str(cw.carrots.pk): "1"}))
    assert replay.status_code == 200 and replay.json()["replay"] is True
    assert _state(cw) == before
    # The page shows what was recorded.
    page = client.get(f"/chauffeur/tournees/{cw.world.route.pk}/").content.decode()
    assert "Livré : 18,5 — Cagette abîmée" in page
    assert "reçue par Mme Lemaire" in page


@pytest.mark.parametrize(
    ("canteen", "code"),
    [
        ({"reasons": {}}, "shortfall_reason_missing"),
        ({"quantities": {"carrots": "21", "yoghurts": "12", "bread": "6"}}, "delivered_above_due"),
        ({"received_by": ""}, "received_by_missing"),
        ({"quantities": {"abc": "1"}}, "invalid_canteen_delivery"),
    ],
)
def test_a_refused_canteen_delivery_leaves_the_stop_unchecked(
    cw: CanteenWorld, canteen: dict[str, Any], code: str
) -> None:
    ids = {"carrots": cw.carrots.pk, "yoghurts": cw.yoghurts.pk, "bread": cw.bread.pk}
    if "quantities" in canteen:
        canteen["quantities"] = {str(ids.get(k, k)): v for k, v in canteen["quantities"].items()}
    client, token = _session(cw.world.driver)
    before = _state(cw)
    answer = _post(client, token, cw.stop, _body(cw, **canteen))
    assert answer.status_code == 422, answer.content
    assert answer.json()["code"] == code
    assert _state(cw) == before
    assert cw.stop.status == StopStatus.PLANNED


def test_canteen_quantities_at_a_relay_stop_are_refused(cw: CanteenWorld) -> None:
    client, token = _session(cw.world.driver)
    answer = _post(client, token, cw.world.stop_a, _body(cw))
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_canteen_delivery"
    assert StopCheckoff.objects.count() == 0


def test_the_plain_form_records_the_delivery_too(cw: CanteenWorld) -> None:
    client = Client()
    client.force_login(cw.world.driver)
    response = client.post(
        f"/chauffeur/etapes/{cw.stop.pk}/pointage/",
        {
            "key": "sans-javascript-0001",
            "status": "delivered",
            "note": "",
            f"canteen-qty-{cw.carrots.pk}": "20",
            f"canteen-qty-{cw.yoghurts.pk}": "10",
            f"canteen-reason-{cw.yoghurts.pk}": "Deux pots cassés",
            f"canteen-qty-{cw.bread.pk}": "6",
            "received_by": "M. Cuisinier",
        },
    )
    assert response.status_code == 302
    cw.yoghurts.refresh_from_db()
    assert (cw.yoghurts.quantity_delivered, cw.yoghurts.shortfall_reason) == (
        Decimal("10"),
        "Deux pots cassés",
    )
    assert CanteenOrder.objects.get(pk=cw.order.pk).received_by == "M. Cuisinier"


def test_the_route_sheet_pdf_lists_the_canteen_lines_with_allergens_and_window(
    cw: CanteenWorld, artifacts_dir: Any
) -> None:
    client = Client()
    client.force_login(cw.world.driver)
    response = client.get(f"/chauffeur/tournees/{cw.world.route.pk}/feuille.pdf")
    assert response.status_code == 200
    (artifacts_dir / "route-sheet-canteen.pdf").write_bytes(response.content)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    assert "Créneau : 07:30–10:00" in text
    assert "C-2026-00042" in text
    assert "Yaourts nature 125 g" in text and "allergènes : Lait" in text
    assert "aucun des 14 allergènes" in text


def test_the_planning_table_summarises_the_canteen_stop(cw: CanteenWorld) -> None:
    summary, detail = _manifest_text(cw.stop)
    assert summary == (
        "Cantine, commande C-2026-00042 : 3 lignes · 3 caisses · 24,5 kg · 1 article frais"
    )
    assert "20 kg · Carottes des sables · Ferme Dupuis" in detail
    assert "12 pièces · Yaourts nature 125 g · Laiterie des Terrils · froid" in detail
