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
from treatments.models import ExerciseCompletion

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
        assert message["List-Unsubscribe"].strip().startswith(f"<{settings.SITE_URL}/r/u/")
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


def test_smtp_down_then_up_is_retried_with_backoff_and_delivered_once(
    require_service, reminder_worker, smtp_down
):
    require_service("redis")
    program = _program_due_now()
    reminder_worker(
        smtp_down,
        REMINDER_RETRY_BASE_SECONDS=1,
        REMINDER_RETRY_MAX_SECONDS=2,
        REMINDER_MAX_ATTEMPTS=50,
    )
    # The SMTP server is down: the worker retries, the row goes back to pending.
    wait_until(
        lambda: Reminder.objects.filter(
            program=program, status=ReminderStatus.PENDING, attempts__gte=2
        ).exists(),
        timeout=120,
    )
    assert "Connection" in Reminder.objects.get().last_error
    smtp_down.start()
    smtp_down.wait_for(1, timeout=60)
    wait_until(lambda: Reminder.objects.filter(status=ReminderStatus.SENT).exists(), timeout=30)
    time.sleep(5)
    assert len(smtp_down.envelopes) == 1
    reminder = Reminder.objects.get()
    assert reminder.attempts >= 2 and reminder.last_error == ""


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
    the row is never re-sent automatically; dispatch marks it failed for a person."""
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
        lambda: Reminder.objects.filter(program=program, status=ReminderStatus.FAILED).exists(),
        timeout=90,
    )
    time.sleep(5)  # more dispatch ticks: nothing re-sends it
    reminder = Reminder.objects.get(program=program)
    assert reminder.status == ReminderStatus.FAILED
    assert reminder.last_error == services.STALE_CLAIM_ERROR
    assert len(smtp_server.envelopes) == 1
