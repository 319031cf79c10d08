"""A plan computed and published by the real services, then driven: what its driver sees,
the sheet and track, and the e-mails when each relay stop is checked off."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from pypdf import PdfReader

from logistics.editing import plan_publish
from logistics.models import PlanStop, StopKind
from logistics.services import plan_compute
from marche.orders.models import Order
from tests.logistics.test_delivery_plan import build_cycle

pytestmark = pytest.mark.django_db


def test_the_driver_of_a_computed_and_published_plan_drives_it(
    django_capture_on_commit_callbacks: Any,
) -> None:
    cycle = build_cycle()
    plan = plan_compute(cycle_id=cycle.pk, time_limit=1).plan
    plan = plan_publish(plan_id=plan.pk, version=plan.version, by=None)
    route = plan.routes.select_related("driver").get()
    assert route.driver is not None
    client = Client()
    client.force_login(route.driver)

    html = client.get(f"/chauffeur/tournees/{route.pk}/").content.decode()
    orders = Order.objects.filter(cycle=cycle).select_related("customer")
    for order in orders:
        assert order.reference in html
    assert "Camille D." in html  # the households' short names, for their driver
    load = html.index('id="chargement"')
    relays = PlanStop.objects.filter(route=route, kind=StopKind.DELIVERY).order_by("-position")
    positions = [html.index(stop.name, load) for stop in relays]
    assert positions == sorted(positions)  # loaded in reverse order of the drops

    pdf = client.get(f"/chauffeur/tournees/{route.pk}/feuille.pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert all(order.reference in text for order in orders)
    gpx = ET.fromstring(client.get(f"/chauffeur/tournees/{route.pk}/trace.gpx").content)
    assert len(gpx.findall("{http://www.topografix.com/GPX/1/1}wpt")) == route.stops.count()

    client.get("/chauffeur/")
    for stop in PlanStop.objects.filter(route=route, kind__in=["delivery", "pickup"]):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/api/v1/logistique/etapes/{stop.pk}/pointage",
                json.dumps({"key": f"computed-{stop.pk}", "status": "delivered"}),
                content_type="application/json",
            )
        assert response.status_code == 200, response.content
    route.refresh_from_db()
    assert route.started_at is not None and route.finished_at is not None
    arrivals = [m for m in mail.outbox if m.subject.startswith("Votre panier vous attend")]
    assert sorted(m.to[0] for m in arrivals) == sorted(o.customer.email for o in orders)
