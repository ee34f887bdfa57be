"""When is a home-exercise reminder due? Local wall-clock time in the patient's zone.

Pure functions (no database), so the daylight-saving rules are easy to test; the
wall-clock conversions are patients/localtime.py's, shared with scheduling:

- a reminder time that does not exist on a spring-forward day (02:30 in New York on the
  second Sunday of March) fires at the first instant that exists after it, the moment
  the clocks jump (03:00 local);
- a reminder time that happens twice on a fall-back day (01:30) fires at its first
  occurrence, and only once: the outbox key is the program and the local *date*.
"""

from __future__ import annotations

import datetime as dt

from patients.localtime import local_occurrence, zone


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
