"""The practitioner's private feed: valid RFC 5545 parsed back, right across the clock
changes, and nothing clinical in it."""

import datetime as dt

import pytest
from icalendar import Calendar

from clinic.models import AppointmentStatus
from clinic.scheduling import selectors
from clinic.scheduling.ics import appointment_ics, practitioner_feed_ics
from tests.clinic.scheduling.conftest import (
    CLINIC_TZ,
    at,
    next_fall_back,
    next_spring_forward,
)
from tests.factories import AppointmentFactory, AssessmentFactory, PatientFactory, RoomFactory

pytestmark = pytest.mark.django_db


def _feed(practitioner) -> Calendar:
    return Calendar.from_ical(
        practitioner_feed_ics(practitioner, selectors.practitioner_feed_appointments(practitioner))
    )


def test_feed_parses_back_with_one_event_per_visit(practitioner, monday):
    patient = PatientFactory(first_name="Grace", last_name="Hopper")
    room = RoomFactory(name="Gym")
    AppointmentFactory(
        practitioner=practitioner, patient=patient, starts_at=at(monday, "09:00"), room=room
    )
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "10:00"))
    calendar = _feed(practitioner)
    assert str(calendar["version"]) == "2.0"
    assert practitioner.display_name in str(calendar["x-wr-calname"])
    events = calendar.walk("VEVENT")
    assert len(events) == 2
    first = events[0]
    assert first.decoded("dtstart") == at(monday, "09:00")
    assert first.decoded("dtend") - first.decoded("dtstart") == dt.timedelta(minutes=30)
    assert str(first["summary"]) == "Grace H. · Follow-up"
    assert "Gym" in str(first["location"])
    assert len({str(e["uid"]) for e in events}) == 2


@pytest.mark.parametrize(
    ("change_day", "utc_hours"),
    [(next_fall_back, [13, 14]), (next_spring_forward, [14, 13])],
)
def test_feed_times_are_right_on_both_sides_of_a_clock_change(practitioner, change_day, utc_hours):
    change = change_day()
    before = change - dt.timedelta(days=2)  # the Friday before
    after = change + dt.timedelta(days=1)  # the Monday after
    visits = [
        AppointmentFactory(practitioner=practitioner, starts_at=at(before, "09:00")),
        AppointmentFactory(practitioner=practitioner, starts_at=at(after, "09:00")),
    ]
    events = Calendar.from_ical(practitioner_feed_ics(practitioner, visits)).walk("VEVENT")
    assert [e.decoded("dtstart").astimezone(dt.UTC).hour for e in events] == utc_hours
    assert [e.decoded("dtstart").astimezone(CLINIC_TZ).hour for e in events] == [9, 9]
    assert all(
        e.decoded("dtend") - e.decoded("dtstart") == dt.timedelta(minutes=30) for e in events
    )


def test_feed_marks_cancelled_visits_so_calendars_drop_them(practitioner, monday):
    AppointmentFactory(
        practitioner=practitioner, starts_at=at(monday, "09:00"), status=AppointmentStatus.CANCELLED
    )
    (event,) = _feed(practitioner).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"


def test_feed_carries_no_clinical_content(practitioner, monday):
    assessment = AssessmentFactory(
        patient__last_name="Zimmerman", clinical_impression="Suspected tendinitis of the knee"
    )
    AppointmentFactory(
        practitioner=practitioner, patient=assessment.patient, starts_at=at(monday, "09:00")
    )
    text = practitioner_feed_ics(
        practitioner, selectors.practitioner_feed_appointments(practitioner)
    ).decode()
    for clinical in ("tendinitis", "knee", "Zimmerman", "arthritis", "pain"):
        assert clinical.lower() not in text.lower()


def test_feed_lines_follow_rfc5545_folding_and_crlf(practitioner, monday):
    AppointmentFactory(
        practitioner=practitioner,
        patient=PatientFactory(first_name="Maximiliana" * 5),
        starts_at=at(monday, "09:00"),
    )
    raw = practitioner_feed_ics(
        practitioner, selectors.practitioner_feed_appointments(practitioner)
    )
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert lines[0] == b"BEGIN:VCALENDAR"


def test_single_appointment_ics_stays_free_of_names(practitioner, monday):
    visit = AppointmentFactory(
        practitioner=practitioner,
        patient=PatientFactory(last_name="Zimmerman"),
        starts_at=at(monday, "09:00"),
    )
    text = appointment_ics(visit).decode()
    assert "Zimmerman" not in text and practitioner.display_name not in text


# The single visit attached to reminder emails --------------------------------------------


def test_appointment_ics_parses_back_with_the_exact_instants():
    # The first Monday after the 2026 autumn daylight-saving change in New York.
    starts = dt.datetime(2026, 11, 2, 9, 0, tzinfo=CLINIC_TZ)
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


def test_a_moved_visit_keeps_its_calendar_uid_with_a_higher_sequence(monkeypatch):
    from clinic.reminders import services as reminder_services
    from clinic.scheduling import services
    from tests.factories import FrontDeskFactory

    monkeypatch.setattr(reminder_services, "reminders_enqueue", lambda *, ids: len(ids))
    visit = AppointmentFactory()
    start = visit.starts_at + dt.timedelta(days=1)
    moved = services.appointment_reschedule(
        appointment=visit,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        practitioner=visit.practitioner,
        room=None,
        acting_user=FrontDeskFactory(),
        allow_outside_hours=True,
    )
    (before,) = Calendar.from_ical(appointment_ics(visit)).walk("VEVENT")
    (after,) = Calendar.from_ical(appointment_ics(moved)).walk("VEVENT")
    assert str(before["uid"]) == str(after["uid"]) == visit.calendar_uid
    assert (int(before["sequence"]), int(after["sequence"])) == (0, 1)
