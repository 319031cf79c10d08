"""Every response carries a Content-Security-Policy and a Permissions-Policy; the site's own
templates hold nothing the policy would block (no inline script, style or handler)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

SITE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self' https://checkout.stripe.com"
)
ADMIN_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'"
)
PERMISSIONS = (
    "accelerometer=(), camera=(), geolocation=(self), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)


@pytest.mark.parametrize(
    "path", ["/compte/connexion/", "/en/compte/connexion/", "/commander/", "/healthz", "/nope/"]
)
def test_site_pages_carry_the_site_policy(client: Client, path: str) -> None:
    response = client.get(path)
    assert response["Content-Security-Policy"] == SITE_CSP
    assert response["Permissions-Policy"] == PERMISSIONS


@pytest.mark.parametrize("path", ["/admin/login/", "/django-admin/login/"])
def test_the_admins_get_their_own_policy(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == ADMIN_CSP
    assert response["Permissions-Policy"] == PERMISSIONS


def test_a_local_stripe_double_may_receive_the_checkout_redirect(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.STRIPE_API_BASE = "http://127.0.0.1:8765/v1"
    policy = client.get("/compte/connexion/")["Content-Security-Policy"]
    assert policy.endswith("form-action 'self' https://checkout.stripe.com http://127.0.0.1:8765")


TEMPLATES = Path(settings.BASE_DIR) / "frontend" / "templates"
INLINE = [
    (
        re.compile(r"<script(?![^>]*\b(?:src=|type=.application/(?:ld\+)?json))[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_site_templates_hold_nothing_the_policy_blocks() -> None:
    found = [
        f"{path.relative_to(TEMPLATES)}: {what}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for pattern, what in INLINE
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
