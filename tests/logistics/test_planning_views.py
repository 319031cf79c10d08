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
    DriverShift,
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


def build_cycle(*, vans: int = 1, crates: int = 60) -> OrderCycle:
    """A cycle past its cutoff: five orders at four relay points, one hub, ``vans`` vans of
    ``crates`` crates each, each with a driver on the delivery day."""
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
        van = Vehicle.objects.create(
            territory=territory,
            depot=depot,
            name=f"Utilitaire {n}",
            slug=f"van-{n}",
            kind="van",
            capacity_kg=800,
            capacity_crates=crates,
            average_speed_kmh=Decimal("30"),
            cost_per_km=Decimal("0.300"),
            cost_per_hour=Decimal("24.00"),
            shift_start=time(6),
            shift_end=time(13),
        )
        DriverShift.objects.create(
            vehicle=van,
            driver=UserFactory(
                role=Role.DRIVER,
                territory=territory,
                email=f"chauffeur{n}-{cycle.pk}@example.test",
                first_name=("Paul", "Nadia", "Yves")[(n - 1) % 3],
                last_name="Martin",
            ),
            weekday=cycle.delivery_date.weekday(),
            starts_at=time(6),
            ends_at=time(13),
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
    drivers = {
        shift.vehicle_id: shift.driver
        for shift in DriverShift.objects.filter(vehicle__territory=territory).select_related(
            "driver"
        )
    }
    fields = {
        "solve_state": SolveState.DONE,
        "solved_at": timezone.now(),
        "total_km": Decimal("24.500"),
        "total_co2_kg": Decimal("6.590"),
        "baseline_km": Decimal("61.200"),
        "solver_stats": {"orders": 5},
        **plan_fields,
    }
    plan = DeliveryPlan.objects.create(cycle=cycle, **fields)
    start = datetime.combine(cycle.delivery_date, time(7), tzinfo=zone)
    for r in range(routes):
        route = PlanRoute.objects.create(
            plan=plan,
            vehicle=vehicles[r],
            driver=drivers.get(vehicles[r].pk),
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


def test_a_coordinator_of_another_territory_finds_nothing_anywhere() -> None:
    cycle = build_cycle()
    plan = store_plan(cycle)
    before = rows_of(plan)
    stranger = UserFactory(role=Role.COORDINATOR, territory=TerritoryFactory(name="Arras"))
    client = client_for(stranger)
    # Another territory's cycle is as if it did not exist (404), and nothing is written.
    assert client.get(plan_url(cycle)).status_code == 404
    assert client.get(plan_url(cycle, "plan_state")).status_code == 404
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
        assert client.post(plan_url(cycle, name), data).status_code == 404, name
    assert rows_of(plan) == before


def test_superusers_and_unbound_coordinators_plan_any_territory() -> None:
    cycle = build_cycle()
    store_plan(cycle)
    admin = client_for(UserFactory(role=Role.HOUSEHOLD, is_superuser=True, is_staff=True))
    assert f'data-cycle="{cycle.pk}"' in admin.get(reverse("planning:index")).content.decode()
    assert admin.get(plan_url(cycle)).status_code == 200
    unbound = client_for(UserFactory(role=Role.COORDINATOR, territory=None))
    html = unbound.get(reverse("planning:index")).content.decode()
    assert f'data-cycle="{cycle.pk}"' in html
    assert unbound.get(plan_url(cycle)).status_code == 200


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
                "kind": "stability",
                "vehicle": "van-1",
                "moved_in": ["relay:gare-lens"],
                "moved_out": ["relay:unknown"],
                "reordered": True,
                "why_fr": "gain de 7,2 % ≥ seuil 5 %",
            },
            {
                "kind": "replan",
                "vehicle": "van-1",
                "driver": "Paul Martin",
                "added": ["relay:gare-lens"],
                "removed": [],
                "reordered": False,
                "summary_fr": "Ajoutés : Gare de Lens",
            },
            {"kind": "replan", "vehicle": "van-9", "driver": "Yves Roux", "summary_fr": "X"},
        ],
    )
    Vehicle.objects.filter(slug="van-1").update(name="Utilitaire 1")
    html = get_html(client_for(coordinator(cycle)), plan_url(cycle))
    section = html[html.index('id="changements"') :]
    assert section.count("<h3>") == 2  # one card per vehicle
    assert "Paul Martin — Utilitaire 1" in section
    assert "Par rapport aux tournées habituelles" in section
    assert "gain de 7,2 % ≥ seuil 5 %" in section
    assert "Ajoutés : Gare de Lens" in section
    assert "Retirés : relay:unknown" in section
    assert "Ordre de passage changé." in section
    assert "Par rapport au calcul précédent" in section
    assert "Yves Roux" in section


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
    client = client_for(UserFactory(role=Role.COORDINATOR, territory=None, is_superuser=True))
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
    assert state["progress"] == {
        "best_cost": "12,50",
        "stops": "2 / 4",
        "time_left": "7 s",
        "stops_counted": "arrêts du calcul (enlèvement et livraison comptés à part)",
    }
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
    admin = UserFactory(role=Role.COORDINATOR, is_superuser=True, is_staff=True)
    html = client_for(admin).get("/admin/").content.decode()
    assert reverse("planning:index") in html


