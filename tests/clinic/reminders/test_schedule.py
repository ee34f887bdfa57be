"""Reminder times in the patient's own zone, across daylight-saving changes."""

import datetime as dt

import pytest

from clinic.reminders.schedule import exercise_due_at
from patients.localtime import local_occurrence, zone

UTC = dt.UTC
NEW_YORK = zone("America/New_York")
MADRID = zone("Europe/Madrid")


@pytest.mark.parametrize(
    ("tz", "day", "at", "expected_utc"),
    [
        # Ordinary days.
        (NEW_YORK, dt.date(2026, 1, 15), dt.time(18, 0), dt.datetime(2026, 1, 15, 23, 0)),
        (NEW_YORK, dt.date(2026, 7, 15), dt.time(18, 0), dt.datetime(2026, 7, 15, 22, 0)),
        (MADRID, dt.date(2026, 1, 15), dt.time(18, 0), dt.datetime(2026, 1, 15, 17, 0)),
        (MADRID, dt.date(2026, 7, 15), dt.time(18, 0), dt.datetime(2026, 7, 15, 16, 0)),
        # Spring forward: 02:30 does not exist; it fires when the clocks jump (03:00 local).
        (NEW_YORK, dt.date(2026, 3, 8), dt.time(2, 30), dt.datetime(2026, 3, 8, 7, 0)),
        (NEW_YORK, dt.date(2026, 3, 8), dt.time(2, 0), dt.datetime(2026, 3, 8, 7, 0)),
        (MADRID, dt.date(2026, 3, 29), dt.time(2, 30), dt.datetime(2026, 3, 29, 1, 0)),
        # The hour after the jump is ordinary again.
        (NEW_YORK, dt.date(2026, 3, 8), dt.time(3, 30), dt.datetime(2026, 3, 8, 7, 30)),
        # Fall back: 01:30 (New York) and 02:30 (Madrid) happen twice; the first counts.
        (NEW_YORK, dt.date(2026, 11, 1), dt.time(1, 30), dt.datetime(2026, 11, 1, 5, 30)),
        (MADRID, dt.date(2026, 10, 25), dt.time(2, 30), dt.datetime(2026, 10, 25, 0, 30)),
    ],
)
def test_local_occurrence_across_daylight_saving(tz, day, at, expected_utc):
    assert local_occurrence(day, at, tz) == expected_utc.replace(tzinfo=UTC)


def _due(now, **overrides):
    options = {
        "tz_name": "America/New_York",
        "reminder_time": dt.time(18, 0),
        "reminder_days": [0, 1, 2, 3, 4, 5, 6],
        "start_date": dt.date(2026, 1, 1),
        "end_date": None,
        "grace": dt.timedelta(hours=4),
    }
    options.update(overrides)
    return exercise_due_at(now=now, **options)


def test_not_due_before_the_local_time_and_due_from_it():
    before = dt.datetime(2026, 1, 15, 22, 59, tzinfo=UTC)  # 17:59 in New York
    at = dt.datetime(2026, 1, 15, 23, 0, tzinfo=UTC)
    assert _due(before) is None
    assert _due(at) == (dt.date(2026, 1, 15), at)


def test_a_late_evening_reminder_is_still_found_just_after_local_midnight():
    # 23:30 local reminder; dispatch runs at 00:10 the next local day (within grace).
    now = dt.datetime(2026, 1, 16, 5, 10, tzinfo=UTC)
    assert _due(now, reminder_time=dt.time(23, 30)) == (
        dt.date(2026, 1, 15),
        dt.datetime(2026, 1, 16, 4, 30, tzinfo=UTC),
    )


def test_an_occurrence_older_than_the_grace_period_is_dropped():
    now = dt.datetime(2026, 1, 16, 3, 1, tzinfo=UTC)  # 22:01 local, 4 h 1 min late
    assert _due(now) is None


def test_only_on_the_programs_weekdays_and_dates():
    thursday_evening = dt.datetime(2026, 1, 15, 23, 5, tzinfo=UTC)  # Thursday 18:05 local
    assert _due(thursday_evening, reminder_days=[0, 2, 4]) is None  # Mon, Wed, Fri
    assert _due(thursday_evening, reminder_days=[3]) is not None
    assert _due(thursday_evening, start_date=dt.date(2026, 1, 16)) is None
    assert _due(thursday_evening, end_date=dt.date(2026, 1, 14)) is None
    assert _due(thursday_evening, end_date=dt.date(2026, 1, 15)) is not None


def test_the_weekday_is_the_patients_local_weekday_not_utcs():
    # 01:00 UTC on Friday is still Thursday 20:00 in New York.
    now = dt.datetime(2026, 1, 16, 1, 0, tzinfo=UTC)
    assert _due(now, reminder_days=[3]) == (
        dt.date(2026, 1, 15),
        dt.datetime(2026, 1, 15, 23, 0, tzinfo=UTC),
    )
    assert _due(now, reminder_days=[4]) is None


def test_an_unknown_time_zone_falls_back_to_the_clinics():
    assert zone("Not/A_Zone") == zone("America/New_York")
