"""Real parts: a Celery worker with beat, the broker (Redis on CI), a loopback SMTP server.

The worker runs in a subprocess on the test database (transactional_db, so it sees
committed rows), consumes a private queue and runs the dispatch on its beat schedule
(every 2 s here instead of 60 s).
"""

import datetime as dt
import os
import re
import signal
import time
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from clinic.celery import app as celery_app
from clinic.models import AppointmentStatus, Reminder, ReminderStatus
from clinic.reminders import services
from patients.models import PainReport
from tests.factories import AppointmentFactory, ExerciseFactory, PatientFactory
from treatments.models import ExerciseCompletion, HomeExerciseProgram

from .conftest import free_port, wait_until
from .helpers import program_due

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://[^\s<>\"]+?(/r/[edpu]/[^\s<>\"/]+/)")


def _program_due_now(**kw):
    """A program whose local reminder time passed two minutes ago (New York)."""
    tz = ZoneInfo("America/New_York")
    local_now = timezone.now().astimezone(tz)
    at = (local_now - dt.timedelta(minutes=2)).time().replace(second=0, microsecond=0)
    return program_due(at=at, start=local_now.date() - dt.timedelta(days=7), **kw)


def _links(text: str) -> dict[str, str]:
    return {path[3]: path for path in LINK.findall(text)}


