"""The coordinators' planning pages (/logistique/): who may open them, what the plan page
shows (header, map data, routes, unserved stops, changes), the polled state, and every form
post with bad input refused in French with nothing changed."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from logistics.models import (
    DeliveryPlan,
    Depot,
    PlanRoute,
    PlanStatus,
    PlanStop,
    SolveState,
    StopKind,
    StopStatus,
    Vehicle,
)
from marche.accounts.models import Role
from marche.catalog.models import Unit
from marche.cycles.models import OrderCycle
from marche.orders.services import cart_set_item, order_place
from marche.relays.models import RelayPoint
from marche.relays.services import pickup_slots_ensure
from tests.factories import (
    OfferFactory,
    OrderCycleFactory,
    ProducerFactory,
    ProductFactory,
    RelayPointFactory,
    TerritoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PASSWORD = "mot-de-passe-test"
# Real places around Loos-en-Gohelle (../shared/data/places-lensois.csv).
RELAYS = {
    "mairie-loos": ("Mairie de Loos-en-Gohelle", "50.457900", "2.793300"),
    "poste-lens": ("La Poste Lens", "50.432800", "2.831000"),
    "poste-lievin": ("La Poste Liévin", "50.423400", "2.779000"),
    "gare-lens": ("Gare de Lens", "50.427200", "2.827600"),
}


def _order(cycle: OrderCycle, relay: RelayPoint, items: list[tuple[object, str]], key: str):
    user = UserFactory(email=f"{key}-{cycle.pk}@example.test", first_name=key.capitalize())
    for offer, count in items:
        cart_set_item(customer=user, cycle_id=cycle.pk, count=Decimal(count), offer_id=offer.pk)
    slot = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)[0]
    order, _start = order_place(
        customer=user,
        cycle_id=cycle.pk,
        relay_point_id=relay.pk,
        pickup_slot_id=slot.pk,
        payment_method="pickup",
        idempotency_key=f"{key}-{cycle.pk}",
    )
    return order


def build_cycle(*, vans: int = 1) -> OrderCycle:
    """A cycle past its cutoff: orders at four relay points, one hub, ``vans`` vans."""
    cycle = OrderCycleFactory(name="Semaine 12")
    territory = cycle.territory
    farm = ProducerFactory(territory=territory, name="Ferme du Marais", slug="marais")
    carrots = OfferFactory(
        cycle=cycle,
        product=ProductFactory(producer=farm, name="Carottes", unit=Unit.KG),
        quantity_available=Decimal("200"),
    )
    relays = {
        slug: RelayPointFactory(
            territory=territory,
            slug=slug,
            name=name,
            latitude=Decimal(lat),
            longitude=Decimal(lon),
        )
        for slug, (name, lat, lon) in RELAYS.items()
    }
    _order(cycle, relays["mairie-loos"], [(carrots, "3")], "alice")
    _order(cycle, relays["mairie-loos"], [(carrots, "5")], "bruno")
    _order(cycle, relays["poste-lens"], [(carrots, "10")], "chloe")
    _order(cycle, relays["poste-lievin"], [(carrots, "4")], "denis")
    _order(cycle, relays["gare-lens"], [(carrots, "6")], "emma")
    depot = Depot.objects.create(
        territory=territory,
        name="Base 11/19",
        slug="base-11-19",
        latitude=Decimal("50.446000"),
        longitude=Decimal("2.793000"),
    )
    for n in range(1, vans + 1):
        Vehicle.objects.create(
            territory=territory,
            depot=depot,
            name=f"Utilitaire {n}",
            slug=f"van-{n}",
            kind="van",
            capacity_kg=800,
            capacity_crates=60,
            average_speed_kmh=Decimal("30"),
            cost_per_km=Decimal("0.300"),
            cost_per_hour=Decimal("24.00"),
            shift_start=time(6),
            shift_end=time(13),
        )
    now = timezone.now()
    OrderCycle.objects.filter(pk=cycle.pk).update(
        opens_at=now - timedelta(days=3), closes_at=now - timedelta(hours=1)
    )
    cycle.refresh_from_db()
    return cycle


def store_plan(
    cycle: OrderCycle, *, routes: int = 2, stops_per_route: int = 2, **plan_fields: object
) -> DeliveryPlan:
    """A computed draft written row by row: ``routes`` routes of ``stops_per_route`` drops.

    Each drop is at one of the cycle's relay points (cycled through), with a manifest in the
    stored format, so the page can be tested without the solver.
    """
    territory = cycle.territory
    zone = ZoneInfo(territory.timezone)
    depot = Depot.objects.get(territory=territory, slug="base-11-19")
    vehicles = list(Vehicle.objects.filter(territory=territory).order_by("slug"))
    while len(vehicles) < routes:
        n = len(vehicles) + 1
        vehicles.append(
            Vehicle.objects.create(
                territory=territory,
                depot=depot,
                name=f"Triporteur {n}",
                slug=f"trike-{n}",
                kind="cargo_tricycle",
                capacity_kg=180,
                capacity_crates=12,
                average_speed_kmh=Decimal("15"),
                cost_per_km=Decimal("0.040"),
                cost_per_hour=Decimal("18.00"),
                shift_start=time(6),
                shift_end=time(13),
            )
        )
    relays = list(RelayPoint.objects.filter(territory=territory).order_by("slug"))
    fields = {
        "solve_state": SolveState.DONE,
        "solved_at": timezone.now(),
        "total_km": Decimal("24.500"),
        "total_co2_kg": Decimal("6.590"),
        "baseline_km": Decimal("61.200"),
        **plan_fields,
    }
    plan = DeliveryPlan.objects.create(cycle=cycle, **fields)
    start = datetime.combine(cycle.delivery_date, time(7), tzinfo=zone)
    for r in range(routes):
        route = PlanRoute.objects.create(
            plan=plan,
            vehicle=vehicles[r],
            position=r + 1,
            km=Decimal("12.250"),
            duration_min=95,
            co2_kg=Decimal("3.295"),
        )
        drops = [relays[(r * stops_per_route + i) % len(relays)] for i in range(stops_per_route)]
        rows = [
            PlanStop(
                route=route,
                position=0,
                place=f"depot:{depot.slug}",
                kind=StopKind.DEPOT_START,
                eta=start,
                load_kg_after=10 * len(drops),
                manifest={
                    "load_in_order": [
                        {
                            "place": f"relay:{d.slug}",
                            "name": d.name,
                            "crates": 1,
                            "kg": 10,
                            "cold_items": 0,
                        }
                        for d in reversed(drops)
                    ]
                },
            )
        ]
        for i, relay in enumerate(drops, start=1):
            rows.append(
                PlanStop(
                    route=route,
                    position=i,
                    place=f"relay:{relay.slug}",
                    name=relay.name,
                    latitude=relay.latitude,
                    longitude=relay.longitude,
                    kind=StopKind.DELIVERY,
                    window_end=datetime.combine(cycle.delivery_date, time(16), tzinfo=zone),
                    eta=start + timedelta(minutes=15 * i),
                    load_kg_after=10 * (len(drops) - i),
                    manifest={
                        "place": f"relay:{relay.slug}",
                        "name": relay.name,
                        "orders": [
                            {
                                "reference": f"C-{r}{i}",
                                "customer": "Camille D.",
                                "baskets": 1,
                                "lines": 1,
                                "kg": 10,
                                "cold_items": 0,
                                "items": [{"name": "Carottes", "quantity": "10 kg", "cold": False}],
                            }
                        ],
                        "order_count": 1,
                        "baskets": 1,
                        "lines": 1,
                        "crates": 1,
                        "kg": 10,
                        "cold_items": 0,
                    },
                )
            )
        rows.append(
            PlanStop(
                route=route,
                position=len(drops) + 1,
                place=f"depot:{depot.slug}",
                kind=StopKind.DEPOT_END,
                eta=start + timedelta(minutes=95),
                load_kg_after=0,
            )
        )
        PlanStop.objects.bulk_create(rows)
    return plan


def coordinator(cycle: OrderCycle, **fields: object):
    return UserFactory(role=Role.COORDINATOR, territory=cycle.territory, **fields)


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def plan_url(cycle: OrderCycle, name: str = "plan") -> str:
    return reverse(f"planning:{name}", args=[cycle.pk])


def get_html(client: Client, url: str) -> str:
    """The page's HTML with entities decoded, to look for French text in it."""
    return unescape(client.get(url).content.decode())


