"""Coordinators' edits of a draft plan: moves checked by the engine, locks, decisions, publishing.

The plans are stored rows built here (two routes from the hub: a van with two relay points,
a cargo tricycle with one), so each test knows exactly what the checker sees.
"""

from __future__ import annotations

import itertools
import threading
import time as time_module
from datetime import datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection, connections

from logistics import editing
from logistics.editing import (
    plan_publish,
    plan_route_lock,
    plan_stop_move,
    plan_unserved_decide,
)
from logistics.editing_errors import (
    InvalidDecision,
    InvalidPosition,
    MoveRefused,
    NotAllowed,
    PlanNotComputed,
    PlanVersionConflict,
    RouteLocked,
    StopNotFound,
    StopNotMovable,
    UnservedUndecided,
    UnservedUnknown,
)
from logistics.errors import PlanPublished
from logistics.models import (
    DeliveryPlan,
    Depot,
    DriverShift,
    PlanRoute,
    PlanStop,
    Vehicle,
)
from logistics.vrp.timing import RouteTimer
from marche.accounts.models import Role
from marche.core.models import OutboxMessage
from marche.errors import DomainError
from marche.orders.models import Order
from marche.relays.models import RelayPoint
from marche.territories.models import Territory
from tests.factories import TerritoryFactory, UserFactory
from tests.logistics.test_delivery_plan import build_cycle

KG = {"mairie-loos": 9.4, "poste-lens": 10.0, "poste-lievin": 4.7}
CRATES = {"mairie-loos": 2, "poste-lens": 1, "poste-lievin": 1}


def _user(email: str, role: str = Role.HOUSEHOLD, **extra: Any):
    user = UserFactory(email=email, role=role, **extra)
    user.save()
    return user


def _manifest(slug: str) -> dict[str, Any]:
    return {
        "place": f"relay:{slug}",
        "name": slug,
        "orders": [],
        "order_count": CRATES[slug],
        "baskets": 0,
        "lines": 0,
        "crates": CRATES[slug],
        "kg": KG[slug],
        "cold_items": 0,
    }


def _route(plan, vehicle, position: int, slugs: list[str], opens: dict[str, time]):
    zone = ZoneInfo(plan.cycle.territory.timezone)
    day = plan.cycle.delivery_date
    route = PlanRoute.objects.create(
        plan=plan,
        vehicle=vehicle,
        position=position,
        km=Decimal("1"),
        duration_min=60,
        co2_kg=Decimal("0.1"),
    )
    depot = f"depot:{vehicle.depot.slug}"
    at = datetime.combine(day, time(8), tzinfo=zone)
    PlanStop.objects.create(
        route=route, position=0, place=depot, kind="depot_start", eta=at, load_kg_after=0
    )
    for n, slug in enumerate(slugs, start=1):
        relay = RelayPoint.objects.get(slug=slug)
        PlanStop.objects.create(
            route=route,
            position=n,
            place=f"relay:{slug}",
            name=relay.name,
            latitude=relay.latitude,
            longitude=relay.longitude,
            kind="delivery",
            window_end=datetime.combine(day, opens.get(slug, time(16)), tzinfo=zone),
            eta=at,
            load_kg_after=0,
            manifest=_manifest(slug),
        )
    PlanStop.objects.create(
        route=route,
        position=len(slugs) + 1,
        place=depot,
        kind="depot_end",
        eta=at,
        load_kg_after=0,
    )
    return route


def build_plan(
    *, trike_kg: int = 30, opens: dict[str, time] | None = None, unserved: list | None = None
) -> DeliveryPlan:
    """A computed draft: the van serves mairie-loos then poste-lens, the tricycle poste-lievin."""
    cycle = build_cycle()
    van = Vehicle.objects.get(slug="van-1")
    trike = Vehicle.objects.create(
        territory=cycle.territory,
        depot=van.depot,
        name="Triporteur 1",
        slug="trike-1",
        kind="cargo_tricycle",
        capacity_kg=trike_kg,
        capacity_crates=10,
        average_speed_kmh=Decimal("15"),
        max_range_km=20,
        cost_per_km=Decimal("0.040"),
        cost_per_hour=Decimal("18.00"),
        shift_start=time(8),
        shift_end=time(13),
    )
    weekday = cycle.delivery_date.weekday()
    for n, vehicle in enumerate((van, trike)):
        if not DriverShift.objects.filter(vehicle=vehicle, weekday=weekday).exists():
            DriverShift.objects.create(
                vehicle=vehicle,
                driver=_user(f"driver{n}@example.test", Role.DRIVER, first_name=f"Chauffeur{n}"),
                weekday=weekday,
                starts_at=time(6),
                ends_at=time(20),
            )
    plan = DeliveryPlan.objects.create(
        cycle=cycle, solve_state="done", unserved=unserved or [], total_km=Decimal("2")
    )
    opens = opens or {}
    _route(plan, van, 1, ["mairie-loos", "poste-lens"], opens)
    _route(plan, trike, 2, ["poste-lievin"], opens)
    return plan