def test_beat_dispatches_and_a_worker_delivers_through_smtp(
    require_service, reminder_worker, smtp_server, settings
):
    require_service("redis")
    program = _program_due_now(patient_first_name="Grace", patient_preferred_language="en")
    program.prescriptions.create(
        exercise=ExerciseFactory(name="Wall squat"), sets=2, reps=8, position=1
    )
    lucia = PatientFactory(
        first_name="Lucía",
        email="lucia@example.com",
        preferred_language="es",
        timezone="Europe/Madrid",
    )
    appointment = AppointmentFactory(
        patient=lucia, starts_at=timezone.now().replace(microsecond=0) + dt.timedelta(hours=3)
    )
    # Nothing for these: a cancelled visit, a patient who said no.
    AppointmentFactory(
        starts_at=timezone.now() + dt.timedelta(hours=4), status=AppointmentStatus.CANCELLED
    )
    _program_due_now(patient_reminders_opt_in=False)

    reminder_worker(smtp_server)
    messages = smtp_server.wait_for(2, timeout=120)
    time.sleep(7)  # a few more beat ticks: nothing is sent twice
    assert len(smtp_server.envelopes) == 2
    rows = Reminder.objects.order_by("kind")
    assert [(r.kind, r.status) for r in rows] == [("appointment", "sent"), ("exercise", "sent")]
    assert all(r.sent_at and r.attempts == 1 for r in rows)

    by_recipient = {m["To"]: m for m in messages}
    english = by_recipient[program.patient.email]
    spanish = by_recipient[lucia.email]

    # Headers.
    for message in (english, spanish):
        assert message["From"].addresses[0].display_name == settings.CLINIC_NAME
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Each turns off its own kind only: exercise reminders, appointment emails.
    assert english["List-Unsubscribe"].strip().startswith(f"<{settings.SITE_URL}/r/u/")
    assert spanish["List-Unsubscribe"].strip().startswith(f"<{settings.SITE_URL}/r/ua/")
    # Both parts, the language, nothing clinical.
    text = english.get_body(("plain",)).get_content()
    html = english.get_body(("html",)).get_content()
    assert "Hello Grace" in text and "Hello Grace" in html
    assert "Wall squat" not in text + html
    es_text = spanish.get_body(("plain",)).get_content()
    assert "Hola, Lucía" in es_text and "Recordatorio" in spanish["Subject"]
    local = appointment.starts_at.astimezone(ZoneInfo("Europe/Madrid"))
    assert local.strftime("%H:%M") in spanish["Subject"]
    ics = next(
        part for part in spanish.iter_attachments() if part.get_filename() == "appointment.ics"
    )
    assert "BEGIN:VEVENT" in ics.get_content()

    # The links work when followed.
    links = _links(text)
    assert set(links) == {"e", "d", "p", "u"}
    assert _links(html) == links
    client = Client()
    assert "Wall squat" in client.get(links["e"]).content.decode()
    assert client.post(links["d"]).status_code == 302
    assert client.post(links["d"]).status_code == 302
    assert ExerciseCompletion.objects.filter(program=program).count() == 1
    assert client.post(links["p"], {"score": "4"}).status_code == 302
    assert PainReport.objects.get(patient=program.patient).source == "email_link"
    one_click = Client(enforce_csrf_checks=True).post(
        english["List-Unsubscribe"].strip().strip("<>").removeprefix(settings.SITE_URL),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    program.patient.refresh_from_db()
    assert program.patient.reminders_opt_in is False


def _waiting_exercise_reminder(*, due_at: dt.datetime) -> Reminder:
    """A pending exercise reminder that dispatch did not create (its program has no
    reminder days left), so only the sweep sends it: as after an outage began."""
    program = _program_due_now()
    HomeExerciseProgram.objects.filter(id=program.id).update(reminder_days=[])
    return Reminder.objects.create(
        kind="exercise",
        patient=program.patient,
        program=program,
        due_at=due_at,
        key=f"exercise:{program.id}:outage",
    )


def test_smtp_down_longer_than_the_retry_schedule_then_up_delivers_each_useful_one_once(
    require_service, reminder_worker, smtp_down, settings
):
    """No button pressed: the beat's sweeps retry until the server answers; what stopped
    being useful during the outage ends "expired", nothing ends "failed"."""
    require_service("redis")
    useful = [_program_due_now() for _ in range(4)]
    grace = dt.timedelta(hours=settings.EXERCISE_REMINDER_GRACE_HOURS)
    # Its grace ends a few seconds into the outage.
    too_late = _waiting_exercise_reminder(due_at=timezone.now() - grace + dt.timedelta(seconds=6))
    # This visit starts during the outage.
    visit = AppointmentFactory(starts_at=timezone.now() + dt.timedelta(seconds=8))
    reminder_worker(
        smtp_down,
        REMINDER_RETRY_BASE_SECONDS=1,
        REMINDER_RETRY_MAX_SECONDS=2,
        REMINDER_REQUEUE_AFTER_SECONDS=30,
    )
    # Down for longer than the old retry budget (5 attempts) and past both deadlines.
    wait_until(
        lambda: (
            Reminder.objects.filter(
                program__in=useful, status=ReminderStatus.PENDING, attempts__gte=6
            ).count()
            == 4
        ),
        timeout=120,
    )
    wait_until(lambda: Reminder.objects.filter(status=ReminderStatus.EXPIRED).count() == 2)
    assert set(Reminder.objects.filter(program__in=useful).values_list("reason", flat=True)) == {
        "mail_server"
    }
    assert smtp_down.envelopes == []

    smtp_down.start()
    smtp_down.wait_for(4, timeout=60)
    wait_until(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).count() == 4, timeout=30)
    time.sleep(6)  # more beat ticks: nothing goes out twice
    recipients = [e.rcpt_tos[0] for e in smtp_down.envelopes]
    assert sorted(recipients) == sorted(p.patient.email for p in useful)
    assert not Reminder.objects.filter(status=ReminderStatus.FAILED).exists()
    too_late.refresh_from_db()
    assert (too_late.status, too_late.reason) == ("expired", "too_late")
    assert Reminder.objects.get(appointment=visit).reason == "appointment_started"
    assert Reminder.objects.get(program=useful[0]).last_error == ""


