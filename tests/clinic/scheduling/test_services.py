import datetime as dt

import pytest
from django.utils import timezone

from clinic.models import (
    Appointment,
    AppointmentKind,
    AppointmentSeries,
    AppointmentStatus,
    AuditAction,
    AuditEvent,
    SchedulingSettings,
    TimeOff,
)
from clinic.scheduling import services
from tests.clinic.scheduling.conftest import CLINIC_TZ, at, next_fall_back
from tests.factories import AppointmentFactory, PatientFactory, RoomFactory

pytestmark = pytest.mark.django_db

MIN30 = dt.timedelta(minutes=30)


def book(*, patient, practitioner, start, minutes=30, room=None, by=None, **extra):
    return services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        kind=extra.pop("kind", AppointmentKind.FOLLOW_UP),
        starts_at=start,
        # Real minutes added to the instant (wall-clock arithmetic breaks on DST days).
        ends_at=start.astimezone(dt.UTC) + dt.timedelta(minutes=minutes),
        room=room,
        acting_user=by or practitioner.user,
        **extra,
    )


def test_booking_saves_the_visit_and_audits_it_with_the_patient(
    practitioner, patient, monday, front_desk
):
    visit = book(
        patient=patient, practitioner=practitioner, start=at(monday, "10:00"), by=front_desk
    )
    assert visit.status == AppointmentStatus.BOOKED
    assert visit.starts_at == at(monday, "10:00")
    event = AuditEvent.objects.get(object_type="clinic.appointment", object_id=str(visit.pk))
    assert event.action == AuditAction.CREATE
    assert event.patient == patient
    assert event.actor == front_desk


@pytest.mark.parametrize(
    ("who", "subject"),
    [("practitioner", "the practitioner"), ("room", "the room"), ("patient", "the patient")],
)
def test_overlapping_visit_is_refused_as_slot_taken(
    practitioner, other_practitioner, patient, room, monday, who, subject
):
    book(patient=patient, practitioner=practitioner, start=at(monday, "10:00"), room=room)
    second = {
        "practitioner": dict(patient=PatientFactory(), practitioner=practitioner, room=None),
        "room": dict(patient=PatientFactory(), practitioner=other_practitioner, room=room),
        "patient": dict(patient=patient, practitioner=other_practitioner, room=None),
    }[who]
    with pytest.raises(services.SlotTaken) as error:
        book(start=at(monday, "10:15"), **second)
    assert "This slot is taken" in error.value.message
    assert subject in error.value.message
    assert Appointment.objects.count() == 1


def test_back_to_back_visits_do_not_overlap(practitioner, patient, monday):
    book(patient=patient, practitioner=practitioner, start=at(monday, "10:00"))
    book(patient=patient, practitioner=practitioner, start=at(monday, "10:30"))
    assert Appointment.objects.count() == 2


@pytest.mark.parametrize("status", [AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
def test_cancelled_and_no_show_slots_are_free_again(practitioner, patient, monday, status):
    AppointmentFactory(
        practitioner=practitioner, patient=patient, starts_at=at(monday, "10:00"), status=status
    )
    visit = book(patient=patient, practitioner=practitioner, start=at(monday, "10:00"))
    assert visit.pk


def test_outside_working_hours_needs_an_override(practitioner, patient, monday):
    with pytest.raises(services.OutsideWorkingHours) as error:
        book(patient=patient, practitioner=practitioner, start=at(monday, "18:45"))
    assert "outside" in error.value.message
    assert not Appointment.objects.exists()
    visit = book(
        patient=patient,
        practitioner=practitioner,
        start=at(monday, "18:45"),
        allow_outside_hours=True,
    )
    assert visit.ends_at == at(monday, "19:15")


def test_time_off_refuses_even_with_override(practitioner, patient, monday):
    TimeOff.objects.create(
        practitioner=practitioner,
        starts_at=at(monday, "09:00"),
        ends_at=at(monday, "12:00"),
        reason="Conference",
    )
    with pytest.raises(services.SchedulingError, match="away then \\(Conference\\)"):
        book(
            patient=patient,
            practitioner=practitioner,
            start=at(monday, "11:45"),
            allow_outside_hours=True,
        )
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("10:00", "09:30", "end after it starts"),
        ("10:00", "10:00", "end after it starts"),
        ("07:00", "19:00", "between 10 minutes and 4 hours"),
        ("10:00", "10:05", "between 10 minutes and 4 hours"),
    ],
)
def test_bad_times_are_refused_with_a_clear_message(
    practitioner, patient, monday, start, end, message
):
    with pytest.raises(services.SchedulingError, match=message):
        services.appointment_book(
            patient=patient,
            practitioner=practitioner,
            kind=AppointmentKind.FOLLOW_UP,
            starts_at=at(monday, start),
            ends_at=at(monday, end),
            acting_user=practitioner.user,
            allow_outside_hours=True,
        )
    assert not Appointment.objects.exists()


