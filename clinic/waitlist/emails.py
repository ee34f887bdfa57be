"""The waitlist offer email: a freed time and a signed "Book this time" link.

It is one kind of the outbox (``waitlist_offer``, registered in clinic/reminders/kinds.py):
the common words (first name, clinic name, address and phone, the appointment emails'
unsubscribe link) come from clinic/reminders/emails.py; this module adds the offer's
time, the therapist's name and the claim link. Nothing clinical: not why the patient is
waiting, nor the kind of visit. Templates: emails/reminders/waitlist_offer.*.
"""

from __future__ import annotations

from typing import Any

from django.utils import formats

from clinic.models import Reminder
from patients.localtime import patient_zone

from .signing import claim_link


def offer_context(reminder: Reminder) -> dict[str, Any]:
    patient = reminder.patient
    offer = reminder.offer
    assert offer is not None  # a waitlist_offer row always has its offer
    tz = patient_zone(patient)
    starts = offer.starts_at.astimezone(tz)
    expires = offer.expires_at.astimezone(tz)
    return {
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
        },
    }