def test_two_dispatchers_and_two_workers_send_each_reminder_once(
    require_service, reminder_worker, smtp_server
):
    require_service("redis")
    programs = [_program_due_now() for _ in range(40)]
    # Two workers, each with its own beat: two dispatchers every 2 s on one queue, and
    # this process dispatches too.
    reminder_worker(smtp_server, REMINDER_SEND_BATCH_SIZE=7)
    reminder_worker(smtp_server, REMINDER_SEND_BATCH_SIZE=7)
    services.reminders_dispatch()
    smtp_server.wait_for(40, timeout=120)
    wait_until(
        lambda: Reminder.objects.filter(status=ReminderStatus.SENT).count() == 40, timeout=30
    )
    time.sleep(6)
    recipients = [e.rcpt_tos[0] for e in smtp_server.envelopes]
    assert len(recipients) == len(set(recipients)) == 40
    assert set(recipients) == {p.patient.email for p in programs}
    assert Reminder.objects.count() == 40


def test_broker_down_during_dispatch_loses_nothing(
    require_service, reminder_worker, smtp_server, monkeypatch
):
    if celery_app.conf.broker_url.startswith("redis"):
        require_service("redis")
    program = _program_due_now()
    real_broker = celery_app.conf.broker_url
    # Redis unreachable: point the broker at a port where nothing listens.
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{free_port()}/0")
    result = services.reminders_dispatch()
    assert (result.created, result.enqueued, result.enqueue_failed) == (1, 0, 1)
    reminder = Reminder.objects.get(program=program)
    assert (reminder.status, reminder.enqueued_at) == (ReminderStatus.PENDING, None)
    assert services.reminders_dispatch().enqueue_failed == 1  # still down: still pending

    # The broker is back: the next dispatch enqueues the row it left behind.
    monkeypatch.setattr(celery_app.conf, "broker_url", real_broker)
    reminder_worker(smtp_server, beat=False)
    result = services.reminders_dispatch()
    assert (result.created, result.requeued) == (0, 1)
    smtp_server.wait_for(1, timeout=120)
    wait_until(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).exists(), timeout=30)
    assert len(smtp_server.envelopes) == 1


def test_a_worker_killed_mid_send_causes_no_duplicate(reminder_worker, smtp_server):
    """SIGKILL while the SMTP server holds its answer: the email may have gone out, so
    the row is never re-sent automatically; dispatch marks it "not confirmed"."""
    program = _program_due_now()
    smtp_server.hold = 120
    first = reminder_worker(smtp_server, EMAIL_TIMEOUT=180)
    smtp_server.wait_for(1, timeout=120)
    wait_until(
        lambda: Reminder.objects.filter(program=program, status=ReminderStatus.SENDING).exists()
    )
    os.killpg(first.pid, signal.SIGKILL)  # the worker (and its beat) dies mid-send
    first.wait(timeout=30)
    smtp_server.hold = 0

    reminder_worker(smtp_server, REMINDER_STALE_SENDING_SECONDS=3)
    wait_until(
        lambda: Reminder.objects.filter(
            program=program, status=ReminderStatus.UNCONFIRMED
        ).exists(),
        timeout=90,
    )
    time.sleep(5)  # more dispatch ticks: nothing re-sends it
    reminder = Reminder.objects.get(program=program)
    assert (reminder.status, reminder.reason) == ("unconfirmed", "worker_stopped")
    assert reminder.last_error == services.STALE_CLAIM_ERROR
    assert len(smtp_server.envelopes) == 1


def _calendar(message):
    from icalendar import Calendar

    part = next(p for p in message.iter_attachments() if p.get_filename() == "appointment.ics")
    calendar = Calendar.from_ical(part.get_content())
    (event,) = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), str(event["UID"]), int(event["SEQUENCE"])


