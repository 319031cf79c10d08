"""manage.py reconcile_ledger: prove the manne ledger, exit 1 on any drift."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from marche.mannes.models import Account, Entry, Transaction
from marche.mannes.selectors import ledger_drifts, ledger_supply
from marche.territories.models import Territory


class Command(BaseCommand):
    help = (
        "Vérifie le grand livre des mannes : chaque opération est équilibrée, chaque solde "
        "stocké est la somme de ses écritures, chaque montant réservé la somme des "
        "réservations en cours. Code de sortie 1 au moindre écart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--territory", help="identifiant (slug) du territoire")

    def handle(self, *args: Any, territory: str | None = None, **options: Any) -> None:
        scope = None
        if territory:
            scope = Territory.objects.filter(slug=territory).first()
            if scope is None:
                raise CommandError(f"Territoire inconnu : {territory}")
        territories = [scope] if scope else list(Territory.objects.order_by("slug"))
        postings = Transaction.objects.all()
        accounts = Account.objects.all()
        if scope is not None:
            postings = postings.filter(territory=scope)
            accounts = accounts.filter(territory=scope)
        self.stdout.write(
            f"{postings.count()} opérations, "
            f"{Entry.objects.filter(transaction__in=postings).count()} écritures, "
            f"{accounts.count()} comptes vérifiés."
        )
        for place in territories:
            for supply in ledger_supply(territory=place):
                self.stdout.write(
                    f"  {place.slug} {supply.currency} : émis {supply.issued}, "
                    f"revenus {supply.redeemed}, en circulation {supply.circulating}"
                )
        drifts = ledger_drifts(territory=scope)
        if drifts:
            for drift in drifts:
                self.stderr.write(f"  ÉCART {drift}")
            count = f"{len(drifts)} écart" if len(drifts) == 1 else f"{len(drifts)} écarts"
            raise CommandError(f"{count} dans le grand livre des mannes.")
        self.stdout.write(self.style.SUCCESS("Grand livre des mannes juste : aucun écart."))
