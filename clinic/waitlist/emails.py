"""The waitlist offer email: a freed time and a signed "Book this time" link.

It says what every patient email may say (clinic/reminders/emails.py): the first name,
the clinic's name and phone, the time and the therapist's name, and signed links.
Nothing clinical: not why the patient is waiting, nor the kind of visit.
"""

from __future__ import annotations

from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.html import format_html

from clinic.models import Reminder
from clinic.reminders.emails import LANGUAGES, ReminderEmail, message_id_domain, sender
from clinic.reminders.signing import Purpose, absolute_link
from patients.localtime import patient_zone

from .signing import claim_link


def offer_context(reminder: Reminder) -> dict:
    patient = reminder.patient
    offer = reminder.offer
    assert offer is not None  # a waitlist_offer row always has its offer
    tz = patient_zone(patient)
    starts = offer.starts_at.astimezone(tz)
    expires = offer.expires_at.astimezone(tz)
    return {
        "first_name": patient.first_name,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "clinic_phone_link": format_html(
            '<a href="tel:{}" style="color:#0b5e6b;">{}</a>',
            settings.CLINIC_PHONE.replace(" ", ""),
            settings.CLINIC_PHONE,
        ),
        "therapist": offer.practitioner.display_name,
        "offer_weekday": formats.date_format(starts, "l"),
        "offer_date": formats.date_format(starts, "DATE_FORMAT"),
        "offer_time": formats.time_format(starts, "H:i"),
        "offer_zone": patient.timezone,
        "expires_time": formats.time_format(expires, "H:i"),
        "links": {
            "claim": claim_link(
                offer_id=offer.id,
                patient_id=patient.id,
                email=patient.email,
                expires_at=offer.expires_at,
            ),
            "unsubscribe": absolute_link(
                Purpose.UNSUBSCRIBE, patient_id=patient.id, email=patient.email
            ),
        },
    }


def offer_message(reminder: Reminder) -> EmailMultiAlternatives:
    """The email for one waitlist_offer row (patient, offer and practitioner loaded)."""
    patient = reminder.patient
    language = patient.preferred_language if patient.preferred_language in LANGUAGES else "en"
    base = "emails/waitlist/offer"
    with translation.override(language):
        context = offer_context(reminder)
        subject = " ".join(render_to_string(f"{base}.subject.txt", context).split())
        body = render_to_string(f"{base}.txt", context)
        html = render_to_string(f"{base}.html", context)
    message = ReminderEmail(
        subject=subject,
        body=body,
        from_email=sender(),
        to=[patient.email],
        headers={
            "List-Unsubscribe": f"<{context['links']['unsubscribe']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
            "Message-ID": make_msgid(domain=message_id_domain()),
        },
    )
    message.attach_alternative(html, "text/html")
    return message
