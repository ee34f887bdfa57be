"""The send task's service: claim, re-check, send, and what happens when things break."""

import datetime as dt

import pytest
from django.utils import timezone

from clinic.models import AppointmentStatus, Reminder, ReminderStatus
from clinic.reminders import services
from tests.factories import AppointmentFactory, FrontDeskFactory

from .helpers import program_due, reminder_claim, reminder_send

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(services, "reminders_enqueue", lambda *, ids: len(ids))


def _exercise_reminder(**program_kw) -> Reminder:
    now = timezone.now()
    program = program_due(at=dt.time(0, 0), start=now.date() - dt.timedelta(days=7), **program_kw)
    return Reminder.objects.create(
        kind="exercise",
        patient=program.patient,
        program=program,
        due_at=now - dt.timedelta(minutes=1),
        key=f"exercise:{program.id}:{now.date()}",
    )


def _appointment_reminder(**kw) -> Reminder:
    appointment = AppointmentFactory(starts_at=timezone.now() + dt.timedelta(hours=20), **kw)
    return Reminder.objects.create(
        kind="appointment",
        patient=appointment.patient,
        appointment=appointment,
        due_at=timezone.now() - dt.timedelta(minutes=1),
        key=services.appointment_key(
            appointment_id=appointment.id, starts_at=appointment.starts_at
        ),
    )


def test_sends_once_and_records_it(smtp_server, smtp_settings):
    smtp_settings(smtp_server)
    reminder = _exercise_reminder()
    assert reminder_send(reminder_id=reminder.id).outcome == "sent"
    # The same task delivered again (acks_late redelivery): nothing happens.
    assert reminder_send(reminder_id=reminder.id).outcome == "not_claimed"
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    assert reminder.sent_at is not None
    assert reminder.attempts == 1
    assert len(smtp_server.envelopes) == 1
    assert smtp_server.envelopes[0].rcpt_tos == [reminder.patient.email]


def test_the_claim_is_a_conditional_update_only_one_caller_wins():
    reminder = _exercise_reminder()
    now = timezone.now()
    assert reminder_claim(reminder_id=reminder.id, now=now) is True
    assert reminder_claim(reminder_id=reminder.id, now=now) is False
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.SENDING, 1)


@pytest.mark.parametrize(
    ("make", "change", "reason"),
    [
        (
            _exercise_reminder,
            lambda r: _set(r.patient, reminders_opt_in=False),
            "turned reminders off",
        ),
        (_exercise_reminder, lambda r: _set(r.program, status="ended"), "no longer active"),
        (_exercise_reminder, lambda r: _set(r.program, reminders_enabled=False), "turned off"),
        (_exercise_reminder, lambda r: _set(r.patient, email=""), "no email"),
        (
            _appointment_reminder,
            lambda r: _set(r.appointment, status=AppointmentStatus.CANCELLED),
            "cancelled",
        ),
    ],
    ids=["consent-withdrawn", "program-ended", "program-reminders-off", "no-email", "cancelled"],
)
def test_a_reminder_whose_reason_is_gone_is_skipped_not_sent(
    smtp_server, smtp_settings, make, change, reason
):
    smtp_settings(smtp_server)
    reminder = make()
    change(reminder)
    result = reminder_send(reminder_id=reminder.id)
    reminder.refresh_from_db()
    assert result.outcome == "skipped"
    assert reminder.status == ReminderStatus.SKIPPED
    assert reason in reminder.last_error
    assert smtp_server.envelopes == []


def _set(obj, **fields):
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()


def test_smtp_down_waits_with_backoff_and_never_fails_while_useful(
    smtp_down, smtp_settings, settings
):
    smtp_settings(smtp_down)  # nothing listens on the port
    settings.REMINDER_RETRY_BASE_SECONDS = 60
    settings.REMINDER_RETRY_MAX_SECONDS = 600
    reminder = _exercise_reminder()
    now = timezone.now()

    first = reminder_send(reminder_id=reminder.id, now=now)
    reminder.refresh_from_db()
    assert (first.outcome, first.retry_in) == ("retry", 60)
    assert (reminder.status, reminder.reason) == (ReminderStatus.PENDING, "mail_server")
    assert "ConnectionRefusedError" in reminder.last_error
    assert reminder.next_attempt_at >= now + dt.timedelta(seconds=59)
    assert reminder.enqueued_at is None  # the dispatch sweep publishes it when due
    # Not before the backoff has passed, whoever asks.
    assert reminder_send(reminder_id=reminder.id, now=now).outcome == "not_claimed"

    delays = []
    for _ in range(8):  # far more attempts than the old retry budget of 5
        result = reminder_send(reminder_id=reminder.id, now=reminder.next_attempt_at)
        delays.append(result.retry_in)
        reminder.refresh_from_db()
    assert delays == [120, 240, 480, 600, 600, 600, 600, 600]  # exponential, capped
    assert (reminder.status, reminder.attempts) == (ReminderStatus.PENDING, 9)


def test_the_dispatch_sweep_sends_a_waiting_reminder_again_once_its_time_has_come(
    smtp_down, smtp_settings, monkeypatch
):
    smtp_settings(smtp_down)
    published = []
    monkeypatch.setattr(
        services, "reminders_enqueue", lambda *, ids: published.extend(ids) or len(ids)
    )
    reminder = _exercise_reminder()
    reminder_send(reminder_id=reminder.id)
    reminder.refresh_from_db()
    services.reminders_dispatch(now=reminder.next_attempt_at - dt.timedelta(seconds=1))
    assert published == []  # not before its time
    services.reminders_dispatch(now=reminder.next_attempt_at)
    assert published == [reminder.id]