def rows_of(plan: DeliveryPlan) -> tuple[object, ...]:
    """Everything an edit could change, to compare before and after a refusal."""
    plan.refresh_from_db()
    return (
        plan.version,
        plan.status,
        plan.unserved,
        list(plan.routes.order_by("pk").values_list("pk", "locked", "km", "position")),
        list(
            PlanStop.objects.filter(route__plan=plan)
            .order_by("pk")
            .values_list("pk", "route_id", "position", "eta", "load_kg_after")
        ),
    )


# --- who may open the pages -------------------------------------------------------------------


def test_index_lists_the_territory_closed_cycles_with_orders_and_plan_state() -> None:
    cycle = build_cycle()
    store_plan(cycle, routes=2)
    other = OrderCycleFactory(name="Ailleurs", territory=TerritoryFactory(name="Arras"))
    OrderCycle.objects.filter(pk=other.pk).update(closes_at=timezone.now() - timedelta(hours=1))
    still_open = OrderCycleFactory(name="Semaine 13", territory=cycle.territory)

    response = client_for(coordinator(cycle)).get(reverse("planning:index"))

    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "Semaine 12" in html
    assert plan_url(cycle) in html
    row = html[html.index(f'data-cycle="{cycle.pk}"') :]
    assert '<td data-label="Commandes" class="num">5</td>' in row
    assert "brouillon" in row
    assert "2 tournées" in row
    assert "Ailleurs" not in html  # another territory's cycle
    assert still_open.name not in html  # still open to orders


