"""The reminder emails: subject, text and HTML from templates, in the patient's language.

One set of templates per kind, written in English and marked for translation; the
patient's language comes from the catalogues in locale/ (README, "Languages").

What an email may say is deliberately little: the patient's first name, the clinic's
name and phone, the appointment time, and signed links. Never a diagnosis, body part,
score or exercise name: email crosses servers the clinic does not control.
"""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.html import format_html

from clinic.models import Reminder, ReminderKind
from clinic.scheduling.ics import appointment_ics
from patients.localtime import patient_zone

from .signing import Purpose, absolute_link

LANGUAGES = {code for code, _name in settings.LANGUAGES}


def sender() -> str:
    """DEFAULT_FROM_EMAIL, shown under the clinic's name when it carries no name itself."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((name or settings.CLINIC_NAME, address or settings.DEFAULT_FROM_EMAIL))


def _context(reminder: Reminder) -> dict:
    patient = reminder.patient
    links = {
        "unsubscribe": absolute_link(
            Purpose.UNSUBSCRIBE, patient_id=patient.id, email=patient.email
        ),
    }
    context = {
        "first_name": patient.first_name,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "clinic_phone_link": format_html(
            '<a href="tel:{}" style="color:#0b5e6b;">{}</a>',
            settings.CLINIC_PHONE.replace(" ", ""),
            settings.CLINIC_PHONE,
        ),
        "links": links,
    }
    if reminder.kind == ReminderKind.EXERCISE:
        for purpose in (Purpose.EXERCISES, Purpose.DONE, Purpose.PAIN):
            links[purpose.value] = absolute_link(
                purpose,
                patient_id=patient.id,
                email=patient.email,
                program_id=reminder.program_id,
            )
    else:
        assert reminder.appointment is not None  # every other kind is for an appointment
        starts = reminder.appointment.starts_at.astimezone(patient_zone(patient))
        context["appointment_date"] = formats.date_format(starts, "DATE_FORMAT")
        context["appointment_weekday"] = formats.date_format(starts, "l")
        context["appointment_time"] = formats.time_format(starts, "H:i")
        context["appointment_zone"] = patient.timezone
    return context


def reminder_message(reminder: Reminder) -> EmailMultiAlternatives:
    """The email for one reminder row (patient, program/appointment already loaded)."""
    patient = reminder.patient
    language = patient.preferred_language if patient.preferred_language in LANGUAGES else "en"
    base = f"emails/reminders/{reminder.kind}"
    # Words (locale/), dates and month and weekday names in the patient's language.
    with translation.override(language):
        context = _context(reminder)
        subject = " ".join(render_to_string(f"{base}.subject.txt", context).split())
        body = render_to_string(f"{base}.txt", context)
        html = render_to_string(f"{base}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=sender(),
        to=[patient.email],
        headers={
            # RFC 2369 and RFC 8058: mail clients show an "unsubscribe" button that POSTs
            # to the link without opening it in a browser.
            "List-Unsubscribe": f"<{context['links']['unsubscribe']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        },
    )
    message.attach_alternative(html, "text/html")
    if reminder.kind == ReminderKind.APPOINTMENT:
        assert reminder.appointment is not None
        message.attach(
            "appointment.ics",
            appointment_ics(reminder.appointment).decode("utf-8"),
            "text/calendar",
        )
    return message
