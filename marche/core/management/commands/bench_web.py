"""``manage.py bench_web``: serve the site with gunicorn and measure the public pages' throughput
against ``/healthz/live`` in the same run.

gunicorn serves the configured settings and database on a free port of 127.0.0.1 (DEBUG off);
each address is warmed (the page cache filled in every worker), then loaded in turn for
``--seconds`` by ``--connections`` client threads (a new connection per request, as gunicorn's
sync workers close each one). The table gives requests per second, p50/p99 latency and the
ratio to the liveness endpoint; gunicorn is then stopped by its PID.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

BASELINE = "/healthz/live"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Row:
    name: str
    path: str
    requests: int
    errors: int
    per_second: float
    p50_ms: float
    p99_ms: float


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank); 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def summarise(*, name: str, path: str, latencies: list[float], errors: int, elapsed: float) -> Row:
    """A row of the table from one address's latencies (seconds) over ``elapsed`` seconds."""
    ok = len(latencies)
    return Row(
        name=name,
        path=path,
        requests=ok,
        errors=errors,
        per_second=ok / elapsed if elapsed > 0 else 0.0,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
    )


def format_table(rows: list[Row]) -> str:
    """The rows as a Markdown table; the ratio is to the first row (the liveness endpoint)."""
    baseline = rows[0].per_second if rows else 0.0
    lines = [
        "| page | path | req/s | p50 (ms) | p99 (ms) | errors | vs /healthz/live |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratio = f"{row.per_second / baseline:.0%}" if baseline else "n/a"
        lines.append(
            f"| {row.name} | `{row.path}` | {row.per_second:.0f} | {row.p50_ms:.1f} | "
            f"{row.p99_ms:.1f} | {row.errors} | {ratio} |"
        )
    return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def fetch(port: int, path: str, timeout: float = 10.0) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": HOST})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def load(
    *, port: int, path: str, seconds: float, connections: int
) -> tuple[list[float], int, float]:
    """Latencies of the 200 answers, the count of the others, and the elapsed time."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def worker() -> None:
        nonlocal errors
        mine: list[float] = []
        failed = 0
        while True:
            began = time.perf_counter()
            if began >= deadline:
                break
            try:
                status = fetch(port, path)
            except OSError:
                status = 0
            if status == 200:
                mine.append(time.perf_counter() - began)
            else:
                failed += 1
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - start


def gunicorn_start(
    *, port: int, workers: int, timeout: int = 30, output: IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    """gunicorn serving the configured settings and database on ``127.0.0.1:port``, DEBUG off;
    its output goes to ``output`` (a file), else to this command's."""
    env = {**os.environ, "DJANGO_DEBUG": "0"}
    return subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "marche.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--timeout",
            str(timeout),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=output,
        stderr=output,
    )


def gunicorn_wait(port: int, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Return once ``/healthz/live`` answers 200; CommandError if gunicorn stops or never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError("gunicorn stopped before answering.")
        try:
            if fetch(port, BASELINE, timeout=2) == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise CommandError(f"gunicorn did not answer {BASELINE} within {seconds:g} s.")


def gunicorn_stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the gunicorn this command started, by its PID (SIGTERM, then SIGKILL after 30 s)."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def page_paths() -> list[tuple[str, str]]:
    """The addresses measured: liveness first, then home, catalogue and a producer page."""
    from cms.models import CataloguePage, ProducerPage

    paths = [("liveness", BASELINE), ("home", "/")]
    catalogue = CataloguePage.objects.live().order_by("path").first()
    producer = ProducerPage.objects.live().order_by("path").first()
    if catalogue is None or producer is None:
        raise CommandError("No live catalogue or producer page: run manage.py load_demo first.")
    paths.append(("catalogue", catalogue.url or "/catalogue/"))
    paths.append(("producer", producer.url or ""))
    return paths


class Command(BaseCommand):
    help = "Measure the public pages' requests per second against /healthz/live, with gunicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=10.0, help="Load per address.")
        parser.add_argument("--connections", type=int, default=8, help="Client threads.")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers.")
        parser.add_argument("--load-demo", action="store_true", help="Run load_demo first.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["seconds"] <= 0 or options["connections"] < 1 or options["workers"] < 1:
            raise CommandError("--seconds, --connections and --workers must be positive.")
        if options["load_demo"]:
            call_command("load_demo", stdout=self.stdout)
        paths = page_paths()
        port = free_port()
        server = gunicorn_start(port=port, workers=options["workers"])
        try:
            gunicorn_wait(port, server)
            for _name, path in paths:  # warm every worker's cache
                for _ in range(4 * options["workers"]):
                    status = fetch(port, path)
                    if status != 200:
                        raise CommandError(f"{path} answered {status}.")
            rows = []
            for name, path in paths:
                latencies, errors, elapsed = load(
                    port=port,
                    path=path,
                    seconds=options["seconds"],
                    connections=options["connections"],
                )
                rows.append(
                    summarise(
                        name=name, path=path, latencies=latencies, errors=errors, elapsed=elapsed
                    )
                )
        finally:
            gunicorn_stop(server)
        self.stdout.write(
            f"gunicorn {options['workers']} workers, {options['connections']} connections, "
            f"{options['seconds']:g} s per address, load average {os.getloadavg()[0]:.2f}"
        )
        self.stdout.write(format_table(rows))