def test_booking_in_the_past_is_refused(practitioner, patient):
    start = timezone.now() - dt.timedelta(hours=1)
    with pytest.raises(services.SchedulingError, match="in the past"):
        book(patient=patient, practitioner=practitioner, start=start, allow_outside_hours=True)


def test_archived_patient_cannot_be_booked(practitioner, monday):
    patient = PatientFactory(archived_at=timezone.now())
    with pytest.raises(services.SchedulingError, match="archived"):
        book(patient=patient, practitioner=practitioner, start=at(monday, "10:00"))
    assert not Appointment.objects.exists()


def test_inactive_practitioner_and_room_cannot_be_booked(practitioner, patient, monday):
    room = RoomFactory(name="Old gym", active=False)
    with pytest.raises(services.SchedulingError, match="not in use"):
        book(patient=patient, practitioner=practitioner, start=at(monday, "10:00"), room=room)
    practitioner.active = False
    practitioner.save()
    with pytest.raises(services.SchedulingError, match="not taking bookings"):
        book(patient=patient, practitioner=practitioner, start=at(monday, "10:00"))


def test_visit_across_the_autumn_clock_change_lasts_its_real_length(practitioner, patient):
    day = next_fall_back()
    # 01:30 happens twice that night; the first (daylight time) is meant.
    start = dt.datetime(day.year, day.month, day.day, 1, 30, tzinfo=CLINIC_TZ)
    visit = book(
        patient=patient,
        practitioner=practitioner,
        start=start,
        minutes=60,
        allow_outside_hours=True,
    )
    visit.refresh_from_db()
    assert visit.ends_at - visit.starts_at == dt.timedelta(minutes=60)
    assert visit.starts_at.astimezone(dt.UTC).hour == 5  # 01:30 EDT
    local_end = visit.ends_at.astimezone(CLINIC_TZ)
    assert (local_end.hour, local_end.minute, local_end.utcoffset()) == (
        1,
        30,
        dt.timedelta(hours=-5),
    )
    # The second 01:30 (standard time) is inside that visit: taken.
    with pytest.raises(services.SlotTaken):
        book(
            patient=PatientFactory(),
            practitioner=practitioner,
            start=visit.starts_at + dt.timedelta(minutes=45),
            allow_outside_hours=True,
        )


# The status flow -------------------------------------------------------------------


def _today_visit(practitioner, patient, *, minutes_from_now: int):
    start = timezone.now() + dt.timedelta(minutes=minutes_from_now)
    return AppointmentFactory(practitioner=practitioner, patient=patient, starts_at=start)


def test_booked_to_checked_in_to_completed(practitioner, patient, front_desk, clinic_noon):
    visit = _today_visit(practitioner, patient, minutes_from_now=10)
    services.appointment_check_in(appointment=visit, acting_user=front_desk)
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CHECKED_IN
    assert visit.checked_in_at is not None
    services.appointment_complete(appointment=visit, acting_user=front_desk)
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.COMPLETED
    actions = list(
        AuditEvent.objects.filter(object_id=str(visit.pk), patient=patient).values_list(
            "detail", flat=True
        )
    )
    assert any("checked in" in d for d in actions) and any("completed" in d for d in actions)


@pytest.mark.parametrize(
    ("status", "service"),
    [
        (AppointmentStatus.BOOKED, services.appointment_complete),
        (AppointmentStatus.COMPLETED, services.appointment_check_in),
        (AppointmentStatus.CANCELLED, services.appointment_check_in),
        (AppointmentStatus.NO_SHOW, services.appointment_complete),
    ],
)
def test_invalid_transitions_are_refused_and_change_nothing(
    practitioner, patient, front_desk, status, service, clinic_noon
):
    visit = _today_visit(practitioner, patient, minutes_from_now=5)
    Appointment.objects.filter(pk=visit.pk).update(status=status)
    with pytest.raises(services.InvalidTransition, match="cannot be"):
        service(appointment=visit, acting_user=front_desk)
    visit.refresh_from_db()
    assert visit.status == status


