"""Fixtures for scheduling tests: a bookable practitioner, a room, dates in the future."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinic.models import WorkingHours
from tests.factories import PatientFactory, PractitionerFactory, RoomFactory

CLINIC_TZ = ZoneInfo("America/New_York")


def next_monday() -> dt.date:
    """A Monday 1–7 days ahead: always in the future, never today."""
    today = timezone.localdate()
    return today + dt.timedelta(days=7 - today.weekday())


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CLINIC_TZ)


def next_fall_back() -> dt.date:
    """The next first Sunday of November (the US clocks go back that night), ahead of today."""
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        day = dt.date(year, 11, 1)
        day += dt.timedelta(days=(6 - day.weekday()) % 7)
        if day > today:
            return day
    raise AssertionError("unreachable")


def next_spring_forward() -> dt.date:
    """The next second Sunday of March (the US clocks go forward that night)."""
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        day = dt.date(year, 3, 1)
        day += dt.timedelta(days=(6 - day.weekday()) % 7 + 7)
        if day > today:
            return day
    raise AssertionError("unreachable")


def give_hours(practitioner, start="07:00", end="19:00", weekdays=range(7)):
    for weekday in weekdays:
        WorkingHours.objects.create(
            practitioner=practitioner,
            weekday=weekday,
            start=dt.time.fromisoformat(start),
            end=dt.time.fromisoformat(end),
        )


@pytest.fixture(autouse=True)
def _clinic_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture
def practitioner(therapist):
    practitioner = PractitionerFactory(user=therapist)
    give_hours(practitioner)
    return practitioner


@pytest.fixture
def other_practitioner(db):
    practitioner = PractitionerFactory()
    give_hours(practitioner)
    return practitioner


@pytest.fixture
def room(db):
    return RoomFactory(name="Room A")


@pytest.fixture
def patient(db):
    return PatientFactory(first_name="Ada", last_name="Lovelace")


@pytest.fixture
def monday():
    return next_monday()
