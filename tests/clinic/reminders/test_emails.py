"""What a reminder email says, and what it must never say."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from clinic.models import Reminder
from clinic.reminders import services
from clinic.reminders.emails import reminder_message, sender
from tests.clinic.reminders.helpers import reminder_send
from tests.factories import AppointmentFactory, AssessmentFactory, ExerciseFactory

from .helpers import program_due, words_read

pytestmark = pytest.mark.django_db


def _exercise_reminder(language="en"):
    program = program_due(patient_preferred_language=language, patient_first_name="Lucía")
    AssessmentFactory(patient=program.patient, clinical_impression="Patellar tendinitis")
    exercise = ExerciseFactory(name="Straight leg raise", name_es="Elevación de pierna recta")
    program.prescriptions.create(exercise=exercise, sets=3, reps=10)
    return Reminder.objects.select_related("patient", "program").get(
        pk=Reminder.objects.create(
            kind="exercise",
            patient=program.patient,
            program=program,
            due_at=timezone.now(),
            key=f"exercise:{program.id}:x",
        ).pk
    )


def _appointment_reminder(language="en", tz="America/New_York"):
    appointment = AppointmentFactory(
        starts_at=dt.datetime(2026, 7, 16, 14, 30, tzinfo=dt.UTC),
        patient__preferred_language=language,
        patient__timezone=tz,
    )
    return Reminder.objects.select_related("patient", "appointment").get(
        pk=Reminder.objects.create(
            kind="appointment",
            patient=appointment.patient,
            appointment=appointment,
            due_at=timezone.now(),
            key=f"appointment:{appointment.id}:x",
        ).pk
    )


def _parts(message):
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    return message.body, html


def test_exercise_email_is_multipart_with_unsubscribe_headers(settings):
    message = reminder_message(_exercise_reminder())
    text, html = _parts(message)
    assert message.from_email == sender()
    assert settings.CLINIC_NAME in message.from_email
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{settings.SITE_URL}/r/u/") and unsubscribe.endswith(">")
    assert "Hello Lucía" in text and "Hello Lucía" in html
    assert settings.CLINIC_PHONE in text and settings.CLINIC_PHONE in html
    for path in ("/r/e/", "/r/d/", "/r/p/", "/r/u/"):
        assert f"{settings.SITE_URL}{path}" in text
        assert f"{settings.SITE_URL}{path}" in html


@pytest.mark.parametrize("language", ["en", "es"])
def test_no_clinical_content_in_the_email(language):
    reminder = _exercise_reminder(language)
    message = reminder_message(reminder)
    text, html = _parts(message)
    everything = words_read(message.subject, text, html)
    for secret in (
        "straight leg raise",
        "elevación de pierna",
        "tendinitis",
        "knee",
        "rodilla",
        "pain score",
        "3 sets",
        reminder.patient.last_name.lower(),
    ):
        assert secret not in everything


def test_spanish_patients_get_spanish(settings):
    message = reminder_message(_exercise_reminder("es"))
    text, html = _parts(message)
    assert message.extra_headers["Content-Language"] == "es"
    assert "ejercicios" in message.subject
    assert "Hola, Lucía" in text and 'lang="es"' in html
    assert "Hoy hice mis ejercicios" in html


def test_appointment_email_shows_the_time_in_the_patients_zone_and_attaches_ics():
    message = reminder_message(_appointment_reminder(tz="Europe/Madrid"))
    text, html = _parts(message)
    # 14:30 UTC in July is 16:30 in Madrid.
    assert "16:30" in message.subject and "16:30" in text and "16:30" in html
    assert "Europe/Madrid" in text
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == ("appointment.ics", "text/calendar; method=REQUEST")
    assert "BEGIN:VEVENT" in content and "DTSTART:20260716T143000Z" in content


def test_appointment_email_in_spanish():
    message = reminder_message(_appointment_reminder("es", tz="America/New_York"))
    text, _ = _parts(message)
    # 14:30 UTC in July is 10:30 in New York; a Thursday.
    assert "Recordatorio" in message.subject and "10:30" in message.subject
    assert "jueves" in message.subject
    assert "16 de julio de 2026" in text


def test_sent_through_djangos_mail_backend(settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setattr(services, "reminders_enqueue", lambda *, ids: len(ids))
    reminder = _exercise_reminder()
    assert reminder_send(reminder_id=reminder.id).outcome == "sent"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [reminder.patient.email]
