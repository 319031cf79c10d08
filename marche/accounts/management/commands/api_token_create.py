"""Create an API token for a user and print it (it is shown only this once)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from marche.accounts.models import User
from marche.accounts.tokens import api_token_create


class Command(BaseCommand):
    help = "Crée un jeton d'API pour l'utilisateur de cette adresse e-mail et l'affiche."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="", help="Nom du jeton (à quoi il sert).")

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"Aucun utilisateur avec l'adresse {email}.")
        token, raw = api_token_create(user=user, name=name)
        self.stderr.write(
            f"Jeton {token.prefix}… créé pour {user.email} ({user.get_role_display()}). "
            "Copiez-le maintenant : il ne sera plus affiché."
        )
        self.stdout.write(raw)
