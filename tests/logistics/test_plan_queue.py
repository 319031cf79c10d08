"""Queueing a plan's computation: progress, failed state, replays, closing, locked routes."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from logistics import services
from logistics.errors import CycleNotFound, CycleStillOpen, InvalidTimeLimit, PlanPublished
from logistics.models import DeliveryPlan, DriverShift, PlanRoute, PlanStop, SolveState
from logistics.services import cycle_close_due, plan_compute, plan_queue
from logistics.tasks import plan_compute_task
from marche.accounts.models import Role
from marche.core.models import OutboxMessage
from marche.cycles.models import OrderCycle
from tests.factories import OrderCycleFactory, RelayPointFactory, UserFactory
from tests.logistics.test_plan_problem import World, _order, build_world, counts

PROGRESS_KEYS = {
    "started_at",
    "time_limit_s",
    "elapsed_s",
    "best_cost",
    "stops_planned",
    "stops_total",
}


def _coordinator(world: World) -> Any:
    return UserFactory(
        email="coordination@example.test",
        role=Role.COORDINATOR,
        territory=world.cycle.territory,
    )


def _world_with_van() -> World:
    world = build_world()
    world.van("van-1")
    return world


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_queueing_refusals_change_nothing() -> None:
    world = _world_with_van()
    coordinator = _coordinator(world)
    before = counts()
    with pytest.raises(CycleNotFound):
        plan_queue(cycle_id=world.cycle.pk + 1000, by=coordinator)
    with pytest.raises(InvalidTimeLimit):
        plan_queue(cycle_id=world.cycle.pk, by=coordinator, time_limit=0)
    with pytest.raises(InvalidTimeLimit):
        plan_queue(cycle_id=world.cycle.pk, by=coordinator, time_limit=float("nan"))
    household = UserFactory(email="foyer-x@example.test")
    with pytest.raises(services.PlanningNotAllowed) as raised:
        plan_queue(cycle_id=world.cycle.pk, by=household)
    assert raised.value.code == "not_allowed"
    other = OrderCycleFactory(territory=world.cycle.territory)  # still open
    with pytest.raises(CycleStillOpen):
        plan_queue(cycle_id=other.pk, by=coordinator)
    assert counts() == before

    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    DeliveryPlan.objects.filter(pk=plan.pk).update(status="published")
    before = counts()
    with pytest.raises(PlanPublished):
        plan_queue(cycle_id=world.cycle.pk, by=coordinator)
    with pytest.raises(PlanPublished):
        plan_compute(cycle_id=world.cycle.pk, time_limit=1)
    assert counts() == before
    assert DeliveryPlan.objects.get(pk=plan.pk).version == plan.version


# --- queue, run, progress --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_queued_plan_runs_in_process_without_redis_and_ends_done(
    django_capture_on_commit_callbacks: Any,
) -> None:
    world = _world_with_van()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = plan_queue(cycle_id=world.cycle.pk, by=_coordinator(world), time_limit=1)
    assert (queued.solve_state, queued.progress, queued.version) == (SolveState.QUEUED, {}, 2)
    message = OutboxMessage.objects.get(task=services.PLAN_TASK)
    assert message.key == f"plan-{queued.pk}-v2"
    assert message.args == [world.cycle.pk, 1.0, 2]
    for callback in callbacks:
        callback()
    plan = DeliveryPlan.objects.get(pk=queued.pk)
    assert plan.solve_state == SolveState.DONE
    assert plan.solve_error == {}
    assert plan.version == 3
    assert set(plan.progress) == PROGRESS_KEYS
    assert plan.progress["stops_total"] == 3
    assert plan.progress["stops_planned"] == 3
    assert plan.progress["time_limit_s"] == 1.0
    assert plan.progress["best_cost"] is not None
    assert plan.routes.count() == 1
    assert OutboxMessage.objects.get(task=services.PLAN_TASK).sent_at is not None

    # The same request replayed (a redelivered task) finds the plan moved on: no change.
    assert plan_compute_task.apply(args=message.args).get() == {
        "ok": True,
        "plan": plan.pk,
        "version": 3,
        "skipped": True,
    }
    assert DeliveryPlan.objects.get(pk=plan.pk).version == 3


@pytest.mark.django_db
def test_the_solve_writes_its_progress_while_running(monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world_with_van()
    seen: list[tuple[str, dict[str, Any]]] = []
    write = services._Progress.write

    def spy(self: services._Progress, **fields: Any) -> None:
        write(self, **fields)
        plan = DeliveryPlan.objects.get(pk=self.plan_id)
        seen.append((plan.solve_state, plan.progress))

    monkeypatch.setattr(services._Progress, "write", spy)
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    assert seen[0][0] == SolveState.RUNNING
    assert seen[0][1]["best_cost"] is None and seen[0][1]["stops_total"] == 3
    # The solver reported at least one improvement, written during the solve.
    assert any(state == SolveState.RUNNING and p["best_cost"] for state, p in seen[1:])
    assert all(set(p) == PROGRESS_KEYS for _state, p in seen)
    assert plan.solve_state == SolveState.DONE
    assert plan.progress["best_cost"] == pytest.approx(min(p["best_cost"] for _s, p in seen[1:]))


@pytest.mark.django_db
def test_progress_is_written_at_most_once_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world_with_van()
    plan = DeliveryPlan.objects.create(cycle=world.cycle)
    now = [100.0]
    monkeypatch.setattr(services.clock, "monotonic", lambda: now[0])
    progress = services._Progress(plan_id=plan.pk, version=None, time_limit=5, stops_total=3)
    progress(50.0, 0.1)
    now[0] += 0.4
    progress(40.0, 0.5)
    now[0] += 0.4
    progress(45.0, 0.9)
    assert progress.writes == 1
    assert DeliveryPlan.objects.get(pk=plan.pk).progress["best_cost"] == 50.0
    now[0] += 0.3
    progress(30.0, 1.2)
    assert progress.writes == 2
    stored = DeliveryPlan.objects.get(pk=plan.pk).progress
    assert (stored["best_cost"], stored["elapsed_s"]) == (30.0, 1.2)


# --- failures, replays -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_refused_computation_marks_the_plan_failed_and_keeps_its_routes(
    django_capture_on_commit_callbacks: Any,
) -> None:
    world = _world_with_van()
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    stops = list(PlanStop.objects.filter(route__plan=plan).values_list("pk", flat=True))
    DriverShift.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        queued = plan_queue(cycle_id=world.cycle.pk, by=None, time_limit=1)
    plan = DeliveryPlan.objects.get(pk=plan.pk)
    assert plan.solve_state == SolveState.FAILED
    assert plan.solve_error["code"] == "vehicle_without_driver"
    assert "Utilitaire van-1" in plan.solve_error["message"]
    assert plan.version == queued.version
    assert list(PlanStop.objects.filter(route__plan=plan).values_list("pk", flat=True)) == stops


@pytest.mark.django_db
def test_a_superseded_request_does_nothing_and_the_latest_one_computes() -> None:
    world = _world_with_van()
    first = plan_queue(cycle_id=world.cycle.pk, by=None, time_limit=1)
    second = plan_queue(cycle_id=world.cycle.pk, by=None, time_limit=1)
    assert (first.version, second.version) == (2, 3)
    assert plan_compute_task.apply(args=[world.cycle.pk, 1, first.version]).get()["skipped"]
    assert PlanRoute.objects.count() == 0
    result = plan_compute_task.apply(args=[world.cycle.pk, 1, second.version]).get()
    assert result == {"ok": True, "plan": second.pk, "version": 4}
    assert DeliveryPlan.objects.get().solve_state == SolveState.DONE


# --- closing ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_closing_a_cycle_enqueues_and_computes_its_plan(
    django_capture_on_commit_callbacks: Any,
) -> None:
    world = _world_with_van()
    with django_capture_on_commit_callbacks(execute=True):
        assert cycle_close_due(now=timezone.now()) == [world.cycle.pk]
    message = OutboxMessage.objects.get(task=services.PLAN_TASK)
    assert message.key == f"plan-auto-{world.cycle.pk}"
    assert message.sent_at is not None
    plan = DeliveryPlan.objects.get(cycle=world.cycle)
    assert plan.solve_state == SolveState.DONE
    assert plan.routes.count() == 1
    # A redelivered closing task finds the plan: it does not recompute it.
    result = plan_compute_task.apply(args=message.args).get()
    assert result["skipped"] is True
    assert DeliveryPlan.objects.get(pk=plan.pk).version == plan.version


@pytest.mark.django_db
def test_a_cycle_closed_by_the_computation_does_not_enqueue_another(
    django_capture_on_commit_callbacks: Any,
) -> None:
    world = _world_with_van()
    with django_capture_on_commit_callbacks(execute=True):
        result = plan_compute(cycle_id=world.cycle.pk, time_limit=1)
    assert result.closed_now is True
    assert not OutboxMessage.objects.filter(task=services.PLAN_TASK).exists()


@pytest.mark.django_db
def test_stability_threshold_defaults_to_the_setting(settings: Any) -> None:
    settings.LOGISTICS_STABILITY_THRESHOLD_PCT = "12.5"
    world = _world_with_van()
    plan = plan_queue(cycle_id=world.cycle.pk, by=None)
    assert str(plan.stability_threshold_pct) == "12.50"


# --- locked routes ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_locked_route_is_kept_and_new_routes_come_after_it() -> None:
    world = build_world()
    # 6 + 10 + 4 kg to deliver, 12 kg a van: two rounds.
    world.van("van-1", capacity_kg=12)
    world.van("van-2", capacity_kg=12)
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    routes = list(plan.routes.order_by("position"))
    assert len(routes) == 2
    kept = routes[0]
    kept_stops = list(kept.stops.order_by("position").values_list("pk", "place", "eta"))
    kept_places = {place for _pk, place, _eta in kept_stops[1:-1]}
    PlanRoute.objects.filter(pk=kept.pk).update(locked=True)

    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    again = list(plan.routes.order_by("position"))
    assert again[0].pk == kept.pk and again[0].locked
    assert list(again[0].stops.order_by("position").values_list("pk", "place", "eta")) == (
        kept_stops
    )
    others = again[1:]
    assert others and all(route.position > kept.position for route in others)
    assert all(route.vehicle_id != kept.vehicle_id for route in others)
    other_places = {s.place for r in others for s in r.stops.all() if s.kind == "delivery"}
    assert other_places.isdisjoint(kept_places)
    assert other_places | kept_places == {
        "relay:mairie-loos",
        "relay:poste-lens",
        "relay:poste-lievin",
    }
    assert plan.total_km == sum(route.km for route in again)
    assert plan.unserved == []


@pytest.mark.django_db
def test_with_every_vehicle_locked_the_rest_is_left_unserved() -> None:
    world = build_world()
    world.van("van-1", capacity_kg=12)
    world.van("van-2", capacity_kg=12)
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    PlanRoute.objects.filter(plan=plan).update(locked=True)
    served = set(
        PlanStop.objects.filter(route__plan=plan, kind="delivery").values_list("place", flat=True)
    )
    # A new order at a fourth relay after the rounds were locked: nobody can take it.
    OrderCycle.objects.filter(pk=world.cycle.pk).update(closes_at=timezone.now() + timedelta(1))
    extra = RelayPointFactory(territory=world.cycle.territory, slug="gare-lens")
    _order(world.cycle, extra, [(world.offers["carrots"], "1")], "e")
    OrderCycle.objects.filter(pk=world.cycle.pk).update(closes_at=timezone.now() - timedelta(1))
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    assert plan.routes.count() == 2
    assert served == {"relay:mairie-loos", "relay:poste-lens", "relay:poste-lievin"}
    assert [(u["place"], u["code"]) for u in plan.unserved] == [("relay:gare-lens", "not_routed")]


# --- crashes and other connections -----------------------------------------------------------


@pytest.mark.django_db
def test_an_unexpected_error_marks_the_plan_failed_and_the_task_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = _world_with_van()
    plan = plan_compute(cycle_id=world.cycle.pk, time_limit=1).plan
    stops = list(PlanStop.objects.filter(route__plan=plan).values_list("pk", flat=True))

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "solution_stabilise", broken)
    result = plan_compute_task.apply(args=[world.cycle.pk, 1]).get()
    assert result["ok"] is False and result["code"] == "solve_crashed"
    plan = DeliveryPlan.objects.get(pk=plan.pk)
    assert plan.solve_state == SolveState.FAILED
    assert plan.solve_error["code"] == "solve_crashed"
    assert list(PlanStop.objects.filter(route__plan=plan).values_list("pk", flat=True)) == stops


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_other_connections_during_the_solve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert connection.vendor == "postgresql"
    world = _world_with_van()
    seen: list[tuple[str, dict[str, Any]]] = []
    write = services._Progress.write

    def read_elsewhere(plan_id: int) -> None:
        try:
            plan = DeliveryPlan.objects.get(pk=plan_id)
            seen.append((plan.solve_state, plan.progress))
        finally:
            connections.close_all()

    def spy(self: services._Progress, **fields: Any) -> None:
        write(self, **fields)
        reader = threading.Thread(target=read_elsewhere, args=(self.plan_id,))
        reader.start()
        reader.join(timeout=30)

    monkeypatch.setattr(services._Progress, "write", spy)
    plan_compute(cycle_id=world.cycle.pk, time_limit=1)
    assert seen and all(state == SolveState.RUNNING for state, _p in seen)
    assert any(p["best_cost"] is not None for _state, p in seen)
