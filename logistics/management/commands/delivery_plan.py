"""Plan a cycle's delivery rounds: close it if due, consolidate, solve, store, print."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from logistics.editing import plan_publish
from logistics.models import DeliveryPlan
from logistics.selectors import plan_as_dict
from logistics.services import plan_compute
from marche.errors import DomainError


class Command(BaseCommand):
    help = "Calcule et enregistre le plan de livraison d'un cycle de commande."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cycle_id", type=int)
        parser.add_argument("--time-limit", type=float, default=None, dest="time_limit")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publie le plan calculé : les chauffeurs voient alors leurs tournées.",
        )
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = plan_compute(cycle_id=options["cycle_id"], time_limit=options["time_limit"])
            plan = result.plan
            if options["publish"]:
                plan_publish(plan_id=plan.pk, version=plan.version, by=None)
                plan = DeliveryPlan.objects.get(pk=plan.pk)
        except DomainError as error:
            self.stderr.write(f"{error.message} ({error.code})")
            raise SystemExit(2) from error
        data = plan_as_dict(plan=plan)
        if options["as_json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            _(
                "Plan %(plan)s (version %(version)s, %(status)s) : %(routes)s tournée(s), "
                "%(km)s km, %(co2)s kg CO2, %(saved)s km évités, %(unserved)s étape(s) non "
                "desservie(s)."
            )
            % {
                "plan": data["plan"],
                "version": data["version"],
                "status": plan.get_status_display(),
                "routes": len(data["routes"]),
                "km": data["total_km"],
                "co2": data["total_co2_kg"],
                "saved": data["km_saved"],
                "unserved": len(data["unserved"]),
            }
        )