def coordinator(plan: DeliveryPlan):
    return _user(
        "coord@example.test", Role.COORDINATOR, territory=plan.cycle.territory, is_staff=True
    )


def rows(plan: DeliveryPlan) -> tuple:
    """Everything a move may write, to compare before and after a refusal."""
    plan.refresh_from_db()
    return (
        (plan.version, plan.status, plan.total_km, plan.total_co2_kg, plan.unserved),
        list(PlanRoute.objects.filter(plan=plan).order_by("pk").values()),
        list(PlanStop.objects.filter(route__plan=plan).order_by("pk").values()),
    )


def stop(place: str) -> PlanStop:
    return PlanStop.objects.get(place=place)


def route_of(slug: str) -> PlanRoute:
    return PlanRoute.objects.get(vehicle__slug=slug)


def places(route: PlanRoute) -> list[str]:
    return list(route.stops.order_by("position").values_list("place", flat=True))


# --- moves -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_move_to_another_route_retimes_both_routes_and_bumps_the_version() -> None:
    plan = build_plan()
    by = coordinator(plan)
    moved = plan_stop_move(
        plan_id=plan.pk,
        stop_id=stop("relay:poste-lens").pk,
        route_id=route_of("trike-1").pk,
        position=1,
        version=plan.version,
        by=by,
    )
    assert moved.version == 2
    van, trike = route_of("van-1"), route_of("trike-1")
    assert places(van) == ["depot:base-11-19", "relay:mairie-loos", "depot:base-11-19"]
    assert places(trike) == [
        "depot:base-11-19",
        "relay:poste-lens",
        "relay:poste-lievin",
        "depot:base-11-19",
    ]
    assert list(trike.stops.order_by("position").values_list("position", flat=True)) == [
        0,
        1,
        2,
        3,
    ]
    # 10 + 4.7 = 14.7 kg leave the hub on the tricycle, 15 to the kg; the van keeps 9.4, 9
    # (the loads stored are the goods' own weights rounded, as the loading list adds them).
    assert list(trike.stops.order_by("position").values_list("load_kg_after", flat=True)) == [
        15,
        5,
        0,
        0,
    ]
    assert list(van.stops.order_by("position").values_list("load_kg_after", flat=True)) == [
        9,
        0,
        0,
    ]
    start = trike.stops.get(kind="depot_start")
    assert start.manifest["load_in_order"] == [
        {
            "place": "relay:poste-lievin",
            "name": "poste-lievin",
            "crates": 1,
            "kg": 5,
            "cold_items": 0,
        },
        {"place": "relay:poste-lens", "name": "poste-lens", "crates": 1, "kg": 10, "cold_items": 0},
    ]
    etas = list(trike.stops.order_by("position").values_list("eta", flat=True))
    assert etas == sorted(etas)
    # The timing is the engine's: the same figures as a timer on the same route.
    assert trike.km > 0 and van.km > 0
    assert trike.co2_kg == (trike.km * Decimal("0.001")).quantize(Decimal("0.001"))
    assert van.co2_kg == (van.km * Decimal("0.269")).quantize(Decimal("0.001"))
    assert moved.total_km == van.km + trike.km
    zone = ZoneInfo(plan.cycle.territory.timezone)
    assert etas[1].astimezone(zone).date() == plan.cycle.delivery_date


@pytest.mark.django_db
def test_a_move_within_a_route_reorders_it() -> None:
    plan = build_plan()
    by = coordinator(plan)
    plan_stop_move(
        plan_id=plan.pk,
        stop_id=stop("relay:poste-lens").pk,
        route_id=route_of("van-1").pk,
        position=1,
        version=1,
        by=by,
    )
    assert places(route_of("van-1"))[1:3] == ["relay:poste-lens", "relay:mairie-loos"]
    assert route_of("van-1").stops.get(kind="depot_end").position == 3


