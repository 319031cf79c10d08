"""Distance and time providers: great-circle (offline default), OSRM table API, explicit matrix."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from logistics.vrp.errors import ProviderError
from logistics.vrp.model import SpeedProfile

EARTH_RADIUS_M = 6_371_008.8
# Stands for "no road between these points": large enough that no window or range accepts
# it, small enough that sums of a few thousand of them stay far from int64 overflow.
UNREACHABLE = 10**9


@dataclass(frozen=True, slots=True)
class Point:
    """A place handed to a provider: its id and coordinates (None when unknown)."""

    id: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    """Square matrices over the points, in metres and seconds, row = from, column = to."""

    distance_m: list[list[int]]
    duration_s: list[list[int]]


class TravelProvider(Protocol):
    """Anything that turns points and a vehicle profile into distance and duration matrices."""

    requires_coordinates: bool

    def matrix(self, points: Sequence[Point], profile: SpeedProfile) -> TravelMatrix:
        """Matrices between every pair of ``points`` for a vehicle moving as ``profile``."""
        ...


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _coords(points: Sequence[Point]) -> list[tuple[float, float]]:
    out = []
    for point in points:
        if point.lat is None or point.lon is None:
            raise ProviderError(
                f"Le lieu « {point.id} » n'a pas de coordonnées.",
                code="missing_coordinates",
                culprit=point.id,
            )
        out.append((point.lat, point.lon))
    return out


class GreatCircleProvider:
    """Great-circle distance times a detour factor; time from the vehicle profile's speed.

    Roads are longer than the straight line: around Lens a factor of 1.3 is a common rule of
    thumb. ``speeds_kmh`` overrides the profile speeds by profile name.
    """

    requires_coordinates = True

    def __init__(
        self, detour_factor: float = 1.3, speeds_kmh: Mapping[str, float] | None = None
    ) -> None:
        if detour_factor < 1.0:
            raise ProviderError(
                "Le facteur de détour doit être au moins 1.",
                code="invalid_detour_factor",
            )
        self.detour_factor = detour_factor
        self.speeds_kmh = dict(speeds_kmh or {})

    def matrix(self, points: Sequence[Point], profile: SpeedProfile) -> TravelMatrix:
        """Matrices between every pair of ``points`` for a vehicle moving as ``profile``."""
        coords = _coords(points)
        speed_kmh = self.speeds_kmh.get(profile.name, profile.speed_kmh)
        if speed_kmh <= 0:
            raise ProviderError(
                f"Vitesse nulle ou négative pour le profil « {profile.name} ».",
                code="invalid_speed",
                culprit=profile.name,
            )
        metres_per_second = speed_kmh / 3.6
        dist: list[list[int]] = []
        dur: list[list[int]] = []
        for lat1, lon1 in coords:
            drow, trow = [], []
            for lat2, lon2 in coords:
                d = haversine_m(lat1, lon1, lat2, lon2) * self.detour_factor
                drow.append(round(d))
                trow.append(round(d / metres_per_second))
            dist.append(drow)
            dur.append(trow)
        return TravelMatrix(dist, dur)


class MatrixProvider:
    """Explicit matrices indexed by point id (the benchmark uses it).

    ``durations`` may give one matrix per profile name; otherwise ``duration`` (or, when
    absent, the distance itself) is used for every profile.
    """

    requires_coordinates = False

    def __init__(
        self,
        ids: Sequence[str],
        distance: Sequence[Sequence[int]],
        duration: Sequence[Sequence[int]] | None = None,
        durations: Mapping[str, Sequence[Sequence[int]]] | None = None,
    ) -> None:
        self.ids = list(ids)
        self.index = {pid: i for i, pid in enumerate(self.ids)}
        if len(self.index) != len(self.ids):
            raise ProviderError("Identifiants en double dans la matrice.", code="duplicate_ids")
        for name, m in [("distance", distance), ("duration", duration)] + [
            (f"durations[{k}]", v) for k, v in (durations or {}).items()
        ]:
            if m is not None and (len(m) != len(self.ids) or any(len(r) != len(m) for r in m)):
                raise ProviderError(
                    f"La matrice {name} n'est pas carrée de taille {len(self.ids)}.",
                    code="matrix_shape",
                    culprit=name,
                )
        self.distance = distance
        self.duration = duration if duration is not None else distance
        self.durations = dict(durations or {})

    def matrix(self, points: Sequence[Point], profile: SpeedProfile) -> TravelMatrix:
        """Matrices between every pair of ``points`` for a vehicle moving as ``profile``."""
        try:
            idx = [self.index[p.id] for p in points]
        except KeyError as exc:
            raise ProviderError(
                f"Le lieu « {exc.args[0]} » est absent de la matrice.",
                code="unknown_point",
                culprit=str(exc.args[0]),
            ) from None
        duration = self.durations.get(profile.name, self.duration)
        return TravelMatrix(_sub(self.distance, idx), _sub(duration, idx))


def _sub(m: Sequence[Sequence[int]], idx: list[int]) -> list[list[int]]:
    if idx == list(range(len(m))):
        return [list(row) for row in m]
    return [[int(m[i][j]) for j in idx] for i in idx]


Fetch = Callable[[str, float], bytes]


def _urllib_fetch(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (configured URL)
        body: bytes = response.read()
        return body


class OsrmHttpProvider:
    """OSRM's table service over HTTP (``/table/v1/{profile}/{lon,lat;...}``).

    ``profiles`` maps our profile names to the server's (a server often serves one profile
    under ``driving``). Unroutable pairs (``null``) become ``UNREACHABLE``.
    """

    requires_coordinates = True

    def __init__(
        self,
        base_url: str,
        profiles: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
        fetch: Fetch | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.profiles = dict(profiles or {})
        self.timeout_s = timeout_s
        self.fetch = fetch or _urllib_fetch

    def matrix(self, points: Sequence[Point], profile: SpeedProfile) -> TravelMatrix:
        """Matrices between every pair of ``points`` for a vehicle moving as ``profile``."""
        coords = _coords(points)
        server_profile = self.profiles.get(profile.name, profile.name)
        locs = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in coords)
        url = f"{self.base_url}/table/v1/{server_profile}/{locs}?annotations=duration,distance"
        try:
            body = self.fetch(url, self.timeout_s)
            data = json.loads(body)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ProviderError(
                f"Le serveur OSRM {self.base_url} n'a pas répondu correctement : {exc}",
                code="osrm_unavailable",
            ) from exc
        return parse_osrm_table(data, len(points))


def parse_osrm_table(data: Any, n: int) -> TravelMatrix:
    """Turn an OSRM table response (already decoded JSON) into integer matrices."""
    if not isinstance(data, dict) or data.get("code") != "Ok":
        code = data.get("code") if isinstance(data, dict) else None
        raise ProviderError(f"Réponse OSRM en erreur : {code}", code="osrm_error")
    out: list[list[list[int]]] = []
    for key in ("distances", "durations"):
        m = data.get(key)
        if not isinstance(m, list) or len(m) != n or any(len(r) != n for r in m):
            raise ProviderError(f"Réponse OSRM sans matrice « {key} » complète.", code="osrm_error")
        out.append([[UNREACHABLE if v is None else round(v) for v in row] for row in m])
    return TravelMatrix(out[0], out[1])


def _plain(value: Any, osrm: Any) -> Any:
    """The bindings' JSON values (``osrm.Object``, ``osrm.Array``) as dicts and lists."""
    if isinstance(value, osrm.Object):
        return {key: _plain(value[key], osrm) for key in value}
    if isinstance(value, osrm.Array):
        return [_plain(item, osrm) for item in value]
    return value


class OsrmBindingsProvider:
    """OSRM in process through the optional ``osrm-bindings`` package (``import osrm``).

    ``engine`` is an ``osrm.OSRM`` object opened on a prepared road network; the package is
    imported lazily so that the product never needs it.
    """

    requires_coordinates = True

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def matrix(self, points: Sequence[Point], profile: SpeedProfile) -> TravelMatrix:
        """Matrices between every pair of ``points`` (the engine's single profile)."""
        import osrm  # optional dependency, imported only when used

        coords = _coords(points)
        params = osrm.TableParameters(
            coordinates=[(lon, lat) for lat, lon in coords],
            annotations=["duration", "distance"],
        )
        data = _plain(self.engine.Table(params), osrm)
        data.setdefault("code", "Ok")
        return parse_osrm_table(data, len(points))
