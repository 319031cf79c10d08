"""Reads about a user: what their role lets them act on."""

from __future__ import annotations

from dataclasses import dataclass, field

from marche.accounts.models import Role, User
from marche.canteens.models import Canteen
from marche.producers.models import Producer


@dataclass
class Dashboard:
    """What the account page shows a user, by role."""

    role: Role
    producers: list[Producer] = field(default_factory=list)
    canteens: list[Canteen] = field(default_factory=list)


def user_dashboard(*, user: User) -> Dashboard:
    """The producers a farmer belongs to and the canteens a manager runs."""
    return Dashboard(
        role=Role(user.role),
        producers=list(Producer.objects.filter(memberships__user=user).order_by("name")),
        canteens=list(user.managed_canteens.order_by("name")),
    )