@pytest.mark.django_db
def test_a_move_over_the_payload_is_refused_with_the_rule_and_changes_nothing() -> None:
    plan = build_plan(trike_kg=12)
    by = coordinator(plan)
    before = rows(plan)
    with pytest.raises(MoveRefused) as refused:
        plan_stop_move(
            plan_id=plan.pk,
            stop_id=stop("relay:poste-lens").pk,
            route_id=route_of("trike-1").pk,
            position=2,
            version=1,
            by=by,
        )
    assert refused.value.code == "move_refused"
    assert refused.value.message == (
        "Le véhicule « Triporteur 1 » dépasserait sa charge utile (15 kg pour 12 kg)."
    )
    assert rows(plan) == before


@pytest.mark.django_db
def test_a_move_after_a_relay_opens_is_refused_naming_the_relay_and_the_hours() -> None:
    plan = build_plan(opens={"mairie-loos": time(8, 10)})
    by = coordinator(plan)
    before = rows(plan)
    with pytest.raises(MoveRefused) as refused:
        plan_stop_move(
            plan_id=plan.pk,
            stop_id=stop("relay:mairie-loos").pk,
            route_id=route_of("trike-1").pk,
            position=2,
            version=1,
            by=by,
        )
    message = refused.value.message
    assert message.startswith("Le point relais « mairie-loos » serait livré à 8 h ")
    assert message.endswith(", après l'ouverture à 8 h 10.")
    assert rows(plan) == before


@pytest.mark.django_db
def test_a_move_beyond_the_range_or_the_shift_is_refused_in_words() -> None:
    plan = build_plan()
    Vehicle.objects.filter(slug="trike-1").update(max_range_km=3)
    by = coordinator(plan)
    before = rows(plan)
    with pytest.raises(MoveRefused) as refused:
        plan_stop_move(
            plan_id=plan.pk,
            stop_id=stop("relay:poste-lens").pk,
            route_id=route_of("trike-1").pk,
            position=1,
            version=1,
            by=by,
        )
    assert "Le véhicule « Triporteur 1 » parcourrait " in refused.value.message
    assert refused.value.message.endswith(" km pour une autonomie de 3,0 km.")
    assert rows(plan) == before


