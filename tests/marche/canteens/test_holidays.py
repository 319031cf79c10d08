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
        # Pont de l'Ascension 2026: no classes Friday 15 May (the package
        # vacances-scolaires-france 0.12.0 misses it), classes on Wednesday 13 and Monday 18.
        ("A", date(2026, 5, 13), None),
        ("C", date(2026, 5, 15), "Pont de l'Ascension"),
        ("C", date(2026, 5, 18), None),
        # 2026-2027, compared with that package's data: winter C 6-21 Feb, A 13-28 Feb,
        # B 20 Feb-7 Mar; spring C 3-18 Apr, A 10-25 Apr, B 17 Apr-2 May.
        ("C", date(2027, 2, 5), None),
        ("C", date(2027, 2, 19), "Vacances d'Hiver"),
        ("C", date(2027, 2, 22), None),
        ("A", date(2027, 2, 15), "Vacances d'Hiver"),
        ("A", date(2027, 3, 1), None),
        ("B", date(2027, 3, 5), "Vacances d'Hiver"),
        ("B", date(2027, 3, 8), None),
        ("C", date(2027, 4, 2), None),
        ("C", date(2027, 4, 19), None),
        ("A", date(2027, 4, 23), "Vacances de Printemps"),
        ("B", date(2027, 4, 30), "Vacances de Printemps"),
        ("B", date(2027, 5, 3), None),
        ("A", date(2027, 5, 7), "Pont de l'Ascension"),
        ("A", date(2027, 5, 10), None),
        ("B", date(2027, 7, 2), None),
        ("B", date(2027, 7, 5), "Vacances d'Été"),
    ],
)
def test_school_holiday(zone: str, day: date, expected: str | None) -> None:
    assert school_holiday(zone, day) == expected


def test_no_zone_means_no_holidays() -> None:
    assert school_holiday("", date(2026, 8, 1)) is None
    assert school_holiday("b", date(2026, 8, 1)) == "Vacances d'Été"
