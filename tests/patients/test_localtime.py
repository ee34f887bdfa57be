"""patients/localtime.py: the one home for "today" and wall-clock time, checked on the
days the clocks change in New York and Madrid."""

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from patients.localtime import (
    clinic_today,
    local_datetime,
    local_occurrence,
    patient_today,
    zone,
)

UTC = dt.UTC


def _patient(tz: str):
    return SimpleNamespace(timezone=tz)


# (zone, instant in UTC, the local date there). Each instant is a few minutes either
# side of local midnight on a day the clocks change, or on the change itself.
TODAY_CASES = [
    # New York springs forward 8 Mar 2026 at 07:00 UTC; midnight before is 05:00 UTC (EST).
    ("America/New_York", dt.datetime(2026, 3, 8, 4, 59), dt.date(2026, 3, 7)),
    ("America/New_York", dt.datetime(2026, 3, 8, 5, 0), dt.date(2026, 3, 8)),
    ("America/New_York", dt.datetime(2026, 3, 8, 7, 0), dt.date(2026, 3, 8)),
    # The next midnight is 04:00 UTC (EDT).
    ("America/New_York", dt.datetime(2026, 3, 9, 3, 59), dt.date(2026, 3, 8)),
    ("America/New_York", dt.datetime(2026, 3, 9, 4, 0), dt.date(2026, 3, 9)),
    # New York falls back 1 Nov 2026 at 06:00 UTC; that day ends at 05:00 UTC (EST).
    ("America/New_York", dt.datetime(2026, 11, 1, 3, 59), dt.date(2026, 10, 31)),
    ("America/New_York", dt.datetime(2026, 11, 1, 6, 30), dt.date(2026, 11, 1)),
    ("America/New_York", dt.datetime(2026, 11, 2, 4, 59), dt.date(2026, 11, 1)),
    ("America/New_York", dt.datetime(2026, 11, 2, 5, 0), dt.date(2026, 11, 2)),
    # Madrid springs forward 29 Mar 2026 at 01:00 UTC; midnight before is 23:00 UTC (CET).
    ("Europe/Madrid", dt.datetime(2026, 3, 28, 22, 59), dt.date(2026, 3, 28)),
    ("Europe/Madrid", dt.datetime(2026, 3, 28, 23, 0), dt.date(2026, 3, 29)),
    ("Europe/Madrid", dt.datetime(2026, 3, 29, 21, 59), dt.date(2026, 3, 29)),
    ("Europe/Madrid", dt.datetime(2026, 3, 29, 22, 0), dt.date(2026, 3, 30)),
    # Madrid falls back 25 Oct 2026 at 01:00 UTC; that day ends at 23:00 UTC (CET).
    ("Europe/Madrid", dt.datetime(2026, 10, 24, 21, 59), dt.date(2026, 10, 24)),
    ("Europe/Madrid", dt.datetime(2026, 10, 24, 22, 0), dt.date(2026, 10, 25)),
    ("Europe/Madrid", dt.datetime(2026, 10, 25, 22, 59), dt.date(2026, 10, 25)),
    ("Europe/Madrid", dt.datetime(2026, 10, 25, 23, 0), dt.date(2026, 10, 26)),
]


@pytest.mark.parametrize(("tz", "now", "expected"), TODAY_CASES)
def test_patient_today_is_the_date_where_the_patient_lives(tz, now, expected):
    assert patient_today(_patient(tz), now=now.replace(tzinfo=UTC)) == expected


@pytest.mark.parametrize(("tz", "now", "expected"), TODAY_CASES)
def test_clinic_today_is_the_date_in_the_clinics_zone(settings, tz, now, expected):
    settings.TIME_ZONE = tz
    assert clinic_today(now=now.replace(tzinfo=UTC)) == expected


def test_an_unknown_patient_zone_falls_back_to_the_clinics(settings):
    settings.TIME_ZONE = "Europe/Madrid"
    now = dt.datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    assert zone("Mars/Olympus_Mons") == ZoneInfo("Europe/Madrid")
    assert patient_today(_patient("Mars/Olympus_Mons"), now=now) == dt.date(2026, 3, 29)
    assert patient_today(_patient(""), now=now) == dt.date(2026, 3, 29)


@pytest.mark.parametrize(
    ("tz", "day", "wall"),
    [
        ("America/New_York", dt.date(2026, 3, 8), dt.time(2, 30)),
        ("Europe/Madrid", dt.date(2026, 3, 29), dt.time(2, 30)),
    ],
)
def test_a_skipped_time_is_refused_when_typed_and_is_the_jump_when_standing(tz, day, wall):
    with pytest.raises(ValueError, match="does not exist"):
        local_datetime(day, wall, ZoneInfo(tz))
    jump = local_occurrence(day, wall, ZoneInfo(tz))
    assert jump.astimezone(ZoneInfo(tz)).time() == dt.time(3, 0)


@pytest.mark.parametrize(
    ("tz", "day", "wall", "utc_hour"),
    [
        ("America/New_York", dt.date(2026, 11, 1), dt.time(1, 30), 5),  # 01:30 EDT
        ("Europe/Madrid", dt.date(2026, 10, 25), dt.time(2, 30), 0),  # 02:30 CEST
    ],
)
def test_a_repeated_time_is_its_first_occurrence_both_ways(tz, day, wall, utc_hour):
    typed = local_datetime(day, wall, ZoneInfo(tz))
    standing = local_occurrence(day, wall, ZoneInfo(tz))
    assert typed == standing == dt.datetime.combine(day, dt.time(utc_hour, 30), UTC)
