"""Login throttling with django-axes: who is counted, from where, and the page when locked.

Failures are counted per e-mail address and client address together (5 wrong passwords
lock that pair for 15 minutes; see ``AXES_*`` in the settings), on the site's login, the
Wagtail admin and the Django admin alike, since all three go through ``authenticate``.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def axes_username(request: HttpRequest, credentials: dict[str, object] | None) -> str:
    """The address as typed, lower-cased: "Foyer@X" and "foyer@x" share one counter."""
    value = (credentials or {}).get("username")
    if value is None and request is not None and request.method == "POST":
        value = request.POST.get("username")
    return str(value or "").strip().lower()[:254]


def axes_client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the one a trusted proxy put in X-Forwarded-For.

    With ``MARCHE_TRUSTED_PROXIES = n`` (nginx in front: 1), the n-th address from the right
    of X-Forwarded-For is the client as the outermost trusted proxy saw it; anything left of
    it was written by the client and is ignored.
    """
    proxies = getattr(settings, "MARCHE_TRUSTED_PROXIES", 0)
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies and _is_ip(forwarded[-proxies]):
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def _is_ip(text: str) -> bool:
    """Only an address is stored (an IP column): anything else falls back to REMOTE_ADDR."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def axes_lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, object] | None = None,
) -> HttpResponse:
    """A French page saying to wait, with the 429 status, for every login form."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = int(cooloff.total_seconds() // 60) if cooloff else 15
    return render(request, "accounts/lockout.html", {"minutes": minutes}, status=429)