@pytest.mark.django_db
def test_moves_into_or_out_of_a_locked_route_are_refused() -> None:
    plan = build_plan()
    by = coordinator(plan)
    locked = plan_route_lock(
        plan_id=plan.pk, route_id=route_of("trike-1").pk, locked=True, version=1, by=by
    )
    assert locked.version == 2
    assert route_of("trike-1").locked is True
    before = rows(plan)
    with pytest.raises(RouteLocked):
        plan_stop_move(
            plan_id=plan.pk,
            stop_id=stop("relay:poste-lens").pk,
            route_id=route_of("trike-1").pk,
            position=1,
            version=2,
            by=by,
        )
    with pytest.raises(RouteLocked):
        plan_stop_move(
            plan_id=plan.pk,
            stop_id=stop("relay:poste-lievin").pk,
            route_id=route_of("van-1").pk,
            position=1,
            version=2,
            by=by,
        )
    assert rows(plan) == before
    # Locking it again changes nothing; unlocking bumps the version.
    assert (
        plan_route_lock(
            plan_id=plan.pk, route_id=route_of("trike-1").pk, locked=True, version=2, by=by
        ).version
        == 2
    )
    assert (
        plan_route_lock(
            plan_id=plan.pk, route_id=route_of("trike-1").pk, locked=False, version=2, by=by
        ).version
        == 3
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "error", "code"),
    [
        ({"version": 0}, PlanVersionConflict, "plan_conflict"),
        ({"version": "abc"}, PlanVersionConflict, "plan_conflict"),
        ({"position": 0}, InvalidPosition, "invalid_position"),
        ({"position": 4}, InvalidPosition, "invalid_position"),
        ({"position": "x"}, InvalidPosition, "invalid_position"),
        ({"stop_id": 999999}, StopNotFound, "stop_not_found"),
        ({"stop_id": "deux"}, StopNotFound, "stop_not_found"),
        ({"stop_id": 10**30}, StopNotFound, "stop_not_found"),
        ({"stop_id": None}, StopNotFound, "stop_not_found"),
        ({"position": 10**30}, InvalidPosition, "invalid_position"),
        ({"route_id": 999999}, Exception, "route_not_found"),
        ({"stop_id": "depot"}, StopNotMovable, "stop_not_movable"),
        ({"plan_id": 999999}, Exception, "plan_not_found"),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(change, error, code) -> None:
    plan = build_plan()
    by = coordinator(plan)
    arguments = {
        "plan_id": plan.pk,
        "stop_id": stop("relay:poste-lens").pk,
        "route_id": route_of("trike-1").pk,
        "position": 1,
        "version": 1,
        "by": by,
    }
    if change.get("stop_id") == "depot":
        change = {"stop_id": route_of("van-1").stops.get(kind="depot_start").pk}
    arguments.update(change)
    before = rows(plan)
    with pytest.raises(error) as refused:
        plan_stop_move(**arguments)
    assert refused.value.code == code
    assert refused.value.message
    assert rows(plan) == before


@pytest.mark.django_db
def test_the_version_conflict_says_to_reload() -> None:
    plan = build_plan()
    with pytest.raises(PlanVersionConflict) as refused:
        plan_route_lock(
            plan_id=plan.pk, route_id=route_of("van-1").pk, locked=True, version=7, by=None
        )
    assert refused.value.status == 409
    assert refused.value.message == (
        "Le plan a été modifié par quelqu'un d'autre depuis que vous l'avez ouvert : "
        "rechargez la page."
    )


@pytest.mark.django_db
def test_only_coordinators_of_the_territory_and_superusers_edit() -> None:
    plan = build_plan()
    other = TerritoryFactory(slug="ailleurs")
    outsiders = [
        _user("foyer@example.test"),
        _user("driver@example.test", Role.DRIVER, territory=plan.cycle.territory),
        _user("other@example.test", Role.COORDINATOR, territory=other),
    ]
    before = rows(plan)
    for outsider in outsiders:
        with pytest.raises(NotAllowed) as refused:
            plan_route_lock(
                plan_id=plan.pk, route_id=route_of("van-1").pk, locked=True, version=1, by=outsider
            )
        assert refused.value.status == 403
    assert rows(plan) == before
    admin = _user("admin@example.test", Role.HOUSEHOLD, is_superuser=True, is_staff=True)
    assert (
        plan_route_lock(
            plan_id=plan.pk, route_id=route_of("van-1").pk, locked=True, version=1, by=admin
        ).version
        == 2
    )
    # A coordinator bound to no territory coordinates them all (as on the preparation pages).
    unbound = _user("unbound@example.test", Role.COORDINATOR)
    assert (
        plan_route_lock(
            plan_id=plan.pk, route_id=route_of("van-1").pk, locked=False, version=2, by=unbound
        ).version
        == 3
    )


def _race(plan: DeliveryPlan, by: Any) -> list[str]:
    """Two coordinators move a stop each, both from version 1; what each one got."""
    moves = [
        {"stop_id": stop("relay:poste-lens").pk, "route_id": route_of("trike-1").pk},
        {"stop_id": stop("relay:poste-lievin").pk, "route_id": route_of("van-1").pk},
    ]
    barrier = threading.Barrier(len(moves))
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(move: dict[str, int]) -> None:
        try:
            barrier.wait(timeout=30)
            try:
                plan_stop_move(plan_id=plan.pk, position=1, version=1, by=by, **move)
                outcome = "moved"
            except PlanVersionConflict as conflict:
                outcome = conflict.code
            except Exception as failure:  # the control's lost update may end anyhow
                outcome = type(failure).__name__
            with lock:
                outcomes.append(outcome)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(move,)) for move in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return outcomes


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_coordinators_moving_at_once_one_wins_the_other_gets_a_conflict(monkeypatch) -> None:
    assert connection.vendor == "postgresql"
    plan = build_plan()
    by = coordinator(plan)
    real = editing.plan_problem_build

    def slow(**kwargs: Any):
        # The winner holds the plan's row while the other one arrives and waits for it.
        time_module.sleep(0.3)
        return real(**kwargs)

    monkeypatch.setattr(editing, "plan_problem_build", slow)
    assert sorted(_race(plan, by)) == ["moved", "plan_conflict"]
    plan.refresh_from_db()
    assert plan.version == 2
    # Exactly one of the two moves happened: three deliveries in all, each once.
    van, trike = places(route_of("van-1")), places(route_of("trike-1"))
    assert sorted(van[1:-1] + trike[1:-1]) == sorted(f"relay:{s}" for s in KG)
    assert (len(van), len(trike)) in {(3, 4), (5, 2)}


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_row_lock_both_moves_pass_the_version_check(monkeypatch) -> None:
    """The race is real: read without the lock, both see version 1 and go on writing."""
    assert connection.vendor == "postgresql"
    plan = build_plan()
    by = coordinator(plan)
    both_checked = threading.Barrier(2)

    def unlocked(current: DeliveryPlan, version: Any, **_kwargs: Any) -> DeliveryPlan:
        row = DeliveryPlan.objects.select_related("cycle__territory").get(pk=current.pk)
        if int(version) != row.version:
            raise PlanVersionConflict()
        return row

    real = editing.plan_problem_build

    def meet(**kwargs: Any):
        both_checked.wait(timeout=10)
        return real(**kwargs)

    monkeypatch.setattr(editing, "_locked", unlocked)
    monkeypatch.setattr(editing, "plan_problem_build", meet)
    outcomes = _race(plan, by)
    assert len(outcomes) == 2
    assert "plan_conflict" not in outcomes, outcomes


