"""A broker outage never hurts a household: real Redis, a real worker process, a real outage.

The test starts its own redis-server and a Celery worker process (the project's settings on
this test database, e-mails written to files), kills Redis, places a pay-at-pickup order and
cancels another through the real views, restarts Redis on the same port, runs the relay, and
reads the e-mails the worker wrote: each one exactly once, even when a message is relayed
twice.
"""

from __future__ import annotations

import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from marche.core.models import OutboxMessage, SentNotification
from marche.orders.models import Order, OrderStatus
from marche.relays.services import pickup_slots_ensure
from tests.factories import (
    OfferFactory,
    OrderCycleFactory,
    ProductFactory,
    RelayPointFactory,
    UserFactory,
)

REDIS_SERVER = shutil.which("redis-server")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server absent : test ignoré"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server this test started, on a port of its own, without persistence."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER,
                    *("--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start: {self.log.read_text()}")

    def kill(self) -> None:
        """End the redis-server this test started (by its PID), and wait until it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(port=free_port(), log=tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


def probe_app(url: str) -> Celery:
    """A Celery client of its own, to ping the worker (the project's app stays untouched)."""
    client = Celery("outage-probe", set_as_current=False)
    client.conf.update(broker_url=url, result_backend=url, task_serializer="json")
    return client


def wait_worker_idle(url: str, timeout: float = 60) -> None:
    """Ping the worker through Redis: with one solo process, it has run everything before."""
    client = probe_app(url)
    try:
        token = uuid.uuid4().hex
        result = client.send_task("core.ping", args=[token])
        assert result.get(timeout=timeout) == f"pong:{token}"
    finally:
        client.close()


def worker_env(
    *, redis_url: str, mail_dir: Path, settings_module: str, **extra: str
) -> dict[str, str]:
    """The environment of a Celery process (worker or beat) this test starts: the given
    settings (on top of ``outage_worker_settings``) on this test database, this Redis, and
    e-mails written to files in ``mail_dir``; the parent's own Celery variables left out."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        OUTAGE_TEST_DATABASE=str(connection.settings_dict["NAME"]),
        OUTAGE_MAIL_DIR=str(mail_dir),
        REDIS_URL=redis_url,
        PYTHONPATH=str(settings.BASE_DIR),
        **extra,
    )
    return env


@pytest.fixture
def worker(transactional_db: None, redis_server: RedisServer, mail_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real ``celery worker`` process on this test database, writing e-mails to files."""
    env = worker_env(
        redis_url=redis_server.url,
        mail_dir=mail_dir,
        settings_module="tests.marche.core.outage_worker_settings",
    )
    log = (tmp_path / "worker.log").open("ab")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "marche", "worker", "--pool", "solo"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"),
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_worker_idle(redis_server.url, timeout=90)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        print((tmp_path / "worker.log").read_text(errors="replace")[-4000:])


@pytest.fixture
def site_on_redis(redis_server: RedisServer) -> Iterator[None]:
    """The site (this process) publishes to the test's Redis instead of running in-process."""
    from marche.celery import app

    previous = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = redis_server.url, False
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous


def mails(mail_dir: Path) -> Counter[tuple[str, str]]:
    """(recipient, subject) of every e-mail the worker wrote, with how many times."""
    sent: Counter[tuple[str, str]] = Counter()
    for path in sorted(mail_dir.iterdir()):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if not chunk.strip():
                continue
            message = email.message_from_bytes(chunk)
            subject = str(make_header(decode_header(message["Subject"])))
            sent[(str(message["To"]), subject)] += 1
    return sent


def wait_for_mails(mail_dir: Path, count: int, timeout: float = 60) -> Counter[tuple[str, str]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = mails(mail_dir)
        if sum(found.values()) >= count:
            return found
        time.sleep(0.1)
    return mails(mail_dir)


def checkout(client: Client, cycle_id: int, relay_id: int, slot_id: int, key: str):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("orders:checkout", args=[cycle_id]),
        {
            "relay": relay_id,
            "slot": slot_id,
            "payment_method": "pickup",
            "idempotency_key": key,
        },
    )


def timed(call):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_orders_are_taken_while_redis_is_down_and_each_email_arrives_once(
    worker, site_on_redis, redis_server: RedisServer, mail_dir: Path
) -> None:
    cycle = OrderCycleFactory()
    relay = RelayPointFactory(territory=cycle.territory)
    slot = pickup_slots_ensure(relay_point=relay, on=cycle.delivery_date)[0]
    carrots = OfferFactory(
        cycle=cycle,
        product=ProductFactory(name="Carottes"),
        unit_price=Decimal("2.50"),
        quantity_available=Decimal("20"),
    )
    alice = UserFactory(email="alice@example.org")
    bob = UserFactory(email="bob@example.org")
    clients = {alice.pk: Client(), bob.pk: Client()}
    for household in (alice, bob):
        client = clients[household.pk]
        client.force_login(household)
        added = client.post(
            reverse("orders:cart_update"), {"cycle": cycle.pk, "offer": carrots.pk, "count": "2"}
        )
        assert added.status_code == 302

    # Redis up: Bob's order is confirmed and announced through the worker, as usual.
    response, _took = timed(lambda: checkout(clients[bob.pk], cycle.pk, relay.pk, slot.pk, "b-1"))
    assert response.status_code == 302
    bobs = Order.objects.get(customer=bob)
    assert wait_for_mails(mail_dir, 1) == {
        ("bob@example.org", f"Commande {bobs.reference} confirmée"): 1
    }
    assert OutboxMessage.objects.get(key=f"order-{bobs.pk}-confirmed").sent_at is not None

    # Redis down: Alice orders, Bob cancels; both are answered at once.
    redis_server.kill()
    response, took = timed(lambda: checkout(clients[alice.pk], cycle.pk, relay.pk, slot.pk, "a-1"))
    assert response.status_code == 302, response.content[:500]
    print(f"checkout with Redis down answered in {took:.3f} s")
    assert took < 2, f"checkout took {took:.2f} s with Redis down"
    alices = Order.objects.get(customer=alice)
    assert response["Location"] == reverse("orders:detail", args=[alices.reference])
    assert alices.status == OrderStatus.CONFIRMED

    cancel_url = reverse("orders:cancel", args=[bobs.reference])
    response, took = timed(lambda: clients[bob.pk].post(cancel_url))
    assert response.status_code == 302, response.content[:500]
    print(f"cancelling with Redis down answered in {took:.3f} s")
    assert took < 2, f"cancelling took {took:.2f} s with Redis down"
    bobs.refresh_from_db()
    assert bobs.status == OrderStatus.CANCELLED

    waiting = OutboxMessage.objects.filter(sent_at__isnull=True).order_by("pk")
    assert [(m.task, m.key, m.attempts) for m in waiting] == [
        ("orders.notify", f"order-{alices.pk}-confirmed", 1),
        ("orders.notify", f"order-{bobs.pk}-cancelled", 1),
    ]
    assert all("OperationalError" in m.last_error for m in waiting)
    assert sum(mails(mail_dir).values()) == 1  # nothing was sent, nothing was lost

    # The relay cannot publish while Redis is down: it says so and keeps the messages.
    with pytest.raises(Exception, match="2 tâche"):
        call_command("outbox_relay")
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 2

    # Redis is back on the same port: the relay publishes, the worker sends each e-mail once.
    redis_server.start()
    call_command("outbox_relay")
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0
    expected = {
        ("bob@example.org", f"Commande {bobs.reference} confirmée"): 1,
        ("alice@example.org", f"Commande {alices.reference} confirmée"): 1,
        ("bob@example.org", f"Commande {bobs.reference} annulée"): 1,
    }
    assert wait_for_mails(mail_dir, 3) == expected

    # A message published twice (its acknowledgement lost) still sends one e-mail.
    OutboxMessage.objects.filter(key=f"order-{alices.pk}-confirmed").update(sent_at=None)
    call_command("outbox_relay")
    wait_worker_idle(redis_server.url)
    assert mails(mail_dir) == expected
    assert SentNotification.objects.filter(key__startswith="order-").count() == 3