@pytest.mark.parametrize("role", [Role.HOUSEHOLD, Role.DRIVER, Role.FARMER])
def test_index_and_plan_page_refuse_other_roles(role: str) -> None:
    cycle = build_cycle()
    store_plan(cycle)
    client = client_for(UserFactory(role=role, territory=cycle.territory))
    for url in (reverse("planning:index"), plan_url(cycle), plan_url(cycle, "plan_state")):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Accès refusé" in unescape(response.content.decode())


def test_anonymous_visitors_are_sent_to_log_in() -> None:
    cycle = build_cycle()
    for url in (reverse("planning:index"), plan_url(cycle), plan_url(cycle, "plan_state")):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/compte/connexion/" in response["Location"]
    response = Client().post(plan_url(cycle, "plan_publish"), {"version": "1"})
    assert response.status_code == 302
    assert "/compte/connexion/" in response["Location"]


def test_a_coordinator_of_another_territory_is_refused_everywhere() -> None:
    cycle = build_cycle()
    plan = store_plan(cycle)
    before = rows_of(plan)
    stranger = UserFactory(role=Role.COORDINATOR, territory=TerritoryFactory(name="Arras"))
    client = client_for(stranger)
    assert client.get(plan_url(cycle)).status_code == 403
    assert client.get(plan_url(cycle, "plan_state")).status_code == 403
    route = plan.routes.first()
    stop = PlanStop.objects.filter(route=route, kind=StopKind.DELIVERY).first()
    posts = {
        "plan_compute": {"version": plan.version},
        "stop_move": {"stop": stop.pk, "route": route.pk, "position": 1, "version": plan.version},
        "route_lock": {"route": route.pk, "locked": "1", "version": plan.version},
        "unserved_decide": {"place": "relay:x", "decision": "other_day", "version": plan.version},
        "plan_publish": {"version": plan.version},
    }
    for name, data in posts.items():
        assert client.post(plan_url(cycle, name), data).status_code == 403, name
    assert rows_of(plan) == before


