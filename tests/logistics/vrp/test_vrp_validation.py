"""Bad input is refused with a stable code and a message naming the culprit."""

from __future__ import annotations

import dataclasses

import pytest

from logistics.vrp import (
    Depot,
    GreatCircleProvider,
    InvalidProblem,
    PickupDelivery,
    Problem,
    SolveOptions,
    SpeedProfile,
    Stop,
    TimeWindow,
    Vehicle,
    VrpError,
    solve,
)

DEPOT = Depot("base", 50.446, 2.793)
VAN = Vehicle("van", "base", {"kg": 500})
STOP = Stop("relay", 50.456, 2.793, demand={"kg": 10}, windows=(TimeWindow(3600, 7200),))
GOOD = Problem((DEPOT,), (VAN,), (STOP,))


def refused(problem: Problem, options: SolveOptions | None = None) -> InvalidProblem:
    with pytest.raises(InvalidProblem) as info:
        solve(problem, GreatCircleProvider(), options or SolveOptions(time_limit_s=1))
    return info.value


def test_good_problem_is_accepted():
    solution = solve(GOOD, GreatCircleProvider(), SolveOptions(time_limit_s=1, max_solutions=50))
    assert [v.stop_id for v in solution.routes[0].visits] == ["relay"]


@pytest.mark.parametrize(
    ("problem", "code", "culprit"),
    [
        (
            dataclasses.replace(GOOD, stops=(dataclasses.replace(STOP, lat=None),)),
            "missing_coordinates",
            "relay",
        ),
        (dataclasses.replace(GOOD, depots=(Depot("base"),)), "missing_coordinates", "base"),
        (
            dataclasses.replace(GOOD, stops=(dataclasses.replace(STOP, lat=123.0),)),
            "invalid_coordinates",
            "relay",
        ),
        (
            dataclasses.replace(GOOD, stops=(dataclasses.replace(STOP, demand={"kg": -1}),)),
            "negative_demand",
            "relay",
        ),
        (
            dataclasses.replace(
                GOOD, stops=(dataclasses.replace(STOP, windows=(TimeWindow(7200, 3600),)),)
            ),
            "invalid_window",
            "relay",
        ),
        (
            dataclasses.replace(
                GOOD, vehicles=(dataclasses.replace(VAN, shift=TimeWindow(10, 5)),)
            ),
            "invalid_window",
            "van",
        ),
        (dataclasses.replace(GOOD, vehicles=(Vehicle("van", "base", {}),)), "no_capacity", "van"),
        (
            dataclasses.replace(GOOD, vehicles=(Vehicle("van", "base", {"kg": 0, "crates": 0}),)),
            "no_capacity",
            "van",
        ),
        (
            dataclasses.replace(GOOD, vehicles=(Vehicle("van", "base", {"kg": -5}),)),
            "negative_capacity",
            "van",
        ),
        (
            dataclasses.replace(GOOD, vehicles=(Vehicle("van", "hangar", {"kg": 5}),)),
            "unknown_depot",
            "van",
        ),
        (dataclasses.replace(GOOD, vehicles=()), "no_vehicle", "vehicles"),
        (dataclasses.replace(GOOD, vehicles=(VAN, VAN)), "duplicate_id", "van"),
        (dataclasses.replace(GOOD, stops=(STOP, STOP)), "duplicate_id", "relay"),
        (
            dataclasses.replace(GOOD, stops=(dataclasses.replace(STOP, service_s=-1),)),
            "negative_service_time",
            "relay",
        ),
        (
            dataclasses.replace(
                GOOD, vehicles=(dataclasses.replace(VAN, profile=SpeedProfile("x", 0)),)
            ),
            "invalid_speed",
            "van",
        ),
        (
            dataclasses.replace(GOOD, vehicles=(dataclasses.replace(VAN, cost_per_km=-1.0),)),
            "negative_cost",
            "van",
        ),
        (
            dataclasses.replace(GOOD, vehicles=(dataclasses.replace(VAN, max_distance_m=0),)),
            "invalid_range",
            "van",
        ),
        (
            dataclasses.replace(GOOD, vehicles=(dataclasses.replace(VAN, copies=0),)),
            "invalid_copies",
            "van",
        ),
        (
            dataclasses.replace(GOOD, pairs=(PickupDelivery("farm", "relay"),)),
            "invalid_pair",
            "farm",
        ),
        (
            dataclasses.replace(GOOD, pairs=(PickupDelivery("relay", "relay"),)),
            "invalid_pair",
            "relay",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_culprit(problem: Problem, code: str, culprit: str):
    error = refused(problem)
    assert (error.code, error.culprit) == (code, culprit)
    assert culprit in error.message
    assert str(error).startswith(f"[{code}] ")


def test_pair_with_different_quantities_is_refused():
    farm = Stop("farm", 50.46, 2.77, demand={"kg": 20}, kind="pickup")
    canteen = Stop("canteen", 50.457, 2.795, demand={"kg": 25})
    problem = Problem((DEPOT,), (VAN,), (farm, canteen), (PickupDelivery("farm", "canteen"),))
    error = refused(problem)
    assert (error.code, error.culprit) == ("pair_demand_mismatch", "farm->canteen")


@pytest.mark.parametrize(
    ("options", "code"),
    [
        (SolveOptions(time_limit_s=0), "invalid_time_limit"),
        (SolveOptions(workers=0), "invalid_workers"),
        (SolveOptions(max_solutions=0), "invalid_max_solutions"),
    ],
)
def test_bad_options_are_refused(options: SolveOptions, code: str):
    assert refused(GOOD, options).code == code


def test_all_errors_share_one_base_with_a_code():
    assert issubclass(InvalidProblem, VrpError)
    assert InvalidProblem("x").code == "invalid_problem"
