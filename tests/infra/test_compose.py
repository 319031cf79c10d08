"""infra/compose.yaml, the production layout, agrees with the settings it runs.

No container engine runs here: the file is read as data and checked against the project's
own settings (every queue a task is routed to has workers, exactly one beat, named volumes
declared, the services the URLs and nginx name exist), and ``docker-compose config``
checks it against the compose file format (it reads files only, no engine needed).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

INFRA = Path(settings.BASE_DIR) / "infra"
COMPOSE = INFRA / "compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _celery(service: dict[str, Any]) -> list[str] | None:
    """The Celery command line of a service (``celery -A marche ...``), else None."""
    command = service.get("command") or []
    return command if command[:1] == ["celery"] else None


def _queues(command: list[str]) -> set[str]:
    for flag, value in pairwise(command):
        if flag in ("-Q", "--queues"):
            return set(value.split(","))
    return {"celery"}  # a worker without -Q consumes the default queue


def _replicas(service: dict[str, Any]) -> int:
    return int((service.get("deploy") or {}).get("replicas", 1))


def test_the_production_services_are_all_there(compose: dict[str, Any]) -> None:
    assert {"db", "redis", "web", "nginx", "worker", "routing-worker", "beat"} <= set(
        _services(compose)
    )


def test_every_queue_a_task_is_routed_to_has_its_own_workers(compose: dict[str, Any]) -> None:
    consumed: dict[str, list[str]] = {}
    for name, service in _services(compose).items():
        command = _celery(service)
        if command and "worker" in command:
            for queue in _queues(command):
                consumed.setdefault(queue, []).append(name)
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {"celery"} == set(consumed)
    # The long solves never share a worker with the e-mails.
    assert consumed["routing"] == ["routing-worker"]
    assert "routing" not in _queues(_celery(_services(compose)["worker"]) or [])
    routing = _celery(_services(compose)["routing-worker"]) or []
    assert "--concurrency=1" in routing


def test_exactly_one_beat(compose: dict[str, Any]) -> None:
    beats = [
        (name, _replicas(service))
        for name, service in _services(compose).items()
        if (command := _celery(service)) and ("beat" in command or "-B" in command)
    ]
    assert beats == [("beat", 1)]


def test_named_volumes_are_declared_and_used(compose: dict[str, Any]) -> None:
    used = {
        volume.split(":")[0]
        for service in _services(compose).values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }
    assert used == set(compose.get("volumes") or {})
    for service in _services(compose).values():
        for volume in service.get("volumes", []):
            if volume.startswith("."):
                assert (INFRA / volume.split(":")[0]).is_file(), volume


def test_urls_and_the_proxy_name_services_of_the_file(compose: dict[str, Any]) -> None:
    services = _services(compose)
    environment = services["web"]["environment"]
    for variable in ("DATABASE_URL", "REDIS_URL"):
        assert urlsplit(environment[variable]).hostname in services, variable
    bind_port = environment["GUNICORN_BIND"].rsplit(":", 1)[1]
    nginx_conf = (INFRA / "nginx.compose.conf").read_text()
    upstreams = re.findall(r"^\s*server\s+([\w-]+):(\d+);", nginx_conf, re.MULTILINE)
    assert upstreams == [("web", bind_port)]
    assert "web" in services["nginx"]["depends_on"]
    # Every Celery process runs the same image and settings as the web processes.
    for name, service in services.items():
        if _celery(service):
            assert service["environment"] == environment, name
    visibility = int(environment["MARCHE_BROKER_VISIBILITY_TIMEOUT_S"])
    assert visibility == settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]


def test_docker_compose_reads_the_file() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing (infra/scripts/ensure-services.sh installs it)")
        pytest.skip("docker-compose absent : test ignoré")
    result = subprocess.run(
        [tool, "-f", str(COMPOSE), "config", "-q"],
        cwd=INFRA,
        env={**os.environ, "DJANGO_SECRET_KEY": "x", "EMAIL_URL": "smtp://mail.invalid:587"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
