"""manage.py load_demo: builds (or refreshes) a demo territory, safe to rerun."""

from __future__ import annotations

from argparse import BooleanOptionalAction
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.module_loading import import_string

from marche.accounts.models import Role
from marche.core.admin_access import coordination_group_sync
from marche.demo.due_cycle import DueCycleSpec, demo_load_due_cycle
from marche.demo.loaders import DEMO_PASSWORD, demo_load_marketplace
from marche.demo.spec import DEFAULT_SPEC, DemoSpec, DemoSpecError, demo_spec_path
from marche.orders.selectors import HANDED_OVER


class Command(BaseCommand):
    help = "Charge un territoire de démonstration (Loos-en-Gohelle par défaut). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--spec", type=Path, default=None, help="fichier TOML du territoire")
        which.add_argument(
            "--territory",
            default=None,
            help="identifiant d'un territoire fourni (marche/demo/data/<identifiant>.toml), "
            "par exemple dunkerque",
        )
        parser.add_argument("--force", action="store_true", help="autoriser hors développement")
        parser.add_argument(
            "--due-cycle",
            action=BooleanOptionalAction,
            default=None,
            help="créer le cycle à planifier et ses commandes (par défaut : "
            "réglage MARCHE_DEMO_DUE_CYCLE)",
        )

    def handle(
        self,
        *args: Any,
        spec: Path | None,
        territory: str | None,
        force: bool,
        due_cycle: bool | None,
        **options: Any,
    ) -> None:
        if not (settings.MARCHE_DEMO_ALLOWED or force):
            raise CommandError(
                "Les données de démonstration sont désactivées dans ces réglages "
                "(MARCHE_DEMO_ALLOWED) : relancez avec --force si c'est bien voulu."
            )
        try:
            path = spec or (demo_spec_path(territory) if territory else DEFAULT_SPEC)
            demo = DemoSpec.load(path)
            with transaction.atomic():
                loaded = demo_load_marketplace(spec=demo)
                for loader in settings.MARCHE_DEMO_EXTRA_LOADERS:
                    import_string(loader)(spec=demo, territory=loaded)
                if settings.MARCHE_DEMO_DUE_CYCLE if due_cycle is None else due_cycle:
                    # Last: its orders need the fleet's drivers and the manne accounts.
                    due = demo_load_due_cycle(spec=demo, territory=loaded)
                else:
                    due = None
                # The demo coordinator works as a real one: the Coordination group and the
                # territory's page group, not a superuser.
                coordination_group_sync()
        except DemoSpecError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Territoire de démonstration prêt : {loaded.name}"))
        self.stdout.write(
            f"  {loaded.producers.count()} producteurs, {loaded.relay_points.count()} points "
            f"relais, {loaded.canteens.count()} cantines, {loaded.vehicles.count()} véhicules"
        )
        now = timezone.now()
        cycle = (
            loaded.order_cycles.filter(opens_at__lte=now, closes_at__gt=now)
            .annotate(offer_count=Count("offers", distinct=True))
            .annotate(basket_count=Count("baskets", distinct=True))
            .order_by("closes_at")
            .first()
        )
        if cycle is not None:
            self.stdout.write(
                f"  Cycle ouvert : {cycle.name}, {cycle.offer_count} offres, "
                f"{cycle.basket_count} paniers composés"
            )
        if due is not None:
            orders = due.orders.filter(status__in=HANDED_OVER)
            self.stdout.write(
                f"  Cycle à planifier : {due.name}, {orders.count()} commandes confirmées "
                f"dans {orders.values('relay_point').distinct().count()} points relais"
            )
        self.stdout.write("Comptes de démonstration (mot de passe : " + DEMO_PASSWORD + ") :")
        accounts = [
            (str(Role(account["role"]).label), account["email"])
            for account in demo.section("accounts")
        ]
        width = max((len(role) for role, _email in accounts), default=0)
        for role, email in accounts:
            self.stdout.write(f"  {role:<{width}}  {email}")
        if due is not None:
            households = due.orders.values("customer").distinct().count()
            invented = DueCycleSpec.read(demo.data["due_cycle"])
            self.stdout.write(
                f"  {Role.HOUSEHOLD.label!s:<{width}}  {invented.email(1)} à "
                f"{invented.email(households)} ({households} foyers inventés, "
                "une commande chacun dans le cycle à planifier)"
            )
