"""Drivers' pages: who opens what, what the route page shows, the PDF, the GPX, the worker."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from logistics.models import PlanStatus, PlanStop, StopCheckoff
from marche.accounts.models import Role
from tests.factories import TerritoryFactory, UserFactory
from tests.logistics.driver_fixtures import DriverWorld, build_driver_world

GPX = "{http://www.topografix.com/GPX/1/1}"


@pytest.fixture
def world(db: None) -> DriverWorld:
    return build_driver_world()


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _route_url(world: DriverWorld, suffix: str = "") -> str:
    return f"/chauffeur/tournees/{world.route.pk}/{suffix}"


def test_the_driver_sees_today_s_round_and_opens_it(world: DriverWorld) -> None:
    client = _client(world.driver)
    home = client.get("/chauffeur/")
    assert home.status_code == 200
    body = home.content.decode()
    assert "Utilitaire 1" in body
    assert _route_url(world) in body
    assert "0/3 étapes pointées" in body

    page = client.get(_route_url(world))
    assert page.status_code == 200
    html = page.content.decode()
    assert page["Cache-Control"] == "private, no-cache"
    # Loading at the depot, in reverse order of the drops: La Poste (last drop) first.
    load = html.index('id="chargement"')
    assert html.index("La Poste de Lens", load) < html.index("Mairie de Loos", load)
    assert "❄ froid : 1 article" in html
    assert "À collecter" in html and "pour Mairie de Loos" in html
    # Each stop: ETA in territory time, address, phone, navigation links.
    assert "prévue à 08:45" in html
    assert "Place de la République, 62750 Loos-en-Gohelle" in html
    assert 'href="tel:0321698877"' in html
    assert "Appeler le 03 21 69 88 77" in html
    assert 'href="geo:50.457900,2.793300"' in html
    assert (
        'href="https://www.openstreetmap.org/?mlat=50.457900&amp;mlon=2.793300'
        '#map=17/50.457900/2.793300"'
    ) in html
    # The driver sees the households' short names, references, items, cold marks.
    for name in ("Camille D.", "Louis M.", "Inès B."):
        assert name in html
    assert world.orders["camille"].reference in html
    assert "Yaourts fermiers" in html
    assert html.count('value="delivered"') == 3
    assert html.count('value="problem"') == 3
    assert "Hors connexion — vos pointages seront envoyés au retour du réseau." in html
    assert "/static/js/driver.js" in html


def test_a_coordinator_sees_references_but_never_the_households_names(world: DriverWorld) -> None:
    client = _client(world.coordinator)
    redirect = client.get(f"/chauffeur/?route={world.route.pk}")
    assert redirect.status_code == 302
    assert redirect["Location"] == _route_url(world)
    html = client.get(_route_url(world)).content.decode()
    assert world.orders["camille"].reference in html
    for name in ("Camille D.", "Louis M.", "Inès B.", "Durand"):
        assert name not in html
    pdf = client.get(_route_url(world, "feuille.pdf"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert world.orders["camille"].reference in text
    assert "Camille D." not in text
    # The coordinator's list shows the territory's published rounds with their driver.
    assert "Karim Lefebvre" in client.get("/chauffeur/").content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [("household", 403), ("farmer", 403), ("other_driver", 404), ("foreign_coordinator", 404)],
)
def test_others_may_not_open_the_round(world: DriverWorld, who: str, status: int) -> None:
    users = {
        "household": world.orders["camille"].customer,
        "farmer": UserFactory(role=Role.FARMER),
        "other_driver": UserFactory(role=Role.DRIVER),
        "foreign_coordinator": UserFactory(role=Role.COORDINATOR, territory=TerritoryFactory()),
    }
    client = _client(users[who])
    for suffix in ("", "feuille.pdf", "trace.gpx"):
        response = client.get(_route_url(world, suffix))
        assert response.status_code == status, suffix
        assert b"Camille D." not in response.content
    listing = client.get("/chauffeur/")
    if status == 403:
        assert listing.status_code == 403
    else:
        assert b"Utilitaire 1" not in listing.content


def test_anonymous_is_sent_to_the_login_page(world: DriverWorld) -> None:
    response = Client().get(_route_url(world))
    assert response.status_code == 302
    assert "/compte/connexion/" in response["Location"]


def test_a_draft_plan_is_not_shown_to_its_driver(db: None) -> None:
    world = build_driver_world(status=PlanStatus.DRAFT)
    client = _client(world.driver)
    assert client.get(_route_url(world)).status_code == 404
    assert b"Utilitaire 1" not in client.get("/chauffeur/").content
    page = _client(world.coordinator).get(_route_url(world))
    assert page.status_code == 200
    assert b"brouillon : pas encore publi" in page.content
    assert b'value="delivered"' not in page.content  # nothing to check off on a draft


def test_past_rounds_leave_the_list(db: None) -> None:
    world = build_driver_world(delivery_date=timezone.localdate() - timedelta(days=1))
    assert b"Utilitaire 1" not in _client(world.driver).get("/chauffeur/").content


def test_a_bad_route_parameter_is_a_clear_error_not_a_500(world: DriverWorld) -> None:
    client = _client(world.coordinator)
    response = client.get("/chauffeur/?route=abc")
    assert response.status_code == 400
    assert "Identifiant invalide." in response.content.decode()
    assert client.get("/chauffeur/?route=999999999").status_code == 404
    assert client.get("/chauffeur/tournees/99999999999999999999/").status_code == 404


def test_a_broken_stored_manifest_still_renders(world: DriverWorld) -> None:
    PlanStop.objects.filter(pk=world.stop_a.pk).update(
        manifest={"orders": [{"reference": None, "kg": "lourd", "items": "x"}, 3], "kg": [1]}
    )
    PlanStop.objects.filter(pk=world.depot_start.pk).update(
        manifest={"load_in_order": [world.stop_b.place, 12, {"kg": -4}]}
    )
    PlanStop.objects.filter(pk=world.pickup.pk).update(manifest=["pas", "un", "objet"])
    client = _client(world.driver)
    assert client.get(_route_url(world)).status_code == 200
    assert client.get(_route_url(world, "feuille.pdf")).status_code == 200
    assert client.get(_route_url(world, "trace.gpx")).status_code == 200


def test_the_route_sheet_pdf_lists_the_stops_in_order(world: DriverWorld, artifacts_dir) -> None:  # type: ignore[no-untyped-def]
    response = _client(world.driver).get(_route_url(world, "feuille.pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    (artifacts_dir / "driver-route-sheet.pdf").write_bytes(response.content)
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Feuille de route" in text
    assert text.index("Ferme du Marais") < text.index("Place de la République")
    assert text.index("Place de la République") < text.index("Rue de la Gare")
    assert "08:45" in text and "Camille D." in text and "FROID" in text


def test_the_gpx_has_a_waypoint_per_stop_and_a_route(world: DriverWorld) -> None:
    response = _client(world.driver).get(_route_url(world, "trace.gpx"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gpx+xml"
    root = ET.fromstring(response.content)
    assert root.tag == f"{GPX}gpx" and root.get("version") == "1.1"
    waypoints = root.findall(f"{GPX}wpt")
    assert [w.findtext(f"{GPX}name") for w in waypoints] == [
        "départ du dépôt — Base 11/19",
        "1. Ferme du Marais",
        "2. Mairie de Loos",
        "3. La Poste de Lens",
        "retour au dépôt — Base 11/19",
    ]
    assert (waypoints[2].get("lat"), waypoints[2].get("lon")) == ("50.457900", "2.793300")
    points = root.findall(f"{GPX}rte/{GPX}rtept")
    assert [p.get("lat") for p in points] == [w.get("lat") for w in waypoints]


def test_the_service_worker_is_served_under_the_driver_scope(client: Client) -> None:
    response = client.get("/chauffeur/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/chauffeur/"
    # the cache is named after the assets it keeps (tests/logistics/test_driver_service_worker.py)
    assert re.search(rb'"marche-chauffeur-[0-9a-f]{12}"', response.content)


def test_the_form_without_javascript_checks_off_once(world: DriverWorld) -> None:
    client = _client(world.driver)
    form = {"key": "abcdef0123456789", "status": "delivered", "note": ""}
    response = client.post(f"/chauffeur/etapes/{world.stop_b.pk}/pointage/", form)
    assert response.status_code == 302
    assert response["Location"] == _route_url(world) + f"#etape-{world.stop_b.pk}"
    again = client.post(f"/chauffeur/etapes/{world.stop_b.pk}/pointage/", form)
    assert again.status_code == 302
    assert StopCheckoff.objects.count() == 1
    page = client.get(_route_url(world)).content.decode()
    assert "1/3 étapes pointées" in page


def test_the_form_refusal_comes_back_as_a_french_message(world: DriverWorld) -> None:
    client = _client(world.driver)
    response = client.post(
        f"/chauffeur/etapes/{world.stop_b.pk}/pointage/",
        {"key": "abcdef0123456789", "status": "problem", "note": ""},
        HTTP_REFERER="http://testserver" + _route_url(world),
        follow=True,
    )
    assert "Décrivez le problème en quelques mots dans la note." in response.content.decode()
    assert StopCheckoff.objects.count() == 0


def test_the_driver_dashboard_links_to_the_rounds(world: DriverWorld) -> None:
    html = _client(world.driver).get("/compte/").content.decode()
    assert 'href="/chauffeur/"' in html
    assert "Vos tournées apparaîtront ici" not in html


def test_the_route_page_query_count_does_not_grow_with_stops(
    world: DriverWorld, django_assert_max_num_queries: Any
) -> None:
    client = _client(world.driver)
    client.get(_route_url(world))
    with django_assert_max_num_queries(12):
        client.get(_route_url(world))
    with django_assert_max_num_queries(12):
        client.get("/chauffeur/")


def _stop_html(html: str, stop: PlanStop) -> str:
    part = html[html.index(f'id="etape-{stop.pk}"') :]
    return part[: part.index("</form>")]


def test_an_order_s_items_are_folded_under_its_line_and_the_buttons_stay_out(
    world: DriverWorld,
) -> None:
    html = _client(world.driver).get(_route_url(world)).content.decode()
    stop = _stop_html(html, world.stop_a)
    reference = world.orders["camille"].reference
    order = stop[stop.index(f'data-order="{reference}"') :]
    order = order[: order.index("</li>\n            \n")]
    # The summary names the order: reference, household, baskets, weight; the items inside.
    assert '<details class="order-items"><summary><strong class="ref">' in order
    summary = order[order.index("<summary>") : order.index("</summary>")]
    assert reference in summary and "Camille D." in summary and "kg" in summary
    assert "Yaourts fermiers" not in summary
    assert "Yaourts fermiers" in order[order.index("</summary>") :]
    # Totals and check-off buttons are outside every fold.
    assert "<details open" not in stop
    assert stop.index("À déposer : 2 commandes") < stop.index('<details class="order-items">')
    buttons = stop[stop.index('class="checkoff-buttons"') :]
    assert "✓ Livré" in buttons


def test_a_farm_pickup_is_checked_off_as_collected(world: DriverWorld) -> None:
    html = _client(world.driver).get(_route_url(world)).content.decode()
    pickup = _stop_html(html, world.pickup)
    assert "✓ Collecté" in pickup and "Livré" not in pickup
    assert "✓ Livré" in _stop_html(html, world.stop_b)


def test_the_crate_correction_field_explains_its_format_in_french(world: DriverWorld) -> None:
    html = _client(world.driver).get(_route_url(world)).content.decode()
    field = _stop_html(html, world.stop_a)
    field = field[field.index('id="crates-') :]
    field = field[: field.index(">")]
    assert 'pattern="[0-9]{1,3}"' in field
    assert 'title="Un nombre entier de caisses, de 0 à 999."' in field