def test_a_superuser_and_an_unbound_coordinator_may_plan_any_territory() -> None:
    cycle = build_cycle()
    store_plan(cycle)
    admin = UserFactory(role=Role.HOUSEHOLD, is_superuser=True, is_staff=True)
    unbound = UserFactory(role=Role.COORDINATOR, territory=None)
    for user in (admin, unbound):
        client = client_for(user)
        assert client.get(reverse("planning:index")).status_code == 200
        assert client.get(plan_url(cycle)).status_code == 200


def test_unknown_cycle_is_not_found() -> None:
    cycle = build_cycle()
    client = client_for(coordinator(cycle))
    assert client.get(reverse("planning:plan", args=[999999])).status_code == 404
    assert client.get(reverse("planning:plan_state", args=[999999])).status_code == 404


def test_a_form_address_opened_directly_answers_405_in_french() -> None:
    cycle = build_cycle()
    response = client_for(coordinator(cycle)).get(plan_url(cycle, "plan_publish"))
    assert response.status_code == 405
    assert response["Allow"] == "POST"


# --- the plan page ----------------------------------------------------------------------------


def test_plan_page_shows_header_totals_routes_stops_and_map_data() -> None:
    cycle = build_cycle()
    plan = store_plan(cycle, routes=2, stops_per_route=2)
    response = client_for(coordinator(cycle)).get(plan_url(cycle))
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "Tournées — Semaine 12" in html
    assert "5 commandes à livrer" in html
    assert "brouillon" in html
    assert f"version {plan.version}" in html
    assert "24,5 km" in html  # total distance
    assert "6,6 kg" in html  # total CO2
    assert "36,7 km" in html  # km saved: 61.2 - 24.5
    assert "1318 g" in html  # CO2 per basket: 6.59 kg / 5 orders
    assert "Recalculer" in html
    assert "Tournée 1 — Utilitaire 1" in html
    assert "Tournée 2 — Triporteur 2" in html
    assert "1 h 35" in html  # route duration
    assert "Gare de Lens" in html
    assert "avant 16:00" in html  # window, territory time
    assert "07:15" in html  # ETA of the first drop
    assert "1 commande · 1 caisse · 10,0 kg" in html
    assert "C-01 · Camille D. · 10,0 kg" in html
    assert "0/2 étapes livrées" in html
    assert html.count('class="move-form"') == 4  # one per drop, none for depot stops
    assert html.count('class="inline-form lock-form"') == 2
    assert "Verrouiller" in html
    data = response.context["page"].map_data
    kinds = sorted(p["kind"] for p in data["places"])
    assert kinds == ["depot", "relay", "relay", "relay", "relay"]
    assert [len(r["points"]) for r in data["routes"]] == [4, 4]  # depot, 2 drops, depot
    assert 'id="plan-map-data"' in html
    assert "Sans fond de carte" in html
    assert "vendor/leaflet/leaflet.js" in html
    assert "js/planning.js" in html
    # The site's CSP stands: no tile server configured, nothing from another origin.
    assert "img-src 'self' data:" in response["Content-Security-Policy"]


