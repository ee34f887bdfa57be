"""Dispatch: what becomes a Reminder row, once, and what gets enqueued."""

import datetime as dt
import threading

import pytest
from django.db import connection

from clinic.models import AppointmentStatus, Reminder, ReminderKind, ReminderStatus
from clinic.reminders import services
from tests.factories import AppointmentFactory, PatientFactory

from .helpers import program_due

UTC = dt.UTC
# Thursday 15 January 2026, 18:05 in New York.
EVENING = dt.datetime(2026, 1, 15, 23, 5, tzinfo=UTC)


@pytest.fixture
def enqueued(monkeypatch):
    """Record what dispatch hands to the broker instead of publishing it."""
    calls = []

    def fake_enqueue(*, ids):
        calls.extend(ids)
        return len(ids)

    monkeypatch.setattr(services, "reminders_enqueue", fake_enqueue)
    return calls


pytestmark = pytest.mark.django_db


def test_due_program_gets_one_row_and_one_send(enqueued, django_capture_on_commit_callbacks):
    program = program_due()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.reminders_dispatch(now=EVENING)
    reminder = Reminder.objects.get()
    assert reminder.kind == ReminderKind.EXERCISE
    assert reminder.program == program
    assert reminder.status == ReminderStatus.PENDING
    assert reminder.key == f"exercise:{program.id}:2026-01-15"
    assert reminder.due_at == dt.datetime(2026, 1, 15, 23, 0, tzinfo=UTC)
    assert enqueued == [reminder.id]
    assert result.created == 1


def test_a_second_run_creates_and_enqueues_nothing(enqueued, django_capture_on_commit_callbacks):
    program_due()
    with django_capture_on_commit_callbacks(execute=True):
        services.reminders_dispatch(now=EVENING)
        second = services.reminders_dispatch(now=EVENING + dt.timedelta(minutes=1))
    assert Reminder.objects.count() == 1
    assert second.created == 0
    assert len(enqueued) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"patient_reminders_opt_in": False},
        {"patient_email": ""},
        {"patient_archived_at": dt.datetime(2026, 1, 1, tzinfo=UTC)},
        {"reminders_enabled": False},
        {"status": "ended"},
        {"start": dt.date(2026, 1, 16)},
        {"end_date": dt.date(2026, 1, 14)},
        {"at": dt.time(18, 30)},
    ],
    ids=[
        "no-consent",
        "no-email",
        "archived",
        "reminders-off",
        "ended",
        "not-started",
        "finished",
        "not-yet-time",
    ],
)
def test_no_reminder_without_every_condition(enqueued, change):
    program_due(**change)
    services.reminders_dispatch(now=EVENING)
    assert not Reminder.objects.exists()


def test_the_local_weekday_decides(enqueued):
    program = program_due()
    program.reminder_days = [0, 2, 4]  # Thursday is 3
    program.save()
    services.reminders_dispatch(now=EVENING)
    assert not Reminder.objects.exists()


def test_each_patient_is_reminded_at_their_own_local_time(enqueued):
    new_york = program_due(tz="America/New_York", at=dt.time(18, 0))
    madrid = program_due(tz="Europe/Madrid", at=dt.time(18, 0))
    # 17:05 UTC: 18:05 in Madrid, 12:05 in New York.
    services.reminders_dispatch(now=dt.datetime(2026, 1, 15, 17, 5, tzinfo=UTC))
    assert list(Reminder.objects.values_list("program_id", flat=True)) == [madrid.id]
    services.reminders_dispatch(now=EVENING)
    assert set(Reminder.objects.values_list("program_id", flat=True)) == {madrid.id, new_york.id}


@pytest.mark.parametrize(
    ("tz", "day", "at", "fires_utc"),
    [
        ("America/New_York", dt.date(2026, 3, 8), dt.time(2, 30), dt.datetime(2026, 3, 8, 7, 0)),
        ("Europe/Madrid", dt.date(2026, 3, 29), dt.time(2, 30), dt.datetime(2026, 3, 29, 1, 0)),
    ],
)
def test_spring_forward_fires_at_the_first_valid_instant(enqueued, tz, day, at, fires_utc):
    program = program_due(tz=tz, at=at)
    fires = fires_utc.replace(tzinfo=UTC)
    minute = dt.timedelta(minutes=1)
    services.reminders_dispatch(now=fires - minute)
    assert not Reminder.objects.exists()
    for offset in range(0, 90, 1):  # every minute for an hour and a half
        services.reminders_dispatch(now=fires + offset * minute)
    reminder = Reminder.objects.get()
    assert reminder.due_at == fires
    assert reminder.key == f"exercise:{program.id}:{day.isoformat()}"


