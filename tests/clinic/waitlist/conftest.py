"""Fixtures for the waitlist tests: a bookable practitioner, a visit to free, entries."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from clinic.models import AppointmentKind, WaitlistEntry
from clinic.waitlist import services

# The real SMTP server and worker of the reminder tests, for test_worker.py.
from tests.clinic.reminders.conftest import (
    reminder_queue,  # noqa: F401
    reminder_worker,  # noqa: F401
    smtp_server,  # noqa: F401
)
from tests.clinic.scheduling.conftest import at, give_hours, next_monday
from tests.factories import (
    AppointmentFactory,
    FrontDeskFactory,
    PatientFactory,
    PractitionerFactory,
)

_created = itertools.count()


@pytest.fixture(autouse=True)
def _clinic_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    settings.WAITLIST_WAVE_SIZE = 3
    settings.WAITLIST_OFFER_MINUTES = 60


@pytest.fixture
def monday():
    return next_monday()


@pytest.fixture
def practitioner(db):
    practitioner = PractitionerFactory()
    give_hours(practitioner)
    return practitioner


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


@pytest.fixture
def visit(practitioner, monday):
    """A booked 30-minute follow-up on Monday 10:00, ready to be cancelled."""
    start = at(monday, "10:00")
    return AppointmentFactory(
        practitioner=practitioner,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
    )


@pytest.fixture
def enqueued(monkeypatch):
    """The reminder ids the waves hand to the broker (no broker in these tests)."""
    ids: list[int] = []
    monkeypatch.setattr(services, "_enqueue", lambda batch: ids.extend(batch))
    return ids


def make_entry(*, created_by, patient=None, **fields) -> WaitlistEntry:
    """A waiting entry that suits Monday 10:00 with anyone, unless told otherwise; each
    one created a minute after the last, so "oldest first" is well defined."""
    today = timezone.localdate()
    values = {
        "patient": patient or PatientFactory(),
        "practitioner": None,
        "kind": AppointmentKind.FOLLOW_UP,
        "earliest_date": today,
        "latest_date": today + dt.timedelta(days=30),
        "weekdays": [0, 1, 2, 3, 4, 5, 6],
        "window_start": dt.time(8, 0),
        "window_end": dt.time(18, 0),
        "created_by": created_by,
        "created_at": timezone.now() - dt.timedelta(days=1) + dt.timedelta(minutes=next(_created)),
    }
    values.update(fields)
    return WaitlistEntry.objects.create(**values)


def cancel(visit, user):
    from clinic.scheduling.services import appointment_cancel

    return appointment_cancel(appointment=visit, reason="Patient is travelling", acting_user=user)
