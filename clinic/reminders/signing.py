"""Signed links in reminder emails: one salt per purpose, an expiry, a binding.

A token carries ids (the patient, the program for the exercise links, the appointment
for the confirm and cancel links) and a short
keyed hash of the email address it was sent to. It is signed with SECRET_KEY and a salt
naming its purpose, so an unsubscribe token can never be replayed as a pain check-in.
Tokens expire after REMINDER_LINK_MAX_AGE_DAYS. The views refuse a token whose address
is no longer the patient's, or whose program or appointment is no longer current (docs/decisions.md,
"Patient links are bound to their address and program").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac


class Purpose(StrEnum):
    EXERCISES = "exercises"  # today's exercises page
    DONE = "done"  # "I did my exercises today"
    PAIN = "pain"  # 0-10 pain check-in
    UNSUBSCRIBE = "unsubscribe"  # exercise reminders (Patient.reminders_opt_in)
    QUESTIONNAIRE = "questionnaire"  # one patient-reported questionnaire (clinic/questionnaires/)
    CONFIRM = "confirm"  # "I will come" to one appointment
    CANCEL = "cancel"  # cancel one appointment, before the late-cancellation window
    # Appointment emails (Patient.appointment_emails_opt_in): each email's unsubscribe
    # turns off only its own family of kinds.
    UNSUBSCRIBE_APPOINTMENTS = "unsubscribe_appointments"


SALT_PREFIX = "clinic.reminders.link."


class LinkError(Exception):
    """Base class: the token cannot be used. ``status`` is the HTTP status to answer with."""

    status = 400
    title = "This link is not valid"


class LinkInvalid(LinkError):
    status = 400
    title = "This link is not valid"


class LinkWrongPurpose(LinkError):
    status = 403
    title = "This link cannot be used here"


class LinkExpired(LinkError):
    status = 410
    title = "This link has expired"


@dataclass(frozen=True)
class LinkGrant:
    purpose: Purpose
    patient_id: int
    program_id: int | None
    email_hash: str
    # The questionnaire links' QuestionnaireResponse; None for every other purpose.
    response_id: int | None = None
    appointment_id: int | None = None

    def sent_to(self, email: str) -> bool:
        """Was this link sent to ``email``? False once the patient's address changed."""
        return bool(email) and constant_time_compare(self.email_hash, email_hash(email))


def email_hash(email: str) -> str:
    """A short keyed hash of the normalised address: the token's payload is readable
    (signed, not encrypted), so it must not carry the address, nor a plain hash of it
    that anyone could test guesses against."""
    normalised = email.strip().lower()
    return salted_hmac(SALT_PREFIX + "email", normalised).hexdigest()[:16]


def max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.REMINDER_LINK_MAX_AGE_DAYS)


def make_token(
    purpose: Purpose,
    *,
    patient_id: int,
    email: str,
    program_id: int | None = None,
    response_id: int | None = None,
    appointment_id: int | None = None,
) -> str:
    payload: dict[str, int | str] = {"p": patient_id, "e": email_hash(email)}
    if program_id is not None:
        payload["g"] = program_id
    if response_id is not None:
        payload["q"] = response_id
    if appointment_id is not None:
        payload["a"] = appointment_id
    return signing.dumps(payload, salt=SALT_PREFIX + purpose, compress=False)


def refusal(token: str, *, besides: Purpose | None = None) -> LinkError:
    """Why a token that does not verify here is refused: signed for another purpose (a
    genuine link used on the wrong page) or not ours at all."""
    for other in Purpose:
        if other is besides:
            continue
        try:
            signing.loads(token, salt=SALT_PREFIX + other)
        except signing.BadSignature:
            continue
        return LinkWrongPurpose()
    return LinkInvalid()


def read_token(token: str, purpose: Purpose) -> LinkGrant:
    """The grant in ``token`` for ``purpose``, or a LinkError saying why not."""
    if not token or len(token) > 500:
        raise LinkInvalid
    try:
        payload = signing.loads(token, salt=SALT_PREFIX + purpose, max_age=max_age())
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise refusal(token, besides=purpose) from exc
    patient_id = payload.get("p") if isinstance(payload, dict) else None
    program_id = payload.get("g") if isinstance(payload, dict) else None
    appointment_id = payload.get("a") if isinstance(payload, dict) else None
    bound_to = payload.get("e") if isinstance(payload, dict) else None
    response_id = payload.get("q") if isinstance(payload, dict) else None
    if not isinstance(patient_id, int) or not (program_id is None or isinstance(program_id, int)):
        raise LinkInvalid
    if not (response_id is None or isinstance(response_id, int)):
        raise LinkInvalid
    if (purpose is Purpose.QUESTIONNAIRE) != (response_id is not None):
        raise LinkInvalid  # a questionnaire link names its questionnaire; no other does
    if not (appointment_id is None or isinstance(appointment_id, int)):
        raise LinkInvalid
    if purpose in (Purpose.CONFIRM, Purpose.CANCEL) and appointment_id is None:
        raise LinkInvalid
    if not isinstance(bound_to, str):
        # Issued before links were bound to an address: treat as outdated.
        raise LinkInvalid
    return LinkGrant(
        purpose=purpose,
        patient_id=patient_id,
        program_id=program_id,
        email_hash=bound_to,
        response_id=response_id,
        appointment_id=appointment_id,
    )


ROUTES = {
    Purpose.EXERCISES: "reminder_links:exercises",
    Purpose.DONE: "reminder_links:done",
    Purpose.PAIN: "reminder_links:pain",
    Purpose.UNSUBSCRIBE: "reminder_links:unsubscribe",
    Purpose.QUESTIONNAIRE: "reminder_links:questionnaire",
    Purpose.CONFIRM: "reminder_links:confirm",
    Purpose.CANCEL: "reminder_links:cancel",
    Purpose.UNSUBSCRIBE_APPOINTMENTS: "reminder_links:unsubscribe_appointments",
}


def link_path(
    purpose: Purpose,
    *,
    patient_id: int,
    email: str,
    program_id: int | None = None,
    response_id: int | None = None,
    appointment_id: int | None = None,
) -> str:
    token = make_token(
        purpose,
        patient_id=patient_id,
        email=email,
        program_id=program_id,
        response_id=response_id,
        appointment_id=appointment_id,
    )
    return reverse(ROUTES[purpose], args=[token])


def absolute_link(
    purpose: Purpose,
    *,
    patient_id: int,
    email: str,
    program_id: int | None = None,
    response_id: int | None = None,
    appointment_id: int | None = None,
) -> str:
    return settings.SITE_URL + link_path(
        purpose,
        patient_id=patient_id,
        email=email,
        program_id=program_id,
        response_id=response_id,
        appointment_id=appointment_id,
    )
