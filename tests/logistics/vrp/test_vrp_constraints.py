"""Each constraint of the model, on an instance where it changes the answer."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from logistics.vrp import (
    Depot,
    MatrixProvider,
    PickupDelivery,
    Problem,
    Solution,
    SolveOptions,
    SpeedProfile,
    Stop,
    TimeWindow,
    Vehicle,
    check_solution,
    solve,
)

FAST = SolveOptions(time_limit_s=5, max_solutions=300)
BIKE = SpeedProfile("bike", 15.0)
CAR = SpeedProfile("car", 30.0)
BIG = {"kg": 1000, "crates": 1000, "cold_l": 1000}


def vehicle(vid: str = "v", **kw: object) -> Vehicle:
    args: dict[str, object] = {"start_depot": "d", "capacity": BIG, "profile": CAR}
    args.update(kw)
    return Vehicle(id=vid, **args)  # type: ignore[arg-type]


def run(
    provider: MatrixProvider, vehicles: list[Vehicle], stops: list[Stop], **kw: object
) -> Solution:
    depots = kw.pop("depots", (Depot("d"),))
    pairs = kw.pop("pairs", ())
    problem = Problem(depots=depots, vehicles=tuple(vehicles), stops=tuple(stops), pairs=pairs)  # type: ignore[arg-type]
    solution = solve(problem, provider, FAST)
    report = check_solution(problem, solution, provider)
    assert report.ok, report.violations
    return solution


def routes(solution: Solution) -> list[tuple[str, list[str]]]:
    return sorted((r.vehicle_id, [v.stop_id for v in r.visits]) for r in solution.routes)


def unserved(solution: Solution) -> dict[str, str]:
    return {u.stop_id: u.code for u in solution.unserved}


@pytest.mark.parametrize("dim", ["kg", "crates", "cold_l"])
@pytest.mark.parametrize(("capacity", "n_routes", "distance"), [(12, 1, 40), (10, 2, 60)])
def test_capacity_of_each_dimension(plane, dim: str, capacity: int, n_routes: int, distance: int):
    provider = plane({"d": (0, 0), "a": (10, 0), "b": (20, 0)})
    cap: Mapping[str, int] = {**BIG, dim: capacity}
    stops = [Stop("a", demand={dim: 6}), Stop("b", demand={dim: 6})]
    solution = run(provider, [vehicle(capacity=cap, copies=2)], stops)
    assert len(solution.routes) == n_routes
    assert solution.distance_m == distance
    assert not solution.unserved


@pytest.mark.parametrize(("early", "order"), [("b", ["b", "a"]), ("a", ["a", "b"])])
def test_time_windows_set_the_order(plane, early: str, order: list[str]):
    provider = plane({"d": (0, 0), "a": (10, 0), "b": (0, 10)})
    windows = {early: (TimeWindow(0, 12),), ({"a", "b"} - {early}).pop(): (TimeWindow(20, 100),)}
    stops = [Stop(s, demand={"kg": 1}, windows=windows[s]) for s in ("a", "b")]
    solution = run(provider, [vehicle()], stops)
    assert routes(solution) == [("v", order)]
    assert solution.distance_m == 34


def test_second_time_window_is_used_after_waiting(plane):
    provider = plane({"d": (0, 0), "a": (10, 0)})
    two = Stop("a", demand={"kg": 1}, windows=(TimeWindow(0, 5), TimeWindow(100, 120)))
    solution = run(provider, [vehicle()], [two])
    route = solution.routes[0]
    # the first window is missed: leave later and serve in the second one without waiting
    assert (route.start_time, route.visits[0].arrival, route.visits[0].start) == (90, 100, 100)
    only_first = Stop("a", demand={"kg": 1}, windows=(TimeWindow(0, 5),))
    solution = run(provider, [vehicle()], [only_first])
    assert unserved(solution) == {"a": "time_window_unreachable"}


@pytest.mark.parametrize(("service", "served"), [(0, {"a", "b"}), (10, {"a"})])
def test_service_time_counts_against_the_shift(plane, service: int, served: set[str]):
    provider = plane({"d": (0, 0), "a": (10, 0), "b": (0, 10)})
    stops = [Stop("a", demand={"kg": 1}, service_s=service), Stop("b", demand={"kg": 1})]
    # b is one metre farther from the depot: when only one stop fits, the cheaper a is kept
    provider.distance[0][2] = provider.distance[2][0] = 11
    solution = run(provider, [vehicle(shift=TimeWindow(0, 40))], stops)
    assert {v.stop_id for r in solution.routes for v in r.visits} == served
    for visit in solution.routes[0].visits:
        assert visit.departure - visit.start == (service if visit.stop_id == "a" else 0)


@pytest.mark.parametrize(("shift_end", "served"), [(35, ["a"]), (44, ["a", "b"])])
def test_shift_end(plane, shift_end: int, served: list[str]):
    provider = plane({"d": (0, 0), "a": (10, 0), "b": (-12, 0)})
    stops = [Stop("a", demand={"kg": 1}), Stop("b", demand={"kg": 1})]
    solution = run(provider, [vehicle(shift=TimeWindow(0, shift_end))], stops)
    assert sorted(v.stop_id for v in solution.routes[0].visits) == served
    assert unserved(solution) == ({} if len(served) == 2 else {"b": "not_routed"})


@pytest.mark.parametrize(
    ("paired", "order", "distance"), [(False, ["c", "f"], 30), (True, ["f", "c"], 50)]
)
def test_pickup_comes_before_its_delivery(plane, paired: bool, order: list[str], distance: int):
    provider = plane({"d0": (0, 0), "d1": (30, 0), "c": (10, 0), "f": (20, 0)})
    stops = [Stop("c", demand={"kg": 5}), Stop("f", demand={"kg": 5}, kind="pickup")]
    solution = run(
        provider,
        [vehicle(start_depot="d0", end_depot="d1")],
        stops,
        depots=(Depot("d0"), Depot("d1")),
        pairs=(PickupDelivery("f", "c"),) if paired else (),
    )
    assert routes(solution) == [("v", order)]
    assert solution.distance_m == distance


@pytest.mark.parametrize(("paired", "n_routes", "distance"), [(False, 2, 20), (True, 1, 190)])
def test_pair_stays_on_one_vehicle(plane, paired: bool, n_routes: int, distance: int):
    provider = plane({"d0": (0, 0), "d1": (100, 0), "c": (5, 0), "f": (95, 0)})
    stops = [Stop("c", demand={"kg": 5}), Stop("f", demand={"kg": 5}, kind="pickup")]
    fleet = [vehicle("v0", start_depot="d0"), vehicle("v1", start_depot="d1")]
    solution = run(
        provider,
        fleet,
        stops,
        depots=(Depot("d0"), Depot("d1")),
        pairs=(PickupDelivery("f", "c"),) if paired else (),
    )
    assert len(solution.routes) == n_routes
    assert solution.distance_m == distance
    if paired:
        assert [v.stop_id for v in solution.routes[0].visits] == ["f", "c"]


def test_loads_on_board_mix_depot_deliveries_and_pickups(plane):
    # 8 kg leave the depot for D, 8 kg are collected at P: only D-then-P fits in 10 kg
    provider = plane({"d": (0, 0), "D": (10, 0), "P": (0, 10)})
    stops = [Stop("D", demand={"kg": 8}), Stop("P", demand={"kg": 8}, kind="pickup")]
    solution = run(provider, [vehicle(capacity={"kg": 10})], stops)
    assert routes(solution) == [("v", ["D", "P"])]
    assert [dict(v.load) for v in solution.routes[0].visits] == [{"kg": 0}, {"kg": 8}]
    solution = run(provider, [vehicle(capacity={"kg": 15})], stops)
    assert len(solution.routes[0].visits) == 2
    solution = run(provider, [vehicle(capacity={"kg": 7})], stops)
    assert unserved(solution) == {"D": "exceeds_capacity", "P": "exceeds_capacity"}


def test_loads_on_board_fall_at_each_drop_on_a_delivery_round(plane):
    # Deliveries only: the van leaves with 15 kg and is empty after its last drop (the load
    # reported used to be what was delivered so far: 5 then 15).
    provider = plane({"d": (0, 0), "A": (10, 0), "B": (20, 0)})
    stops = [Stop("A", demand={"kg": 5}), Stop("B", demand={"kg": 10})]
    solution = run(provider, [vehicle(capacity={"kg": 20})], stops)
    [(_vehicle, order)] = routes(solution)
    first_drop = {"A": 5, "B": 10}[order[0]]
    assert [dict(v.load) for v in solution.routes[0].visits] == [{"kg": 15 - first_drop}, {"kg": 0}]


@pytest.mark.parametrize(
    ("requires", "used"), [(frozenset(), "bike"), (frozenset({"cold"}), "van")]
)
def test_cold_chain_compatibility(plane, requires: frozenset[str], used: str):
    provider = plane({"d": (0, 0), "s": (1000, 0)})
    fleet = [
        vehicle("bike", cost_per_km=0.1),
        vehicle("van", cost_per_km=1.0, features=frozenset({"cold"})),
    ]
    solution = run(provider, fleet, [Stop("s", demand={"kg": 1}, requires=requires)])
    assert routes(solution) == [(used, ["s"])]


@pytest.mark.parametrize(
    ("max_m", "expected"),
    [(None, [("bike", ["a", "b"])]), (3000, [("bike", ["b"]), ("van", ["a"])])],
)
def test_cargo_bike_range(plane, max_m: int | None, expected):
    provider = plane({"d": (0, 0), "a": (1000, 0), "b": (-1200, 0)})
    fleet = [
        vehicle("bike", cost_per_km=0.1, max_distance_m=max_m, profile=BIKE),
        vehicle("van", cost_per_km=1.0),
    ]
    stops = [Stop("a", demand={"kg": 1}), Stop("b", demand={"kg": 1})]
    solution = run(provider, fleet, stops)
    assert [(vid, sorted(s)) for vid, s in routes(solution)] == expected


@pytest.mark.parametrize(("window_end", "used"), [(5000, "bike"), (1500, "van")])
def test_per_vehicle_speed(plane, window_end: int, used: str):
    # the tricycle needs 3 s per metre, the van 1 s per metre
    provider = plane({"d": (0, 0), "s": (1000, 0)}, slowness={"bike": 3, "car": 1})
    fleet = [vehicle("bike", cost_per_km=0.1, profile=BIKE), vehicle("van", cost_per_km=1.0)]
    stop = Stop("s", demand={"kg": 1}, windows=(TimeWindow(0, window_end),))
    solution = run(provider, fleet, [stop])
    assert routes(solution) == [(used, ["s"])]
    assert solution.routes[0].visits[0].arrival == (3000 if used == "bike" else 1000)


@pytest.mark.parametrize(
    ("bike_per_hour", "used", "cost"), [(0.0, "bike", 2.0), (10.0, "van", 4.0)]
)
def test_cost_per_km_and_per_hour(plane, bike_per_hour: float, used: str, cost: float):
    provider = plane({"d": (0, 0), "s": (1000, 0)}, slowness={"bike": 3, "car": 1})
    fleet = [
        vehicle("bike", cost_per_km=1.0, cost_per_hour=bike_per_hour, profile=BIKE),
        vehicle("van", cost_per_km=2.0),
    ]
    solution = run(provider, fleet, [Stop("s", demand={"kg": 1})])
    assert routes(solution) == [(used, ["s"])]
    assert solution.cost == pytest.approx(cost)


def test_hourly_cost_delays_the_departure_instead_of_waiting(plane):
    provider = plane({"d": (0, 0), "s": (1000, 0)})
    stop = Stop("s", demand={"kg": 1}, windows=(TimeWindow(5000, 6000),), service_s=100)
    solution = run(provider, [vehicle(cost_per_hour=36.0)], [stop])
    route = solution.routes[0]
    assert (route.start_time, route.visits[0].start, route.end_time) == (4000, 5000, 6100)
    assert solution.cost == pytest.approx(36.0 * 2100 / 3600)


@pytest.mark.parametrize(
    ("stop", "code"),
    [
        (Stop("x", demand={"kg": 1}, requires=frozenset({"cold"})), "no_compatible_vehicle"),
        (Stop("x", demand={"kg": 101}), "exceeds_capacity"),
        (Stop("x", demand={"crates": 1}), "exceeds_capacity"),
        (Stop("x", demand={"kg": 1}, windows=(TimeWindow(0, 5),)), "time_window_unreachable"),
    ],
)
def test_unserved_stops_carry_their_reason(plane, stop: Stop, code: str):
    provider = plane({"d": (0, 0), "x": (10, 0), "ok": (5, 0)})
    fleet = [vehicle(capacity={"kg": 100})]
    solution = run(provider, fleet, [stop, Stop("ok", demand={"kg": 1})])
    assert unserved(solution) == {"x": code}
    assert routes(solution) == [("v", ["ok"])]
    assert solution.unserved[0].reason


def test_out_of_range_and_pair_partner_reasons(plane):
    provider = plane({"d": (0, 0), "far": (600, 0), "f": (10, 0), "c": (20, 0), "ok": (5, 0)})
    fleet = [vehicle("bike", max_distance_m=1000, profile=BIKE)]
    stops = [
        Stop("far", demand={"kg": 1}),
        Stop("f", demand={"kg": 1}, kind="pickup", requires=frozenset({"cold"})),
        Stop("c", demand={"kg": 1}),
        Stop("ok", demand={"kg": 1}),
    ]
    solution = run(provider, fleet, stops, pairs=(PickupDelivery("f", "c"),))
    assert unserved(solution) == {
        "far": "out_of_range",
        "f": "no_compatible_vehicle",
        "c": "pair_partner_unserved",
    }
    assert routes(solution) == [("bike", ["ok"])]


@pytest.mark.parametrize(("closes", "served"), [(60, False), (100, True)])
def test_a_pair_whose_delivery_cannot_follow_its_pickup_in_time_is_set_aside(
    plane, closes: int, served: bool
):
    # the delivery alone is reached at 20 s; after the pickup, 30 m the other way, at
    # 30 + 50 = 80 s: a window closing at 60 s makes the pair impossible, not the stops
    provider = plane({"d": (0, 0), "f": (-30, 0), "c": (20, 0), "ok": (5, 0)})
    stops = [
        Stop("f", demand={"kg": 1}, kind="pickup"),
        Stop("c", demand={"kg": 1}, windows=(TimeWindow(0, closes),)),
        Stop("ok", demand={"kg": 1}),
    ]
    solution = run(provider, [vehicle()], stops, pairs=(PickupDelivery("f", "c"),))
    if served:
        assert unserved(solution) == {}
        (visited,) = [s for _, s in routes(solution)]
        assert visited.index("f") < visited.index("c")
    else:
        assert unserved(solution) == {"f": "pair_unreachable", "c": "pair_unreachable"}
        assert routes(solution) == [("v", ["ok"])]
        assert "enlèvement puis la livraison" in solution.unserved[0].reason