def test_plan_page_allows_the_configured_tile_server_in_its_csp(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LOGISTICS_TILE_URL = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    settings.LOGISTICS_TILE_ATTRIBUTION = "© OSM"
    cycle = build_cycle()
    store_plan(cycle)
    response = client_for(coordinator(cycle)).get(plan_url(cycle))
    assert "https://*.tiles.example.org" in response["Content-Security-Policy"]
    assert response.context["map_config"] == {
        "tile_url": "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
        "attribution": "© OSM",
    }
    assert "Sans fond de carte" not in unescape(response.content.decode())


def test_plan_page_without_a_plan_offers_to_compute() -> None:
    cycle = build_cycle()
    html = get_html(client_for(coordinator(cycle)), plan_url(cycle))
    assert "Calculer les tournées" in html
    assert "Aucune tournée calculée pour ce cycle." in html
    assert "pas encore calculé" in html
    assert 'data-form="publish"' not in html


def test_plan_page_of_an_open_cycle_explains_why_it_cannot_compute() -> None:
    cycle = build_cycle()
    OrderCycle.objects.filter(pk=cycle.pk).update(closes_at=timezone.now() + timedelta(days=1))
    html = get_html(client_for(coordinator(cycle)), plan_url(cycle))
    assert "encore ouvert aux commandes" in html
    assert 'data-form="compute"' not in html


def test_unserved_stops_block_publishing_with_the_reason_and_offer_three_decisions() -> None:
    cycle = build_cycle()
    store_plan(
        cycle,
        unserved=[
            {
                "place": "relay:gare-lens",
                "code": "capacity",
                "reason_fr": "Aucun véhicule n'a la place pour cette livraison.",
                "decision": None,
            },
            {
                "place": "relay:poste-lens",
                "code": "window",
                "reason_fr": "Fenêtre horaire impossible à tenir.",
                "decision": "other_day",
            },
        ],
    )
    response = client_for(coordinator(cycle)).get(plan_url(cycle))
    html = unescape(response.content.decode())
    assert "Étapes non desservies" in html
    assert "Aucun véhicule n'a la place pour cette livraison." in html
    assert "Décision : Un autre jour" in html
    assert html.count('name="decision"') == 6
    assert "Un autre véhicule" in html and "Retrait au dépôt" in html
    assert "Décidez d'abord ce que devient l'étape non desservie : Gare de Lens." in html
    publish = html[html.index('data-form="publish"') :]
    assert "disabled" in publish[: publish.index("</form>")]
    unserved = [p for p in response.context["page"].map_data["places"] if p["unserved"]]
    assert unserved == []  # both places are on routes too in this fixture


def test_changes_are_listed_per_driver() -> None:
    cycle = build_cycle()
    store_plan(
        cycle,
        changes=[
            {
                "vehicle": "van-1",
                "driver": "Paul Martin",
                "moved_in": ["relay:gare-lens"],
                "moved_out": ["relay:unknown"],
                "reordered": True,
                "why_fr": "gain de 7,2 % ≥ seuil 5 %",
            }
        ],
    )
    html = get_html(client_for(coordinator(cycle)), plan_url(cycle))
    section = html[html.index('id="changements"') :]
    assert "Paul Martin" in section
    assert "gain de 7,2 % ≥ seuil 5 %" in section
    assert "Ajoutés : Gare de Lens" in section
    assert "Retirés : relay:unknown" in section
    assert "Ordre de passage changé." in section


def test_a_solving_plan_shows_its_progress_box_and_a_reload_link() -> None:
    cycle = build_cycle()
    store_plan(
        cycle,
        solve_state=SolveState.RUNNING,
        progress={
            "started_at": timezone.now().isoformat(),
            "time_limit_s": 10,
            "elapsed_s": 3.4,
            "best_cost": 41.237,
            "stops_planned": 3,
            "stops_total": 4,
        },
    )
    html = get_html(client_for(coordinator(cycle)), plan_url(cycle))
    box = html[html.index('id="calcul"') :]
    assert "calcul en cours" in box
    assert "41,24" in box
    assert "3 / 4" in box
    assert "7 s" in box
    assert "Actualiser" in box
    assert 'data-solving="1"' in html


def test_a_failed_solve_shows_its_message() -> None:
    cycle = build_cycle()
    store_plan(
        cycle,
        solve_state=SolveState.FAILED,
        solve_error={"code": "no_vehicle", "message": "Aucun véhicule actif dans ce territoire."},
    )
    html = get_html(client_for(coordinator(cycle)), plan_url(cycle))
    assert "échec du calcul" in html
    assert "Aucun véhicule actif dans ce territoire." in html


def test_a_published_plan_has_no_edit_forms_and_shows_live_progress() -> None:
    cycle = build_cycle()
    plan = store_plan(cycle, routes=2, stops_per_route=3, status=PlanStatus.PUBLISHED)
    first = plan.routes.get(position=1)
    drops = list(first.stops.filter(kind=StopKind.DELIVERY).order_by("position"))
    PlanStop.objects.filter(pk=drops[0].pk).update(status=StopStatus.DELIVERED)
    PlanStop.objects.filter(pk=drops[1].pk).update(status=StopStatus.PROBLEM, note="Fermé")
    html = get_html(client_for(coordinator(cycle)), plan_url(cycle))
    assert "publié" in html
    assert "1/3 étapes livrées" in html
    assert "1 problème" in html
    assert "Fermé" in html
    for form in ("move-form", "lock-form", 'data-form="publish"', 'data-form="compute"'):
        assert form not in html, form


def test_the_plan_page_makes_the_same_queries_for_two_or_twelve_routes() -> None:
    small = build_cycle()
    store_plan(small, routes=2, stops_per_route=2)
    big = build_cycle()
    store_plan(big, routes=12, stops_per_route=6)
    client = client_for(UserFactory(role=Role.COORDINATOR, territory=None))
    client.get(plan_url(small))  # warm the session and the caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(plan_url(small)).status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert client.get(plan_url(big)).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_page_stays_within_a_fixed_query_budget(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    cycle = build_cycle()
    store_plan(
        cycle,
        routes=6,
        stops_per_route=5,
        unserved=[{"place": "relay:gare-lens", "code": "c", "reason_fr": "r", "decision": None}],
    )
    client = client_for(coordinator(cycle))
    with django_assert_max_num_queries(14):
        assert client.get(plan_url(cycle)).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(plan_url(cycle, "plan_state")).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("planning:index")).status_code == 200


