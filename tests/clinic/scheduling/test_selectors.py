import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import AppointmentStatus, TimeOff, WorkingHours
from clinic.scheduling import selectors
from clinic.scheduling.availability import Availability
from patients.localtime import local_datetime
from tests.clinic.scheduling.conftest import CLINIC_TZ, at, give_hours, next_fall_back
from tests.factories import AppointmentFactory, PractitionerFactory

pytestmark = pytest.mark.django_db

MIN30 = dt.timedelta(minutes=30)


def _only_mornings(practitioner):
    WorkingHours.objects.filter(practitioner=practitioner).delete()
    give_hours(practitioner, "08:00", "10:00", weekdays=range(5))


def test_free_slots_skip_busy_times_and_time_off(practitioner, monday):
    _only_mornings(practitioner)
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "08:00"))
    TimeOff.objects.create(
        practitioner=practitioner, starts_at=at(monday, "08:45"), ends_at=at(monday, "09:30")
    )
    slots = selectors.free_slots(
        practitioner=practitioner, duration=MIN30, after=at(monday, "00:00"), count=4
    )
    assert [s.starts_at for s in slots] == [
        at(monday, "09:30"),  # 08:30 would run into the time off at 08:45
        at(monday + dt.timedelta(days=1), "08:00"),
        at(monday + dt.timedelta(days=1), "08:15"),
        at(monday + dt.timedelta(days=1), "08:30"),
    ]


def test_free_slots_ignore_cancelled_and_no_show_visits(practitioner, monday):
    _only_mornings(practitioner)
    for status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "08:00"), status=status)
    slots = selectors.free_slots(
        practitioner=practitioner, duration=MIN30, after=at(monday, "00:00"), count=1
    )
    assert slots[0].starts_at == at(monday, "08:00")


def test_free_slots_for_any_practitioner_merge_by_time(practitioner, monday):
    _only_mornings(practitioner)
    early = PractitionerFactory()
    give_hours(early, "07:00", "07:30", weekdays=[0])
    slots = selectors.free_slots(duration=MIN30, after=at(monday, "00:00"), count=3)
    assert [(s.starts_at, s.practitioner) for s in slots] == [
        (at(monday, "07:00"), early),
        (at(monday, "08:00"), practitioner),
        (at(monday, "08:15"), practitioner),
    ]


def test_free_slots_query_count_is_constant(practitioner, monday, django_assert_num_queries):
    for i in range(6):
        AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "08:00") + i * MIN30)
    PractitionerFactory()
    # practitioners, working hours with time off and clinic closures, appointments.
    with django_assert_num_queries(3):
        selectors.free_slots(duration=MIN30, after=at(monday, "00:00"), count=10)


def test_series_dates_take_the_chosen_weekdays_from_the_first_date(monday):
    wednesday = monday + dt.timedelta(days=2)
    dates = selectors.series_dates(first_date=wednesday, weekdays=[0, 3], count=4)
    assert dates == [
        wednesday + dt.timedelta(days=1),
        wednesday + dt.timedelta(days=5),
        wednesday + dt.timedelta(days=8),
        wednesday + dt.timedelta(days=12),
    ]


def test_plan_weekdays_spread_visits_over_the_week():
    assert selectors.plan_weekdays(2) == [0, 3]
    assert selectors.plan_weekdays(3) == [0, 2, 4]
    assert len(selectors.plan_weekdays(7)) == 7


def test_series_preview_suggests_the_nearest_free_time_on_the_same_day(
    practitioner, patient, monday
):
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "09:00"))
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "08:30"))
    preview = selectors.series_preview(
        patient=patient,
        practitioner=practitioner,
        room=None,
        duration=MIN30,
        starts=[at(monday, "09:00"), at(monday + dt.timedelta(days=3), "09:00")],
    )
    assert preview[0].problem.startswith("Slot taken")
    assert preview[0].suggestion == at(monday, "09:30")
    assert preview[1].problem == "" and preview[1].booked_start == preview[1].starts_at


def test_series_preview_flags_time_off_and_hours_and_the_patients_other_visits(
    practitioner, other_practitioner, patient, monday
):
    TimeOff.objects.create(
        practitioner=practitioner,
        starts_at=at(monday, "00:00"),
        ends_at=at(monday + dt.timedelta(days=1), "00:00"),
        reason="Course",
    )
    AppointmentFactory(
        practitioner=other_practitioner,
        patient=patient,
        starts_at=at(monday, "12:00") + 7 * dt.timedelta(days=1),
    )
    preview = selectors.series_preview(
        patient=patient,
        practitioner=practitioner,
        room=None,
        duration=MIN30,
        starts=[
            at(monday, "09:00"),
            at(monday + dt.timedelta(days=1), "20:00"),
            at(monday + dt.timedelta(days=7), "12:00"),
        ],
    )
    assert "away" in preview[0].problem and "Course" in preview[0].problem
    # Nothing free on the Monday: the suggestion is the next day.
    assert preview[0].suggestion == at(monday + dt.timedelta(days=1), "07:00")
    assert preview[1].problem.startswith("Outside")
    # Her own visit at that time is already booked, not a conflict to move elsewhere.
    assert preview[2].already_booked and preview[2].booked_start is None
    assert preview[2].problem.startswith("Already booked: ") and "own visit at 12:00" in (
        preview[2].problem
    )
    # Suggestions never collide with other occurrences of the same series.
    assert preview[1].suggestion != preview[0].suggestion


