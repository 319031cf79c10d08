"""Check-offs: once per key, who may, what is refused, the round's start and end, e-mails."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from logistics.checkoffs import (
    CheckoffKeyReused,
    InvalidCheckoffKey,
    InvalidCheckoffNote,
    InvalidCheckoffStatus,
    InvalidDelivered,
    InvalidRecordedAt,
    PlanNotPublished,
    ProblemNeedsNote,
    RouteNotFound,
    RouteNotYours,
    StopNotCheckable,
    StopNotFound,
    relay_arrival_key,
    relay_undelivered_key,
    route_start,
    stop_check_off,
)
from logistics.models import PlanRoute, PlanStatus, PlanStop, StopCheckoff, Vehicle
from marche.accounts.models import Role
from marche.core.models import OutboxMessage
from marche.core.numbers import InvalidNumber
from marche.orders.models import Order, OrderStatus
from marche.relays.models import RelayPoint
from marche.territories.models import Territory
from tests.factories import TerritoryFactory, UserFactory
from tests.logistics.driver_fixtures import DriverWorld, build_driver_world

KEY = "0f5c3a52-9d4e-4b8a-a1f2-7c6d5e4b3a21"


@pytest.fixture
def world(db: None) -> DriverWorld:
    return build_driver_world()


def _state(world: DriverWorld) -> list[Any]:
    """Everything a check-off may change, to compare before and after a refusal."""
    return [
        list(
            PlanStop.objects.filter(route=world.route).values_list(
                "status", "checked_at", "note", "delivered"
            )
        ),
        list(PlanRoute.objects.filter(pk=world.route.pk).values_list("started_at", "finished_at")),
        StopCheckoff.objects.count(),
        OutboxMessage.objects.filter(key__startswith="relay-").count(),
    ]


def test_a_delivered_relay_stop_is_recorded_and_each_household_gets_one_email(
    world: DriverWorld, django_capture_on_commit_callbacks: Any
) -> None:
    recorded = timezone.now() - timedelta(minutes=2)
    with django_capture_on_commit_callbacks(execute=True):
        result = stop_check_off(
            stop_id=world.stop_a.pk,
            key=KEY,
            status="delivered",
            note="Déposé à l'accueil",
            recorded_at=recorded,
            by=world.driver,
        )
    assert result.replay is False
    assert result.applied is True
    assert (result.stops_done, result.stops_total) == (1, 3)
    stop = PlanStop.objects.get(pk=world.stop_a.pk)
    assert (stop.status, stop.checked_at, stop.note) == (
        "delivered",
        recorded,
        "Déposé à l'accueil",
    )
    checkoff = StopCheckoff.objects.get()
    assert (checkoff.key, checkoff.status, checkoff.recorded_by) == (KEY, "delivered", world.driver)
    route = PlanRoute.objects.get(pk=world.route.pk)
    assert route.started_at == recorded
    assert route.finished_at is None

    camille, louis = world.orders["camille"], world.orders["louis"]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "camille.durand@example.test",
        "louis.martin@example.test",
    ]
    message = next(m for m in mail.outbox if m.to == ["camille.durand@example.test"])
    assert message.subject == "Votre panier vous attend au point relais Mairie de Loos"
    assert camille.reference in message.body
    assert "16:00–19:00" in message.body
    assert f"/commander/commandes/{camille.reference}/" in message.body
    assert set(
        OutboxMessage.objects.filter(key__startswith="relay-").values_list("key", flat=True)
    ) == {
        relay_arrival_key(order_id=camille.pk, stop_id=world.stop_a.pk),
        relay_arrival_key(order_id=louis.pk, stop_id=world.stop_a.pk),
    }


def test_the_same_key_again_is_a_replay_that_changes_nothing(
    world: DriverWorld, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = stop_check_off(
            stop_id=world.stop_a.pk, key=KEY, status="delivered", by=world.driver
        )
    before = _state(world)
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        again = stop_check_off(
            stop_id=world.stop_a.pk, key=KEY, status="problem", note="autre", by=world.driver
        )
    assert again.replay is True
    assert again.stop.status == first.stop.status == "delivered"
    assert _state(world) == before
    assert len(mail.outbox) == sent == 2


def test_a_second_delivered_check_off_with_a_new_key_sends_no_second_email(
    world: DriverWorld, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        stop_check_off(stop_id=world.stop_a.pk, key=KEY, status="delivered", by=world.driver)
        stop_check_off(
            stop_id=world.stop_a.pk, key=KEY.replace("0", "1"), status="delivered", by=world.driver
        )
    assert StopCheckoff.objects.count() == 2
    assert len(mail.outbox) == 2


def test_an_order_corrected_to_zero_crates_is_told_its_basket_is_missing(
    world: DriverWorld, django_capture_on_commit_callbacks: Any
) -> None:
    louis = world.orders["louis"]
    Territory.objects.filter(pk=world.cycle.territory_id).update(
        contact_email="coordination@loos.example"
    )
    with django_capture_on_commit_callbacks(execute=True):
        stop_check_off(
            stop_id=world.stop_a.pk,
            key=KEY,
            status="delivered",
            delivered={louis.reference: "0", world.orders["camille"].reference: 1},
            by=world.driver,
        )
    assert PlanStop.objects.get(pk=world.stop_a.pk).delivered == {
        louis.reference: 0,
        world.orders["camille"].reference: 1,
    }
    by_to = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_to) == ["camille.durand@example.test", "louis.martin@example.test"]
    assert by_to["camille.durand@example.test"].subject == (
        "Votre panier vous attend au point relais Mairie de Loos"
    )
    missing = by_to["louis.martin@example.test"]
    assert missing.subject == "Votre panier n'a pas pu être déposé au point relais Mairie de Loos"
    assert louis.reference in missing.body
    assert "la coordination vous contactera" in missing.body
    assert "coordination@loos.example" in missing.body
    assert "manquait" in missing.body
    assert OutboxMessage.objects.filter(
        key=relay_undelivered_key(order_id=louis.pk, stop_id=world.stop_a.pk, kind="missing")
    ).exists()


def test_a_problem_tells_each_household_of_the_stop_once_and_a_pickup_sends_nothing(
    world: DriverWorld, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        stop_check_off(
            stop_id=world.stop_a.pk, key=KEY, status="problem", note="Fermé", by=world.driver
        )
        stop_check_off(
            stop_id=world.stop_a.pk,
            key=KEY.replace("0", "3"),
            status="problem",
            note="Toujours fermé",
            by=world.driver,
        )
        stop_check_off(
            stop_id=world.pickup.pk, key=KEY.replace("0", "2"), status="delivered", by=world.driver
        )
    assert PlanStop.objects.get(pk=world.stop_a.pk).status == "problem"
    assert sorted(m.to[0] for m in mail.outbox) == [
        "camille.durand@example.test",
        "louis.martin@example.test",
    ]
    message = mail.outbox[0]
    assert message.subject == "Votre panier n'a pas pu être déposé au point relais Mairie de Loos"
    assert "Le chauffeur a rencontré un problème" in message.body
    assert "Fermé" not in message.body
    assert "Pour toute question" not in message.body  # the territory has no contact e-mail
    assert not any("attend" in m.subject for m in mail.outbox)


def _second_drop_at_relay_a(world: DriverWorld) -> tuple[PlanStop, Any]:
    """Another van's round dropping a farm's share at relay A (the hub share is on stop_a)."""
    van = world.route.vehicle
    driver = UserFactory(
        email="chauffeur2@example.test", role=Role.DRIVER, territory=world.driver.territory
    )
    van2 = Vehicle.objects.create(
        territory=van.territory,
        depot=van.depot,
        name="Utilitaire 2",
        slug="van-2",
        kind="van",
        capacity_kg=800,
        capacity_crates=60,
        cold_volume_litres=200,
        average_speed_kmh=van.average_speed_kmh,
        cost_per_km=van.cost_per_km,
        cost_per_hour=van.cost_per_hour,
        shift_start=van.shift_start,
        shift_end=van.shift_end,
    )
    route2 = PlanRoute.objects.create(
        plan=world.plan,
        vehicle=van2,
        driver=driver,
        position=2,
        km=Decimal("9.000"),
        duration_min=40,
        co2_kg=Decimal("2.000"),
    )
    stop = PlanStop.objects.create(
        route=route2,
        position=2,
        place=world.stop_a.place,
        kind="delivery",
        name=world.stop_a.name,
        eta=world.stop_a.eta,
        load_kg_after=0,
        manifest={
            "place": world.stop_a.place,
            "name": world.stop_a.name,
            "orders": [],
            "from_farms": [{"farm": "farm:ferme-x", "name": "Ferme X", "kg": 4.0}],
            "kg": 4.0,
        },
    )
    return stop, driver


def test_a_relay_visited_by_two_rounds_is_announced_once_both_drops_are_delivered(
    world: DriverWorld, django_capture_on_commit_callbacks: Any
) -> None:
    second, driver2 = _second_drop_at_relay_a(world)
    with django_capture_on_commit_callbacks(execute=True):
        stop_check_off(stop_id=world.stop_a.pk, key=KEY, status="delivered", by=world.driver)
    assert mail.outbox == []  # the farm's share is still on the other round
    with django_capture_on_commit_callbacks(execute=True):
        stop_check_off(stop_id=second.pk, key=KEY.replace("0", "4"), status="delivered", by=driver2)
        stop_check_off(stop_id=second.pk, key=KEY.replace("0", "5"), status="delivered", by=driver2)
        stop_check_off(
            stop_id=world.stop_a.pk, key=KEY.replace("0", "6"), status="delivered", by=world.driver
        )
    assert sorted(m.to[0] for m in mail.outbox) == [
        "camille.durand@example.test",
        "louis.martin@example.test",
    ]
    camille, louis = world.orders["camille"], world.orders["louis"]
    first = min(world.stop_a.pk, second.pk)
    assert set(
        OutboxMessage.objects.filter(key__startswith="relay-").values_list("key", flat=True)
    ) == {
        relay_arrival_key(order_id=camille.pk, stop_id=first),
        relay_arrival_key(order_id=louis.pk, stop_id=first),
    }


def test_a_problem_on_the_other_round_holds_the_arrival_email_back(
    world: DriverWorld, django_capture_on_commit_callbacks: Any
) -> None:
    second, driver2 = _second_drop_at_relay_a(world)
    with django_capture_on_commit_callbacks(execute=True):
        stop_check_off(
            stop_id=second.pk,
            key=KEY.replace("0", "4"),
            status="problem",
            note="Crevaison",
            by=driver2,
        )
        stop_check_off(stop_id=world.stop_a.pk, key=KEY, status="delivered", by=world.driver)
    # The farm's share did not arrive (no order here holds its goods): nobody is told to come.
    assert sorted(m.subject for m in mail.outbox) == []
    assert not OutboxMessage.objects.filter(key__startswith="relay-arrival").exists()


def test_a_problem_at_a_farm_drop_tells_the_households_holding_that_farms_goods(
    world: DriverWorld, django_capture_on_commit_callbacks: Any
) -> None:
    second, driver2 = _second_drop_at_relay_a(world)
    second.manifest = {
        **second.manifest,
        "from_farms": [{"farm": "farm:marais", "name": "Ferme du Marais", "kg": 4.0}],
    }
    second.save(update_fields=["manifest"])
    with django_capture_on_commit_callbacks(execute=True):
        stop_check_off(
            stop_id=second.pk,
            key=KEY.replace("0", "4"),
            status="problem",
            note="Crevaison",
            by=driver2,
        )
        stop_check_off(stop_id=world.stop_a.pk, key=KEY, status="delivered", by=world.driver)
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        (
            "camille.durand@example.test",
            "Votre panier n'a pas pu être déposé au point relais Mairie de Loos",
        ),
        (
            "louis.martin@example.test",
            "Votre panier n'a pas pu être déposé au point relais Mairie de Loos",
        ),
    ]
    camille = world.orders["camille"]
    assert OutboxMessage.objects.filter(
        key=relay_undelivered_key(order_id=camille.pk, stop_id=second.pk, kind="problem")
    ).exists()


def test_an_order_already_collected_gets_no_arrival_email(
    world: DriverWorld, django_capture_on_commit_callbacks: Any
) -> None:
    Order.objects.filter(pk=world.orders["louis"].pk).update(status=OrderStatus.COLLECTED)
    with django_capture_on_commit_callbacks(execute=True):
        stop_check_off(stop_id=world.stop_a.pk, key=KEY, status="delivered", by=world.driver)
    assert [m.to[0] for m in mail.outbox] == ["camille.durand@example.test"]


def test_the_round_is_finished_when_every_stop_is_checked(world: DriverWorld) -> None:
    now = timezone.now()
    for minutes, stop in ((30, world.pickup), (20, world.stop_a), (10, world.stop_b)):
        stop_check_off(
            stop_id=stop.pk,
            key=f"key-{stop.pk}-abcdef",
            status="delivered",
            recorded_at=now - timedelta(minutes=minutes),
            by=world.driver,
        )
    route = PlanRoute.objects.get(pk=world.route.pk)
    assert route.started_at == now - timedelta(minutes=30)
    assert route.finished_at == now - timedelta(minutes=10)


def test_an_older_check_off_arriving_late_does_not_override_a_newer_one(world: DriverWorld) -> None:
    now = timezone.now()
    stop_check_off(
        stop_id=world.stop_a.pk,
        key="newer-check-off",
        status="delivered",
        recorded_at=now - timedelta(minutes=1),
        by=world.driver,
    )
    late = stop_check_off(
        stop_id=world.stop_a.pk,
        key="older-check-off",
        status="problem",
        note="Personne",
        recorded_at=now - timedelta(minutes=5),
        by=world.driver,
    )
    assert late.applied is False
    assert PlanStop.objects.get(pk=world.stop_a.pk).status == "delivered"
    assert StopCheckoff.objects.count() == 2
    assert PlanRoute.objects.get(pk=world.route.pk).started_at == now - timedelta(minutes=5)


def test_a_coordinator_of_the_territory_may_check_off(world: DriverWorld) -> None:
    result = stop_check_off(
        stop_id=world.stop_b.pk, key=KEY, status="delivered", by=world.coordinator
    )
    assert result.stop.status == "delivered"


@pytest.mark.parametrize(
    ("who", "code", "status"),
    [
        ("other_driver", "route_not_yours", 403),
        ("household", "route_not_yours", 403),
        ("farmer", "route_not_yours", 403),
        # Another territory's round is as if it did not exist.
        ("foreign_driver", "stop_not_found", 404),
        ("foreign_farmer", "stop_not_found", 404),
        ("foreign_coordinator", "stop_not_found", 404),
    ],
)
def test_someone_else_is_refused_and_nothing_changes(
    world: DriverWorld, who: str, code: str, status: int
) -> None:
    territory = world.cycle.territory
    users = {
        "other_driver": lambda: UserFactory(role=Role.DRIVER, territory=territory),
        "household": lambda: UserFactory(role=Role.HOUSEHOLD, territory=territory),
        "farmer": lambda: UserFactory(role=Role.FARMER, territory=territory),
        "foreign_driver": lambda: UserFactory(role=Role.DRIVER, territory=TerritoryFactory()),
        "foreign_farmer": lambda: UserFactory(role=Role.FARMER, territory=TerritoryFactory()),
        "foreign_coordinator": lambda: UserFactory(
            role=Role.COORDINATOR, territory=TerritoryFactory()
        ),
    }
    user = users[who]()
    before = _state(world)
    with pytest.raises((RouteNotYours, StopNotFound)) as refused:
        stop_check_off(stop_id=world.stop_a.pk, key=KEY, status="delivered", by=user)
    assert (refused.value.code, refused.value.status) == (code, status)
    assert _state(world) == before


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"status": "lost"}, InvalidCheckoffStatus, "invalid_checkoff_status"),
        ({"status": ""}, InvalidCheckoffStatus, "invalid_checkoff_status"),
        ({"key": "short"}, InvalidCheckoffKey, "invalid_checkoff_key"),
        ({"key": "espaces et accents é"}, InvalidCheckoffKey, "invalid_checkoff_key"),
        ({"note": "x" * 2001}, InvalidCheckoffNote, "invalid_checkoff_note"),
        ({"status": "problem", "note": "  "}, ProblemNeedsNote, "problem_needs_note"),
        ({"delivered": {"INCONNUE": 1}}, InvalidDelivered, "invalid_delivered"),
        ({"delivered": ["pas", "un", "dict"]}, InvalidDelivered, "invalid_delivered"),
        ({"delivered": "REF"}, InvalidDelivered, "invalid_delivered"),
        ({"delivered": {"@camille": "deux"}}, InvalidNumber, "invalid_number"),
        ({"delivered": {"@camille": "-1"}}, InvalidNumber, "invalid_number"),
        ({"delivered": {"@camille": "1000"}}, InvalidNumber, "invalid_number"),
        ({"delivered": {"@camille": 1.5}}, InvalidNumber, "invalid_number"),
        ({"recorded_at": "future"}, InvalidRecordedAt, "invalid_recorded_at"),
    ],
)
def test_bad_input_is_refused_with_a_stable_code_and_nothing_changes(
    world: DriverWorld, changes: dict[str, Any], error: type[Exception], code: str
) -> None:
    arguments: dict[str, Any] = {"key": KEY, "status": "delivered", "note": ""}
    arguments.update(changes)
    if isinstance(arguments.get("delivered"), dict):
        arguments["delivered"] = {
            (world.orders["camille"].reference if ref == "@camille" else ref): value
            for ref, value in arguments["delivered"].items()
        }
    if arguments.get("recorded_at") == "future":
        arguments["recorded_at"] = timezone.now() + timedelta(hours=1)
    before = _state(world)
    with pytest.raises(error) as refused:
        stop_check_off(stop_id=world.stop_a.pk, by=world.driver, **arguments)
    assert refused.value.code == code  # type: ignore[attr-defined]
    assert str(refused.value)
    assert _state(world) == before


def test_a_key_used_for_another_stop_is_refused(world: DriverWorld) -> None:
    stop_check_off(stop_id=world.stop_a.pk, key=KEY, status="delivered", by=world.driver)
    before = _state(world)
    with pytest.raises(CheckoffKeyReused):
        stop_check_off(stop_id=world.stop_b.pk, key=KEY, status="delivered", by=world.driver)
    assert _state(world) == before


def test_unknown_stop_depot_stop_and_draft_plan_are_refused(world: DriverWorld) -> None:
    before = _state(world)
    with pytest.raises(StopNotFound):
        stop_check_off(stop_id=999_999_999, key=KEY, status="delivered", by=world.driver)
    with pytest.raises(StopNotCheckable):
        stop_check_off(stop_id=world.depot_start.pk, key=KEY, status="delivered", by=world.driver)
    world.plan.status = PlanStatus.DRAFT
    world.plan.save(update_fields=["status"])
    with pytest.raises(PlanNotPublished):
        stop_check_off(stop_id=world.stop_a.pk, key=KEY, status="delivered", by=world.driver)
    assert _state(world) == before


def test_route_start_keeps_the_earliest_start(world: DriverWorld) -> None:
    now = timezone.now()
    route_start(route_id=world.route.pk, by=world.driver, at=now - timedelta(minutes=3))
    route_start(route_id=world.route.pk, by=world.driver, at=now)
    assert PlanRoute.objects.get(pk=world.route.pk).started_at == now - timedelta(minutes=3)
    with pytest.raises(RouteNotYours):
        route_start(
            route_id=world.route.pk,
            by=UserFactory(role=Role.DRIVER, territory=world.cycle.territory),
        )
    # Another territory's driver: the round is as if it did not exist.
    with pytest.raises(RouteNotFound):
        route_start(
            route_id=world.route.pk,
            by=UserFactory(role=Role.DRIVER, territory=TerritoryFactory()),
        )
    assert PlanRoute.objects.get(pk=world.route.pk).started_at == now - timedelta(minutes=3)


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_twice_at_once_is_recorded_once_with_one_email_per_order() -> None:
    assert connection.vendor == "postgresql"
    world = build_driver_world()
    workers = 4
    barrier = threading.Barrier(workers)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            result = stop_check_off(
                stop_id=world.stop_a.pk, key=KEY, status="delivered", by=world.driver
            )
            with lock:
                results.append(result)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(r.replay for r in results) == [False, True, True, True]
    assert StopCheckoff.objects.filter(key=KEY).count() == 1
    assert OutboxMessage.objects.filter(key__startswith="relay-arrival-").count() == 2
    arrivals = [m for m in mail.outbox if m.subject.startswith("Votre panier vous attend")]
    assert sorted(m.to[0] for m in arrivals) == [
        "camille.durand@example.test",
        "louis.martin@example.test",
    ]


def _two_last_drops_at_once(monkeypatch: pytest.MonkeyPatch, *, meet_s: float = 1.0) -> list[str]:
    """Both stops of relay A checked off delivered at the same moment by their two drivers.

    Each check-off, once its own stop is written, waits for the other to reach the same point
    (at most ``meet_s``) before looking at the other stops. With the plan lock the second
    cannot get there: the first waits out ``meet_s`` and goes on. The control (no lock) passes
    a long ``meet_s``: both always meet, however late a loaded machine lets the second one in,
    so the race it shows never depends on timing.
    """
    import contextlib

    from logistics import checkoffs

    world = build_driver_world()
    second, driver2 = _second_drop_at_relay_a(world)
    original = checkoffs.relay_arrival_notify
    meeting = threading.Barrier(2, timeout=meet_s)

    def slow(*, stop: PlanStop) -> list[str]:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        return original(stop=stop)

    monkeypatch.setattr(checkoffs, "relay_arrival_notify", slow)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(stop_id: int, key: str, by: Any) -> None:
        try:
            barrier.wait(timeout=30)
            stop_check_off(stop_id=stop_id, key=key, status="delivered", by=by)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(world.stop_a.pk, KEY, world.driver)),
        threading.Thread(target=worker, args=(second.pk, KEY.replace("0", "7"), driver2)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert set(
        PlanStop.objects.filter(place=world.stop_a.place).values_list("status", flat=True)
    ) == {"delivered"}
    return list(
        OutboxMessage.objects.filter(key__startswith="relay-arrival").values_list("key", flat=True)
    )


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_last_two_drops_of_a_relay_checked_at_once_send_the_arrival_emails_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert connection.vendor == "postgresql"
    assert len(_two_last_drops_at_once(monkeypatch)) == 2  # Camille's and Louis's


@pytest.mark.concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_plan_lock_nobody_is_told(monkeypatch: pytest.MonkeyPatch) -> None:
    from logistics import checkoffs

    assert connection.vendor == "postgresql"
    monkeypatch.setattr(checkoffs, "relay_drops_serialise", lambda *, plan_id: None)
    # Each check-off sees the other stop still planned: the race the plan lock closes.
    assert _two_last_drops_at_once(monkeypatch, meet_s=30.0) == []


def test_the_arrival_email_is_plain_text_with_the_relay_name_as_typed(
    world: DriverWorld, django_capture_on_commit_callbacks: Any
) -> None:
    """A text e-mail is not HTML: "l'Épicerie d'Eleu & fils" reads as typed, not "l&#x27;"."""
    RelayPoint.objects.filter(name="Mairie de Loos").update(name="L'Épicerie d'Eleu & fils")
    PlanStop.objects.filter(pk=world.stop_a.pk).update(name="L'Épicerie d'Eleu & fils")
    with django_capture_on_commit_callbacks(execute=True):
        stop_check_off(
            stop_id=world.stop_a.pk, key=KEY, status="delivered", note="", by=world.driver
        )
    message = next(m for m in mail.outbox if m.to == ["camille.durand@example.test"])
    assert message.subject == "Votre panier vous attend au point relais L'Épicerie d'Eleu & fils"
    assert "L'Épicerie d'Eleu & fils" in message.body
    assert "&#x27;" not in message.body + message.subject
    assert "&amp;" not in message.body + message.subject
