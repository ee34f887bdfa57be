"""One home for "today" and for local wall-clock time, in a patient's or the clinic's
time zone.

``patients`` is the lowest app, so scheduling, reminders, adherence and the patient's
signed links all ask here: the date a "done" link records and the date adherence
counts up to are the same date because they come from the same function.

The daylight-saving rules, in one place:

- ``local_datetime`` is for a time a person typed (a booking, a day's start): a wall
  time the clocks skip (02:30 in New York on the second Sunday of March) does not
  exist and raises ValueError, so the form can say so;
- ``local_occurrence`` is for a standing time (a reminder time, a working-hours
  bound): a skipped wall time happens at the jump itself (03:00 local), the first
  instant at or after it;
- both read a wall time that happens twice (01:30 on a fall-back day) as its first
  occurrence, as a person reading a paper diary would.

Arithmetic on instants is done in UTC; adding a duration to a wall-clock time would be
wrong on the days the clocks change.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

UTC = dt.UTC


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@lru_cache(maxsize=512)
def _known_zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone(name: str) -> ZoneInfo:
    """A zone by IANA name; an unknown name falls back to the clinic's own zone."""
    return _known_zone(name or "") or clinic_zone()


def patient_zone(patient) -> ZoneInfo:
    return zone(patient.timezone)


def patient_today(patient, now: dt.datetime | None = None) -> dt.date:
    """The date it is for the patient, where they live."""
    return (now or timezone.now()).astimezone(patient_zone(patient)).date()


def clinic_today(now: dt.datetime | None = None) -> dt.date:
    """The date it is at the clinic."""
    return (now or timezone.now()).astimezone(clinic_zone()).date()


def _exists(wall: dt.datetime, tz: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def local_datetime(day: dt.date, time: dt.time, tz: ZoneInfo | None = None) -> dt.datetime:
    """The instant of wall-clock ``time`` on ``day`` (clinic's zone by default), as UTC.

    Raises ValueError for a wall-clock time that does not exist (the hour skipped when
    clocks go forward); a repeated time is the first of the two.
    """
    tz = tz or clinic_zone()
    wall = dt.datetime.combine(day, time.replace(tzinfo=None, fold=0))
    if not _exists(wall, tz):
        raise ValueError(
            f"{time:%H:%M} does not exist on {day:%d %b %Y}: the clocks go forward that night."
        )
    return wall.replace(tzinfo=tz).astimezone(UTC)


def local_occurrence(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant at which wall-clock ``at`` on ``day`` first happens in ``tz``."""
    wall = dt.datetime.combine(day, at.replace(tzinfo=None, fold=0))
    if _exists(wall, tz):
        # fold=0 picks the first of two occurrences in a repeated hour.
        return wall.replace(tzinfo=tz).astimezone(UTC)
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
    return dt.datetime.fromtimestamp(high, UTC)
