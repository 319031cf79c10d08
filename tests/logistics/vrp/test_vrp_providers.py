"""Distance and time providers: great-circle, explicit matrix, OSRM over HTTP and in process."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from logistics.vrp import (
    Depot,
    GreatCircleProvider,
    MatrixProvider,
    OsrmBindingsProvider,
    OsrmHttpProvider,
    Point,
    Problem,
    ProviderError,
    SolveOptions,
    SpeedProfile,
    Stop,
    Vehicle,
    solve,
)
from logistics.vrp.providers import UNREACHABLE, haversine_m

CAR = SpeedProfile("car", 30.0)
BIKE = SpeedProfile("bike", 15.0)
EQUATOR = [Point("a", 0.0, 0.0), Point("b", 0.0, 1.0)]


def test_haversine_one_degree_of_equator_and_loos_to_lens():
    assert round(haversine_m(0.0, 0.0, 0.0, 1.0)) == 111195
    # town halls of Loos-en-Gohelle and Lens
    assert round(haversine_m(50.458, 2.792, 50.429, 2.832)) == 4292


def test_great_circle_applies_detour_factor_and_profile_speed():
    m = GreatCircleProvider(detour_factor=1.3).matrix(EQUATOR, CAR)
    assert m.distance_m == [[0, 144554], [144554, 0]]
    assert m.duration_s == [[0, 17346], [17346, 0]]
    bike = GreatCircleProvider(detour_factor=1.0).matrix(EQUATOR, BIKE)
    assert bike.distance_m == [[0, 111195], [111195, 0]]
    assert bike.duration_s == [[0, 26687], [26687, 0]]


def test_great_circle_speed_override_by_profile_name():
    m = GreatCircleProvider(detour_factor=1.0, speeds_kmh={"bike": 10.0}).matrix(EQUATOR, BIKE)
    assert m.duration_s[0][1] == round(111195.08 / (10 / 3.6))


def test_great_circle_refuses_missing_coordinates_and_bad_detour():
    with pytest.raises(ProviderError) as info:
        GreatCircleProvider().matrix([Point("a", 0, 0), Point("nowhere", None, 2.0)], CAR)
    assert (info.value.code, info.value.culprit) == ("missing_coordinates", "nowhere")
    with pytest.raises(ProviderError) as info:
        GreatCircleProvider(detour_factor=0.5)
    assert info.value.code == "invalid_detour_factor"


def test_matrix_provider_selects_by_id_and_profile():
    provider = MatrixProvider(
        ["x", "y", "z"],
        [[0, 1, 2], [3, 0, 4], [5, 6, 0]],
        durations={"bike": [[0, 10, 20], [30, 0, 40], [50, 60, 0]]},
    )
    pts = [Point("z", None, None), Point("x", None, None)]
    car = provider.matrix(pts, CAR)
    assert car.distance_m == [[0, 5], [2, 0]]
    assert car.duration_s == [[0, 5], [2, 0]]
    assert provider.matrix(pts, BIKE).duration_s == [[0, 50], [20, 0]]


def test_matrix_provider_refuses_unknown_points_and_bad_shapes():
    provider = MatrixProvider(["x", "y"], [[0, 1], [1, 0]])
    with pytest.raises(ProviderError) as info:
        provider.matrix([Point("q", None, None)], CAR)
    assert (info.value.code, info.value.culprit) == ("unknown_point", "q")
    with pytest.raises(ProviderError) as info:
        MatrixProvider(["x", "y"], [[0, 1]])
    assert info.value.code == "matrix_shape"


class _FakeOsrm(BaseHTTPRequestHandler):
    """Answers /table requests from a fixed table of 3 places (only what OSRM would send)."""

    table = {"distances": [[0, 1200, 2500], [1300, 0, 900], [2600, 950, 0]]}
    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        n = self.path.split("?")[0].rsplit("/", 1)[-1].count(";") + 1
        if "/table/v1/broken/" in self.path:
            body = {"code": "InvalidQuery", "message": "bad"}
        elif "/table/v1/island/" in self.path:
            body = {
                "code": "Ok",
                "durations": [[0, None], [None, 0]],
                "distances": [[0, None], [None, 0]],
            }
        else:
            dist = [row[:n] for row in self.table["distances"][:n]]
            speed = 5 if "/bike/" in self.path else 10
            body = {
                "code": "Ok",
                "distances": [[d + 0.4 for d in row] for row in dist],
                "durations": [[d / speed for d in row] for row in dist],
            }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def osrm_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeOsrm.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


PLACES = [
    Point("base", 50.446, 2.793),
    Point("loos", 50.456204, 2.793448),
    Point("lens", 50.4296, 2.8347),
]


def test_osrm_http_builds_the_table_request_and_reads_both_matrices(osrm_url: str):
    provider = OsrmHttpProvider(osrm_url, profiles={"car": "driving"})
    m = provider.matrix(PLACES, CAR)
    assert _FakeOsrm.seen == [
        "/table/v1/driving/2.793000,50.446000;2.793448,50.456204;2.834700,50.429600"
        "?annotations=duration,distance"
    ]
    assert m.distance_m == [[0, 1200, 2500], [1300, 0, 900], [2600, 950, 0]]
    assert m.duration_s == [[0, 120, 250], [130, 0, 90], [260, 95, 0]]
    assert provider.matrix(PLACES, BIKE).duration_s[0] == [0, 240, 500]


def test_osrm_http_errors_and_unreachable_pairs(osrm_url: str):
    with pytest.raises(ProviderError) as info:
        OsrmHttpProvider(osrm_url, profiles={"car": "broken"}).matrix(PLACES, CAR)
    assert info.value.code == "osrm_error"
    island = OsrmHttpProvider(osrm_url, profiles={"car": "island"}).matrix(PLACES[:2], CAR)
    assert island.distance_m == [[0, UNREACHABLE], [UNREACHABLE, 0]]
    with pytest.raises(ProviderError) as info:
        OsrmHttpProvider("http://127.0.0.1:9", timeout_s=2).matrix(PLACES, CAR)
    assert info.value.code == "osrm_unavailable"


def test_solver_plans_with_the_osrm_provider(osrm_url: str):
    problem = Problem(
        depots=(Depot("base", 50.446, 2.793),),
        vehicles=(Vehicle("van", "base", {"kg": 100}),),
        stops=(
            Stop("loos", 50.456204, 2.793448, demand={"kg": 5}),
            Stop("lens", 50.4296, 2.8347, demand={"kg": 5}),
        ),
    )
    provider = OsrmHttpProvider(osrm_url)
    solution = solve(problem, provider, SolveOptions(time_limit_s=2, max_solutions=100))
    # base->loos->lens->base = 1200 + 900 + 2600, the other way 2500 + 950 + 1300 = 4750
    assert solution.distance_m == 4700
    assert [v.stop_id for v in solution.routes[0].visits] == ["loos", "lens"]


# A tiny road network for osrm-extract: a square of residential streets around Lens.
_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="marche-tests">
 <node id="1" lat="50.4460" lon="2.7930" version="1"/>
 <node id="2" lat="50.4460" lon="2.8030" version="1"/>
 <node id="3" lat="50.4530" lon="2.8030" version="1"/>
 <node id="4" lat="50.4530" lon="2.7930" version="1"/>
 <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="highway" v="residential"/></way>
</osm>
"""


