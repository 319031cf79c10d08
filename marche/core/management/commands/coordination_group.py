"""Give coordinators the Wagtail admin: the "Coordination" group, its permissions, its members."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from marche.core.admin_access import coordination_group_sync


class Command(BaseCommand):
    help = (
        "Crée ou met à jour le groupe « Coordination » (accès à l'administration Wagtail et "
        "droits sur les données du marché) et y place chaque coordinateur actif."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        group = coordination_group_sync()
        self.stdout.write(
            f"{group.name} : {group.permissions.count()} permissions, "
            f"{group.user_set.count()} membres"
        )
