"""The school-holiday calendar file and ``school_holiday``."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from marche.canteens.holidays import holidays_all, holidays_of_zone, school_holiday

NAMES = {
    "Vacances de la Toussaint",
    "Vacances de Noël",
    "Vacances d'Hiver",
    "Vacances de Printemps",
    "Pont de l'Ascension",
    "Vacances d'Été",
}


def test_the_file_covers_two_school_years_for_zones_a_b_c() -> None:
    for zone in "ABC":
        for year in ("2025-2026", "2026-2027"):
            names = {h.name for h in holidays_of_zone(zone) if h.school_year == year}
            assert names == NAMES, (zone, year)


def test_periods_are_well_formed_and_never_overlap() -> None:
    for zone in "ABC":
        holidays = holidays_of_zone(zone)
        for holiday in holidays:
            assert holiday.starts_on <= holiday.ends_on
        for before, after in pairwise(holidays):
            assert before.ends_on < after.starts_on, (before, after)
    assert len(holidays_all()) == 36


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        # Toussaint 2025: classes end Saturday 18 October, resume Monday 3 November.
        ("B", date(2025, 10, 17), None),
        ("B", date(2025, 10, 18), "Vacances de la Toussaint"),
        ("A", date(2025, 11, 2), "Vacances de la Toussaint"),
        ("C", date(2025, 11, 3), None),
        ("B", date(2026, 1, 2), "Vacances de Noël"),
        ("B", date(2026, 1, 5), None),
        # Winter 2026: A from 7 Feb, B from 14 Feb, C from 21 Feb (two weeks each).
        ("A", date(2026, 2, 9), "Vacances d'Hiver"),
        ("B", date(2026, 2, 9), None),
        ("B", date(2026, 2, 16), "Vacances d'Hiver"),
        ("B", date(2026, 3, 2), None),
        ("C", date(2026, 3, 6), "Vacances d'Hiver"),
        # Spring 2026: B from 11 to 26 April.
        ("B", date(2026, 4, 10), None),
        ("B", date(2026, 4, 16), "Vacances de Printemps"),
        ("B", date(2026, 4, 27), None),
        ("B", date(2026, 5, 15), "Pont de l'Ascension"),
        ("B", date(2026, 7, 3), None),
        ("B", date(2026, 8, 31), "Vacances d'Été"),
        ("B", date(2026, 9, 1), None),
    ],
)
def test_school_holiday(zone: str, day: date, expected: str | None) -> None:
    assert school_holiday(zone, day) == expected


def test_no_zone_means_no_holidays() -> None:
    assert school_holiday("", date(2026, 8, 1)) is None
    assert school_holiday("b", date(2026, 8, 1)) == "Vacances d'Été"
