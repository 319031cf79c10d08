"""Stable rounds: the usual rounds are kept unless the new plan saves at least the threshold."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from logistics.models import DeliveryPlan, DriverShift, PlanRoute, PlanStop, Vehicle
from logistics.stability import (
    UsualRounds,
    changes_describe,
    place_of,
    routes_snapshot,
    solution_stabilise,
    usual_rounds,
)
from logistics.vrp import model as vrp
from logistics.vrp.checker import check_solution
from logistics.vrp.providers import MatrixProvider
from logistics.vrp.timing import RouteTimer
from marche.cycles.models import OrderCycle
from tests.factories import OrderCycleFactory, TerritoryFactory
from tests.logistics.test_plan_editing import build_plan

A, B, C, E = "relay:a", "relay:b", "relay:c", "relay:e"
POINTS = ["depot:hub", A, B, C, E]


def _provider(arcs: dict[tuple[str, str], int]) -> MatrixProvider:
    """Metres between points: the arcs given, 1000 m between any other two."""
    matrix = [[0 if i == j else arcs.get((i, j), 1000) for j in POINTS] for i in POINTS]
    return MatrixProvider(POINTS, matrix, [[d // 10 for d in row] for row in matrix])


def _problem(stops: tuple[str, ...] = (A, B, C)) -> vrp.Problem:
    return vrp.Problem(
        depots=(vrp.Depot("depot:hub", 0, 0),),
        vehicles=(
            vrp.Vehicle("van-1", "depot:hub", {"kg": 100}),
            vrp.Vehicle("van-2", "depot:hub", {"kg": 100}),
        ),
        stops=tuple(vrp.Stop(s, 0, 0, {"kg": 10}) for s in stops),
    )


def _solution(problem, provider, routes: dict[str, list[str]]) -> vrp.Solution:
    """A solver's solution as it would come back: timed routes, cost is distance."""
    timer = RouteTimer(problem, provider)
    timed = tuple(timer.time(vid, ids).route for vid, ids in routes.items() if ids)
    return vrp.Solution(
        routes=timed,
        unserved=(),
        cost=sum(r.cost for r in timed),
        distance_m=sum(r.distance_m for r in timed),
        stats=vrp.SearchStats(0.1, 1, None, "completed", 1, 2),
    )


def _routes(solution: vrp.Solution) -> dict[str, list[str]]:
    return {r.vehicle_id: [v.stop_id for v in r.visits] for r in solution.routes}


USUAL = UsualRounds(routes={"van-1": (A, B), "van-2": (C,)})


def test_the_usual_order_is_kept_when_the_gain_is_under_the_threshold() -> None:
    problem = _problem()
    # Usual van-1: hub-a-b-hub = 3000 m; the solver's b-a costs 2970 m (1 % less).
    provider = _provider({(A, "depot:hub"): 970})
    new = _solution(problem, provider, {"van-1": [B, A], "van-2": [C]})
    chosen, changes = solution_stabilise(
        problem=problem,
        provider=provider,
        solution=new,
        usual=USUAL,
        threshold_pct=Decimal("5.00"),
    )
    assert _routes(chosen) == {"van-1": [A, B], "van-2": [C]}
    assert check_solution(problem, chosen, provider).ok
    assert chosen.cost == 5000
    why = "tournée habituelle gardée : gain de 0,6 % < seuil 5 %"
    assert changes == [
        {
            "kind": "stability",
            "vehicle": "van-1",
            "vehicle_name": "van-1",
            "driver": "",
            "moved_in": [],
            "moved_out": [],
            "reordered": False,
            "why_fr": why,
        },
        {
            "kind": "stability",
            "vehicle": "van-2",
            "vehicle_name": "van-2",
            "driver": "",
            "moved_in": [],
            "moved_out": [],
            "reordered": False,
            "why_fr": why,
        },
    ]


def test_the_new_rounds_are_kept_when_the_gain_reaches_the_threshold() -> None:
    problem = _problem()
    # The solver serves c on van-1 between b and a: 1000 + 100 + 100 + 800 = 2000 m against
    # the usual 3000 + 2000 m: a third less.
    provider = _provider({(B, C): 100, (C, A): 100, (A, "depot:hub"): 800})
    new = _solution(problem, provider, {"van-1": [B, C, A]})
    chosen, changes = solution_stabilise(
        problem=problem, provider=provider, solution=new, usual=USUAL, threshold_pct=Decimal("5")
    )
    assert chosen is new
    assert changes == [
        {
            "kind": "stability",
            "vehicle": "van-1",
            "vehicle_name": "van-1",
            "driver": "",
            "moved_in": [C],
            "moved_out": [],
            "reordered": True,
            "why_fr": "gain de 60,0 % ≥ seuil 5 %",
        },
        {
            "kind": "stability",
            "vehicle": "van-2",
            "vehicle_name": "van-2",
            "driver": "",
            "moved_in": [],
            "moved_out": [C],
            "reordered": False,
            "why_fr": "gain de 60,0 % ≥ seuil 5 %",
        },
    ]