def test_booking_moving_and_cancelling_reach_the_patient_as_one_calendar_entry(
    require_service, reminder_worker, smtp_server
):
    """Confirmation -> change -> cancellation, through the outbox, a real worker and
    SMTP: one UID, SEQUENCE 0, 1, 2, REQUEST, REQUEST, CANCEL."""
    from clinic.scheduling import services as scheduling
    from tests.factories import FrontDeskFactory, PractitionerFactory

    require_service("redis")
    desk = FrontDeskFactory()
    therapist = PractitionerFactory()
    patient = PatientFactory(email="ines@example.com", reminders_opt_in=False)
    reminder_worker(smtp_server)
    start = (timezone.now() + dt.timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    visit = scheduling.appointment_book(
        patient=patient,
        practitioner=therapist,
        kind="follow_up",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        acting_user=desk,
        allow_outside_hours=True,
    )
    smtp_server.wait_for(1, timeout=60)
    later = start + dt.timedelta(days=1)
    moved = scheduling.appointment_reschedule(
        appointment=visit,
        starts_at=later,
        ends_at=later + dt.timedelta(minutes=30),
        practitioner=therapist,
        room=None,
        acting_user=desk,
        allow_outside_hours=True,
    )
    smtp_server.wait_for(2, timeout=60)
    scheduling.appointment_cancel(appointment=moved, reason="Patient unwell", acting_user=desk)
    messages = smtp_server.wait_for(3, timeout=60)
    time.sleep(5)  # more beat ticks: nothing goes out twice
    assert len(smtp_server.envelopes) == 3
    assert [m["Subject"].strip().split(":")[0] for m in messages] == [
        "Booked",
        "Moved",
        "Cancelled",
    ]
    calendars = [_calendar(m) for m in messages]
    assert [c[0] for c in calendars] == ["REQUEST", "REQUEST", "CANCEL"]
    assert len({c[1] for c in calendars}) == 1
    assert [c[2] for c in calendars] == [0, 1, 2]
    assert all(m["List-Unsubscribe"].strip().startswith("<http") for m in messages)
    assert all("/r/ua/" in m["List-Unsubscribe"] for m in messages)


CANCEL_LINK = re.compile(r"https?://[^\s<>\"]+?(/r/x/[^\s<>\"/]+/)")


def test_a_patient_cancels_from_the_reminder_and_the_slot_frees(
    require_service, reminder_worker, smtp_server
):
    from clinic.models import SchedulingSettings
    from clinic.scheduling import services as scheduling
    from tests.factories import FrontDeskFactory, PractitionerFactory

    require_service("redis")
    SchedulingSettings.objects.update_or_create(pk=1, defaults={"late_cancellation_hours": 1})
    desk = FrontDeskFactory()
    therapist = PractitionerFactory()
    patient = PatientFactory(email="marta@example.com")
    start = (timezone.now() + dt.timedelta(hours=5)).replace(second=0, microsecond=0)
    visit = scheduling.appointment_book(
        patient=patient,
        practitioner=therapist,
        kind="follow_up",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        acting_user=desk,
        allow_outside_hours=True,
    )
    reminder_worker(smtp_server)
    # The confirmation (at once) and the reminder (beat's dispatch: within 24 h).
    messages = smtp_server.wait_for(2, timeout=90)
    reminder = next(m for m in messages if m["Subject"].strip().startswith("Reminder"))
    text = reminder.get_body(("plain",)).get_content()
    assert "/r/c/" in text
    (path,) = set(CANCEL_LINK.findall(text))
    client = Client()
    assert "Why are you cancelling?" in client.get(path).content.decode()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    assert client.post(path, {"reason": "Car broke down"}).status_code == 302
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
    # The slot is free: another patient is booked into it through the same service.
    other = scheduling.appointment_book(
        patient=PatientFactory(),
        practitioner=therapist,
        kind="follow_up",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        acting_user=desk,
        allow_outside_hours=True,
    )
    assert other.status == AppointmentStatus.BOOKED
    # And the patient gets the cancellation (plus the new patient's confirmation).
    smtp_server.wait_for(4, timeout=60)
    cancelled = [m for m in smtp_server.messages if m["To"] == patient.email]
    assert _calendar(cancelled[-1])[0] == "CANCEL"