@pytest.mark.parametrize(
    ("tz", "day", "at", "first_utc"),
    [
        ("America/New_York", dt.date(2026, 11, 1), dt.time(1, 30), dt.datetime(2026, 11, 1, 5, 30)),
        ("Europe/Madrid", dt.date(2026, 10, 25), dt.time(2, 30), dt.datetime(2026, 10, 25, 0, 30)),
    ],
)
def test_fall_back_fires_once_in_the_repeated_hour(enqueued, tz, day, at, first_utc):
    program_due(tz=tz, at=at)
    first = first_utc.replace(tzinfo=UTC)
    minute = dt.timedelta(minutes=1)
    for offset in range(-5, 130):  # through both occurrences of the wall time
        services.reminders_dispatch(now=first + offset * minute)
    reminder = Reminder.objects.get()
    assert reminder.due_at == first
    # (Enqueued again every few minutes: the fake broker never runs the send.)
    assert set(enqueued) == {reminder.id}


def test_booked_appointment_within_the_window_gets_a_reminder(enqueued, settings):
    settings.APPOINTMENT_REMINDER_HOURS = 24
    now = dt.datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    soon = AppointmentFactory(starts_at=now + dt.timedelta(hours=23))
    AppointmentFactory(starts_at=now + dt.timedelta(hours=25))  # not yet
    AppointmentFactory(starts_at=now + dt.timedelta(hours=5), status=AppointmentStatus.CANCELLED)
    # Appointment reminders follow the appointment emails' consent, not the exercise one.
    AppointmentFactory(
        starts_at=now + dt.timedelta(hours=6),
        patient=PatientFactory(appointment_emails_opt_in=False),
    )
    no_exercise = AppointmentFactory(
        starts_at=now + dt.timedelta(hours=7), patient=PatientFactory(reminders_opt_in=False)
    )
    services.reminders_dispatch(now=now)
    assert Reminder.objects.get(appointment=no_exercise).kind == ReminderKind.APPOINTMENT
    reminder = Reminder.objects.exclude(appointment=no_exercise).get()
    assert reminder.appointment == soon
    assert reminder.kind == ReminderKind.APPOINTMENT
    assert reminder.due_at == soon.starts_at - dt.timedelta(hours=24)
    assert reminder.key == f"appointment:{soon.id}:2026-01-16T11:00Z"


def test_after_a_reschedule_only_the_new_time_is_reminded(enqueued):
    now = dt.datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    old = AppointmentFactory(starts_at=now + dt.timedelta(hours=20))
    services.reminders_dispatch(now=now)
    # Moved: the old visit is cancelled and a new one booked (the scheduling service).
    old.status = AppointmentStatus.CANCELLED
    old.save()
    new = AppointmentFactory(
        patient=old.patient, starts_at=now + dt.timedelta(hours=22), rescheduled_from=old
    )
    services.reminders_dispatch(now=now + dt.timedelta(minutes=1))
    keys = set(Reminder.objects.values_list("key", flat=True))
    assert keys == {
        f"appointment:{old.id}:2026-01-16T08:00Z",
        f"appointment:{new.id}:2026-01-16T10:00Z",
    }
    # The old row, had it not gone yet, is skipped by the send task's re-check.
    assert services._reason_to_skip(
        Reminder.objects.select_related("patient", "appointment").get(appointment=old), now=now
    )


def test_an_appointment_moved_in_place_gets_a_new_key(enqueued):
    now = dt.datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    appointment = AppointmentFactory(starts_at=now + dt.timedelta(hours=20))
    services.reminders_dispatch(now=now)
    appointment.starts_at += dt.timedelta(hours=2)
    appointment.ends_at += dt.timedelta(hours=2)
    appointment.save()
    services.reminders_dispatch(now=now)
    assert Reminder.objects.count() == 2
    old = Reminder.objects.select_related("patient", "appointment").order_by("id").first()
    assert (
        services._reason_to_skip(old, now=now).error == "The appointment was moved to another time."
    )


def test_dispatch_is_batched_not_per_patient(enqueued, settings, django_assert_max_num_queries):
    settings.REMINDER_BATCH_SIZE = 10
    for _ in range(25):
        program_due()
    # Per batch of 10 programs: select programs, select existing keys, insert, read ids
    # (+ savepoint/transaction bookkeeping). 3 batches; plus appointments (1), the
    # stale-claim update (1), the two expiry updates (2) and the left-behind sweep (1);
    # questionnaires: the expiry of old requests, the visits and the plans (3).
    with django_assert_max_num_queries(3 * 6 + 5 + 3):
        result = services.reminders_dispatch(now=EVENING)
    assert result.created == 25
    assert Reminder.objects.count() == 25


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_create_and_enqueue_each_reminder_once(enqueued):
    for _ in range(30):
        program_due()
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            services.reminders_dispatch(now=EVENING)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    ids = list(Reminder.objects.values_list("id", flat=True))
    assert len(ids) == 30
    assert sorted(enqueued) == sorted(ids)  # each exactly once, by whichever inserted it
