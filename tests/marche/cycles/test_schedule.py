from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from marche.cycles.errors import InvalidSchedule
from marche.cycles.models import CycleSchedule, OrderCycle
from marche.cycles.schedule import (
    cycle_generate_from_schedules,
    cycle_name_for,
    cycle_schedule_times,
)
from marche.cycles.tasks import generate_from_schedules
from tests.factories import TerritoryFactory

pytestmark = pytest.mark.django_db

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
# Thursday 26 November 2026, 10:00 in Paris.
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def thursday_schedule(**kwargs) -> CycleSchedule:
    """Delivered on Thursday; opens the Friday before at 08:00, closes Tuesday at 18:00."""
    values = {
        "territory": kwargs.pop("territory", None) or TerritoryFactory(),
        "name": "Jeudi",
        "delivery_weekday": THU,
        "opens_weekday": FRI,
        "opens_time": time(8, 0),
        "closes_weekday": TUE,
        "closes_time": time(18, 0),
        "minimum_order_amount": Decimal("12.00"),
        "weeks_ahead": 2,
    }
    values.update(kwargs)
    return CycleSchedule.objects.create(**values)


def cycles_as_rows() -> list[tuple[object, ...]]:
    return list(
        OrderCycle.objects.order_by("delivery_date", "pk").values_list(
            "schedule_id",
            "territory_id",
            "name",
            "opens_at",
            "closes_at",
            "delivery_date",
            "minimum_order_amount",
        )
    )


def test_creates_the_next_weeks_ahead_cycles_with_local_times_and_french_names() -> None:
    schedule = thursday_schedule()

    report = cycle_generate_from_schedules(now=NOW)

    # Today's delivery (26 Nov) closed on Tuesday 24: the next two still to close come.
    assert cycles_as_rows() == [
        (
            schedule.pk,
            schedule.territory_id,
            "Livraison du jeudi 3 décembre",
            datetime(2026, 11, 27, 7, 0, tzinfo=UTC),  # Friday 08:00 in Paris (CET)
            datetime(2026, 12, 1, 17, 0, tzinfo=UTC),  # Tuesday 18:00
            date(2026, 12, 3),
            Decimal("12.00"),
        ),
        (
            schedule.pk,
            schedule.territory_id,
            "Livraison du jeudi 10 décembre",
            datetime(2026, 12, 4, 7, 0, tzinfo=UTC),
            datetime(2026, 12, 8, 17, 0, tzinfo=UTC),
            date(2026, 12, 10),
            Decimal("12.00"),
        ),
    ]
    assert [cycle.name for cycle in report.created] == [
        "Livraison du jeudi 3 décembre",
        "Livraison du jeudi 10 décembre",
    ]
    assert report.refused == []


def test_running_again_creates_nothing_and_a_week_later_adds_one_cycle() -> None:
    thursday_schedule()
    cycle_generate_from_schedules(now=NOW)
    before = cycles_as_rows()

    again = cycle_generate_from_schedules(now=NOW)

    assert again.created == []
    assert cycles_as_rows() == before

    week_later = cycle_generate_from_schedules(now=datetime(2026, 12, 3, 9, 0, tzinfo=UTC))

    assert [c.delivery_date for c in week_later.created] == [date(2026, 12, 17)]
    assert [row[5] for row in cycles_as_rows()] == [
        date(2026, 12, 3),
        date(2026, 12, 10),
        date(2026, 12, 17),
    ]


