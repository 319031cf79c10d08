"""Export the canteens' purchases not yet sent to "ma cantine", as its CSV import by SIRET.

Each delivered line goes into one export only (see ``marche.canteens.macantine``): a second
run finds nothing new, writes no file and says so. Canteens without SIRET are reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from marche.canteens.macantine import macantine_export_create
from marche.canteens.models import Canteen
from marche.territories.models import Territory


class Command(BaseCommand):
    help = (
        "Exporte au format « ma cantine » (import des achats par SIRET, 2026) les achats "
        "livrés aux cantines qui n'ont pas encore été exportés."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="fichier CSV à écrire")
        parser.add_argument("--canteen", help="identifiant (slug) d'une seule cantine")
        parser.add_argument("--territory", help="identifiant (slug) d'un seul territoire")

    def handle(self, *args: Any, **options: Any) -> None:
        territory = None
        if options["territory"]:
            territory = Territory.objects.filter(slug=options["territory"]).first()
            if territory is None:
                raise CommandError(f"Territoire « {options['territory']} » introuvable.")
        canteen = None
        if options["canteen"]:
            canteens = Canteen.objects.filter(slug=options["canteen"]).select_related("territory")
            if territory is not None:
                canteens = canteens.filter(territory=territory)
            found = list(canteens[:2])
            if not found:
                raise CommandError(f"Cantine « {options['canteen']} » introuvable.")
            if len(found) > 1:
                raise CommandError(
                    f"Plusieurs cantines s'appellent « {options['canteen']} » : "
                    "précisez le territoire avec --territory."
                )
            canteen = found[0]
        out: Path = options["out"]
        if not out.parent.is_dir():
            raise CommandError(f"Le dossier {out.parent} n'existe pas.")

        result = macantine_export_create(territory=territory, canteen=canteen)

        for skipped in result.skipped:
            self.stderr.write(
                self.style.WARNING(
                    f"Cantine « {skipped.canteen.name} » ({skipped.canteen.territory.slug}/"
                    f"{skipped.canteen.slug}) sans SIRET : {skipped.lines} achat(s) non "
                    "exporté(s)."
                )
            )
        if not result.exports:
            self.stdout.write("Aucun nouvel achat à exporter : aucun fichier écrit.")
            return
        # newline="": the rows already end with CRLF, as the csv module writes them.
        with out.open("w", encoding="utf-8", newline="") as file:
            file.write(result.csv())
        numbers = ", ".join(f"n° {export.pk}" for export in result.exports)
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.line_count} achat(s) exporté(s) dans {out} (export {numbers})."
            )
        )
