"""Rebuilding the calendar file from the ministry's export (``canteen_holidays_import``)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from marche.canteens import holidays
from marche.canteens.holidays import (
    CalendarExportError,
    calendar_from_ministry_export,
    calendar_write,
)

HEADER = "Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire\n"
# As the dataset writes them: midnight in Paris, serialised in UTC, one row per academy.
EXPORT = HEADER + (
    "Vacances de la Toussaint;-;2026-10-16T22:00:00+00:00;2026-11-01T23:00:00+00:00;"
    "Lyon;Zone A;2026-2027\n"
    "Vacances de la Toussaint;-;2026-10-16T22:00:00+00:00;2026-11-01T23:00:00+00:00;"
    "Grenoble;Zone A;2026-2027\n"
    "Vacances de la Toussaint;Enseignants;2026-10-15T22:00:00+00:00;2026-11-01T23:00:00+00:00;"
    "Lyon;Zone A;2026-2027\n"
    "Vacances de la Toussaint;-;2026-10-16T22:00:00+00:00;2026-11-01T23:00:00+00:00;"
    "Lille;Zone B;2026-2027\n"
    "Vacances de la Toussaint;Élèves;2026-10-16T22:00:00+00:00;2026-11-01T23:00:00+00:00;"
    "Paris;Zone C;2026-2027\n"
    "Vacances de la Toussaint;-;2026-10-16T22:00:00+00:00;2026-11-01T23:00:00+00:00;"
    "Corse;Corse;2026-2027\n"
    "Vacances d'Hiver;-;2027-02-19T23:00:00+00:00;2027-03-07T23:00:00+00:00;"
    "Lille;Zone B;2026-2027\n"
    "Pont de l'Ascension;-;2027-05-05T22:00:00+00:00;2027-05-09T22:00:00+00:00;"
    "Lille;Zone B;2026-2027\n"
    "Vacances d'Été;-;2027-07-02T22:00:00+00:00;;Lille;Zone B;2026-2027\n"
    "Vacances d'Hiver;-;2026-02-13T23:00:00+00:00;2026-03-01T23:00:00+00:00;"
    "Lille;Zone B;2025-2026\n"
)


def _rows(text: str, since: str = "2026-2027") -> list[tuple[str, str, str, date, date]]:
    return [
        (h.school_year, h.zone, h.name, h.starts_on, h.ends_on)
        for h in calendar_from_ministry_export(io.StringIO(text), since=since)
    ]


def test_the_export_becomes_one_row_per_zone_and_holiday_in_paris_days() -> None:
    assert _rows(EXPORT) == [
        # Classes stop Saturday 17 October and resume Monday 2 November 2026.
        ("2026-2027", "A", "Vacances de la Toussaint", date(2026, 10, 17), date(2026, 11, 1)),
        ("2026-2027", "B", "Vacances de la Toussaint", date(2026, 10, 17), date(2026, 11, 1)),
        ("2026-2027", "C", "Vacances de la Toussaint", date(2026, 10, 17), date(2026, 11, 1)),
        # Winter dates are in UTC+1: 23:00 UTC is midnight in Paris.
        ("2026-2027", "B", "Vacances d'Hiver", date(2027, 2, 20), date(2027, 3, 7)),
        ("2026-2027", "B", "Pont de l'Ascension", date(2027, 5, 6), date(2027, 5, 9)),
        ("2026-2027", "B", "Vacances d'Été", date(2027, 7, 3), date(2027, 8, 31)),
    ]


def test_the_day_classes_resume_is_a_school_day() -> None:
    [toussaint] = [h for h in _rows(EXPORT) if h[1] == "B" and "Toussaint" in h[2]]
    # The export's end is Monday 2 November at midnight in Paris: that Monday has classes.
    assert toussaint[4] == date(2026, 11, 1)
    assert date(2026, 11, 2).weekday() == 0


def test_older_years_and_the_previous_year_are_left_out() -> None:
    assert [row[0] for row in _rows(EXPORT, since="2025-2026")].count("2025-2026") == 1
    assert all(row[0] == "2026-2027" for row in _rows(EXPORT))


def test_plain_dates_and_commas_are_read_too() -> None:
    text = (
        "description,population,start_date,end_date,location,zones,annee_scolaire\n"
        "Vacances de Noël,-,2026-12-19,2027-01-04,Nantes,Zone B,2026-2027\n"
        "Début des Vacances d'Été,-,2027-07-03,,Nantes,Zone B,2026-2027\n"
    )
    assert _rows(text) == [
        ("2026-2027", "B", "Vacances de Noël", date(2026, 12, 19), date(2027, 1, 3)),
        ("2026-2027", "B", "Vacances d'Été", date(2027, 7, 3), date(2027, 8, 31)),
    ]


def test_two_academies_of_a_zone_disagreeing_is_refused() -> None:
    text = EXPORT + (
        "Vacances d'Hiver;-;2027-02-12T23:00:00+00:00;2027-02-28T23:00:00+00:00;"
        "Amiens;Zone B;2026-2027\n"
    )
    with pytest.raises(CalendarExportError, match="zone B, Vacances d'Hiver"):
        _rows(text)


def test_a_missing_column_is_named() -> None:
    with pytest.raises(CalendarExportError, match="Zones"):
        _rows("Description;Population\nVacances de Noël;-\n")


def test_the_written_file_reads_back_the_same(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "vacances.csv"
    calendar_write(holidays.holidays_all(), out)
    assert out.read_text(encoding="utf-8").splitlines()[0] == (
        "annee_scolaire,zone,description,debut,fin"
    )
    monkeypatch.setattr(holidays, "CALENDAR_FILE", out)
    holidays.holidays_all.cache_clear()
    try:
        again = holidays.holidays_all()
    finally:
        holidays.holidays_all.cache_clear()
    assert again == holidays.holidays_all()


def test_the_command_rewrites_the_file(tmp_path: Path) -> None:
    export = tmp_path / "fr-en-calendrier-scolaire.csv"
    zones = "".join(
        f"Vacances de Noël;-;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;X;Zone {z};"
        "2026-2027\n"
        for z in "ABC"
    )
    export.write_text("\ufeff" + HEADER + zones, encoding="utf-8")
    out = tmp_path / "vacances.csv"
    stdout = io.StringIO()
    call_command(
        "canteen_holidays_import",
        str(export),
        "--since",
        "2026-2027",
        "--out",
        str(out),
        stdout=stdout,
    )
    assert out.read_text(encoding="utf-8") == (
        "annee_scolaire,zone,description,debut,fin\n"
        "2026-2027,A,Vacances de Noël,2026-12-19,2027-01-03\n"
        "2026-2027,B,Vacances de Noël,2026-12-19,2027-01-03\n"
        "2026-2027,C,Vacances de Noël,2026-12-19,2027-01-03\n"
    )
    assert "3 périodes (2026-2027)" in stdout.getvalue()


def test_the_command_refuses_an_export_missing_a_zone(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    lille = [line for line in EXPORT.splitlines(keepends=True) if "Zone B" in line]
    export.write_text(HEADER + "".join(lille), encoding="utf-8")
    out = tmp_path / "vacances.csv"
    with pytest.raises(CommandError, match="zone A"):
        call_command(
            "canteen_holidays_import", str(export), "--since", "2026-2027", "--out", str(out)
        )
    assert not out.exists()
