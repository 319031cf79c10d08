"""The drivers' service worker names its cache after the assets it keeps."""

from __future__ import annotations

import re

import pytest

from logistics import driver_views

pytestmark = pytest.mark.django_db

CACHE_NAME = re.compile(rb'"marche-chauffeur-([0-9a-f]{12})"')


def _cache_name(client) -> bytes:
    response = client.get("/chauffeur/sw.js")
    assert response.status_code == 200
    assert response["Service-Worker-Allowed"] == "/chauffeur/"
    found = CACHE_NAME.search(response.content)
    assert found, response.content[:300]
    return found.group(1)


def test_a_changed_driver_script_renames_the_cache(client, monkeypatch) -> None:
    before = _cache_name(client)
    assert _cache_name(client) == before  # stable while nothing changes
    real = driver_views._static_bytes

    def edited(name: str) -> bytes:
        content = real(name)
        return content + b"\n// edited" if name == "js/driver.js" else content

    monkeypatch.setattr(driver_views, "_static_bytes", edited)
    assert _cache_name(client) != before