def test_preparation_page_links_coordinators_to_the_planning_pages() -> None:
    cycle = build_cycle()
    html = get_html(client_for(coordinator(cycle)), reverse("preparation:index"))
    assert reverse("planning:index") in html
    driver = UserFactory(role=Role.DRIVER, territory=cycle.territory)
    html = get_html(client_for(driver), reverse("preparation:index"))
    assert reverse("planning:index") not in html


# --- posts through the real services ----------------------------------------------------------


@pytest.fixture
def computed(settings):  # type: ignore[no-untyped-def]
    """A computed draft of two routes: two vans of 3 crates for 5 one-crate orders.

    The loads are 3 and 2 crates: any stop moved into the full route is refused (capacity),
    a one-crate stop moved from the full route to the other is allowed.
    """
    from logistics.services import plan_compute

    settings.LOGISTICS_PLAN_TIME_LIMIT_S = 1
    cycle = build_cycle(vans=2, crates=3)
    plan = plan_compute(cycle_id=cycle.pk, time_limit=1).plan
    assert plan.routes.count() == 2
    return cycle, plan


def _routes_by_load(plan: DeliveryPlan) -> tuple[PlanRoute, PlanRoute]:
    routes = sorted(
        plan.routes.all(),
        key=lambda r: sum(
            s.manifest.get("crates", 0) for s in r.stops.filter(kind=StopKind.DELIVERY)
        ),
    )
    return routes[1], routes[0]  # full, lighter


def _one_crate_drop(route: PlanRoute) -> PlanStop:
    return next(
        s
        for s in route.stops.filter(kind=StopKind.DELIVERY).order_by("position")
        if s.manifest.get("crates") == 1
    )