# --- unserved decisions and publishing -------------------------------------------------------

UNSERVED = [
    {
        "place": "relay:poste-lens",
        "code": "not_routed",
        "reason_fr": "Plus de place dans les véhicules.",
    }
]


@pytest.mark.django_db
def test_publish_is_refused_while_an_unserved_stop_is_undecided() -> None:
    plan = build_plan(unserved=[dict(u) for u in UNSERVED])
    by = coordinator(plan)
    before = rows(plan)
    with pytest.raises(UnservedUndecided) as refused:
        plan_publish(plan_id=plan.pk, version=1, by=by)
    assert refused.value.code == "unserved_undecided"
    assert refused.value.message == (
        "Décidez d'abord du sort des étapes non desservies : poste-lens "
        "(un autre véhicule, un autre jour ou retrait au dépôt)."
    )
    assert rows(plan) == before


@pytest.mark.django_db
def test_unserved_decisions_refuse_unknown_places_and_decisions() -> None:
    plan = build_plan(unserved=[dict(u) for u in UNSERVED])
    by = coordinator(plan)
    before = rows(plan)
    with pytest.raises(UnservedUnknown):
        plan_unserved_decide(
            plan_id=plan.pk, place="relay:ailleurs", decision="other_day", version=1, by=by
        )
    with pytest.raises(InvalidDecision) as refused:
        plan_unserved_decide(
            plan_id=plan.pk, place="relay:poste-lens", decision="abandon", version=1, by=by
        )
    assert "retrait au dépôt" in refused.value.message
    assert rows(plan) == before
    decided = plan_unserved_decide(
        plan_id=plan.pk, place="relay:poste-lens", decision="other_vehicle", version=1, by=by
    )
    assert decided.version == 2
    assert decided.unserved == [{**UNSERVED[0], "decision": "other_vehicle"}]


@pytest.mark.django_db
def test_publish_with_hub_pickup_emails_the_households_once(
    django_capture_on_commit_callbacks,
) -> None:
    plan = build_plan(unserved=[dict(u) for u in UNSERVED])
    Depot.objects.filter(slug="base-11-19").update(
        address="Rue de l'Abbaye & du Puits", postcode="62750", city="Loos-en-Gohelle"
    )
    by = coordinator(plan)
    plan = plan_unserved_decide(
        plan_id=plan.pk, place="relay:poste-lens", decision="hub_pickup", version=1, by=by
    )
    with django_capture_on_commit_callbacks(execute=True):
        published = plan_publish(plan_id=plan.pk, version=plan.version, by=by)
    assert published.status == "published"
    assert published.version == 3
    assert published.published_by == by
    assert published.published_at is not None
    (message,) = mail.outbox
    assert message.to == ["c@example.test"]
    assert "Base 11/19" in message.body
    # A text e-mail is not HTML: the apostrophe and the ampersand read as typed.
    assert "Rue de l'Abbaye & du Puits, 62750 Loos-en-Gohelle" in message.body
    assert "poste-lens" in message.body
    order = Order.objects.select_related("pickup_slot").get(customer__email="c@example.test")
    slot = order.pickup_slot
    assert message.subject == f"Votre panier {order.reference} est à retirer au dépôt"
    assert (
        f"entre {slot.starts_at:%H:%M} et {slot.ends_at:%H:%M}, c'est-à-dire à l'heure du "
        "créneau que vous aviez choisi au point relais, mais au dépôt."
    ) in message.body
    assert OutboxMessage.objects.filter(key=f"plan-{plan.pk}-hub-pickup-{order.pk}").exists()
    # Publishing again returns the plan as it is, and sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        again = plan_publish(plan_id=plan.pk, version=plan.version, by=by)
    assert again.version == 3
    assert len(mail.outbox) == 1
    # A published plan is no longer edited.
    with pytest.raises(PlanPublished) as refused:
        plan_route_lock(
            plan_id=plan.pk, route_id=route_of("van-1").pk, locked=True, version=3, by=by
        )
    assert refused.value.message == "Le plan est publié : il ne peut plus être modifié."