def test_a_cycle_still_open_today_is_created_but_one_already_closed_is_not() -> None:
    # Wednesday 2 December 2026 at 10:00: the cycle of 3 December closed yesterday at 18:00.
    thursday_schedule(weeks_ahead=1)
    cycle_generate_from_schedules(now=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    assert [row[5] for row in cycles_as_rows()] == [date(2026, 12, 10)]

    # Tuesday 1 December at 17:59 Paris: still open, so it is created.
    OrderCycle.objects.all().delete()
    cycle_generate_from_schedules(now=datetime(2026, 12, 1, 16, 59, tzinfo=UTC))
    assert [row[5] for row in cycles_as_rows()] == [date(2026, 12, 3)]


def test_delivery_day_today_whose_cycle_has_not_closed_is_generated() -> None:
    # Opens and closes the day before at 06:00 and 20:00; delivered on Thursday.
    thursday_schedule(
        opens_weekday=WED, opens_time=time(6), closes_weekday=WED, closes_time=time(20)
    )
    cycle_generate_from_schedules(now=datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    assert [(row[3], row[4], row[5]) for row in cycles_as_rows()] == [
        (
            datetime(2026, 11, 25, 5, 0, tzinfo=UTC),
            datetime(2026, 11, 25, 19, 0, tzinfo=UTC),
            date(2026, 11, 26),
        ),
        (
            datetime(2026, 12, 2, 5, 0, tzinfo=UTC),
            datetime(2026, 12, 2, 19, 0, tzinfo=UTC),
            date(2026, 12, 3),
        ),
    ]


def test_autumn_change_of_time_keeps_the_wall_clock_times() -> None:
    # Paris leaves summer time on Sunday 25 October 2026 at 03:00 (back to 02:00).
    thursday_schedule(
        name="Mardi",
        delivery_weekday=TUE,
        opens_weekday=SAT,
        opens_time=time(9, 0),
        closes_weekday=MON,
        closes_time=time(12, 0),
        weeks_ahead=1,
    )
    cycle_generate_from_schedules(now=datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    cycle = OrderCycle.objects.get()
    assert cycle.name == "Livraison du mardi 27 octobre"
    assert cycle.opens_at == datetime(2026, 10, 24, 7, 0, tzinfo=UTC)  # 09:00 CEST (UTC+2)
    assert cycle.closes_at == datetime(2026, 10, 26, 11, 0, tzinfo=UTC)  # 12:00 CET (UTC+1)
    assert cycle.closes_at - cycle.opens_at == (
        datetime(2026, 10, 26, 12) - datetime(2026, 10, 24, 9)
    ) + (datetime(2026, 1, 1, 1) - datetime(2026, 1, 1, 0))  # one hour longer


def test_spring_change_of_time_keeps_the_wall_clock_times() -> None:
    # Paris enters summer time on Sunday 28 March 2027 at 02:00 (on to 03:00).
    thursday_schedule(weeks_ahead=2)
    cycle_generate_from_schedules(now=datetime(2027, 3, 22, 12, 0, tzinfo=UTC))
    assert [(row[3], row[4], row[5]) for row in cycles_as_rows()] == [
        (
            datetime(2027, 3, 19, 7, 0, tzinfo=UTC),  # Friday 08:00 CET
            datetime(2027, 3, 23, 17, 0, tzinfo=UTC),  # Tuesday 18:00 CET
            date(2027, 3, 25),
        ),
        (
            datetime(2027, 3, 26, 7, 0, tzinfo=UTC),  # Friday 08:00 CET
            datetime(2027, 3, 30, 16, 0, tzinfo=UTC),  # Tuesday 18:00 CEST
            date(2027, 4, 1),
        ),
    ]


def test_times_are_those_of_the_territory_time_zone() -> None:
    territory = TerritoryFactory(slug="fort-de-france", timezone="America/Martinique")
    thursday_schedule(territory=territory, weeks_ahead=1)
    cycle_generate_from_schedules(now=NOW)
    cycle = OrderCycle.objects.get()
    assert cycle.territory == territory
    assert cycle.opens_at == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # 08:00 UTC-4
    assert cycle.closes_at == datetime(2026, 12, 1, 22, 0, tzinfo=UTC)  # 18:00 UTC-4


def test_schedule_closing_before_opening_is_refused_and_others_still_generated() -> None:
    good = thursday_schedule(weeks_ahead=1)
    # Delivered Thursday, opens Wednesday 10:00 but closes Monday: before opening.
    bad = thursday_schedule(
        name="Mauvais",
        opens_weekday=WED,
        opens_time=time(10),
        closes_weekday=MON,
        closes_time=time(18),
    )

    report = cycle_generate_from_schedules(now=NOW)

    assert [(c.schedule_id, c.delivery_date) for c in report.created] == [
        (good.pk, date(2026, 12, 3))
    ]
    assert report.refused == [
        (
            bad,
            "Calendrier « Mauvais » invalide : la clôture des commandes (lundi 18:00) "
            "doit venir après leur ouverture (mercredi 10:00).",
        )
    ]
    assert OrderCycle.objects.filter(schedule=bad).count() == 0


def test_same_day_closing_not_after_opening_is_refused() -> None:
    schedule = thursday_schedule(
        opens_weekday=TUE, opens_time=time(18), closes_weekday=TUE, closes_time=time(18)
    )
    with pytest.raises(InvalidSchedule) as refused:
        cycle_schedule_times(schedule=schedule, delivery_date=date(2026, 12, 3))
    assert refused.value.code == "invalid_schedule"
    assert OrderCycle.objects.count() == 0


def test_inactive_schedules_generate_nothing() -> None:
    thursday_schedule(is_active=False)
    assert cycle_generate_from_schedules(now=NOW).created == []
    assert OrderCycle.objects.count() == 0


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        cycle_generate_from_schedules(now=datetime(2026, 11, 26, 10, 0))


def test_name_is_french_whatever_the_active_language() -> None:
    from django.utils import translation

    with translation.override("en"):
        assert cycle_name_for(date(2026, 12, 3)) == "Livraison du jeudi 3 décembre"


def test_command_and_celery_task_generate_the_same_cycles_once() -> None:
    thursday_schedule(territory=TerritoryFactory(name="Loos-en-Gohelle", slug="loos"))
    with time_machine.travel(NOW, tick=False):
        out = io.StringIO()
        call_command("generate_cycles", stdout=out)
        assert out.getvalue().splitlines() == [
            "Créé : Livraison du jeudi 3 décembre (Loos-en-Gohelle), "
            "ouverture 27/11/2026 08:00, clôture 01/12/2026 18:00",
            "Créé : Livraison du jeudi 10 décembre (Loos-en-Gohelle), "
            "ouverture 04/12/2026 08:00, clôture 08/12/2026 18:00",
            "2 cycles créés.",
        ]
        # apply(), not delay().get(): the eager "no join inside a task" flag is process-wide.
        result = generate_from_schedules.apply()
        assert (result.successful(), result.result) == (True, 0)
    assert OrderCycle.objects.count() == 2


def test_command_reports_a_refused_schedule_and_fails() -> None:
    thursday_schedule(closes_weekday=FRI, closes_time=time(7))
    err = io.StringIO()
    with time_machine.travel(NOW, tick=False), pytest.raises(CommandError) as failed:
        call_command("generate_cycles", stdout=io.StringIO(), stderr=err)
    assert str(failed.value) == "1 calendrier refusé."
    assert "Refusé : Jeudi" in err.getvalue()
    assert OrderCycle.objects.count() == 0


def test_beat_runs_generation() -> None:
    assert settings.CELERY_BEAT_SCHEDULE["generate-cycles"] == {
        "task": "cycles.generate_from_schedules",
        "schedule": 3600.0,
    }
