from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def _territory(request: HttpRequest) -> object:
    from marche.accounts.selectors import request_territory

    return request_territory(request=request)


def site_context(request: HttpRequest) -> dict[str, Any]:
    """Values every page template may show.

    ``territory`` is the one the header names on every page (the person's, else the one of
    the site the request reached), read only when a template uses it; a view that passes its
    own ``territory`` wins.
    """
    return {
        "CARD_PAYMENTS_ENABLED": settings.CARD_PAYMENTS_ENABLED,
        "territory": SimpleLazyObject(lambda: _territory(request)),
    }