@pytest.mark.django_db
def test_publish_with_other_day_tells_the_households_it_comes_another_day(
    django_capture_on_commit_callbacks,
) -> None:
    plan = build_plan(unserved=[dict(u) for u in UNSERVED])
    Territory.objects.filter(pk=plan.cycle.territory_id).update(
        contact_email="coordination@loos.example"
    )
    by = coordinator(plan)
    plan = plan_unserved_decide(
        plan_id=plan.pk, place="relay:poste-lens", decision="other_day", version=1, by=by
    )
    with django_capture_on_commit_callbacks(execute=True):
        plan_publish(plan_id=plan.pk, version=plan.version, by=by)
        plan_publish(plan_id=plan.pk, version=plan.version + 1, by=by)
    order = Order.objects.get(customer__email="c@example.test")
    (message,) = mail.outbox
    assert message.to == ["c@example.test"]
    assert message.subject == f"Votre panier {order.reference} sera livré un autre jour"
    assert "ne vous déplacez pas ce jour-là" in message.body
    assert "La coordination vous dira lequel." in message.body
    assert "coordination@loos.example" in message.body
    assert list(
        OutboxMessage.objects.filter(key__startswith="plan-").values_list("key", flat=True)
    ) == [f"plan-{plan.pk}-other-day-{order.pk}"]


@pytest.mark.django_db
def test_publish_with_other_vehicle_sends_nothing(django_capture_on_commit_callbacks) -> None:
    plan = build_plan(unserved=[dict(u) for u in UNSERVED])
    by = coordinator(plan)
    plan = plan_unserved_decide(
        plan_id=plan.pk, place="relay:poste-lens", decision="other_vehicle", version=1, by=by
    )
    with django_capture_on_commit_callbacks(execute=True):
        published = plan_publish(plan_id=plan.pk, version=plan.version, by=by)
    assert published.status == "published"
    assert mail.outbox == []
    assert published.unserved[0]["decision"] == "other_vehicle"


@pytest.mark.django_db
def test_a_plan_not_computed_is_not_published_but_the_system_may_publish_a_computed_one() -> None:
    plan = build_plan()
    DeliveryPlan.objects.filter(pk=plan.pk).update(solve_state="running")
    before = rows(plan)
    with pytest.raises(PlanNotComputed):
        plan_publish(plan_id=plan.pk, version=1, by=None)
    DeliveryPlan.objects.filter(pk=plan.pk).update(solve_state="failed")
    with pytest.raises(PlanNotComputed):
        plan_publish(plan_id=plan.pk, version=1, by=None)
    DeliveryPlan.objects.filter(pk=plan.pk).update(solve_state="done")
    assert rows(plan)[1:] == before[1:]
    published = plan_publish(plan_id=plan.pk, version=1, by=None)
    assert published.status == "published" and published.published_by is None


# --- the engine's timing ---------------------------------------------------------------------


def test_route_timer_times_waits_and_loads_like_the_checker() -> None:
    from logistics.vrp import model as vrp
    from logistics.vrp.checker import check_solution
    from logistics.vrp.providers import MatrixProvider

    problem = vrp.Problem(
        depots=(vrp.Depot("hub", 0, 0),),
        vehicles=(
            vrp.Vehicle(
                "van",
                "hub",
                {"kg": 100},
                shift=vrp.TimeWindow(0, 10_000),
                cost_per_km=1.0,
                cost_per_hour=36.0,
            ),
        ),
        stops=(
            vrp.Stop("a", 0, 0, {"kg": 30}, (vrp.TimeWindow(1000, 2000),), service_s=60),
            vrp.Stop("farm", 0, 0, {"kg": 20}, (), service_s=0, kind="pickup"),
            vrp.Stop("b", 0, 0, {"kg": 20}, (vrp.TimeWindow(0, 1500),), service_s=60),
        ),
        pairs=(vrp.PickupDelivery("farm", "b"),),
    )
    ids = ["hub", "a", "farm", "b"]
    minutes = [[0, 100, 200, 300], [100, 0, 100, 200], [200, 100, 0, 100], [300, 200, 100, 0]]
    provider = MatrixProvider(ids, [[d * 10 for d in row] for row in minutes], minutes)
    timing = RouteTimer(problem, provider).time("van", ["a", "farm", "b"])
    route = timing.route
    # Leaving at 0 would wait 900 s at "a"; the departure waits instead, as long as "b"
    # (open until 1500) still fits: a at 1000, farm at 1160, b at 1260.
    assert route.start_time == 900
    assert [(v.arrival, v.start, v.departure) for v in route.visits] == [
        (1000, 1000, 1060),
        (1160, 1160, 1160),
        (1260, 1260, 1320),
    ]
    assert dict(timing.start_load) == {"kg": 30}
    assert [dict(v.load) for v in route.visits] == [{"kg": 0}, {"kg": 20}, {"kg": 0}]
    assert timing.max_load("kg") == 30
    assert route.end_time == 1620
    assert route.distance_m == 6000
    assert route.cost == pytest.approx(6 + 720 / 3600 * 36)
    solution = vrp.Solution(
        routes=(route,),
        unserved=(),
        cost=route.cost,
        distance_m=route.distance_m,
        stats=vrp.SearchStats(0, 0, None, "completed", 1, 1),
    )
    assert check_solution(problem, solution, provider).ok
    assert list(itertools.pairwise([v.arrival for v in route.visits]))


