"""Two beat processes started by mistake do not close a cycle twice.

Real processes: the test's own redis-server, a Celery worker of the default queue with two
pool processes (so two ticks can run at the same moment), and two ``celery beat`` processes,
each asking every second for the due cycles to be closed. A cycle past its cutoff is closed
once: one closing, one plan computation asked for (one outbox message, one message on the
routing queue, which no worker consumes here), while the worker ran the closing task many
times from both beats.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from logistics.models import CycleClosing
from marche.core.models import OutboxMessage
from tests.logistics.test_plan_problem import build_world
from tests.marche.core.test_broker_outage import (  # noqa: F401
    REDIS_SERVER,
    RedisServer,
    redis_server,
    worker_env,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server absent : test ignoré"),
]


def _start(args: list[str], redis_url: str, log: Path, mail_dir: Path) -> subprocess.Popen[bytes]:
    env = worker_env(
        redis_url=redis_url, mail_dir=mail_dir, settings_module="tests.logistics.beat_settings"
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "marche", *args],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_two_beats_close_a_due_cycle_once(
    transactional_db: None,
    redis_server: RedisServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    world = build_world()  # a cycle past its cutoff, with orders
    cycle_id = world.cycle.pk
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    logs = {name: tmp_path / f"{name}.log" for name in ("worker", "beat-1", "beat-2")}
    processes = [
        _start(
            [
                *("worker", "-Q", "celery", "--concurrency", "2", "-n", "default@%h"),
                *("-l", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            redis_server.url,
            logs["worker"],
            mail_dir,
        ),
        *(
            _start(
                ["beat", "-l", "INFO", "--schedule", str(tmp_path / f"{name}-schedule")],
                redis_server.url,
                logs[name],
                mail_dir,
            )
            for name in ("beat-1", "beat-2")
        ),
    ]
    ran = re.compile(r"Task logistics\.close_due_cycles\[[^\]]+\] succeeded")
    try:
        deadline = time.monotonic() + 120
        # Both beats tick, and the worker has run their ticks a good few times.
        while len(ran.findall(logs["worker"].read_text(errors="replace"))) < 8:
            assert time.monotonic() < deadline, logs["worker"].read_text(errors="replace")
            time.sleep(0.2)
    finally:
        for process in processes:
            _stop(process)
        for name, path in logs.items():
            print(f"--- {name} ---\n{path.read_text(errors='replace')[-2000:]}")

    for name in ("beat-1", "beat-2"):
        assert "Scheduler: Sending due task close-due-cycles" in logs[name].read_text()
    assert CycleClosing.objects.filter(cycle_id=cycle_id).count() == 1
    assert OutboxMessage.objects.filter(key=f"plan-auto-{cycle_id}").count() == 1
    queued = redis.Redis.from_url(redis_server.url).llen("routing")
    assert queued == 1  # one plan computation asked for, waiting for a routing worker
