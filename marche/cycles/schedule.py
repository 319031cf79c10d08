"""Order cycles generated ahead of time from each territory's weekly schedule.

The cycle of a delivery day D opens on the last ``opens_weekday`` strictly before D and
closes on the last ``closes_weekday`` strictly before D, at the schedule's wall-clock times
in the territory's time zone (so a cycle keeps its 18:00 cutoff across a change of summer
time). Generation is idempotent: one cycle per (schedule, delivery day), guarded by a unique
constraint, created with ``get_or_create``; running it twice, or twice at once, creates
nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import dateformat, translation
from django.utils.translation import gettext

from marche.cycles.errors import InvalidSchedule
from marche.cycles.models import CycleSchedule, OrderCycle

logger = logging.getLogger(__name__)

# Delivery days are searched this far ahead for the ``weeks_ahead`` cycles still to close.
_SEARCH_DAYS = 7 * 14


@dataclass
class GenerationReport:
    """What one generation run did: cycles created, and schedules refused with why."""

    created: list[OrderCycle] = field(default_factory=list)
    refused: list[tuple[CycleSchedule, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CycleTimes:
    opens_at: datetime
    closes_at: datetime


def _last_weekday_before(day: date, weekday: int) -> date:
    """The last date with ``weekday`` strictly before ``day`` (one to seven days earlier)."""
    return day - timedelta(days=(day.weekday() - weekday - 1) % 7 + 1)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def cycle_schedule_times(*, schedule: CycleSchedule, delivery_date: date) -> CycleTimes:
    """Opening and cutoff of the cycle delivered on ``delivery_date``; refuses a bad schedule."""
    zone = ZoneInfo(schedule.territory.timezone)
    opens_at = _local(
        _last_weekday_before(delivery_date, schedule.opens_weekday), schedule.opens_time, zone
    )
    closes_at = _local(
        _last_weekday_before(delivery_date, schedule.closes_weekday), schedule.closes_time, zone
    )
    if closes_at <= opens_at:
        raise InvalidSchedule(
            gettext(
                "Calendrier « %(name)s » invalide : la clôture des commandes "
                "(%(closes)s) doit venir après leur ouverture (%(opens)s)."
            )
            % {
                "name": schedule.name,
                "closes": _describe(closes_at),
                "opens": _describe(opens_at),
            }
        )
    return CycleTimes(opens_at=opens_at, closes_at=closes_at)


def _describe(moment: datetime) -> str:
    return dateformat.format(moment, "l H:i")


def cycle_name_for(delivery_date: date) -> str:
    """The name of a generated cycle, in the site's language: "Livraison du jeudi 3 décembre"."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Livraison du %(day)s") % {"day": dateformat.format(delivery_date, "l j F")}


def _upcoming_delivery_dates(*, schedule: CycleSchedule, now: datetime) -> list[date]:
    """The next ``weeks_ahead`` delivery days whose cycle has not closed at ``now``."""
    today = now.astimezone(ZoneInfo(schedule.territory.timezone)).date()
    first = today + timedelta(days=(schedule.delivery_weekday - today.weekday()) % 7)
    dates: list[date] = []
    day = first
    while len(dates) < schedule.weeks_ahead and day <= today + timedelta(days=_SEARCH_DAYS):
        if cycle_schedule_times(schedule=schedule, delivery_date=day).closes_at > now:
            dates.append(day)
        day += timedelta(days=7)
    return dates


def cycle_generate_for_schedule(*, schedule: CycleSchedule, now: datetime) -> list[OrderCycle]:
    """Create the missing cycles of one schedule; returns those created (none when rerun)."""
    created: list[OrderCycle] = []
    for delivery_date in _upcoming_delivery_dates(schedule=schedule, now=now):
        times = cycle_schedule_times(schedule=schedule, delivery_date=delivery_date)
        cycle, was_created = OrderCycle.objects.get_or_create(
            schedule=schedule,
            delivery_date=delivery_date,
            defaults={
                "territory_id": schedule.territory_id,
                "name": cycle_name_for(delivery_date),
                "opens_at": times.opens_at,
                "closes_at": times.closes_at,
                "minimum_order_amount": schedule.minimum_order_amount,
            },
        )
        if was_created:
            created.append(cycle)
    return created


def cycle_generate_from_schedules(*, now: datetime) -> GenerationReport:
    """Create, for every active schedule, the cycles of its next ``weeks_ahead`` delivery days.

    A schedule whose cutoff does not come after its opening is refused and reported; the
    other schedules are still generated.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    report = GenerationReport()
    schedules = (
        CycleSchedule.objects.filter(is_active=True, territory__is_active=True)
        .select_related("territory")
        .order_by("pk")
    )
    for schedule in schedules:
        try:
            report.created.extend(cycle_generate_for_schedule(schedule=schedule, now=now))
        except InvalidSchedule as error:
            logger.warning("Schedule %s refused: %s", schedule.pk, error.message)
            report.refused.append((schedule, error.message))
    return report