def test_check_in_only_on_the_day(practitioner, patient, monday, front_desk):
    visit = AppointmentFactory(
        practitioner=practitioner, patient=patient, starts_at=at(monday, "10:00")
    )
    with pytest.raises(services.InvalidTransition, match="day of their visit"):
        services.appointment_check_in(appointment=visit, acting_user=front_desk)


def test_no_show_only_after_the_start(practitioner, patient, front_desk, clinic_noon):
    visit = _today_visit(practitioner, patient, minutes_from_now=30)
    with pytest.raises(services.InvalidTransition, match="once it has started"):
        services.appointment_mark_no_show(appointment=visit, acting_user=front_desk)
    Appointment.objects.filter(pk=visit.pk).update(
        starts_at=timezone.now() - dt.timedelta(minutes=20),
        ends_at=timezone.now() + dt.timedelta(minutes=10),
    )
    services.appointment_mark_no_show(appointment=visit, acting_user=front_desk)
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.NO_SHOW


def test_cancel_needs_a_reason(practitioner, patient, monday, front_desk):
    visit = AppointmentFactory(
        practitioner=practitioner, patient=patient, starts_at=at(monday, "10:00")
    )
    with pytest.raises(services.SchedulingError, match="reason"):
        services.appointment_cancel(appointment=visit, reason="   ", acting_user=front_desk)
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_cancel_under_the_window_is_flagged_late(practitioner, patient, front_desk):
    soon = AppointmentFactory(
        practitioner=practitioner,
        patient=patient,
        starts_at=timezone.now() + dt.timedelta(hours=5),
    )
    later = AppointmentFactory(
        practitioner=practitioner,
        patient=patient,
        starts_at=timezone.now() + dt.timedelta(hours=30),
    )
    services.appointment_cancel(appointment=soon, reason="Car broke down", acting_user=front_desk)
    services.appointment_cancel(appointment=later, reason="Work", acting_user=front_desk)
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.late_cancellation is True and soon.cancel_reason == "Car broke down"
    assert later.late_cancellation is False
    assert soon.status == later.status == AppointmentStatus.CANCELLED


def test_late_window_is_configurable(practitioner, patient, front_desk):
    SchedulingSettings.objects.create(pk=1, late_cancellation_hours=48)
    visit = AppointmentFactory(
        practitioner=practitioner,
        patient=patient,
        starts_at=timezone.now() + dt.timedelta(hours=30),
    )
    services.appointment_cancel(appointment=visit, reason="Work", acting_user=front_desk)
    visit.refresh_from_db()
    assert visit.late_cancellation is True


def test_reschedule_keeps_the_history(
    practitioner, other_practitioner, patient, monday, front_desk
):
    old = book(patient=patient, practitioner=practitioner, start=at(monday, "10:00"))
    new = services.appointment_reschedule(
        appointment=old,
        starts_at=at(monday, "10:15"),
        ends_at=at(monday, "10:45"),
        practitioner=other_practitioner,
        room=None,
        acting_user=front_desk,
    )
    old.refresh_from_db()
    assert old.status == AppointmentStatus.CANCELLED and old.cancel_reason == "Rescheduled"
    assert old.late_cancellation is False
    assert new.rescheduled_from == old
    assert new.practitioner == other_practitioner and new.kind == old.kind
    assert AuditEvent.objects.filter(object_id=str(new.pk), detail__contains="rescheduled").exists()


def test_failed_reschedule_leaves_the_old_visit_booked(practitioner, patient, monday, front_desk):
    old = book(patient=patient, practitioner=practitioner, start=at(monday, "10:00"))
    book(patient=PatientFactory(), practitioner=practitioner, start=at(monday, "11:00"))
    with pytest.raises(services.SlotTaken):
        services.appointment_reschedule(
            appointment=old,
            starts_at=at(monday, "11:00"),
            ends_at=at(monday, "11:30"),
            practitioner=practitioner,
            room=None,
            acting_user=front_desk,
        )
    old.refresh_from_db()
    assert old.status == AppointmentStatus.BOOKED
    assert Appointment.objects.count() == 2