@pytest.mark.solver
def test_compute_post_queues_the_solve_and_comes_back_to_the_computed_plan(
    settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.LOGISTICS_PLAN_TIME_LIMIT_S = 1
    cycle = build_cycle(vans=2, crates=3)
    client = client_for(coordinator(cycle))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(plan_url(cycle, "plan_compute"), {"version": ""})
    assert response.status_code == 302
    assert response["Location"] == f"{plan_url(cycle)}?calcul=demande#calcul"
    plan = DeliveryPlan.objects.get(cycle=cycle)
    assert plan.solve_state == SolveState.DONE
    assert plan.routes.count() == 2
    page = client.get(response["Location"])
    html = unescape(page.content.decode())
    # The page says the state it finds (done), not what was asked (see test_wording_planning).
    assert "Les tournées sont calculées." in html
    assert "Le calcul des tournées est lancé." not in html
    assert "Recalculer" in html
    assert "Paul Martin" in html and "Nadia Martin" in html
    # A stale page may not recompute over what someone did since.
    before = rows_of(plan)
    assert (
        _post_refused(client, plan_url(cycle, "plan_compute"), {"version": plan.version - 1}, cycle)
        == "Le plan a été modifié par quelqu'un d'autre depuis que vous l'avez ouvert : "
        "voici le plan à jour, refaites votre modification."
    )
    assert rows_of(plan) == before


@pytest.mark.solver
def test_a_move_is_done_or_refused_with_the_checker_reason(computed) -> None:  # type: ignore[no-untyped-def]
    cycle, plan = computed
    full, lighter = _routes_by_load(plan)
    client = client_for(coordinator(cycle))
    url = plan_url(cycle, "stop_move")

    intruder = lighter.stops.filter(kind=StopKind.DELIVERY).first()
    before = rows_of(plan)
    message = _post_refused(
        client,
        url,
        {"stop": intruder.pk, "route": full.pk, "position": 1, "version": plan.version},
        cycle,
    )
    assert "caisses" in message or "charge" in message, message
    assert rows_of(plan) == before

    mover = _one_crate_drop(full)
    response = client.post(
        url, {"stop": mover.pk, "route": lighter.pk, "position": 1, "version": plan.version}
    )
    assert response["Location"] == f"{plan_url(cycle)}#etape-{mover.pk}"
    mover.refresh_from_db()
    assert (mover.route_id, mover.position) == (lighter.pk, 1)
    plan.refresh_from_db()
    assert plan.version == before[0] + 1
    html = unescape(client.get(plan_url(cycle)).content.decode())
    assert "L'étape a été déplacée." in html


@pytest.mark.solver
def test_a_stale_move_says_so_and_keeps_the_choice_on_the_latest_plan(computed) -> None:  # type: ignore[no-untyped-def]
    cycle, plan = computed
    full, lighter = _routes_by_load(plan)
    mover = _one_crate_drop(full)
    client = client_for(coordinator(cycle))
    stale = plan.version  # the version the coordinator's page was read at
    # Someone else locks a route meanwhile: the version moves on.
    client.post(
        plan_url(cycle, "route_lock"), {"route": full.pk, "locked": "1", "version": plan.version}
    )
    client.post(
        plan_url(cycle, "route_lock"),
        {"route": full.pk, "locked": "0", "version": plan.version + 1},
    )
    client.get(plan_url(cycle))  # their own success messages
    before = rows_of(plan)
    response = client.post(
        plan_url(cycle, "stop_move"),
        {"stop": mover.pk, "route": lighter.pk, "position": "2", "version": stale},
    )
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{plan_url(cycle)}?reprendre=deplacer&etape={mover.pk}")
    assert f"tournee={lighter.pk}" in location and "position=2" in location
    assert rows_of(plan) == before
    page = client.get(location)
    html = unescape(page.content.decode())
    assert "Le plan a été modifié par quelqu'un d'autre" in html
    row = html[html.index(f'id="etape-{mover.pk}"') :]
    row = row[: row.index("</tr>")]
    assert '<details class="move" open>' in row
    assert f'<option value="{lighter.pk}" selected>' in row
    assert 'name="position" inputmode="numeric" size="3" required value="2"' in row
    assert f'name="version" value="{before[0]}"' in row  # the latest version, to try again


@pytest.mark.solver
def test_unknown_or_foreign_stop_and_route_ids_are_refused(computed) -> None:  # type: ignore[no-untyped-def]
    cycle, plan = computed
    other_cycle = build_cycle()
    foreign = store_plan(other_cycle)
    foreign_stop = PlanStop.objects.filter(route__plan=foreign, kind=StopKind.DELIVERY).first()
    full, _lighter = _routes_by_load(plan)
    stop = _one_crate_drop(full)
    client = client_for(UserFactory(role=Role.COORDINATOR, territory=None, is_superuser=True))
    url = plan_url(cycle, "stop_move")
    before = rows_of(plan)
    cases = [
        ({"stop": 999999, "route": full.pk}, "Cette étape n'existe pas dans ce plan."),
        ({"stop": foreign_stop.pk, "route": full.pk}, "Cette étape n'existe pas dans ce plan."),
        ({"stop": stop.pk, "route": 999999}, "Cette tournée n'existe pas dans ce plan."),
        (
            {"stop": stop.pk, "route": foreign_stop.route_id},
            "Cette tournée n'existe pas dans ce plan.",
        ),
    ]
    for data, expected in cases:
        posted = {**data, "position": 1, "version": plan.version}
        assert _post_refused(client, url, posted, cycle) == expected, data
    depot = plan.routes.first().stops.get(position=0)
    assert (
        _post_refused(
            client,
            url,
            {"stop": depot.pk, "route": full.pk, "position": 1, "version": plan.version},
            cycle,
        )
        == "Seules les livraisons et les enlèvements peuvent changer de tournée."
    )
    assert rows_of(plan) == before


@pytest.mark.solver
def test_lock_then_unlock_a_route(computed) -> None:  # type: ignore[no-untyped-def]
    cycle, plan = computed
    route = plan.routes.order_by("position").first()
    client = client_for(coordinator(cycle))
    url = plan_url(cycle, "route_lock")
    stale = plan.version
    response = client.post(url, {"route": route.pk, "locked": "1", "version": stale})
    assert response["Location"] == f"{plan_url(cycle)}#tournee-{route.pk}"
    route.refresh_from_db()
    assert route.locked is True
    html = unescape(client.get(plan_url(cycle)).content.decode())
    assert "La tournée est verrouillée." in html
    assert "Déverrouiller" in html
    # A stale lock form changes nothing.
    before = rows_of(plan)
    assert _post_refused(
        client, url, {"route": route.pk, "locked": "0", "version": stale}, cycle
    ).startswith("Le plan a été modifié")
    assert rows_of(plan) == before
    client.post(url, {"route": route.pk, "locked": "0", "version": before[0]})
    route.refresh_from_db()
    assert route.locked is False


@pytest.mark.solver
def test_unserved_decision_then_publish(computed) -> None:  # type: ignore[no-untyped-def]
    cycle, plan = computed
    DeliveryPlan.objects.filter(pk=plan.pk).update(
        unserved=[
            {
                "place": "relay:nowhere",
                "code": "capacity",
                "reason_fr": "Trop lourd.",
                "decision": None,
            }
        ]
    )
    plan.refresh_from_db()
    client = client_for(coordinator(cycle))
    html = get_html(client, plan_url(cycle))
    assert "relay:nowhere" in html  # a place the territory does not know: its key
    publish_url = plan_url(cycle, "plan_publish")
    decide_url = plan_url(cycle, "unserved_decide")
    before = rows_of(plan)
    message = _post_refused(client, publish_url, {"version": plan.version}, cycle)
    assert message.startswith("Décidez d'abord du sort des étapes non desservies")
    for data, expected in [
        (
            {"place": "relay:nowhere", "decision": "demain"},
            "Choisissez « un autre véhicule », « un autre jour » ou « retrait au dépôt ».",
        ),
        (
            {"place": "relay:ailleurs", "decision": "other_day"},
            "Ce lieu n'est pas dans la liste des étapes non desservies du plan.",
        ),
    ]:
        assert (
            _post_refused(client, decide_url, {**data, "version": plan.version}, cycle) == expected
        )
    assert rows_of(plan) == before

    response = client.post(
        decide_url, {"place": "relay:nowhere", "decision": "other_day", "version": plan.version}
    )
    assert response["Location"] == f"{plan_url(cycle)}#non-desservies"
    plan.refresh_from_db()
    assert plan.unserved[0]["decision"] == "other_day"
    html = get_html(client, plan_url(cycle))
    assert "La décision est enregistrée." in html
    assert "Décision : Un autre jour" in html

    response = client.post(publish_url, {"version": plan.version})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED
    html = get_html(client, response["Location"])
    assert "Le plan est publié : les chauffeurs voient leurs tournées." in html
    assert "move-form" not in html


def test_an_unserved_place_off_every_route_is_on_the_map_and_in_the_list() -> None:
    cycle = build_cycle()
    store_plan(
        cycle,
        routes=1,
        stops_per_route=2,
        unserved=[
            {
                "place": "relay:poste-lievin",
                "code": "time_window",
                "reason_fr": "Trop loin pour arriver avant l'ouverture.",
                "decision": None,
            }
        ],
    )
    response = client_for(coordinator(cycle)).get(plan_url(cycle))
    (marker,) = [p for p in response.context["page"].map_data["places"] if p["unserved"]]
    assert marker["key"] == "relay:poste-lievin"
    assert marker["name"] == "La Poste Liévin"
    assert (marker["lat"], marker["lon"]) == (50.4234, 2.779)
    assert marker["labels"] == [
        "La Poste Liévin : non desservi — Trop loin pour arriver avant l'ouverture."
    ]
    html = unescape(response.content.decode())
    assert "<h3>La Poste Liévin</h3>" in html


# --- fix round: what a first user ran into ----------------------------------------------------


def test_the_compute_button_says_how_long_it_may_take(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LOGISTICS_PLAN_TIME_LIMIT_S = 9.0
    cycle = build_cycle()
    html = get_html(client_for(coordinator(cycle)), plan_url(cycle))
    form = html[html.index('data-form="compute"') :]
    form = form[: form.index("</form>")]
    assert "data-compute-wait hidden" in form
    assert "Calcul en cours… (jusqu'à 9 s)" in form


def test_state_json_of_a_computed_plan_counts_places_as_the_page_does() -> None:
    cycle = build_cycle()
    store_plan(
        cycle,
        routes=2,
        stops_per_route=3,
        # The engine's own count: pickups and drops apart, as stored by the solve.
        progress={"time_limit_s": 10, "elapsed_s": 10, "stops_planned": 50, "stops_total": 50},
        unserved=[{"place": "relay:gare-lens", "code": "c", "reason_fr": "r", "decision": None}],
    )
    state = client_for(coordinator(cycle)).get(plan_url(cycle, "plan_state")).json()
    assert state["progress"]["stops"] == "6 / 7"
    assert state["progress"]["stops_counted"] == "lieux"


def test_the_published_header_separates_who_published_from_the_version() -> None:
    cycle = build_cycle()
    who = UserFactory(first_name="Sophie", last_name="Delattre")
    store_plan(
        cycle, status=PlanStatus.PUBLISHED, published_at=timezone.now(), published_by=who, version=4
    )
    html = get_html(client_for(coordinator(cycle)), plan_url(cycle))
    status = html[html.index("data-plan-status") :]
    status = " ".join(status[: status.index("</dd>")].split())
    assert 'par Sophie Delattre</span> <span class="muted">· version 4</span>' in status


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("abc", "La position doit être un nombre, par exemple 2."),
        ("-1", "Un nombre négatif n'est pas accepté ici."),
        ("2,5", "La position doit être un nombre entier."),
        ("0", "La position doit être au moins 1."),
    ],
)
def test_a_mistyped_position_reopens_that_stop_form_with_the_error_beside_it(
    typed: str, expected: str
) -> None:
    cycle = build_cycle()
    plan = store_plan(cycle)
    route = plan.routes.get(position=2)
    stop = PlanStop.objects.filter(route__plan=plan, kind=StopKind.DELIVERY).order_by("pk").first()
    other = PlanStop.objects.filter(route__plan=plan, kind=StopKind.DELIVERY).order_by("pk").last()
    before = rows_of(plan)
    client = client_for(coordinator(cycle))
    response = client.post(
        plan_url(cycle, "stop_move"),
        {"stop": stop.pk, "route": route.pk, "position": typed, "version": plan.version},
    )
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{plan_url(cycle)}?reprendre=deplacer&etape={stop.pk}")
    assert location.endswith(f"#etape-{stop.pk}")
    assert rows_of(plan) == before
    html = unescape(client.get(location).content.decode())
    row = html[html.index(f'id="etape-{stop.pk}"') :]
    row = row[: row.index("</tr>")]
    assert '<details class="move" open>' in row
    assert f'<p class="message error inline-error">{expected}</p>' in row
    assert f'<option value="{route.pk}" selected>' in row
    assert f'required value="{typed}"' in row
    other_row = html[html.index(f'id="etape-{other.pk}"') :]
    other_row = other_row[: other_row.index("</tr>")]
    assert "inline-error" not in other_row and "open>" not in other_row


