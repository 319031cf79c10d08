"""Print the payout report of a cycle as CSV: what each producer is owed, by tender."""

from __future__ import annotations

import csv
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from marche.cycles.models import OrderCycle
from marche.payments.payouts import payout_report

COLUMNS = ["total", "card", "pickup", "local_currency", "local_currency_value", "transferred"]


class Command(BaseCommand):
    help = "Rapport de reversement aux producteurs d'un cycle (CSV) et ses totaux."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cycle", type=int, help="identifiant du cycle de commande")

    def handle(self, *args: Any, **options: Any) -> None:
        cycle = OrderCycle.objects.filter(pk=options["cycle"]).first()
        if cycle is None:
            raise CommandError(f"Cycle {options['cycle']} introuvable.")
        report = payout_report(cycle=cycle)
        writer = csv.writer(self.stdout, delimiter=";", lineterminator="\n")
        writer.writerow(
            [
                "producteur",
                "total",
                "carte",
                "au_retrait",
                "monnaie_locale",
                "monnaie_locale_valeur_eur",
                "vire",
            ]
        )
        for row in report.rows:
            writer.writerow([row.producer.name, *(getattr(row, name) for name in COLUMNS)])
        writer.writerow(["TOTAL", *(report.column(name) for name in COLUMNS)])
        balanced = (
            report.column("total") == report.orders_total
            and report.column("local_currency") == report.orders_local_currency
            and report.column("local_currency_value") == report.orders_local_currency_value
            and report.column("card") + report.column("pickup") == report.orders_euros
        )
        if not balanced:
            raise CommandError("Le rapport ne correspond pas aux totaux des commandes.")
