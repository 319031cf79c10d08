"""manage.py canteen_invoices --month 2026-11: issue the month's canteen invoices, say which."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from marche.canteens.invoicing import invoices_issue_month, month_parse, month_previous
from marche.errors import DomainError
from marche.money import format_money
from marche.territories.models import Territory


class Command(BaseCommand):
    help = (
        "Émet les factures mensuelles des producteurs aux cantines pour les livraisons du mois "
        "(par défaut le mois précédent) ; une seconde exécution n'émet rien de plus."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="mois facturé, AAAA-MM (par défaut : le mois dernier)")
        parser.add_argument("--territory", help="identifiant (slug) du territoire")
        parser.add_argument("--today", help="date d'émission AAAA-MM-JJ (par défaut : aujourd'hui)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = date.fromisoformat(options["today"]) if options.get("today") else None
        except ValueError as error:
            raise CommandError("--today s'écrit AAAA-MM-JJ.") from error
        territory = None
        if options.get("territory"):
            territory = Territory.objects.filter(slug=options["territory"]).first()
            if territory is None:
                raise CommandError(f"Territoire inconnu : {options['territory']}")
        try:
            if options.get("month"):
                year, month = month_parse(options["month"])
            else:
                year, month = month_previous(today or timezone.localdate())
            issued = invoices_issue_month(year=year, month=month, territory=territory, today=today)
        except DomainError as error:
            raise CommandError(f"{error.message} ({error.code})") from error
        for invoice in issued:
            self.stdout.write(
                f"{invoice.number}  {invoice.issuer.name} → {invoice.canteen.name}  "
                f"{format_money(invoice.total_ttc)} TTC, à payer avant le "
                f"{invoice.due_on:%d/%m/%Y}"
            )
        for skipped in issued.skipped:
            self.stdout.write(
                f"Non émise : {skipped.producer.name} → {skipped.canteen.name} : "
                f"{skipped.message} ({skipped.code})"
            )
        if not issued:
            self.stdout.write(f"Aucune facture émise pour {month:02d}/{year}.")
        else:
            count = len(issued)
            self.stdout.write(
                f"{count} facture émise." if count == 1 else f"{count} factures émises."
            )
