"""A tile-free schematic map: places projected onto an SVG viewport.

No map tiles can be fetched at run time, so the home page draws its relay points and farms
on a plain SVG, with an equirectangular projection corrected for latitude (accurate to
well under a percent at the scale of a town and its neighbours).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class MapPoint:
    x: float
    y: float
    label: str
    kind: str


def project(
    places: Iterable[tuple[Decimal, Decimal, str, str]],
    *,
    width: int = 600,
    height: int = 420,
    margin: int = 30,
) -> list[MapPoint]:
    """Project (latitude, longitude, label, kind) tuples into a width x height viewport."""
    rows = [(float(lat), float(lon), label, kind) for lat, lon, label, kind in places]
    if not rows:
        return []
    mid_lat = math.radians(sum(row[0] for row in rows) / len(rows))
    xs = [row[1] * math.cos(mid_lat) for row in rows]
    ys = [row[0] for row in rows]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
    scale = min(width - 2 * margin, height - 2 * margin) / span
    x_offset = (width - (max(xs) - min(xs)) * scale) / 2
    y_offset = (height - (max(ys) - min(ys)) * scale) / 2
    return [
        MapPoint(
            x=round(x_offset + (x - min(xs)) * scale, 1),
            y=round(height - (y_offset + (y - min(ys)) * scale), 1),
            label=label,
            kind=kind,
        )
        for x, y, (_, _, label, kind) in zip(xs, ys, rows, strict=True)
    ]


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