def test_coordinators_and_superusers_find_the_planning_pages_in_the_site_menu() -> None:
    cycle = build_cycle()
    link = f'<a href="{reverse("planning:index")}">Tournées</a>'
    home = reverse("orders:list")
    for user in (
        coordinator(cycle),
        UserFactory(role=Role.HOUSEHOLD, is_superuser=True, is_staff=True),
    ):
        assert link in get_html(client_for(user), home), user
    for role in (Role.HOUSEHOLD, Role.DRIVER, Role.FARMER):
        assert link not in get_html(client_for(UserFactory(role=role)), home), role


def test_a_drop_with_farm_goods_says_the_depot_share_and_the_farms_share() -> None:
    from logistics.models import PlanStop, StopKind
    from logistics.planning_selectors import _manifest_text

    manifest = {
        "orders": [{"reference": "A1", "customer": "Inès L.", "kg": 5.0}],
        "order_count": 1,
        "crates": 1,
        "kg": 2.0,
        "from_farms": [{"farm": "farm:plaine", "name": "La Plaine", "kg": 3.0}],
    }
    summary, detail = _manifest_text(PlanStop(kind=StopKind.DELIVERY, manifest=manifest))
    assert summary == "1 commande · 1 caisse · 2,0 kg du dépôt · 3,0 kg des fermes"
    assert "Produits de La Plaine : 3,0 kg" in detail
    only_farms = {"from_farms": manifest["from_farms"], "order_count": 0, "crates": 0}
    summary, _detail = _manifest_text(PlanStop(kind=StopKind.DELIVERY, manifest=only_farms))
    assert summary == "Produits des fermes à déposer : 3,0 kg"


