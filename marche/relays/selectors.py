"""Reads of relay points."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from marche.relays.models import RelayOpeningHours, RelayPoint
from marche.territories.models import Territory


def relay_point_list_public(*, territory: Territory) -> QuerySet[RelayPoint]:
    """Active relay points of a territory with their opening hours (two queries in all)."""
    return (
        RelayPoint.objects.filter(territory=territory, is_active=True)
        .prefetch_related(
            Prefetch(
                "opening_hours", queryset=RelayOpeningHours.objects.order_by("weekday", "opens_at")
            )
        )
        .order_by("city", "name")
    )
