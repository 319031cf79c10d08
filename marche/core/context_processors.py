from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site_context(request: HttpRequest) -> dict[str, Any]:
    """Values every page template may show."""
    return {"CARD_PAYMENTS_ENABLED": settings.CARD_PAYMENTS_ENABLED}
