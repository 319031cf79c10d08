"""The outbox: a task exists exactly when its transaction commits, is published once when the
broker answers, waits for the relay when it does not, and its e-mail is sent once."""

from __future__ import annotations

import socket
import threading
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from marche.celery import app
from marche.core.models import OutboxMessage, SentNotification
from marche.core.outbox import enqueue, outbox_publish, outbox_relay
from marche.orders.models import Order, OrderStatus
from marche.orders.notifications import order_notification_send
from marche.orders.services import cart_set_item, order_cancel, order_place
from marche.relays.services import pickup_slots_ensure
from tests.factories import OfferFactory, RelayPointFactory, UserFactory

pytestmark = pytest.mark.django_db

RAN: list[str] = []


@app.task(name="tests.outbox.record")
def record(value: str) -> str:
    RAN.append(value)
    return value


@app.task(name="tests.outbox.boom")
def boom(value: str) -> None:
    raise OSError(f"SMTP down for {value}")


@pytest.fixture(autouse=True)
def _ran() -> None:
    RAN.clear()


@pytest.fixture
def dead_broker():  # type: ignore[no-untyped-def]
    """The site publishes to a Redis port where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = f"redis://127.0.0.1:{port}/0", False
    yield
    app.conf.broker_url, app.conf.task_always_eager = previous


def unsent() -> list[tuple[str, list[object], int]]:
    return [
        (m.key, m.args, m.attempts)
        for m in OutboxMessage.objects.filter(sent_at__isnull=True).order_by("pk")
    ]


def test_a_rolled_back_change_leaves_no_task(django_capture_on_commit_callbacks) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue("tests.outbox.record", "a", key="k-a")
        raise RuntimeError("the order is refused")
    assert (OutboxMessage.objects.count(), callbacks, RAN) == (0, [], [])


def test_a_committed_task_runs_once_after_commit_and_is_marked_sent(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue("tests.outbox.record", "a", key="k-a")
        enqueue(record, "a", key="k-a")  # the same event again: one message
        assert RAN == []  # nothing runs before the commit
    message = OutboxMessage.objects.get()
    assert (message.task, message.args, message.attempts, message.last_error) == (
        "tests.outbox.record",
        ["a"],
        1,
        "",
    )
    assert message.sent_at is not None
    assert RAN == ["a"]
    assert outbox_relay() == 0 and RAN == ["a"]


def test_a_failed_task_stays_for_the_relay(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        enqueue("tests.outbox.boom", "x", key="k-boom")
    message = OutboxMessage.objects.get()
    assert message.sent_at is None
    assert (message.attempts, message.last_error) == (1, "OSError: SMTP down for x")


def test_with_the_broker_down_publishing_fails_at_once_and_the_relay_retries_in_order(
    dead_broker, django_capture_on_commit_callbacks
) -> None:
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue("tests.outbox.record", "first", key="k-1")
        enqueue("tests.outbox.record", "second", key="k-2")
    took = time.monotonic() - started
    assert took < 1, f"two publishes took {took:.2f} s with the broker down"
    assert unsent() == [("k-1", ["first"], 1), ("k-2", ["second"], 1)]
    assert "OperationalError" in OutboxMessage.objects.get(key="k-1").last_error
    # The relay stops at the first refusal: the second would wait for the same timeout.
    assert outbox_relay() == 0
    assert unsent() == [("k-1", ["first"], 2), ("k-2", ["second"], 1)]
    with pytest.raises(CommandError, match="2 tâche"):
        call_command("outbox_relay")
    assert RAN == []


def test_the_relay_sends_once_the_broker_is_back(dead_broker) -> None:
    enqueue("tests.outbox.record", "first", key="k-1")
    enqueue("tests.outbox.record", "second", key="k-2")
    assert len(unsent()) == 2
    app.conf.task_always_eager = True  # "back": the in-process mode runs them
    call_command("outbox_relay")
    assert RAN == ["first", "second"]
    assert unsent() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_relay_skips_a_message_another_publisher_holds() -> None:
    first = enqueue("tests.outbox.record", "held", key="k-held")
    enqueue("tests.outbox.record", "free", key="k-free")
    OutboxMessage.objects.update(sent_at=None, attempts=0)  # both wait for the relay
    RAN.clear()
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                OutboxMessage.objects.select_for_update().get(pk=first.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        assert outbox_relay() == 1
        assert outbox_publish(message_id=first.pk) is False  # skipped, not waited for
        assert RAN == ["free"]
    finally:
        release.set()
        holder.join(10)
    assert outbox_relay() == 1
    assert RAN == ["free", "held"]


@pytest.fixture
def order(db: None, django_capture_on_commit_callbacks) -> Order:  # type: ignore[no-untyped-def]
    offer = OfferFactory(unit_price=Decimal("2.50"), quantity_available=Decimal("10"))
    relay = RelayPointFactory(territory=offer.cycle.territory)
    slot = pickup_slots_ensure(relay_point=relay, on=offer.cycle.delivery_date)[0]
    household = UserFactory(email="foyer@example.org")
    cart_set_item(customer=household, cycle_id=offer.cycle_id, offer_id=offer.pk, count=Decimal(2))
    with django_capture_on_commit_callbacks(execute=True):
        placed, _start = order_place(
            customer=household,
            cycle_id=offer.cycle_id,
            relay_point_id=relay.pk,
            pickup_slot_id=slot.pk,
            payment_method="pickup",
            idempotency_key="outbox-test",
        )
    return placed


def test_checkout_and_cancel_write_their_emails_in_the_outbox(
    order, django_capture_on_commit_callbacks
) -> None:
    assert order.status == OrderStatus.CONFIRMED
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=order.pk, by=order.customer)
    assert list(OutboxMessage.objects.order_by("pk").values_list("task", "args", "key")) == [
        (
            "orders.notify",
            [order.pk, "confirmed", f"order-{order.pk}-confirmed"],
            f"order-{order.pk}-confirmed",
        ),
        (
            "orders.notify",
            [order.pk, "cancelled", f"order-{order.pk}-cancelled"],
            f"order-{order.pk}-cancelled",
        ),
    ]
    assert unsent() == []
    assert [m.subject for m in mail.outbox] == [
        f"Commande {order.reference} confirmée",
        f"Commande {order.reference} annulée",
    ]


def test_an_order_email_delivered_twice_is_sent_once(order) -> None:
    assert len(mail.outbox) == 1
    key = f"order-{order.pk}-confirmed"
    assert order_notification_send(order_id=order.pk, event="confirmed", key=key) is False
    assert len(mail.outbox) == 1
    assert SentNotification.objects.filter(key=key).count() == 1


def test_a_mailer_failure_lets_the_retry_send(order, monkeypatch) -> None:
    mail.outbox.clear()
    SentNotification.objects.all().delete()

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("SMTP down")

    monkeypatch.setattr("marche.orders.notifications.send_mail", refuse)
    with pytest.raises(OSError):
        order_notification_send(order_id=order.pk, event="confirmed")
    assert SentNotification.objects.count() == 0
    monkeypatch.undo()
    assert order_notification_send(order_id=order.pk, event="confirmed") is True
    assert [m.subject for m in mail.outbox] == [f"Commande {order.reference} confirmée"]


def test_an_order_gone_sends_nothing() -> None:
    assert order_notification_send(order_id=987_654, event="confirmed") is False
    assert mail.outbox == []


def test_the_admin_lists_waiting_messages_and_relays_them(client, dead_broker) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import UserFactory

    enqueue("tests.outbox.record", "waiting", key="k-waiting")
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    url = "/django-admin/core/outboxmessage/"
    page = client.get(url, {"sent": "no"})
    assert page.status_code == 200
    assert "k-waiting" in page.content.decode()
    app.conf.task_always_eager = True  # the broker is back
    message = OutboxMessage.objects.get()
    response = client.post(
        url, {"action": "relay_now", "_selected_action": [message.pk]}, follow=True
    )
    assert "1 message publié." in response.content.decode()
    assert RAN == ["waiting"]
    assert unsent() == []


def test_old_messages_and_sent_records_are_pruned(order) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from marche.core.outbox import outbox_prune

    enqueue("tests.outbox.record", "waiting", key="k-unsent")
    OutboxMessage.objects.filter(key="k-unsent").update(sent_at=None)
    assert outbox_prune(now=timezone.now()) == 0
    later = timezone.now() + timedelta(days=31)
    # The sent confirmation and its record go; the message still waiting stays.
    assert outbox_prune(now=later) == 2
    assert list(OutboxMessage.objects.values_list("key", flat=True)) == ["k-unsent"]
    assert SentNotification.objects.count() == 0


@pytest.mark.django_db
def test_an_account_email_waits_in_the_outbox_and_is_sent_once(django_capture_on_commit_callbacks):
    from django.core import mail

    from marche.core.mail import email_enqueue
    from marche.core.models import OutboxMessage
    from marche.core.tasks import send_email

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        key = email_enqueue(
            subject="Bienvenue\n sur le marché",
            body="Bonjour",
            to="a@b.fr",
            from_email="Marché de test <bonjour@exemple.test>",
        )
    message = OutboxMessage.objects.get(key=key)
    assert (message.task, message.args) == (
        "core.send_email",
        [
            key,
            "Bienvenue sur le marché",
            "Bonjour",
            "a@b.fr",
            "Marché de test <bonjour@exemple.test>",
        ],
    )
    assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert [(m.subject, m.to, m.from_email) for m in mail.outbox] == [
        ("Bienvenue sur le marché", ["a@b.fr"], "Marché de test <bonjour@exemple.test>")
    ]
    assert send_email(*message.args) is False  # a second delivery sends nothing
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_email_queued_before_senders_were_per_territory_goes_from_the_default(settings):
    from django.core import mail

    from marche.core.tasks import send_email

    # The four arguments of a message written by the previous version.
    assert send_email("mail-old", "Bienvenue", "Bonjour", "a@b.fr") is True
    assert [(m.to, m.from_email) for m in mail.outbox] == [
        (["a@b.fr"], settings.DEFAULT_FROM_EMAIL)
    ]
