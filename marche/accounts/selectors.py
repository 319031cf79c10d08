"""Reads about a user: what their role lets them act on."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest

from marche.accounts.models import Role, User
from marche.accounts.services import user_can_invite
from marche.canteens.models import Canteen
from marche.producers.models import Producer
from marche.territories.models import Territory
from marche.territories.selectors import territory_for_request, territory_get_default


@dataclass
class Dashboard:
    """What the account page shows a user, by role."""

    role: Role
    producers: list[Producer] = field(default_factory=list)
    canteens: list[Canteen] = field(default_factory=list)
    mannes_enabled: bool = False
    can_invite: bool = False


def user_territory(*, user: User) -> Territory | None:
    """The territory a person belongs to; the default one if they were given none."""
    if user.territory_id is not None:
        return user.territory
    return territory_get_default()


def request_territory(*, request: HttpRequest) -> Territory | None:
    """The territory a request shows: a signed-in person's own, else its site's (hostname)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user_territory(user=user)
    return territory_for_request(request=request)


def user_has_manne_pages(*, user: User) -> bool:
    """A household whose territory runs a local currency has manne pages; nobody else."""
    if not user.is_authenticated or user.role != Role.HOUSEHOLD:
        return False
    territory = user_territory(user=user)
    return bool(
        territory is not None and territory.local_currency_enabled and territory.local_currency_code
    )


def user_dashboard(*, user: User) -> Dashboard:
    """The producers a farmer belongs to and the canteens a manager runs."""
    return Dashboard(
        role=Role(user.role),
        producers=list(Producer.objects.filter(memberships__user=user).order_by("name")),
        canteens=list(user.managed_canteens.order_by("name")),
        mannes_enabled=user_has_manne_pages(user=user),
        can_invite=user_can_invite(user),
    )