def test_a_waiting_reminder_expires_once_no_longer_useful_and_is_not_failed(
    smtp_down, smtp_settings, settings
):
    smtp_settings(smtp_down)
    reminder = _exercise_reminder()
    appointment = _appointment_reminder()
    for row in (reminder, appointment):
        assert reminder_send(reminder_id=row.id).outcome == "retry"
    past_grace = reminder.due_at + dt.timedelta(
        hours=settings.EXERCISE_REMINDER_GRACE_HOURS, minutes=1
    )
    assert services.reminders_dispatch(now=past_grace).expired == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.reason) == ("expired", "too_late")
    started = appointment.appointment.starts_at
    assert services.reminders_dispatch(now=started).expired == 1
    appointment.refresh_from_db()
    assert (appointment.status, appointment.reason) == ("expired", "appointment_started")
    assert not Reminder.objects.filter(status=ReminderStatus.FAILED).exists()


def test_smtp_down_then_up_delivers_exactly_once(smtp_down, smtp_settings):
    smtp_settings(smtp_down)
    reminder = _exercise_reminder()
    assert reminder_send(reminder_id=reminder.id).outcome == "retry"
    smtp_down.start()
    reminder.refresh_from_db()
    assert reminder_send(reminder_id=reminder.id, now=reminder.next_attempt_at).outcome == "sent"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.last_error) == ("sent", 2, "")
    assert len(smtp_down.envelopes) == 1


def test_a_permanent_refusal_fails_at_once(smtp_server, smtp_settings):
    smtp_settings(smtp_server)
    smtp_server.reply = "554 Transaction failed: mailbox disabled"
    reminder = _exercise_reminder()
    assert reminder_send(reminder_id=reminder.id).outcome == "failed"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.reason) == (ReminderStatus.FAILED, "message_refused")
    assert "554" in reminder.last_error and "mailbox disabled" in reminder.last_error


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no except clause catches it."""


def test_a_worker_killed_mid_send_causes_no_duplicate(
    smtp_server, smtp_settings, monkeypatch, settings
):
    smtp_settings(smtp_server)
    reminder = _exercise_reminder()
    real_flush = services._Recorder.flush

    def die_before_recording_a_send(recorder):
        if any(key[0] == ReminderStatus.SENT for key in recorder.waiting):
            raise WorkerKilled
        real_flush(recorder)

    monkeypatch.setattr(services._Recorder, "flush", die_before_recording_a_send)
    with pytest.raises(WorkerKilled):
        reminder_send(reminder_id=reminder.id)
    monkeypatch.setattr(services._Recorder, "flush", real_flush)
    assert len(smtp_server.envelopes) == 1  # it did go out
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENDING

    # acks_late hands the task to another worker: it cannot claim the row.
    assert reminder_send(reminder_id=reminder.id).outcome == "not_claimed"
    # Dispatch, while the claim is fresh, leaves it alone ...
    services.reminders_dispatch()
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENDING
    # ... and once it is older than the hard time limit, marks it "not confirmed".
    later = timezone.now() + dt.timedelta(seconds=settings.REMINDER_STALE_SENDING_SECONDS + 1)
    assert services.reminders_dispatch(now=later).stale == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.reason) == ("unconfirmed", "worker_stopped")
    assert reminder.last_error == services.STALE_CLAIM_ERROR
    # Not a failure: staff cannot "retry" it as if it had failed.
    assert services.reminder_retry(reminder=reminder, acting_user=FrontDeskFactory()) is False
    services.reminders_dispatch(now=later + dt.timedelta(hours=1))
    assert len(smtp_server.envelopes) == 1  # never re-sent automatically


def test_staff_retry_of_a_failed_reminder_sends_it_once(smtp_server, smtp_settings):
    smtp_settings(smtp_server)
    reminder = _exercise_reminder()
    Reminder.objects.filter(id=reminder.id).update(
        status=ReminderStatus.FAILED, attempts=5, last_error="SMTP down"
    )
    staff = FrontDeskFactory()
    assert services.reminder_retry(reminder=reminder, acting_user=staff) is True
    assert services.reminder_retry(reminder=reminder, acting_user=staff) is False  # not failed now
    assert reminder_send(reminder_id=reminder.id).outcome == "sent"
    assert len(smtp_server.envelopes) == 1


def test_a_stale_exercise_reminder_expires(smtp_server, smtp_settings, settings):
    smtp_settings(smtp_server)
    reminder = _exercise_reminder()
    later = reminder.due_at + dt.timedelta(hours=settings.EXERCISE_REMINDER_GRACE_HOURS, minutes=1)
    assert reminder_send(reminder_id=reminder.id, now=later).outcome == "expired"
    assert smtp_server.envelopes == []


def test_a_moved_appointment_reminder_is_skipped(smtp_server, smtp_settings):
    smtp_settings(smtp_server)
    reminder = _appointment_reminder()
    _set(
        reminder.appointment,
        starts_at=reminder.appointment.starts_at + dt.timedelta(hours=1),
        ends_at=reminder.appointment.ends_at + dt.timedelta(hours=1),
    )
    assert reminder_send(reminder_id=reminder.id).outcome == "skipped"
    assert smtp_server.envelopes == []
