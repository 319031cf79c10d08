from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def _territory(request: HttpRequest) -> object:
    from marche.accounts.selectors import user_territory
    from marche.territories.selectors import territory_get_default

    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user_territory(user=user)
    return territory_get_default()


def site_context(request: HttpRequest) -> dict[str, Any]:
    """Values every page template may show.

    ``territory`` is the one the header names on every page (the person's, else the default
    one), read only when a template uses it; a view that passes its own ``territory`` wins.
    """
    return {
        "CARD_PAYMENTS_ENABLED": settings.CARD_PAYMENTS_ENABLED,
        "territory": SimpleLazyObject(lambda: _territory(request)),
    }
