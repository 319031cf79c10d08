"""API tokens: created once (the raw value is shown then and never again), looked up by hash.

Only a SHA-256 hash of the token is stored, so a copy of the database does not give access
to the API. A random 256-bit token needs no slow password hash: it cannot be guessed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from marche.accounts.models import ApiToken, User

LAST_USED_GRAIN = timedelta(minutes=1)
TOKEN_PREFIX = "mk_"  # noqa: S105 - a marker, not a secret


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns it with the raw value, to be shown only once."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], token_hash=_hash(raw))
    return token, raw


def api_token_revoke(*, token: ApiToken, now: datetime | None = None) -> ApiToken:
    """Revoke a token for good. Idempotent: the first revocation date is kept."""
    now = now or timezone.now()
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_authenticate(*, raw: str, now: datetime | None = None) -> ApiToken | None:
    """The live token with this raw value (its user loaded), stamping its last use; or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    # Stamp the last use at most once a minute: one UPDATE every request (a constant query
    # count), but a row write only when the stamp is stale.
    now = now or timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_GRAIN)
    if ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now):
        token.last_used_at = now
    return token