def test_only_booked_visits_can_be_moved(practitioner, patient, monday, front_desk):
    old = AppointmentFactory(
        practitioner=practitioner,
        patient=patient,
        starts_at=at(monday, "10:00"),
        status=AppointmentStatus.CANCELLED,
    )
    with pytest.raises(services.InvalidTransition, match="only booked visits"):
        services.appointment_reschedule(
            appointment=old,
            starts_at=at(monday, "12:00"),
            ends_at=at(monday, "12:30"),
            practitioner=practitioner,
            room=None,
            acting_user=front_desk,
        )


# Series ---------------------------------------------------------------------------


def _series_starts(monday, count, hhmm="09:00"):
    return [at(monday + dt.timedelta(days=7 * (i // 2) + 3 * (i % 2)), hhmm) for i in range(count)]


def test_series_books_all_visits(practitioner, patient, monday, front_desk):
    starts = _series_starts(monday, 12)
    series = services.series_book(
        patient=patient,
        practitioner=practitioner,
        kind=AppointmentKind.FOLLOW_UP,
        starts=starts,
        duration=dt.timedelta(minutes=45),
        acting_user=front_desk,
    )
    visits = list(series.appointments.order_by("starts_at"))
    assert [v.starts_at for v in visits] == starts
    assert all(v.ends_at - v.starts_at == dt.timedelta(minutes=45) for v in visits)


def test_series_books_all_or_none(practitioner, patient, monday, front_desk):
    starts = _series_starts(monday, 6)
    book(patient=PatientFactory(), practitioner=practitioner, start=starts[4])
    with pytest.raises(services.SlotTaken, match="No visit of the series was booked"):
        services.series_book(
            patient=patient,
            practitioner=practitioner,
            kind=AppointmentKind.FOLLOW_UP,
            starts=starts,
            duration=MIN30,
            acting_user=front_desk,
        )
    assert Appointment.objects.filter(patient=patient).count() == 0
    assert AppointmentSeries.objects.count() == 0


def test_cancel_this_and_following(practitioner, patient, monday, front_desk):
    series = services.series_book(
        patient=patient,
        practitioner=practitioner,
        kind=AppointmentKind.FOLLOW_UP,
        starts=_series_starts(monday, 6),
        duration=MIN30,
        acting_user=front_desk,
    )
    visits = list(series.appointments.order_by("starts_at"))
    cancelled = services.series_cancel_following(
        appointment=visits[2], reason="Discharged early", acting_user=front_desk
    )
    assert len(cancelled) == 4
    statuses = list(series.appointments.order_by("starts_at").values_list("status", flat=True))
    assert statuses == ["booked", "booked"] + ["cancelled"] * 4


def test_cancel_this_one_leaves_the_rest_of_the_series(practitioner, patient, monday, front_desk):
    series = services.series_book(
        patient=patient,
        practitioner=practitioner,
        kind=AppointmentKind.FOLLOW_UP,
        starts=_series_starts(monday, 4),
        duration=MIN30,
        acting_user=front_desk,
    )
    visits = list(series.appointments.order_by("starts_at"))
    services.appointment_cancel(appointment=visits[1], reason="Holiday", acting_user=front_desk)
    statuses = list(series.appointments.order_by("starts_at").values_list("status", flat=True))
    assert statuses == ["booked", "cancelled", "booked", "booked"]


def test_working_hours_must_end_after_start_and_not_overlap(practitioner, manager):
    with pytest.raises(services.SchedulingError, match="end after"):
        services.working_hours_add(
            practitioner=practitioner,
            weekday=0,
            start=dt.time(12),
            end=dt.time(9),
            acting_user=manager,
        )
    with pytest.raises(services.SchedulingError, match="overlap"):
        services.working_hours_add(
            practitioner=practitioner,
            weekday=0,
            start=dt.time(8),
            end=dt.time(9),
            acting_user=manager,
        )


def test_feed_token_regenerate_revokes_the_old_one(practitioner, manager):
    first = services.practitioner_feed_regenerate(practitioner=practitioner, acting_user=manager)
    second = services.practitioner_feed_regenerate(practitioner=practitioner, acting_user=manager)
    assert first != second and len(second) >= 40
    practitioner.refresh_from_db()
    assert practitioner.feed_token == second
    services.practitioner_feed_revoke(practitioner=practitioner, acting_user=manager)
    practitioner.refresh_from_db()
    assert practitioner.feed_token is None