def test_working_blocks_on_the_autumn_change_keep_their_wall_clock_times(practitioner):
    day = next_fall_back()
    availability = Availability(hours={1: {day.weekday(): [(dt.time(0), dt.time(4))]}})
    ((start, end),) = availability.blocks_on(1, day)
    # 00:00 to 04:00 local is five real hours that night.
    assert end - start == dt.timedelta(hours=5)
    assert start.astimezone(CLINIC_TZ).hour == 0 and end.astimezone(CLINIC_TZ).hour == 4


def test_local_datetime_refuses_a_skipped_time_and_takes_the_first_repeated_one():
    day = next_fall_back()
    first = local_datetime(day, dt.time(1, 30))
    assert first.astimezone(CLINIC_TZ).utcoffset() == dt.timedelta(hours=-4)
    march = dt.date(day.year + 1, 3, 8)
    march += dt.timedelta(days=(6 - march.weekday()) % 7)
    with pytest.raises(ValueError, match="does not exist"):
        local_datetime(march, dt.time(2, 30))


def test_gaps_are_the_free_stretches_inside_working_hours(monday):
    availability = Availability(hours={1: {monday.weekday(): [(dt.time(8), dt.time(12))]}})
    availability.add_busy(1, at(monday, "09:00"), at(monday, "10:00"))
    availability.add_busy(1, at(monday, "10:15"), at(monday, "11:00"))
    gaps = availability.gaps(1, monday, after=at(monday, "00:00"), minimum=MIN30)
    assert gaps == [
        (at(monday, "08:00"), at(monday, "09:00")),
        (at(monday, "11:00"), at(monday, "12:00")),
    ]


# The free-slot search reads a short window first --------------------------------------


def test_free_slots_read_only_the_first_window_when_it_has_enough(
    practitioner, monday, django_assert_num_queries
):
    _only_mornings(practitioner)
    after = at(monday, "00:00")
    with CaptureQueriesContext(connection) as captured:
        slots = selectors.free_slots(
            practitioner=practitioner, duration=MIN30, after=after, count=3
        )
    assert [s.starts_at for s in slots] == [
        at(monday, "08:00"),
        at(monday, "08:15"),
        at(monday, "08:30"),
    ]
    windows = [
        q["sql"]
        for q in captured.captured_queries
        if '"clinic_appointment"' in q["sql"] or "EXECUTE clinic_live_visits_" in q["sql"]
    ]
    # The first window ends at the clinic's midnight after tomorrow.
    first_window_end = at(monday + dt.timedelta(days=selectors.FREE_SLOT_WINDOWS_DAYS[0]), "00:00")
    assert len(windows) == 1
    # The appointments read end at the first window, not 60 days ahead.
    # The latest time in the query is the first window's end. SQLite shows times as naive
    # UTC, PostgreSQL with the connection's offset: compare them as instants.
    stamps = [
        dt.datetime.fromisoformat(text)
        for text in re.findall(r"'(\d{4}-\d\d-\d\d[ T][\d:.]+(?:[+-]\d\d:\d\d)?)'", windows[0])
    ]
    instants = [s if s.tzinfo else s.replace(tzinfo=dt.UTC) for s in stamps]
    assert instants and max(instants) == first_window_end


def test_free_slots_read_further_when_the_first_window_is_full(
    practitioner, monday, django_assert_num_queries
):
    _only_mornings(practitioner)
    for day in range(5):  # Monday to Friday mornings fully booked
        for start in ("08:00", "09:00"):
            AppointmentFactory(
                practitioner=practitioner,
                starts_at=at(monday + dt.timedelta(days=day), start),
                ends_at=at(monday + dt.timedelta(days=day), start) + 2 * MIN30,
            )
    # practitioner given: working hours with time off and clinic closures, and the
    # appointments of each window searched: today and tomorrow, then up to a week after
    # tomorrow.
    assert selectors.FREE_SLOT_WINDOWS_DAYS == (2, 8)
    with django_assert_num_queries(3):
        slots = selectors.free_slots(
            practitioner=practitioner, duration=MIN30, after=at(monday, "00:00"), count=2
        )
    # Mornings Monday to Friday are booked; the weekend has no hours.
    next_monday = monday + dt.timedelta(days=7)
    assert [s.starts_at for s in slots] == [at(next_monday, "08:00"), at(next_monday, "08:15")]


