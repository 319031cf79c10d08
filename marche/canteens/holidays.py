"""French school holidays by zone, from the calendar file shipped with the project.

``data/vacances-scolaires.csv`` lists, per zone (A, B, C), each holiday from the first day
without classes to the day before classes resume (both inclusive); ``data/SOURCE.md`` says
where the dates come from and how to refresh them. The file is read once per process.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

CALENDAR_FILE = Path(__file__).resolve().parent / "data" / "vacances-scolaires.csv"


@dataclass(frozen=True, slots=True)
class Holiday:
    """One school holiday of one zone."""

    school_year: str
    zone: str
    name: str
    starts_on: date
    ends_on: date

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@cache
def holidays_all() -> tuple[Holiday, ...]:
    """Every holiday of the calendar file, by zone then start."""
    with CALENDAR_FILE.open(encoding="utf-8", newline="") as handle:
        rows = [
            Holiday(
                school_year=row["annee_scolaire"],
                zone=row["zone"].strip().upper(),
                name=row["description"].strip(),
                starts_on=date.fromisoformat(row["debut"]),
                ends_on=date.fromisoformat(row["fin"]),
            )
            for row in csv.DictReader(handle)
        ]
    return tuple(sorted(rows, key=lambda h: (h.zone, h.starts_on)))


def holidays_of_zone(zone: str) -> list[Holiday]:
    """The holidays of one zone, in date order."""
    zone = (zone or "").strip().upper()
    return [holiday for holiday in holidays_all() if holiday.zone == zone]


def school_holiday(zone: str, day: date) -> str | None:
    """The French name of the school holiday of ``zone`` covering ``day``, or None.

    An empty zone (a canteen delivered during holidays) has no holidays.
    """
    for holiday in holidays_of_zone(zone):
        if holiday.covers(day):
            return holiday.name
    return None