def test_new_places_go_where_they_cost_least_and_gone_places_are_dropped() -> None:
    problem = _problem((A, B, C, E))
    # e is next to b (100 m) and far from c: it is inserted on van-1 after b.
    provider = _provider({(B, E): 100})
    usual = UsualRounds(routes={"van-1": (A, "relay:gone", B), "van-2": (C,)})
    new = _solution(problem, provider, {"van-1": [A, B, E], "van-2": [C]})
    # The same rounds: no gain, the usual candidate (the same routes) is returned.
    chosen, changes = solution_stabilise(
        problem=problem, provider=provider, solution=new, usual=usual, threshold_pct=Decimal("5")
    )
    assert _routes(chosen) == {"van-1": [A, B, E], "van-2": [C]}
    assert changes[0]["moved_in"] == [E]
    assert changes[0]["moved_out"] == ["relay:gone"]
    assert changes[0]["why_fr"] == "tournée habituelle gardée : gain de 0,0 % < seuil 5 %"


def test_an_impossible_usual_round_keeps_the_new_solution_and_says_why() -> None:
    problem = vrp.Problem(
        depots=(vrp.Depot("depot:hub", 0, 0),),
        vehicles=(
            vrp.Vehicle("van-1", "depot:hub", {"kg": 15}),
            vrp.Vehicle("van-2", "depot:hub", {"kg": 100}),
        ),
        stops=tuple(vrp.Stop(s, 0, 0, {"kg": 10}) for s in (A, B, C)),
    )
    provider = _provider({})
    new = _solution(problem, provider, {"van-1": [A], "van-2": [B, C]})
    chosen, changes = solution_stabilise(
        problem=problem, provider=provider, solution=new, usual=USUAL, threshold_pct=Decimal("5")
    )
    assert chosen is new
    assert changes[0]["why_fr"].startswith("tournée habituelle impossible : ")
    # With the territory's vehicles known, a change names the vehicle and its driver.
    labels = {"van-1": ("Utilitaire 1", "Léa Roy"), "van-2": ("Utilitaire 2", "")}
    named = UsualRounds(routes=USUAL.routes, labels=labels)
    _chosen, changes = solution_stabilise(
        problem=problem, provider=provider, solution=new, usual=named, threshold_pct=Decimal("5")
    )
    assert [(c["vehicle"], c["vehicle_name"], c["driver"]) for c in changes] == [
        ("van-1", "Utilitaire 1", "Léa Roy"),
        ("van-2", "Utilitaire 2", ""),
    ]
    assert "van-1" not in changes[0]["why_fr"] and "van-2" not in changes[0]["why_fr"]


def test_no_usual_rounds_no_change() -> None:
    problem = _problem()
    provider = _provider({})
    new = _solution(problem, provider, {"van-1": [A, B, C]})
    assert solution_stabilise(
        problem=problem,
        provider=provider,
        solution=new,
        usual=UsualRounds(),
        threshold_pct=Decimal("5"),
    ) == (new, [])


def test_a_share_id_stands_for_its_place() -> None:
    assert place_of("farm:marais#relay:poste-lens") == "farm:marais"
    assert place_of("relay:poste-lens#farm:marais") == "relay:poste-lens"
    assert place_of("canteen:ecole") == "canteen:ecole"


@pytest.mark.django_db
def test_usual_rounds_are_those_of_the_last_published_plan_before_the_cycle() -> None:
    plan = build_plan()
    cycle = plan.cycle
    assert usual_rounds(cycle=cycle) == UsualRounds()
    DeliveryPlan.objects.filter(pk=plan.pk).update(status="published", published_at=timezone.now())
    later = OrderCycleFactory(territory=cycle.territory, name="Semaine 13")
    OrderCycle.objects.filter(pk=later.pk).update(
        delivery_date=cycle.delivery_date + timedelta(days=7)
    )
    later.refresh_from_db()
    expected = {
        "van-1": ("relay:mairie-loos", "relay:poste-lens"),
        "trike-1": ("relay:poste-lievin",),
    }
    assert routes_snapshot(plan=plan) == expected
    assert usual_rounds(cycle=later) == UsualRounds(routes=expected)
    # The changes name each vehicle and its driver on the new cycle's delivery day.
    labels = usual_rounds(cycle=later).labels
    assert labels["van-1"][0] == Vehicle.objects.get(slug="van-1").name
    trike_driver = DriverShift.objects.get(vehicle__slug="trike-1").driver
    assert labels["trike-1"] == ("Triporteur 1", trike_driver.get_full_name())
    DriverShift.objects.filter(vehicle__slug="trike-1").delete()
    assert usual_rounds(cycle=later).labels["trike-1"] == ("Triporteur 1", "")
    # Not for the cycle itself, nor for another territory's cycle.
    assert usual_rounds(cycle=cycle) == UsualRounds()
    elsewhere = OrderCycleFactory(territory=TerritoryFactory(slug="ailleurs"))
    OrderCycle.objects.filter(pk=elsewhere.pk).update(
        delivery_date=cycle.delivery_date + timedelta(days=7)
    )
    elsewhere.refresh_from_db()
    assert usual_rounds(cycle=elsewhere) == UsualRounds()


