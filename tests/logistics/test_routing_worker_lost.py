"""A routing worker lost in the middle of a plan: another worker computes it, once.

Real processes: the test starts its own redis-server and two ``celery worker -Q routing``
processes on this test database (the project's settings, acks_late, prefetch 1, a visibility
timeout shortened to a few seconds for the test). Worker A takes the plan computation of a
closed cycle, as the cycle's closing enqueues it; while A solves, the test holds the plan's
row lock (A can then neither report progress nor store its plan: it is in the middle of its
task), kills A with SIGKILL (a machine lost), lets the lock go and starts worker B. After
the visibility timeout Redis hands the unacknowledged task to B, which computes and stores
the plan: one plan, stored once (its version moved from 1 to 2), marked done, with its
routes.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from logistics.models import DeliveryPlan, PlanRoute, SolveState
from tests.locking import RowHeld
from tests.logistics.test_plan_problem import build_world
from tests.marche.core.test_broker_outage import (  # noqa: F401
    REDIS_SERVER,
    RedisServer,
    probe_app,
    redis_server,
    worker_env,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server absent : test ignoré"),
]

VISIBILITY_TIMEOUT_S = 6
TIME_LIMIT_S = 3.0


class RoutingWorker:
    """A ``celery worker -Q routing`` process this test started (solo pool: one process)."""

    def __init__(self, name: str, redis_url: str, tmp_path: Path) -> None:
        self.name = name
        self.log_path = tmp_path / f"worker-{name}.log"
        mail_dir = tmp_path / f"mail-{name}"
        mail_dir.mkdir()
        env = worker_env(
            redis_url=redis_url,
            mail_dir=mail_dir,
            settings_module="tests.marche.core.outage_worker_settings",
            MARCHE_BROKER_VISIBILITY_TIMEOUT_S=str(VISIBILITY_TIMEOUT_S),
        )
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "marche", "worker", "--pool", "solo"),
                *("-Q", "routing", "-n", f"{name}@%h"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"),
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, as a lost machine: no shutdown, no acknowledgement, no requeue."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def ping_routing(redis_url: str, timeout: float) -> None:
    """A ping on the routing queue, answered by whichever worker of it is free."""
    client = probe_app(redis_url)
    try:
        token = uuid.uuid4().hex
        result = client.send_task("core.ping", args=[token], queue="routing")
        assert result.get(timeout=timeout) == f"pong:{token}"
    finally:
        client.close()


def wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        time.sleep(0.1)


@pytest.fixture
def workers(
    transactional_db: None,
    redis_server: RedisServer,  # noqa: F811
    tmp_path: Path,
) -> Iterator[dict[str, RoutingWorker]]:
    started: dict[str, RoutingWorker] = {}
    try:
        yield started
    finally:
        for worker in started.values():
            worker.stop()
            print(f"--- worker {worker.name} ---\n{worker.text()[-3000:]}")


def test_a_worker_lost_mid_plan_leaves_the_plan_to_another_which_computes_it_once(
    workers: dict[str, RoutingWorker],
    redis_server: RedisServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    world = build_world()
    world.van("van-1")
    cycle_id = world.cycle.pk

    # Worker A alone: it compiles (or loads) the routing kernel, then answers.
    workers["a"] = RoutingWorker("a", redis_server.url, tmp_path)
    ping_routing(redis_server.url, timeout=300)

    # The task the cycle's closing enqueues (version 0: "plan it if nobody has").
    client = probe_app(redis_server.url)
    try:
        client.send_task(
            "logistics.plan_compute", args=[cycle_id, TIME_LIMIT_S, 0], queue="routing"
        )
    finally:
        client.close()
    wait_for(
        lambda: DeliveryPlan.objects.filter(
            cycle_id=cycle_id, solve_state=SolveState.RUNNING
        ).exists(),
        timeout=60,
        what="worker A to start solving",
    )
    plan = DeliveryPlan.objects.get(cycle_id=cycle_id)
    assert plan.version == 1 and plan.solved_at is None

    with RowHeld(plan):
        # A cannot report progress nor store its plan now: it is inside its task.
        assert "logistics.plan_compute" in workers["a"].text()
        workers["a"].kill()
    assert workers["a"].process.returncode == -signal.SIGKILL

    # B starts only now: a worker running beside A would be handed A's task as soon as the
    # visibility timeout passed, A alive or not, and the test would then measure its own pace.
    workers["b"] = RoutingWorker("b", redis_server.url, tmp_path)

    # After the visibility timeout, Redis hands the unacknowledged task to B.
    wait_for(
        lambda: DeliveryPlan.objects.filter(
            cycle_id=cycle_id, solve_state__in=(SolveState.DONE, SolveState.FAILED)
        ).exists(),
        timeout=VISIBILITY_TIMEOUT_S + 300,
        what="worker B to compute the plan",
    )
    plan = DeliveryPlan.objects.get(cycle_id=cycle_id)
    assert plan.solve_state == SolveState.DONE, plan.solve_error
    assert plan.solved_at is not None
    assert plan.version == 2  # stored once: by B, never by A
    assert DeliveryPlan.objects.filter(cycle_id=cycle_id).count() == 1
    assert PlanRoute.objects.filter(plan=plan).exists()
    computed = re.compile(r"Task logistics\.plan_compute\[[^\]]+\] succeeded")
    assert not computed.search(workers["a"].text())
    assert len(computed.findall(workers["b"].text())) == 1