def test_free_slots_read_tomorrow_with_today_when_today_is_full(
    practitioner, monday, django_assert_num_queries
):
    """Searched in the small hours of a day booked up, tomorrow's first free times come
    from the same read: the first window ends at midnight after tomorrow, not 24 hours on."""
    _only_mornings(practitioner)
    for start in ("08:00", "09:00"):
        AppointmentFactory(
            practitioner=practitioner,
            starts_at=at(monday, start),
            ends_at=at(monday, start) + 2 * MIN30,
        )
    # working hours with time off and closures, appointments
    with django_assert_num_queries(2):
        slots = selectors.free_slots(
            practitioner=practitioner, duration=MIN30, after=at(monday, "03:00"), count=2
        )
    tuesday = monday + dt.timedelta(days=1)
    assert [s.starts_at for s in slots] == [at(tuesday, "08:00"), at(tuesday, "08:15")]


def test_free_starts_stop_at_the_window_end(practitioner, monday):
    """Busy intervals are loaded up to ``until``: a slot ending after it could be taken."""
    availability = Availability(hours={practitioner.pk: {0: [(dt.time(8), dt.time(10))]}})
    starts = list(
        availability.free_starts(
            practitioner.pk,
            after=at(monday, "00:00"),
            until=at(monday, "09:00"),
            duration=MIN30,
            step=dt.timedelta(minutes=15),
        )
    )
    assert starts == [at(monday, "08:00"), at(monday, "08:15"), at(monday, "08:30")]


def test_the_availability_read_returns_each_relevant_visit_once_and_nothing_else(
    practitioner, other_practitioner, patient, room, monday
):
    """The practitioner's, the patient's and the room's visits come from one part each
    (selectors._live_appointments_sql): a visit that is all three is read once; a visit
    that is none of them, cancelled, moved away or outside the window is not read."""
    from tests.factories import PatientFactory, RoomFactory

    stranger, other_room = PatientFactory(), RoomFactory(name="Room B")
    all_three = AppointmentFactory(
        practitioner=practitioner, patient=patient, room=room, starts_at=at(monday, "09:00")
    )
    own = AppointmentFactory(
        practitioner=practitioner, patient=stranger, starts_at=at(monday, "10:00")
    )
    patients = AppointmentFactory(
        practitioner=other_practitioner, patient=patient, starts_at=at(monday, "11:00")
    )
    rooms = AppointmentFactory(
        practitioner=other_practitioner, patient=stranger, room=room, starts_at=at(monday, "12:00")
    )
    moved = AppointmentFactory(
        practitioner=practitioner, patient=stranger, starts_at=at(monday, "13:00")
    )
    AppointmentFactory(  # none of theirs
        practitioner=other_practitioner,
        patient=stranger,
        room=other_room,
        starts_at=at(monday, "14:00"),
    )
    AppointmentFactory(
        practitioner=practitioner,
        patient=stranger,
        starts_at=at(monday, "15:00"),
        status=AppointmentStatus.CANCELLED,
    )
    AppointmentFactory(
        practitioner=practitioner, starts_at=at(monday + dt.timedelta(days=9), "09:00")
    )
    visits: list[selectors.BusyVisit] = []
    selectors._availability(
        [practitioner.pk],
        at(monday, "00:00"),
        at(monday + dt.timedelta(days=1), "00:00"),
        patient=patient,
        room=room,
        visits=visits,
        exclude_ids=[moved.pk],
    )
    found = [(v.starts_at, v.practitioner_name, v.room_name) for v in visits]
    assert found == [
        (all_three.starts_at, practitioner.display_name, "Room A"),
        (own.starts_at, practitioner.display_name, None),
        (patients.starts_at, other_practitioner.display_name, None),
        (rooms.starts_at, other_practitioner.display_name, "Room A"),
    ]


def test_the_availability_read_with_no_practitioner_reads_the_patients_visits(
    practitioner, patient, monday
):
    visit = AppointmentFactory(
        practitioner=practitioner, patient=patient, starts_at=at(monday, "09:00")
    )
    AppointmentFactory(practitioner=practitioner, starts_at=at(monday, "10:00"))
    visits: list[selectors.BusyVisit] = []
    selectors._availability(
        [], at(monday, "00:00"), at(monday, "23:00"), patient=patient, visits=visits
    )
    assert [v.starts_at for v in visits] == [visit.starts_at]
    assert selectors._availability([], at(monday, "00:00"), at(monday, "23:00")).busy == {}