@pytest.mark.django_db
def test_changes_are_described_per_driver_with_place_names() -> None:
    build_plan()
    before = {
        "van-1": ("relay:mairie-loos", "relay:poste-lens"),
        "trike-1": ("relay:poste-lievin",),
    }
    after = {
        "van-1": ("relay:poste-lievin", "relay:poste-lens", "relay:mairie-loos"),
        "trike-1": (),
    }
    changes = changes_describe(
        before=before, after=after, drivers={"van-1": "Léa Roy", "trike-1": "Chauffeur1 Dupont"}
    )
    assert [(c["vehicle"], c["driver"], c["summary_fr"]) for c in changes] == [
        ("van-1", "Léa Roy", "Ajoutés : poste-lievin; ordre changé"),
        ("trike-1", "Chauffeur1 Dupont", "Retirés : poste-lievin"),
    ]
    van_name = Vehicle.objects.get(slug="van-1").name
    assert [c["vehicle_name"] for c in changes] == [van_name, "Triporteur 1"]
    assert changes[0]["before"] == list(before["van-1"])
    assert changes[0]["after"] == list(after["van-1"])
    assert changes[0]["added"] == ["relay:poste-lievin"] and changes[0]["reordered"] is True
    same = changes_describe(before=before, after=before, drivers={})
    assert [c["summary_fr"] for c in same] == ["Tournée inchangée", "Tournée inchangée"]
    assert changes_describe(before={}, after=after, drivers={}) == []
    assert Vehicle.objects.count() == 2
    assert PlanRoute.objects.count() == 2 and PlanStop.objects.count() == 7


def _relays(plan: DeliveryPlan) -> list[str]:
    (route,) = plan.routes.all()
    return [s.place for s in route.stops.order_by("position") if s.kind == "delivery"]


@pytest.mark.django_db
def test_a_new_cycle_keeps_the_published_order_unless_the_gain_reaches_the_threshold() -> None:
    from logistics.editing import plan_publish, plan_stop_move
    from logistics.services import plan_compute
    from marche.catalog.models import Product
    from marche.relays.models import RelayPoint
    from tests.factories import OfferFactory
    from tests.logistics.test_delivery_plan import _order, build_cycle

    first = build_cycle()
    plan = plan_compute(cycle_id=first.pk, time_limit=1).plan
    solver_order = _relays(plan)
    # The coordinator swapped the first two relays, and published: that is the usual round.
    (route,) = plan.routes.all()
    second_stop = route.stops.get(place=solver_order[1])
    plan = plan_stop_move(
        plan_id=plan.pk,
        stop_id=second_stop.pk,
        route_id=route.pk,
        position=1,
        version=plan.version,
        by=None,
    )
    usual = [solver_order[1], solver_order[0], solver_order[2]]
    assert _relays(plan) == usual
    plan_publish(plan_id=plan.pk, version=plan.version, by=None)

    now = timezone.now()
    cycle = OrderCycleFactory(
        territory=first.territory,
        name="Semaine 13",
        delivery_date=first.delivery_date + timedelta(days=7),
    )
    carrots = OfferFactory(
        cycle=cycle,
        product=Product.objects.get(name="Carottes", producer__territory=first.territory),
        quantity_available=Decimal("100"),
    )
    for n, relay in enumerate(RelayPoint.objects.filter(territory=first.territory)):
        _order(cycle, relay, [(carrots, "4")], f"next-{n}")
    OrderCycle.objects.filter(pk=cycle.pk).update(
        opens_at=now - timedelta(days=3), closes_at=now - timedelta(hours=1)
    )
    DeliveryPlan.objects.create(cycle=cycle, stability_threshold_pct=Decimal("99"))

    kept = plan_compute(cycle_id=cycle.pk, time_limit=1).plan
    assert _relays(kept) == usual
    stability = [c for c in kept.changes if c["kind"] == "stability"]
    assert stability[0]["vehicle"] == "van-1"
    assert stability[0]["reordered"] is False
    assert stability[0]["why_fr"].startswith("tournée habituelle gardée : gain de ")
    assert stability[0]["why_fr"].endswith(" % < seuil 99 %")

    DeliveryPlan.objects.filter(pk=kept.pk).update(stability_threshold_pct=Decimal("0"))
    changed = plan_compute(cycle_id=cycle.pk, time_limit=1).plan
    assert _relays(changed) != usual
    stability = [c for c in changed.changes if c["kind"] == "stability"]
    assert stability[0]["reordered"] is True
    assert stability[0]["why_fr"].startswith("gain de ")
    assert stability[0]["why_fr"].endswith(" % ≥ seuil 0 %")
    # And the drivers' view of the re-plan: the van's order changed since the last draft.
    (replan,) = [c for c in changed.changes if c["kind"] == "replan"]
    assert replan["summary_fr"] == "Ordre changé"
    assert replan["driver"] == "Léa Roy"
