"""A shared cache of the public pages for anonymous visitors, invalidated by a version bump.

Only Wagtail pages are cached, only for a GET without a session cookie, a messages cookie or
an ``Authorization`` header: a logged-in user, a visitor with a basket (kept in the session)
or with a message waiting never gets, nor fills, the shared copy. The key holds the scheme,
host, language and full path (query string included), and the current version.

Every page holds the language switch's CSRF token: the stored copy has a placeholder in its
place, filled with the visitor's own token when served, so no token is shared.

Invalidation: any save or delete of the data the pages show (offers, products, producers,
relay points, cycles, composed baskets) and any page published, unpublished, moved or
deleted replaces the version, after the transaction commits; every stored page then misses.
The stock left, which moves with every household's basket (holds and conditional
``UPDATE``), is not watched: during the rush before a cutoff it would empty the cache at
each click. It shows within ``MARCHE_PAGE_CACHE_SECONDS`` (60 s by default), each entry's
lifetime; the shop and the checkout always read it live.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import Resolver404, resolve
from django.utils import translation
from wagtail.models import Page
from wagtail.signals import page_published, page_unpublished, post_page_move
from wagtail.views import serve as wagtail_serve

logger = logging.getLogger(__name__)

VERSION_KEY = "cms:page-cache:version"
HEADER = "X-Page-Cache"
CSRF_PLACEHOLDER = b"__marche_csrf_token__"
_CSRF_INPUT = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_MAX_QUERY = 256

# The data the public pages show: a save or delete of any of these bumps the version.
WATCHED_MODELS = (
    "catalog.Category",
    "catalog.Product",
    "catalog.ProductCertification",
    "catalog.ProductPhoto",
    "catalog.ProductVariant",
    "cycles.Basket",
    "cycles.BasketItem",
    "cycles.Offer",
    "cycles.OrderCycle",
    "producers.Producer",
    "relays.PickupSlot",
    "relays.RelayDay",
    "relays.RelayOpeningHours",
    "relays.RelayPoint",
)


def page_cache_seconds() -> int:
    return int(getattr(settings, "MARCHE_PAGE_CACHE_SECONDS", 0))


def page_cache_bump() -> None:
    """Make every stored page stale (a new version; old entries expire on their own)."""
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:  # the cache down must not fail a save; its entries' lifetime bounds it
        logger.exception("Page cache: the version could not be replaced.")


def page_cache_bump_on_commit(**kwargs: Any) -> None:
    """Signal receiver: bump once the current transaction commits (at once outside one)."""
    transaction.on_commit(page_cache_bump)


def page_deleted(sender: type, instance: object, **kwargs: Any) -> None:
    if isinstance(instance, Page):
        page_cache_bump_on_commit()


def connect_signals() -> None:
    for model in WATCHED_MODELS:
        uid = f"cms_page_cache_{model}"
        post_save.connect(page_cache_bump_on_commit, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(page_cache_bump_on_commit, sender=model, dispatch_uid=f"{uid}_del")
    page_published.connect(page_cache_bump_on_commit, dispatch_uid="cms_page_cache_published")
    page_unpublished.connect(page_cache_bump_on_commit, dispatch_uid="cms_page_cache_unpub")
    post_page_move.connect(page_cache_bump_on_commit, dispatch_uid="cms_page_cache_moved")
    post_delete.connect(page_deleted, dispatch_uid="cms_page_cache_page_deleted")


def _shareable_request(request: HttpRequest) -> bool:
    if request.method != "GET" or len(request.META.get("QUERY_STRING", "")) > _MAX_QUERY:
        return False
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies:
        return False
    if "HTTP_AUTHORIZATION" in request.META:
        return False
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.func is wagtail_serve


def _shareable_response(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code != 200 or response.streaming:
        return False
    if not response.get("Content-Type", "").startswith("text/html"):
        return False
    cache_control = response.get("Cache-Control", "")
    if any(word in cache_control for word in ("private", "no-cache", "no-store")):
        return False
    if response.cookies:
        return False
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return False
    messages = getattr(request, "_messages", None)
    return not (messages is not None and getattr(messages, "added_new", False))


def page_cache_key(request: HttpRequest) -> str:
    parts = "|".join(
        (
            request.scheme or "",
            request.get_host(),
            translation.get_language() or "",
            request.get_full_path(),
        )
    )
    return "cms:page-cache:" + hashlib.sha256(parts.encode()).hexdigest()


class PublicPageCacheMiddleware:
    """Serve and store anonymous visitors' Wagtail pages (after the locale, auth and messages
    middleware, so the language is active)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = page_cache_seconds()
        if seconds <= 0 or not _shareable_request(request):
            return self.get_response(request)
        key = page_cache_key(request)
        try:
            found = cache.get_many([VERSION_KEY, key])
        except Exception:  # the cache down: serve the page uncached
            logger.warning("Page cache unavailable.", exc_info=True)
            return self.get_response(request)
        version = found.get(VERSION_KEY, "")
        entry = found.get(key)
        if entry is not None and entry["version"] == version:
            return _from_entry(request, entry)
        response = self.get_response(request)
        if _shareable_response(request, response):
            content = _CSRF_INPUT.sub(rb"\g<1>" + CSRF_PLACEHOLDER + rb"\g<2>", response.content)
            entry = {
                "version": version,
                "content": content,
                "content_type": response["Content-Type"],
                "headers": {
                    name: response[name] for name in ("Content-Language",) if name in response
                },
            }
            try:
                cache.set(key, entry, seconds)
            except Exception:
                logger.warning("Page cache unavailable.", exc_info=True)
            else:
                response[HEADER] = "miss"
        return response


def _from_entry(request: HttpRequest, entry: dict[str, Any]) -> HttpResponse:
    content: bytes = entry["content"]
    if CSRF_PLACEHOLDER in content:
        content = content.replace(CSRF_PLACEHOLDER, get_token(request).encode("ascii"))
    response = HttpResponse(content, content_type=entry["content_type"])
    for name, value in entry["headers"].items():
        response[name] = value
    response[HEADER] = "hit"
    return response