# --- plans computed by the engine ------------------------------------------------------------


def _computed(*, farm_collected: bool = False) -> DeliveryPlan:
    from logistics.services import plan_compute
    from marche.producers.models import Producer

    cycle = build_cycle()
    if farm_collected:
        Producer.objects.filter(slug="marais").update(
            collected_on_round=True, collection_opens=time(8), collection_closes=time(11)
        )
    plan = plan_compute(cycle_id=cycle.pk, time_limit=1).plan
    assert plan.solve_state == "done"
    return plan


@pytest.mark.django_db
def test_a_computed_route_reordered_keeps_its_loading_order_and_stays_valid() -> None:
    plan = _computed()
    (route,) = plan.routes.all()
    stops = list(route.stops.order_by("position"))
    loading = stops[0].manifest["load_in_order"]
    by = coordinator(plan)
    last = stops[-2]
    moved = plan_stop_move(
        plan_id=plan.pk,
        stop_id=last.pk,
        route_id=route.pk,
        position=1,
        version=plan.version,
        by=by,
    )
    assert moved.version == plan.version + 1
    after = list(route.stops.order_by("position"))
    assert [s.pk for s in after] == [
        stops[0].pk,
        last.pk,
        *(s.pk for s in stops[1:-2]),
        stops[-1].pk,
    ]
    assert [s.position for s in after] == list(range(len(after)))
    # The same entries (as the computation wrote them), in the new reverse order of the drops.
    entries = {entry["place"]: entry for entry in loading}
    assert after[0].manifest["load_in_order"] == [entries[s.place] for s in reversed(after[1:-1])]
    loads = [s.load_kg_after for s in after]
    # 24.1 kg loaded, to the kg as the computation stored it (not 25, whole kg rounded up).
    assert loads[0] == stops[0].load_kg_after == 24 and loads[-2] == 0
    assert all(a > b for a, b in itertools.pairwise(loads[:-1])), loads
    etas = [s.eta for s in after]
    assert etas == sorted(etas)


@pytest.mark.django_db
def test_a_drop_moved_before_its_farm_pickup_is_refused_and_changes_nothing() -> None:
    plan = _computed(farm_collected=True)
    (route,) = plan.routes.all()
    stops = list(route.stops.order_by("position"))
    assert stops[1].kind == "pickup" and stops[1].place == "farm:marais"
    assert {c["destination"] for c in stops[1].manifest["collect"]} == {
        f"relay:{slug}" for slug in KG
    }
    last = stops[-2]
    by = coordinator(plan)
    before = rows(plan)
    with pytest.raises(MoveRefused) as refused:
        plan_stop_move(
            plan_id=plan.pk,
            stop_id=last.pk,
            route_id=route.pk,
            position=1,
            version=plan.version,
            by=by,
        )
    assert refused.value.message == (
        f"Les produits enlevés à « Ferme du Marais » pour « {last.name} » doivent rester "
        "sur la même tournée, enlevés avant d'être livrés."
    )
    assert rows(plan) == before
    # After the pickup, the same drop may change place.
    moved = plan_stop_move(
        plan_id=plan.pk,
        stop_id=last.pk,
        route_id=route.pk,
        position=2,
        version=plan.version,
        by=by,
    )
    assert moved.version == plan.version + 1
    after = list(route.stops.order_by("position"))
    assert after[2].pk == last.pk
    # Everything comes from the farm: only the crates leave the hub, the load rises at the farm.
    assert after[0].load_kg_after == 0
    assert [entry["kg"] for entry in after[0].manifest["load_in_order"]] == [0, 0, 0]
    assert after[0].manifest["load_in_order"][-1]["place"] == last.place
    assert after[1].load_kg_after > 0 and after[-2].load_kg_after == 0