# --- the polled state -------------------------------------------------------------------------


def test_state_json_reports_solve_progress() -> None:
    cycle = build_cycle()
    store_plan(
        cycle,
        solve_state=SolveState.RUNNING,
        progress={
            "time_limit_s": 10,
            "elapsed_s": 2.6,
            "best_cost": 12.5,
            "stops_planned": 2,
            "stops_total": 4,
        },
    )
    response = client_for(coordinator(cycle)).get(plan_url(cycle, "plan_state"))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    state = response.json()
    assert state["state"] == "running"
    assert state["state_label"] == "calcul en cours"
    assert state["solving"] is True
    assert state["progress"] == {"best_cost": "12,50", "stops": "2 / 4", "time_left": "7 s"}
    assert state["error"] == ""


def test_state_json_reports_each_published_route_progress_and_stop_status() -> None:
    cycle = build_cycle()
    plan = store_plan(cycle, routes=2, stops_per_route=3, status=PlanStatus.PUBLISHED)
    first = plan.routes.get(position=1)
    drop = first.stops.get(position=2)
    PlanStop.objects.filter(pk=drop.pk).update(status=StopStatus.DELIVERED)
    state = client_for(coordinator(cycle)).get(plan_url(cycle, "plan_state")).json()
    assert state["solving"] is False
    assert state["routes"] == [
        {"id": first.pk, "done": 1, "problems": 0, "total": 3, "label": "1/3 étapes livrées"},
        {
            "id": plan.routes.get(position=2).pk,
            "done": 0,
            "problems": 0,
            "total": 3,
            "label": "0/3 étapes livrées",
        },
    ]
    by_id = {s["id"]: s for s in state["stops"]}
    assert by_id[drop.pk] == {"id": drop.pk, "status": "delivered", "label": "livrée"}
    assert len(by_id) == 6


def test_state_json_of_a_cycle_without_plan_and_of_a_failed_solve() -> None:
    cycle = build_cycle()
    client = client_for(coordinator(cycle))
    assert client.get(plan_url(cycle, "plan_state")).json()["plan"] is None
    store_plan(
        cycle,
        solve_state=SolveState.FAILED,
        progress="not a dict",
        solve_error={"code": "no_vehicle", "message": "Aucun véhicule."},
    )
    state = client.get(plan_url(cycle, "plan_state")).json()
    assert state["state"] == "failed"
    assert state["error"] == "Aucun véhicule."
    assert state["progress"] == {"best_cost": "", "stops": "", "time_left": ""}


