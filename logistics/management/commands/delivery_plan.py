"""Plan a cycle's delivery rounds: close it if due, consolidate, solve, store, print."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from logistics.selectors import plan_as_dict
from logistics.services import plan_compute
from marche.errors import DomainError


class Command(BaseCommand):
    help = "Calcule et enregistre le plan de livraison d'un cycle de commande."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cycle_id", type=int)
        parser.add_argument("--time-limit", type=float, default=10.0, dest="time_limit")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = plan_compute(cycle_id=options["cycle_id"], time_limit=options["time_limit"])
        except DomainError as error:
            self.stderr.write(f"{error.message} ({error.code})")
            raise SystemExit(2) from error
        plan = plan_as_dict(plan=result.plan)
        if options["as_json"]:
            self.stdout.write(json.dumps(plan, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            _(
                "Plan %(plan)s (version %(version)s) : %(routes)s tournée(s), %(km)s km, "
                "%(co2)s kg CO2, %(unserved)s étape(s) non desservie(s)."
            )
            % {
                "plan": plan["plan"],
                "version": plan["version"],
                "routes": len(plan["routes"]),
                "km": plan["total_km"],
                "co2": plan["total_co2_kg"],
                "unserved": len(plan["unserved"]),
            }
        )
