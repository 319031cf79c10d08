"""Rebuild the school-holiday calendar file from the ministry's dataset.

Download « Calendrier scolaire » (``fr-en-calendrier-scolaire``) from data.education.gouv.fr
as CSV, then::

    manage.py canteen_holidays_import fr-en-calendrier-scolaire.csv --since 2026-2027

The file ``marche/canteens/data/vacances-scolaires.csv`` is rewritten (``--out`` writes
elsewhere); ``git diff`` shows what the new extract changed. See ``data/SOURCE.md``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from marche.canteens.holidays import (
    CALENDAR_FILE,
    ZONES,
    CalendarExportError,
    calendar_from_ministry_export,
    calendar_write,
)


def _current_school_year(today: date) -> str:
    first = today.year if today.month >= 9 else today.year - 1
    return f"{first}-{first + 1}"


class Command(BaseCommand):
    help = (
        "Réécrit le calendrier des vacances scolaires (zones A, B, C) à partir de l'export CSV "
        "du jeu « Calendrier scolaire » du ministère de l'Éducation nationale."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("export", type=Path, help="export CSV du jeu fr-en-calendrier-scolaire")
        parser.add_argument(
            "--since",
            help="première année scolaire gardée, ex. 2026-2027 (défaut : l'année en cours)",
        )
        parser.add_argument(
            "--out",
            type=Path,
            default=CALENDAR_FILE,
            help="fichier à écrire (défaut : le calendrier livré)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        export: Path = options["export"]
        if not export.is_file():
            raise CommandError(f"Fichier introuvable : {export}")
        since = options["since"] or _current_school_year(timezone.localdate())
        with export.open(encoding="utf-8-sig", newline="") as handle:
            try:
                holidays = calendar_from_ministry_export(handle, since=since)
            except CalendarExportError as exc:
                raise CommandError(str(exc)) from exc
        if not holidays:
            raise CommandError(
                f"Aucune vacance des zones A, B, C à partir de {since} dans {export}."
            )
        years = sorted({h.school_year for h in holidays})
        for year in years:
            for zone in ZONES:
                if not any(h.school_year == year and h.zone == zone for h in holidays):
                    raise CommandError(
                        f"{year} : aucune vacance pour la zone {zone} dans l'export."
                    )
        out: Path = options["out"]
        calendar_write(holidays, out)
        self.stdout.write(
            self.style.SUCCESS(f"{len(holidays)} périodes ({', '.join(years)}) écrites dans {out}.")
        )
