"""Bounded time windows: every appointment window query carries a lower bound on
starts_at (a visit lasts at most MAX_APPOINTMENT_DURATION), so the (practitioner | room |
patient | status, starts_at) indexes read only the window, never years of history; and
the pages read the same number of queries however much history there is."""

import datetime as dt
import re

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.models import MAX_APPOINTMENT_DURATION, Appointment, TimeOff, overlapping
from clinic.scheduling import selectors, services
from patients import sql as prepared
from tests.clinic.scheduling.conftest import at
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def test_overlapping_finds_a_visit_of_the_longest_length_that_began_before_the_window(
    practitioner, other_practitioner, monday
):
    window = at(monday, "12:00")
    longest = AppointmentFactory(
        practitioner=practitioner,
        starts_at=window - MAX_APPOINTMENT_DURATION + dt.timedelta(minutes=1),
        ends_at=window + dt.timedelta(minutes=1),
    )
    AppointmentFactory(practitioner=other_practitioner, starts_at=window - HOUR, ends_at=window)
    AppointmentFactory(practitioner=other_practitioner, starts_at=window + HOUR)
    found = Appointment.objects.filter(overlapping(window, window + HOUR))
    assert list(found) == [longest]


def _appointment_window_queries(queries) -> list[str]:
    # Prepared reads (patients/sql.py) are logged as EXECUTE: read their statement's text.
    texts = [prepared.logged_sql(q["sql"]) for q in queries]
    return [sql for sql in texts if 'FROM "clinic_appointment"' in sql and '"ends_at" >' in sql]


def _assert_bounded(queries) -> None:
    windows = _appointment_window_queries(queries)
    assert windows, "no window query ran"
    for sql in windows:
        # Each part of a UNION reads its own window: every FROM has its lower bound.
        reads = len(re.findall(r'FROM "clinic_appointment"(?!\.)', sql))  # not EXTRACT's
        assert len(re.findall(r'"clinic_appointment"\."starts_at" >', sql)) >= reads, sql


def test_every_appointment_window_query_bounds_starts_at_below(
    practitioner, other_practitioner, patient, room, monday, front_desk
):
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "10:00"))
    with CaptureQueriesContext(connection) as day:
        selectors.calendar_day(monday)
    _assert_bounded(day.captured_queries)
    with CaptureQueriesContext(connection) as week:
        selectors.calendar_week(practitioner, monday)
    _assert_bounded(week.captured_queries)
    with CaptureQueriesContext(connection) as slots:
        selectors.free_slots(
            duration=dt.timedelta(minutes=30),
            after=at(monday, "00:00"),
            patient=patient,
            room=room,
        )
    _assert_bounded(slots.captured_queries)
    with CaptureQueriesContext(connection) as preview:
        selectors.series_preview(
            patient=patient,
            practitioner=practitioner,
            room=room,
            duration=dt.timedelta(minutes=30),
            starts=[at(monday, "10:00"), at(monday + dt.timedelta(days=7), "10:00")],
        )
    _assert_bounded(preview.captured_queries)
    with CaptureQueriesContext(connection) as book:
        services.appointment_book(
            patient=patient,
            practitioner=practitioner,
            kind="follow_up",
            starts_at=at(monday, "11:00"),
            ends_at=at(monday, "11:30"),
            room=room,
            acting_user=front_desk,
        )
    _assert_bounded(book.captured_queries)
    with CaptureQueriesContext(connection) as stranded:
        window = (at(monday, "08:00"), at(monday, "18:00"))
        list(selectors.stranded_visits(*window, practitioner_id=practitioner.pk))
        selectors.stranded_counts({1: (*window, practitioner.pk), 2: (*window, None)})
    _assert_bounded(stranded.captured_queries)


def test_booking_refuses_a_visit_longer_than_the_window_queries_allow(
    practitioner, patient, monday, front_desk
):
    start = at(monday, "08:00")
    with pytest.raises(services.SchedulingError, match="between 10 minutes and 4 hours"):
        services.appointment_book(
            patient=patient,
            practitioner=practitioner,
            kind="follow_up",
            starts_at=start,
            ends_at=start + MAX_APPOINTMENT_DURATION + dt.timedelta(minutes=1),
            acting_user=front_desk,
        )
    visit = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        kind="follow_up",
        starts_at=start,
        ends_at=start + MAX_APPOINTMENT_DURATION,
        acting_user=front_desk,
    )
    assert visit.ends_at - visit.starts_at == MAX_APPOINTMENT_DURATION


@pytest.mark.services
def test_postgresql_refuses_a_visit_longer_than_four_hours(require_service, practitioner):
    require_service("postgresql")
    visit = AppointmentFactory(practitioner=practitioner)
    with pytest.raises(IntegrityError, match="appt_at_most_four_hours"), transaction.atomic():
        Appointment.objects.filter(pk=visit.pk).update(
            ends_at=F("starts_at") + MAX_APPOINTMENT_DURATION + dt.timedelta(seconds=1)
        )
    Appointment.objects.filter(pk=visit.pk).update(
        ends_at=F("starts_at") + MAX_APPOINTMENT_DURATION
    )


def test_time_off_that_began_long_before_the_window_still_blocks_it(practitioner, monday):
    """Time off has no longest length: its window queries are bounded by ends_at instead."""
    TimeOff.objects.create(
        practitioner=practitioner,
        starts_at=at(monday, "08:00") - dt.timedelta(days=40),
        ends_at=at(monday, "13:00"),
        reason="Sabbatical",
    )
    slots = selectors.free_slots(
        duration=dt.timedelta(minutes=30), after=at(monday, "00:00"), practitioner=practitioner
    )
    assert slots[0].starts_at == at(monday, "13:00")


# Query counts stay the same when the history grows ------------------------------------


def _history(practitioner, patients: int, visits: int, *, weeks_back: int = 0) -> None:
    """Visits in the past (two a week), from ``weeks_back`` weeks ago backwards."""
    PatientFactory.create_batch(patients)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(weeks=weeks_back, days=1)
    for i in range(visits):
        AppointmentFactory(
            practitioner=practitioner,
            starts_at=start - dt.timedelta(days=i * 3, hours=i % 6),
            status="completed" if i % 4 else "no_show",
        )


def _queries(client, url, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("page", ["day", "week", "free_slots", "today"])
def test_page_query_counts_do_not_grow_with_history(
    client_for, front_desk, practitioner, other_practitioner, monday, page
):
    client = client_for(front_desk)
    url, data, expected = {
        # session, user, user permissions, group permissions, the booking rules (free
        # slots link to the booking form), practitioners, appointments, working hours
        # with time off and clinic closures (one query).
        "day": (reverse("scheduling:day"), {"date": f"{monday:%Y-%m-%d}"}, 8),
        # ... the booking rules, the practitioner with the switcher's practitioners,
        # appointments, working hours with time off and clinic closures.
        "week": (
            reverse("scheduling:week", args=[practitioner.pk]),
            {"date": f"{monday:%Y-%m-%d}"},
            8,
        ),
        # ... settings, practitioners, working hours with time off and clinic closures,
        # appointments, and the form's practitioner list.
        "free_slots": (reverse("scheduling:free_slots"), {"kind": "follow_up", "count": 5}, 9),
        "today": (reverse("today"), {}, None),
    }[page]
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "10:00"))
    _history(practitioner, 5, 5)
    first = _queries(client, url, data)
    if expected is not None:
        assert first == expected
    _history(practitioner, 50, 50, weeks_back=20)
    _history(other_practitioner, 0, 20)
    assert _queries(client, url, data) == first
