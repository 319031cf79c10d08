"""``manage.py canteen_standing_orders --cycle ID``: make a cycle's orders from standing orders.

Without ``--cycle``, every cycle open now. Idempotent: a canteen that already has its order
for the cycle is left alone, so running it twice (or alongside the beat task) creates nothing
more.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from marche.canteens.services import standing_orders_materialise
from marche.core.numbers import InvalidId, parse_id
from marche.cycles.models import OrderCycle


class Command(BaseCommand):
    help = (
        "Crée les commandes de cantine d'un cycle à partir des commandes régulières "
        "(sauf vacances scolaires, semaines sautées et jours sans créneau)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cycle", help="Identifiant du cycle ; sans lui, tous les cycles ouverts."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options.get("cycle"):
            try:
                cycle_id = parse_id(options["cycle"])
            except InvalidId as error:
                raise CommandError(f"Cycle invalide : {options['cycle']}") from error
            cycles = list(OrderCycle.objects.filter(pk=cycle_id))
            if not cycles:
                raise CommandError(f"Le cycle {cycle_id} n'existe pas.")
            if cycles[0].closes_at <= now:
                raise CommandError(f"Le cycle {cycles[0].name} est clos.")
        else:
            cycles = list(
                OrderCycle.objects.filter(opens_at__lte=now, closes_at__gt=now).order_by("pk")
            )
        total = 0
        for cycle in cycles:
            orders = standing_orders_materialise(cycle=cycle, now=now)
            for order in orders:
                self.stdout.write(
                    f"Créée : {order.reference} — {order.canteen.name}, livrée le "
                    f"{order.delivery_date:%d/%m/%Y} ({order.lines.count()} lignes)"
                )
            total += len(orders)
        self.stdout.write(
            f"{total} commande créée." if total <= 1 else f"{total} commandes créées."
        )
