"""Reads of territories."""

from __future__ import annotations

from django.conf import settings

from marche.territories.models import Territory


def territory_get_default() -> Territory | None:
    """The territory shown when a request names none: the configured one, else the first."""
    territories = Territory.objects.filter(is_active=True)
    if settings.MARCHE_DEFAULT_TERRITORY:
        found = territories.filter(slug=settings.MARCHE_DEFAULT_TERRITORY).first()
        if found is not None:
            return found
    return territories.order_by("pk").first()
