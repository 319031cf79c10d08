"""French school holidays by zone, from the calendar file shipped with the project.

``data/vacances-scolaires.csv`` lists, per zone (A, B, C), each holiday from the first day
without classes to the day before classes resume (both inclusive); ``data/SOURCE.md`` says
where the dates come from and how to refresh them. The file is read once per process.

``calendar_from_ministry_export`` turns the Ministry of Education's export of the dataset
« Calendrier scolaire » into these rows and ``calendar_write`` writes them back in the file's
format (the ``canteen_holidays_import`` command connects the two).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

CALENDAR_FILE = Path(__file__).resolve().parent / "data" / "vacances-scolaires.csv"
CALENDAR_COLUMNS = ("annee_scolaire", "zone", "description", "debut", "fin")
ZONES = ("A", "B", "C")
PARIS = ZoneInfo("Europe/Paris")


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


class CalendarExportError(ValueError):
    """The ministry's export cannot be turned into the calendar file (column, date, conflict)."""


# The export's columns, as the CSV export (French headers) or the API (field names) call them.
_EXPORT_COLUMNS = {
    "description": ("Description", "description"),
    "population": ("Population", "population"),
    "start": ("Date de début", "start_date"),
    "end": ("Date de fin", "end_date"),
    "zones": ("Zones", "zones"),
    "year": ("annee_scolaire", "Année scolaire"),
}
_SUMMER_PREFIX = "Début des "


def _export_value(row: dict[str, str], key: str) -> str:
    for column in _EXPORT_COLUMNS[key]:
        if column in row:
            return (row[column] or "").strip()
    raise CalendarExportError(f"Colonne absente de l'export : {_EXPORT_COLUMNS[key][0]}")


def _paris_day(value: str) -> date | None:
    """The Paris calendar day of one of the export's instants.

    The dataset stores each day as midnight in Paris written in UTC
    (``2025-10-17T22:00:00+00:00`` is 18 October): reading the date part as is would put
    every holiday one day early.
    """
    if not value:
        return None
    try:
        if "T" not in value:
            return date.fromisoformat(value)
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CalendarExportError(f"Date illisible dans l'export : {value!r}") from exc
    if instant.tzinfo is None:
        return instant.date()
    return instant.astimezone(PARIS).date()


def calendar_from_ministry_export(handle: TextIO, *, since: str) -> list[Holiday]:
    """The holidays of zones A, B and C from school year ``since`` (``"2026-2027"``) on.

    ``handle`` is the dataset « fr-en-calendrier-scolaire » exported as CSV (``;`` or ``,``).
    The dataset repeats each holiday per academy: one row per zone is kept. Its end date is
    the day classes resume, so ``ends_on`` is the day before; a summer without an end date
    ends on 31 August. Teachers' rows, Corse and overseas academies are left out. Two
    academies of one zone with different dates are refused rather than guessed.
    """
    sample = handle.read(4096)
    handle.seek(0)
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    found: dict[tuple[str, str, str], Holiday] = {}
    for row in csv.DictReader(handle, delimiter=delimiter):
        row = {(key or "").strip().lstrip("\ufeff"): value for key, value in row.items()}
        zone = _export_value(row, "zones").removeprefix("Zone ").strip().upper()
        year = _export_value(row, "year")
        if zone not in ZONES or year < since:
            continue
        if _export_value(row, "population").lower() == "enseignants":
            continue
        name = _export_value(row, "description")
        starts_on = _paris_day(_export_value(row, "start"))
        resumes_on = _paris_day(_export_value(row, "end"))
        if starts_on is None:
            raise CalendarExportError(f"{year}, zone {zone}, {name} : pas de date de début.")
        if name.startswith(_SUMMER_PREFIX):  # older years: "Début des Vacances d'Été"
            name = name.removeprefix(_SUMMER_PREFIX)
            name = name[:1].upper() + name[1:]
            resumes_on = None
        if resumes_on is None:
            ends_on = date(starts_on.year, 8, 31)
        else:
            ends_on = resumes_on - timedelta(days=1)
        holiday = Holiday(
            school_year=year, zone=zone, name=name, starts_on=starts_on, ends_on=ends_on
        )
        known = found.setdefault((year, zone, name), holiday)
        if known != holiday:
            raise CalendarExportError(
                f"{year}, zone {zone}, {name} : deux académies de la zone ont des dates "
                f"différentes ({known.starts_on}-{known.ends_on} et {starts_on}-{ends_on})."
            )
    first_day: dict[tuple[str, str], date] = {}
    for holiday in found.values():
        key = (holiday.school_year, holiday.name)
        first_day[key] = min(first_day.get(key, holiday.starts_on), holiday.starts_on)
    return sorted(
        found.values(),
        key=lambda h: (h.school_year, first_day[(h.school_year, h.name)], h.name, h.zone),
    )


def calendar_write(holidays: Iterable[Holiday], path: Path) -> None:
    """Write ``holidays`` in the calendar file's format (the columns ``holidays_all`` reads)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CALENDAR_COLUMNS)
        for holiday in holidays:
            writer.writerow(
                (
                    holiday.school_year,
                    holiday.zone,
                    holiday.name,
                    holiday.starts_on.isoformat(),
                    holiday.ends_on.isoformat(),
                )
            )
