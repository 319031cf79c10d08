"""``manage.py generate_cycles``: create the upcoming order cycles from the weekly schedules."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from marche.cycles.schedule import cycle_generate_from_schedules


class Command(BaseCommand):
    help = "Crée les cycles de commande à venir à partir des calendriers hebdomadaires actifs."

    def handle(self, *args: Any, **options: Any) -> None:
        report = cycle_generate_from_schedules(now=timezone.now())
        for cycle in report.created:
            self.stdout.write(
                f"Créé : {cycle.name} ({cycle.territory.name}), "
                f"ouverture {timezone.localtime(cycle.opens_at):%d/%m/%Y %H:%M}, "
                f"clôture {timezone.localtime(cycle.closes_at):%d/%m/%Y %H:%M}"
            )
        created = len(report.created)
        self.stdout.write(f"{created} cycle créé." if created <= 1 else f"{created} cycles créés.")
        if report.refused:
            for schedule, message in report.refused:
                self.stderr.write(f"Refusé : {schedule.name} (#{schedule.pk}) — {message}")
            refused = len(report.refused)
            raise CommandError(
                f"{refused} calendrier refusé."
                if refused == 1
                else f"{refused} calendriers refusés."
            )