def test_index_counts_canteen_orders_and_does_not_offer_to_plan_a_delivery_gone_by() -> None:
    from tests.factories.canteens import CanteenFactory, CanteenOrderFactory

    cycle = build_cycle()
    canteen = CanteenFactory(territory=cycle.territory)
    CanteenOrderFactory(canteen=canteen, cycle=cycle)
    CanteenOrderFactory(
        canteen=CanteenFactory(territory=cycle.territory), cycle=cycle, status="cancelled"
    )
    past = OrderCycleFactory(name="Semaine 2", territory=cycle.territory)
    OrderCycle.objects.filter(pk=past.pk).update(
        opens_at=timezone.now() - timedelta(days=25),
        closes_at=timezone.now() - timedelta(days=20),
        delivery_date=timezone.localdate() - timedelta(days=18),
    )

    html = unescape(client_for(coordinator(cycle)).get(reverse("planning:index")).content.decode())

    row = html[html.index(f'data-cycle="{cycle.pk}"') :]
    assert '<td data-label="Commandes" class="num">6</td>' in row  # 5 households + 1 canteen
    gone = html[html.index(f'data-cycle="{past.pk}"') :]
    gone = gone[: gone.index("</tr>")]
    assert "livraison passée, sans plan" in gone and "Planifier" not in gone
