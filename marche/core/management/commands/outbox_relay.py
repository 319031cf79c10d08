"""manage.py outbox_relay: publish the tasks the broker could not take; exit 1 if some remain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from marche.core.outbox import outbox_relay, outbox_unsent_count


class Command(BaseCommand):
    help = (
        "Publie vers le broker Celery les tâches restées en attente (broker injoignable au "
        "moment de la commande), les plus anciennes d'abord. Code de sortie 1 s'il en reste."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="nombre maximal à publier")

    def handle(self, *args: Any, limit: int = 500, **options: Any) -> None:
        sent = outbox_relay(limit=limit)
        left = outbox_unsent_count()
        published = f"{sent} tâche publiée" if sent <= 1 else f"{sent} tâches publiées"
        self.stdout.write(f"{published}, {left} en attente.")
        if left:
            waiting = f"{left} tâche" if left == 1 else f"{left} tâches"
            raise CommandError(f"{waiting} toujours en attente : le broker répond-il ?")
