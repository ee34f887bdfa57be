"""When is a home-exercise reminder due? Local wall-clock time in the patient's zone.

Pure functions (no database), so the daylight-saving rules are easy to test:

- a reminder time that does not exist on a spring-forward day (02:30 in New York on the
  second Sunday of March) fires at the first instant that exists after it, the moment
  the clocks jump (03:00 local);
- a reminder time that happens twice on a fall-back day (01:30) fires at its first
  occurrence, and only once: the outbox key is the program and the local *date*.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The patient's zone; an unknown name falls back to the clinic's own zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _exists(wall: dt.datetime, tz: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=tz)
    return aware.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) == wall


def local_occurrence(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant at which wall-clock ``at`` on ``day`` first happens in ``tz``."""
    wall = dt.datetime.combine(day, at.replace(tzinfo=None, fold=0))
    if _exists(wall, tz):
        # fold=0 picks the first of two occurrences in a repeated hour.
        return wall.replace(tzinfo=tz).astimezone(dt.UTC)
    # In a gap: the clocks jumped over ``at``. The first instant whose local time is at
    # or past it is the jump itself; find it between the two readings of the wall time.
    # Binary search over whole seconds (zone transitions happen on whole seconds).
    readings = sorted(int(wall.replace(tzinfo=tz, fold=fold).timestamp()) for fold in (0, 1))
    low, high = readings  # low: before the jump; high: after it
    while high - low > 1:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, dt.UTC)


def exercise_due_at(
    *,
    now: dt.datetime,
    tz_name: str,
    reminder_time: dt.time,
    reminder_days: list[int],
    start_date: dt.date,
    end_date: dt.date | None,
    grace: dt.timedelta,
) -> tuple[dt.date, dt.datetime] | None:
    """(local date, due instant) of the occurrence due at ``now``, or None.

    Looks at the patient's local today and yesterday, so a late-evening reminder that a
    dispatch run just after local midnight would otherwise miss is still found; an
    occurrence more than ``grace`` in the past is not sent at all.
    """
    tz = zone(tz_name)
    today = now.astimezone(tz).date()
    days = set(reminder_days or [])
    for day in (today, today - dt.timedelta(days=1)):
        if day < start_date or (end_date is not None and day > end_date):
            continue
        if day.weekday() not in days:
            continue
        due = local_occurrence(day, reminder_time, tz)
        if due <= now and now - due <= grace:
            return day, due
    return None