@pytest.mark.solver
def test_osrm_bindings_in_process_on_a_network_built_by_the_test(tmp_path: Path):
    if importlib.util.find_spec("osrm") is None:
        pytest.skip("osrm-bindings is not installed (optional: pip install osrm-bindings)")
    import osrm

    package = Path(osrm.__file__).parent
    extract = package / "bin" / "osrm-extract"
    if not extract.exists() and shutil.which("osrm-extract") is None:
        pytest.skip("osrm-bindings has no osrm-extract binary to build a network")
    osm = tmp_path / "square.osm"
    osm.write_text(_OSM)
    profile = package / "share" / "profiles" / "car.lua"
    for tool, args in (
        ("osrm-extract", ["-p", str(profile), str(osm)]),
        ("osrm-partition", [str(tmp_path / "square.osrm")]),
        ("osrm-customize", [str(tmp_path / "square.osrm")]),
    ):
        binary = package / "bin" / tool
        subprocess.run([str(binary), *args], check=True, capture_output=True, cwd=tmp_path)
    engine = osrm.OSRM(
        storage_config=str(tmp_path / "square.osrm"), algorithm="MLD", use_shared_memory=False
    )
    pts = [Point("sw", 50.4460, 2.7930), Point("se", 50.4460, 2.8030), Point("ne", 50.4530, 2.8030)]
    m = OsrmBindingsProvider(engine).matrix(pts, CAR)
    sw_se = haversine_m(50.4460, 2.7930, 50.4460, 2.8030)
    se_ne = haversine_m(50.4460, 2.8030, 50.4530, 2.8030)
    assert abs(m.distance_m[0][1] - sw_se) < 5
    # along the streets, not across the square
    assert abs(m.distance_m[0][2] - (sw_se + se_ne)) < 10
    assert m.duration_s[0][2] > m.duration_s[0][1] > 0