# --- posts with bad input: a French message, nothing changed ----------------------------------


def _post_refused(client: Client, url: str, data: dict[str, object], cycle: OrderCycle) -> str:
    """Post, expect the way back to the plan page, and the one red message shown there."""
    response = client.post(url, {**data, "next": plan_url(cycle)})
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith(plan_url(cycle))
    page = client.get(response["Location"])
    errors = [str(m) for m in page.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1, errors
    assert 'class="message error"' in page.content.decode()
    return errors[0]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("stop", "abc", "Identifiant invalide."),
        ("stop", "", "Identifiant invalide."),
        ("route", "-1", "Identifiant invalide."),
        ("position", "deux", "La position doit être un nombre, par exemple 2."),
        ("position", "0", "La position doit être au moins 1."),
        ("position", "1,5", "La position doit être un nombre entier."),
        ("version", "v2", "Identifiant invalide."),
    ],
)
def test_move_with_unreadable_input_is_refused_in_french(
    field: str, value: str, expected: str
) -> None:
    cycle = build_cycle()
    plan = store_plan(cycle)
    route = plan.routes.get(position=2)
    stop = PlanStop.objects.filter(route__plan=plan, kind=StopKind.DELIVERY).order_by("pk").first()
    data = {"stop": stop.pk, "route": route.pk, "position": 1, "version": plan.version}
    data[field] = value
    before = rows_of(plan)
    client = client_for(coordinator(cycle))
    assert _post_refused(client, plan_url(cycle, "stop_move"), data, cycle) == expected
    assert rows_of(plan) == before


def test_lock_with_an_unknown_choice_or_id_is_refused_in_french() -> None:
    cycle = build_cycle()
    plan = store_plan(cycle)
    route = plan.routes.first()
    before = rows_of(plan)
    client = client_for(coordinator(cycle))
    url = plan_url(cycle, "route_lock")
    assert (
        _post_refused(client, url, {"route": route.pk, "locked": "oui", "version": 1}, cycle)
        == "Choisissez de verrouiller ou de déverrouiller la tournée."
    )
    assert (
        _post_refused(client, url, {"route": "x", "locked": "1", "version": 1}, cycle)
        == "Identifiant invalide."
    )
    assert rows_of(plan) == before


def test_edits_of_a_cycle_without_plan_say_so() -> None:
    cycle = build_cycle()
    client = client_for(coordinator(cycle))
    message = _post_refused(client, plan_url(cycle, "plan_publish"), {"version": 1}, cycle)
    assert message == (
        "Ce cycle n'a pas encore de plan de livraison : calculez d'abord les tournées."
    )
    assert not DeliveryPlan.objects.filter(cycle=cycle).exists()


def test_wagtail_menu_links_coordinators_to_the_planning_pages(rf) -> None:  # type: ignore[no-untyped-def]
    from logistics.wagtail_hooks import register_planning_menu_item

    cycle = build_cycle()
    item = register_planning_menu_item()
    assert item.url == reverse("planning:index")
    assert str(item.label) == "Tournées"
    request = rf.get("/admin/")
    request.user = coordinator(cycle)
    assert item.is_shown(request) is True
    request.user = UserFactory(role=Role.DRIVER)
    assert item.is_shown(request) is False


def test_preparation_page_links_coordinators_to_the_planning_pages() -> None:
    cycle = build_cycle()
    html = get_html(client_for(coordinator(cycle)), reverse("preparation:index"))
    assert reverse("planning:index") in html
    driver = UserFactory(role=Role.DRIVER, territory=cycle.territory)
    html = get_html(client_for(driver), reverse("preparation:index"))
    assert reverse("planning:index") not in html
