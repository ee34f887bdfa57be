import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from clinic.ics import appointment_ics
from clinic.models import AppointmentStatus
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def test_appointment_ics_parses_back_with_the_exact_instants():
    # The first Monday after the 2026 autumn daylight-saving change in New York.
    starts = dt.datetime(2026, 11, 2, 9, 0, tzinfo=NEW_YORK)
    appointment = AppointmentFactory(starts_at=starts, ends_at=starts + dt.timedelta(minutes=45))
    calendar = Calendar.from_ical(appointment_ics(appointment))
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == starts
    assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(minutes=45)
    assert event.decoded("dtstart").astimezone(dt.UTC).hour == 14  # EST, UTC-5
    assert str(event["status"]) == "CONFIRMED"


def test_appointment_ics_carries_no_clinical_or_personal_detail():
    appointment = AppointmentFactory(patient__last_name="Zimmerman")
    text = appointment_ics(appointment).decode()
    assert "Zimmerman" not in text
    assert appointment.get_kind_display() not in text


def test_cancelled_appointment_is_marked_cancelled():
    appointment = AppointmentFactory(status=AppointmentStatus.CANCELLED)
    (event,) = Calendar.from_ical(appointment_ics(appointment)).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