@pytest.mark.django_db
def test_chilled_goods_on_a_vehicle_without_a_cold_box_are_refused_in_words() -> None:
    plan = build_plan()
    Vehicle.objects.filter(slug="van-1").update(cold_volume_litres=50)
    lens = stop("relay:poste-lens")
    lens.manifest = {**lens.manifest, "cold_items": 2}
    lens.save(update_fields=["manifest"])
    before = rows(plan)
    with pytest.raises(MoveRefused) as refused:
        plan_stop_move(
            plan_id=plan.pk,
            stop_id=lens.pk,
            route_id=route_of("trike-1").pk,
            position=1,
            version=1,
            by=coordinator(plan),
        )
    assert refused.value.message == (
        "Le véhicule « Triporteur 1 » n'a pas de caisson réfrigéré pour les produits frais "
        "de « poste-lens »."
    )
    assert rows(plan) == before


@pytest.mark.django_db
def test_a_move_past_the_end_of_the_shift_is_refused_with_the_hours() -> None:
    plan = build_plan()
    Vehicle.objects.filter(slug="trike-1").update(shift_end=time(8, 45))
    before = rows(plan)
    with pytest.raises(MoveRefused) as refused:
        plan_stop_move(
            plan_id=plan.pk,
            stop_id=stop("relay:poste-lens").pk,
            route_id=route_of("trike-1").pk,
            position=1,
            version=1,
            by=coordinator(plan),
        )
    message = refused.value.message
    assert message.startswith("Le véhicule « Triporteur 1 » rentrerait au dépôt à 8 h 5")
    assert message.endswith(", après la fin de son service à 8 h 45.")
    assert rows(plan) == before


@pytest.mark.django_db
def test_a_routing_server_down_refuses_the_move_clearly_and_changes_nothing(settings) -> None:
    plan = build_plan()
    settings.LOGISTICS_OSRM_URL = "http://127.0.0.1:9"
    before = rows(plan)
    with pytest.raises(DomainError) as refused:
        plan_stop_move(
            plan_id=plan.pk,
            stop_id=stop("relay:poste-lens").pk,
            route_id=route_of("trike-1").pk,
            position=1,
            version=1,
            by=coordinator(plan),
        )
    assert refused.value.code == "osrm_unavailable"
    assert refused.value.message.startswith("Le déplacement n'a pas pu être vérifié : ")
    assert rows(plan) == before


@pytest.mark.django_db
def test_a_farm_pickup_moved_after_its_drops_is_refused_in_one_sentence_per_rule() -> None:
    plan = _computed(farm_collected=True)
    (route,) = plan.routes.all()
    stops = list(route.stops.order_by("position"))
    pickup = stops[1]
    assert pickup.kind == "pickup" and len(pickup.manifest["collect"]) == 3
    before = rows(plan)
    with pytest.raises(MoveRefused) as refused:
        plan_stop_move(
            plan_id=plan.pk,
            stop_id=pickup.pk,
            route_id=route.pk,
            position=len(stops) - 2,
            version=plan.version,
            by=coordinator(plan),
        )
    message = refused.value.message
    drops = ", ".join(f"« {s.name} »" for s in stops[2:-1])
    pair = (
        f"Les produits enlevés à « Ferme du Marais » pour {drops} doivent rester sur la même "
        "tournée, enlevés avant d'être livrés."
    )
    assert pair in message
    assert message.count("Les produits enlevés") == 1
    assert message.count("La ferme « Ferme du Marais » serait visitée") <= 1
    assert rows(plan) == before


def test_a_rule_broken_at_many_places_names_three_and_counts_the_others() -> None:
    found = [("late", str(n), f"Étape {n} en retard.") for n in (1, 2, 2, 3, 4, 5)]
    found += [("shift", "van-1", "Service dépassé."), ("shift", "van-1", "Service dépassé.")]
    assert editing._at_most(found, 3) == [
        "Étape 1 en retard.",
        "Étape 2 en retard.",
        "Étape 3 en retard.",
        "Et 2 autres étapes dans le même cas.",
        "Service dépassé.",
    ]
