"""``manage.py bench_rush``: the rush before the cutoff, measured, then checked.

On the demo (``load_demo``) and PostgreSQL only: ``rush_prepare`` gives the open cycle its
simulated households, finite stock (a third of the offers scarce) and pickup slots; gunicorn
serves the site on a free port of 127.0.0.1; locust (``marche/core/bench/locustfile.py``, in
its own process) runs ``--users`` households for ``--seconds``. The cycle is then closed and
planned with the project's services (``cycle_close``, ``plan_compute``), and the checks run:
no unit oversold, the manne ledger reconciled, every accepted order in the plan. The table
gives requests, throughput, p50/p95/p99 per kind, refusals and errors, orders accepted, the
checks and the machine's load; the command fails on a failed check or any 5xx.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import F
from django.utils import timezone

from marche.core.bench import rush
from marche.core.management.commands.bench_web import (
    HOST,
    free_port,
    gunicorn_start,
    gunicorn_stop,
    gunicorn_wait,
    page_paths,
    percentile,
)
from marche.cycles.models import Offer, OrderCycle
from marche.orders.models import Order
from marche.orders.selectors import HANDED_OVER

LOCUSTFILE = Path(rush.__file__).with_name("locustfile.py")
KINDS = ("login", "browse", "basket", "checkout")
ACCEPTED = ("accepted", "accepted_with_mannes", "replay_same_order")


def summarise(records: list[dict[str, Any]], elapsed: float) -> list[dict[str, Any]]:
    """One row per request kind (and "all"): count, req/s, p50/p95/p99 ms, 4xx, 5xx, transport."""
    rows = []
    for kind in (*KINDS, "all"):
        timed = [r for r in records if r["ms"] is not None and kind in (r["kind"], "all")]
        latencies = [r["ms"] for r in timed]
        rows.append(
            {
                "kind": kind,
                "requests": len(timed),
                "per_second": len(timed) / elapsed if elapsed > 0 else 0.0,
                "p50": percentile(latencies, 0.50),
                "p95": percentile(latencies, 0.95),
                "p99": percentile(latencies, 0.99),
                "4xx": sum(1 for r in timed if 400 <= r["status"] < 500),
                "5xx": sum(1 for r in timed if r["status"] >= 500),
                "transport": sum(1 for r in timed if r["status"] == 0),
            }
        )
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| kind | requests | req/s | p50 (ms) | p95 (ms) | p99 (ms) | 4xx | 5xx | transport |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['kind']} | {row['requests']} | {row['per_second']:.1f} | {row['p50']:.0f} | "
            f"{row['p95']:.0f} | {row['p99']:.0f} | {row['4xx']} | {row['5xx']} | "
            f"{row['transport']} |"
        )
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Households rush the open cycle (locust, gunicorn), then it closes and plans: checked."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=200, help="Simulated households.")
        parser.add_argument("--spawn-rate", type=float, default=20.0, help="Households per s.")
        parser.add_argument("--seconds", type=int, default=60, help="Length of the rush.")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers.")
        parser.add_argument(
            "--scarce-units", type=int, default=0, help="Stock of a scarce offer (0: users / 10)."
        )
        parser.add_argument(
            "--plan-seconds", type=float, default=10.0, help="Time limit of the plan."
        )
        parser.add_argument(
            "--login-every",
            type=int,
            default=10,
            help="One household in N logs in through the form (0: all); the others have a "
            "session already.",
        )
        parser.add_argument("--load-demo", action="store_true", help="Run load_demo first.")
        parser.add_argument(
            "--prepare-only", action="store_true", help="Prepare households and stock, no run."
        )
        parser.add_argument(
            "--no-close",
            action="store_true",
            help="Leave the cycle open (no plan; the plan-coverage check is skipped).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_rush needs PostgreSQL (DATABASE_URL=postgres://...): SQLite serialises "
                "every write and would measure nothing of the rush."
            )
        users, seconds = options["users"], options["seconds"]
        if users < 1 or seconds < 1 or options["spawn_rate"] <= 0 or options["workers"] < 1:
            raise CommandError("--users, --seconds, --spawn-rate and --workers must be positive.")
        if options["load_demo"]:
            call_command("load_demo", stdout=self.stdout)
        cycle = rush.rush_open_cycle()
        if cycle is None:
            raise CommandError("No open cycle in the default territory: run manage.py load_demo.")
        config = rush.rush_prepare(
            cycle=cycle,
            households=users,
            browse_paths=[path for _name, path in page_paths()[1:]],
            scarce_units=options["scarce_units"] or max(3, users // 10),
            login_every=options["login_every"],
        )
        self.stdout.write(
            f"Cycle #{cycle.pk} « {cycle} »: {users} households, {len(config.offers)} offers "
            f"({sum(o.scarce for o in config.offers)} scarce), "
            f"{len(config.relay_slots)} pickup slots, "
            f"{users - len(config.sessions)} logging in through the form."
        )
        if options["prepare_only"]:
            return
        orders_before = Order.objects.filter(cycle=cycle, status__in=HANDED_OVER).count()
        records, elapsed, server_log = self._rush(config, options)
        accepted = Order.objects.filter(cycle=cycle, status__in=HANDED_OVER).count() - orders_before
        offers = Offer.objects.filter(pk__in=[offer.id for offer in config.offers])
        sold_out = offers.filter(quantity_available=F("quantity_held") + F("quantity_sold")).count()
        self.stdout.write(f"Offers sold out after the rush: {sold_out} of {len(config.offers)}.")
        if not options["no_close"]:
            self._close_and_plan(cycle, options["plan_seconds"])
        checks = {
            "no unit oversold": rush.check_oversold(cycle=cycle),
            "manne ledger reconciled": rush.check_ledger(cycle=cycle),
        }
        if not options["no_close"]:
            checks["every accepted order in the plan"] = rush.check_plan_coverage(cycle=cycle)
        self._report(records, elapsed, accepted, checks, options, server_log)

    def _rush(
        self, config: rush.RushConfig, options: dict[str, Any]
    ) -> tuple[list[Any], float, list[str]]:
        """Serve the site, run locust; its records, the seconds it took, gunicorn's errors."""
        port = free_port()
        with tempfile.TemporaryDirectory(prefix="bench-rush-") as work:
            config_path = Path(work, "config.json")
            records_path = Path(work, "records.jsonl")
            config_path.write_text(json.dumps(config.as_json()), encoding="utf-8")
            server_log = Path(work, "gunicorn.log").open("wb")  # noqa: SIM115
            server = gunicorn_start(
                port=port, workers=options["workers"], timeout=120, output=server_log
            )
            try:
                gunicorn_wait(port, server)
                started = timezone.now()
                locust = subprocess.run(  # noqa: S603
                    [
                        sys.executable,
                        "-m",
                        "locust",
                        "-f",
                        str(LOCUSTFILE),
                        "--headless",
                        "--users",
                        str(options["users"]),
                        "--spawn-rate",
                        str(options["spawn_rate"]),
                        "--run-time",
                        f"{options['seconds']}s",
                        "--stop-timeout",
                        "30",
                        "--host",
                        f"http://{HOST}:{port}",
                        "--only-summary",
                        "--loglevel",
                        "WARNING",
                    ],
                    env={
                        **os.environ,
                        "MARCHE_RUSH_CONFIG": str(config_path),
                        "MARCHE_RUSH_RECORDS": str(records_path),
                    },
                    capture_output=True,
                    text=True,
                    timeout=options["seconds"] + 180,
                    check=False,
                )
                elapsed = (timezone.now() - started).total_seconds()
            finally:
                gunicorn_stop(server)
                server_log.close()
            # Tracebacks of server errors, if any: the e-mails printed by the console backend
            # and the eager tasks' lines are left out.
            server_errors = [
                line
                for line in Path(work, "gunicorn.log").read_text(errors="replace").splitlines()
                if "Error" in line or "Traceback" in line
            ]
            if not records_path.exists():
                raise CommandError(f"locust wrote no records:\n{locust.stderr[-3000:]}")
            lines = records_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line], elapsed, server_errors

    def _close_and_plan(self, cycle: OrderCycle, plan_seconds: float) -> None:
        from logistics.services import cycle_close, plan_compute  # marche reads logistics here

        now = timezone.now()
        if cycle.closes_at > now:  # the cutoff comes now: the rush is over
            OrderCycle.objects.filter(pk=cycle.pk).update(closes_at=now - timedelta(seconds=1))
            cycle.refresh_from_db()
        cycle_close(cycle=cycle, now=now, plan=False)
        result = plan_compute(cycle_id=cycle.pk, time_limit=plan_seconds, now=now)
        plan = result.plan
        self.stdout.write(
            f"Cycle closed; plan #{plan.pk}: {plan.routes.count()} routes, "
            f"{len(plan.unserved or [])} places unserved, solve state {plan.solve_state}."
        )
        for entry in plan.unserved or []:
            self.stdout.write(f"  unserved {entry.get('place')}: {entry.get('reason_fr')}")

    def _report(
        self,
        records: list[dict[str, Any]],
        elapsed: float,
        accepted: int,
        checks: dict[str, list[str]],
        options: dict[str, Any],
        server_log: list[str],
    ) -> None:
        rows = summarise(records, elapsed)
        load1, load5, _load15 = os.getloadavg()
        self.stdout.write(
            f"{options['users']} households (spawn {options['spawn_rate']:g}/s) for "
            f"{options['seconds']} s, gunicorn {options['workers']} sync workers, "
            f"{elapsed:.0f} s measured; load average {load1:.2f} (1 min) {load5:.2f} (5 min), "
            f"{os.cpu_count()} CPUs."
        )
        self.stdout.write(format_rows(rows))
        outcomes = Counter(r["outcome"] for r in records if r["ms"] is None)
        refusals = Counter(
            f"{r['kind']} {r['outcome']}"
            for r in records
            if r["ms"] is None and r["outcome"] not in ACCEPTED
        )
        self.stdout.write(
            f"Orders accepted: {accepted} (checkouts answered with an order: "
            f"{outcomes['accepted'] + outcomes['accepted_with_mannes']}, of which "
            f"{outcomes['accepted_with_mannes']} paid part in mannes); "
            f"replays answered with the same order: "
            f"{outcomes['replay_same_order']}, with another answer: "
            f"{outcomes['replay_different_answer']}."
        )
        for refusal, count in refusals.most_common():
            self.stdout.write(f"  refused: {refusal} × {count}")
        failed = False
        for name, problems in checks.items():
            self.stdout.write(f"  check {name}: {'OK' if not problems else 'FAILED'}")
            for problem in problems[:20]:
                self.stdout.write(f"    {problem}")
            failed = failed or bool(problems)
        server_errors = sum(row["5xx"] for row in rows if row["kind"] == "all")
        if outcomes["replay_different_answer"]:
            failed = True
        if server_errors:
            for line in server_log[-20:]:
                self.stderr.write(f"  gunicorn: {line}")
        if failed or server_errors:
            raise CommandError(
                f"Rush failed: {server_errors} server errors (5xx), "
                f"{sum(bool(p) for p in checks.values())} failed checks, "
                f"{outcomes['replay_different_answer']} replays answered differently."
            )
        self.stdout.write(self.style.SUCCESS("Rush passed: no 5xx, every check OK."))
