"""The site's maps: places and settings for the Leaflet maps served from the site's files.

No map tiles can be fetched at run time unless a tile server is configured
(``LOGISTICS_TILE_URL``); without tiles the maps still draw the markers, their names and a
scale.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def map_data(places: list[Any], kind: str, urls: dict[int, str] | None = None) -> dict:
    """Located places (``latitude``, ``longitude``, ``name``) for the site's Leaflet maps."""
    return {
        "places": [
            {
                "lat": float(place.latitude),
                "lon": float(place.longitude),
                "name": place.name,
                "kind": kind,
                "url": (urls or {}).get(place.pk, ""),
            }
            for place in places
        ]
    }


def map_config() -> dict[str, str]:
    """The tile server the maps use, if one is configured (none: markers on a plain ground)."""
    return {
        "tile_url": settings.LOGISTICS_TILE_URL,
        "attribution": settings.LOGISTICS_TILE_ATTRIBUTION,
    }
