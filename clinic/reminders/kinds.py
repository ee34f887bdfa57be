"""What each kind of outbox email is: its consent, its words, its attachment, and when it
is no longer wanted. The send path (services.reminders_send_batch) and the renderer
(emails.reminder_message) know no kind by name: they look it up in ``KINDS``.

Adding a kind is one registration at the bottom of this module::

    register(ReminderKind.WAITLIST_OFFER, KindSpec(
        family=Family.APPOINTMENT,       # which consent covers it, which unsubscribe
        context=offer_context,           # (reminder) -> template context for its words
        still_wanted=offer_still_wanted, # (reminder, now) -> Outcome to skip, or None
    ))

plus templates ``emails/reminders/<kind>.subject.txt``, ``.txt`` and ``.html`` (they
extend ``emails/reminders/base.html``). The common context (first name, clinic name,
phone, address, the family's unsubscribe link) is added for every kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext

from clinic.models import (
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderKind,
    ReminderReason,
    SlotOfferStatus,
)
from clinic.models import ReminderStatus as Status
from clinic.scheduling.ics import patient_invitation_ics
from clinic.scheduling.selectors import scheduling_settings
from patients.localtime import patient_zone
from patients.models import QuestionnaireStatus
from treatments.models import ProgramStatus

from .signing import Purpose, absolute_link


class Family(StrEnum):
    """A consent: one Patient flag, one unsubscribe link, covering several kinds."""

    EXERCISE = "exercise"  # Patient.reminders_opt_in
    APPOINTMENT = "appointment"  # Patient.appointment_emails_opt_in


CONSENT_FIELD = {
    Family.EXERCISE: "reminders_opt_in",
    Family.APPOINTMENT: "appointment_emails_opt_in",
}
UNSUBSCRIBE_PURPOSE = {
    Family.EXERCISE: Purpose.UNSUBSCRIBE,
    Family.APPOINTMENT: Purpose.UNSUBSCRIBE_APPOINTMENTS,
}


@dataclass
class Outcome:
    """What became of one claimed row; rows with equal outcomes are written together."""

    status: str
    reason: str = ""
    error: str = ""
    retry_in: int | None = None

    def key(self) -> tuple[str, str, str, int | None]:
        return (self.status, self.reason, self.error, self.retry_in)


Attachment = tuple[str, str, str]  # file name, content, MIME type


def _no_attachments(reminder: Reminder) -> list[Attachment]:
    return []


@dataclass(frozen=True)
class KindSpec:
    family: Family
    context: Callable[[Reminder], dict[str, Any]]
    still_wanted: Callable[[Reminder, dt.datetime], Outcome | None]
    attachments: Callable[[Reminder], list[Attachment]] = _no_attachments


KINDS: dict[str, KindSpec] = {}


def register(kind: str, spec: KindSpec) -> None:
    KINDS[str(kind)] = spec


def spec_for(kind: str) -> KindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise LookupError(f"No email is registered for reminder kind {kind!r}.") from None


def consents(patient: Any, family: Family) -> bool:
    return bool(getattr(patient, CONSENT_FIELD[family]))


def reachable(patient: Any, family: Family) -> bool:
    """May this patient be sent this family's emails: an address, a record in use and the
    family's consent. Rows are inserted only for them; the send path checks again."""
    return bool(patient.email) and patient.archived_at is None and consents(patient, family)


def _skipped(reason: str, text: str) -> Outcome:
    return Outcome(Status.SKIPPED, reason, text)


TOO_LATE = "Too late: the day's exercise reminder time has long passed."
APPOINTMENT_STARTED = "The appointment has already started."


# Keys: one occurrence of each email, never inserted (so never sent) twice ---------


def appointment_key(*, appointment_id: int, starts_at: dt.datetime) -> str:
    # The start time is part of the key: a visit moved to another time is a new
    # occurrence, and the send task skips a row whose time no longer matches.
    start = starts_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
    return f"appointment:{appointment_id}:{start}"


def appointment_email_key(kind: str, appointment: Appointment, *, at: dt.datetime) -> str:
    """Confirmation and cancellation: one per appointment row. Change: one per row and
    calendar sequence (a move books a new row, so each move is its own occurrence).
    A series booked: one per series; a series' visits cancelled together: one per series
    and moment (``at``, their ``cancelled_at``)."""
    if kind == ReminderKind.CHANGE:
        return f"change:{appointment.pk}:{appointment.ics_sequence}"
    if kind == ReminderKind.SERIES_BOOKED:
        return f"series_booked:{appointment.series_id}"
    if kind == ReminderKind.SERIES_CANCELLED:
        return f"series_cancelled:{appointment.series_id}:{at.astimezone(dt.UTC).isoformat()}"
    return f"{kind}:{appointment.pk}"


# Exercise reminders ------------------------------------------------------------------


def _exercise_context(reminder: Reminder) -> dict[str, Any]:
    patient = reminder.patient
    return {
        "links": {
            purpose.value: absolute_link(
                purpose, patient_id=patient.id, email=patient.email, program_id=reminder.program_id
            )
            for purpose in (Purpose.EXERCISES, Purpose.DONE, Purpose.PAIN)
        }
    }


def _exercise_still_wanted(reminder: Reminder, now: dt.datetime) -> Outcome | None:
    program = reminder.program
    assert program is not None  # an exercise reminder keeps its program
    if program.status != ProgramStatus.ACTIVE:
        return _skipped(
            ReminderReason.PROGRAM_INACTIVE, "The exercise program is no longer active."
        )
    if not program.reminders_enabled:
        return _skipped(
            ReminderReason.PROGRAM_INACTIVE, "Reminders are turned off for the exercise program."
        )
    if now - reminder.due_at > dt.timedelta(hours=settings.EXERCISE_REMINDER_GRACE_HOURS):
        return Outcome(Status.EXPIRED, ReminderReason.TOO_LATE, TOO_LATE)
    return None


# Appointment emails ------------------------------------------------------------------


def _appointment(reminder: Reminder) -> Appointment:
    appointment = reminder.appointment
    assert appointment is not None  # the check constraint keeps it for these kinds
    return appointment


def _visit_context(reminder: Reminder) -> dict[str, Any]:
    """When and where, with whom: in the patient's language (active) and time zone."""
    appointment = _appointment(reminder)
    patient = reminder.patient
    starts = appointment.starts_at.astimezone(patient_zone(patient))
    return {
        "appointment_date": formats.date_format(starts, "DATE_FORMAT"),
        "appointment_weekday": formats.date_format(starts, "l"),
        "appointment_time": formats.time_format(starts, "H:i"),
        "appointment_zone": patient.timezone,
        "therapist": appointment.practitioner.display_name,
        "links": {},
    }


def cancel_deadline(appointment: Appointment) -> dt.datetime:
    """Until when the patient may cancel online: the late-cancellation window
    (SchedulingSettings.late_cancellation_hours; docs/decisions.md, "Late cancellation")."""
    hours = scheduling_settings().late_cancellation_hours
    return appointment.starts_at - dt.timedelta(hours=hours)


def _reminder_context(reminder: Reminder) -> dict[str, Any]:
    context = _visit_context(reminder)
    appointment = _appointment(reminder)
    patient = reminder.patient
    for purpose in (Purpose.CONFIRM, Purpose.CANCEL):
        context["links"][purpose.value] = absolute_link(
            purpose, patient_id=patient.id, email=patient.email, appointment_id=appointment.pk
        )
    deadline = cancel_deadline(appointment)
    # Past the window the email offers the phone, not a link that would say the same.
    if deadline > timezone.now():
        local = deadline.astimezone(patient_zone(patient))
        context["cancel_until"] = (
            f"{formats.date_format(local, 'l')} {formats.time_format(local, 'H:i')}"
        )
    return context


def _invitation(
    reminder: Reminder, *, cancel: bool, appointments: list[Appointment] | None = None
) -> list[Attachment]:
    """One calendar file with an event per visit of the email (one visit unless given)."""
    from .emails import sender_address

    def summary(appointment: Appointment) -> str:
        return gettext("Appointment at %(clinic)s with %(therapist)s") % {
            "clinic": settings.CLINIC_NAME,
            "therapist": appointment.practitioner.display_name,
        }

    description = gettext("Address: %(address)s. Phone: %(phone)s.") % {
        "address": settings.CLINIC_ADDRESS,
        "phone": settings.CLINIC_PHONE,
    }
    ics = patient_invitation_ics(
        appointments if appointments is not None else [_appointment(reminder)],
        cancel=cancel,
        summary=summary,
        description=description,
        organizer=sender_address(),
        attendee=reminder.patient.email,
    )
    method = "CANCEL" if cancel else "REQUEST"
    name = "appointments.ics" if appointments is not None else "appointment.ics"
    return [(name, ics.decode("utf-8"), f"text/calendar; method={method}")]


def _request(reminder: Reminder) -> list[Attachment]:
    return _invitation(reminder, cancel=False)


def _cancel(reminder: Reminder) -> list[Attachment]:
    return _invitation(reminder, cancel=True)


def _started(appointment: Appointment, now: dt.datetime) -> Outcome | None:
    if appointment.starts_at <= now:
        return Outcome(Status.EXPIRED, ReminderReason.APPOINTMENT_STARTED, APPOINTMENT_STARTED)
    return None


def _still_booked(appointment: Appointment) -> Outcome | None:
    if appointment.status != AppointmentStatus.BOOKED:
        return _skipped(
            ReminderReason.APPOINTMENT_CHANGED,
            f"The appointment is {appointment.get_status_display().lower()}.",
        )
    return None


def _reminder_still_wanted(reminder: Reminder, now: dt.datetime) -> Outcome | None:
    appointment = _appointment(reminder)
    if (skip := _still_booked(appointment)) is not None:
        return skip
    if reminder.key != appointment_key(
        appointment_id=appointment.id, starts_at=appointment.starts_at
    ):
        return _skipped(
            ReminderReason.APPOINTMENT_CHANGED, "The appointment was moved to another time."
        )
    return _started(appointment, now)


def _confirmation_still_wanted(reminder: Reminder, now: dt.datetime) -> Outcome | None:
    """A visit cancelled or moved before its confirmation went out: the cancellation or
    the change says what is true now; the confirmation would only confuse."""
    appointment = _appointment(reminder)
    return _still_booked(appointment) or _started(appointment, now)


def _change_still_wanted(reminder: Reminder, now: dt.datetime) -> Outcome | None:
    appointment = _appointment(reminder)
    if (skip := _still_booked(appointment)) is not None:
        return skip
    return _started(appointment, now)


def _cancellation_still_wanted(reminder: Reminder, now: dt.datetime) -> Outcome | None:
    appointment = _appointment(reminder)
    if appointment.status != AppointmentStatus.CANCELLED:
        return _skipped(
            ReminderReason.APPOINTMENT_CHANGED,
            f"The appointment is {appointment.get_status_display().lower()}.",
        )
    return _started(appointment, now)


register(
    ReminderKind.EXERCISE,
    KindSpec(
        family=Family.EXERCISE, context=_exercise_context, still_wanted=_exercise_still_wanted
    ),
)
register(
    ReminderKind.APPOINTMENT,
    KindSpec(
        family=Family.APPOINTMENT,
        context=_reminder_context,
        still_wanted=_reminder_still_wanted,
        attachments=_request,
    ),
)
register(
    ReminderKind.CONFIRMATION,
    KindSpec(
        family=Family.APPOINTMENT,
        context=_visit_context,
        still_wanted=_confirmation_still_wanted,
        attachments=_request,
    ),
)
register(
    ReminderKind.CHANGE,
    KindSpec(
        family=Family.APPOINTMENT,
        context=_visit_context,
        still_wanted=_change_still_wanted,
        attachments=_request,
    ),
)
register(
    ReminderKind.CANCELLATION,
    KindSpec(
        family=Family.APPOINTMENT,
        context=_visit_context,
        still_wanted=_cancellation_still_wanted,
        attachments=_cancel,
    ),
)


# Recurring series: the visits booked together, or cancelled together, in one email
# (clinic/scheduling/services.py series_book, series_cancel_following/_remaining). The
# row's appointment is the first of them; which visits the email lists is read when it
# is sent, so it says what is true then: the series' visits still booked and ahead, or
# those cancelled at the row's moment (cancelled_at = due_at) and still ahead.


def series_visits(reminder: Reminder, now: dt.datetime) -> list[Appointment]:
    """The visits the email lists: read once per row as the send path loads it (its
    check, words and calendar file all ask)."""
    cached = getattr(reminder, "_series_visits", None)
    if cached is None:
        cached = _read_series_visits(reminder, now)
        setattr(reminder, "_series_visits", cached)  # noqa: B010 - not a model field
    return cached


def _read_series_visits(reminder: Reminder, now: dt.datetime) -> list[Appointment]:
    appointment = _appointment(reminder)
    visits = Appointment.objects.filter(series_id=appointment.series_id, starts_at__gt=now)
    if reminder.kind == ReminderKind.SERIES_CANCELLED:
        visits = visits.filter(status=AppointmentStatus.CANCELLED, cancelled_at=reminder.due_at)
    else:
        visits = visits.filter(status=AppointmentStatus.BOOKED)
    return list(visits.select_related("practitioner").order_by("starts_at", "id"))


def _series_context(reminder: Reminder) -> dict[str, Any]:
    """Each visit's day and time in the patient's language and time zone; the therapist
    once, or on each line when the visits are not all with the same one."""
    patient = reminder.patient
    zone = patient_zone(patient)
    visits = series_visits(reminder, timezone.now())
    therapists = {visit.practitioner.display_name for visit in visits}
    lines = []
    for visit in visits:
        starts = visit.starts_at.astimezone(zone)
        lines.append(
            {
                "weekday": formats.date_format(starts, "l"),
                "date": formats.date_format(starts, "DATE_FORMAT"),
                "time": formats.time_format(starts, "H:i"),
                "therapist": visit.practitioner.display_name if len(therapists) > 1 else "",
            }
        )
    return {
        "visits": lines,
        "visit_count": len(lines),
        "therapist": therapists.pop() if len(therapists) == 1 else "",
        "appointment_zone": patient.timezone,
        "links": {},
    }


def _series_still_wanted(reminder: Reminder, now: dt.datetime) -> Outcome | None:
    if series_visits(reminder, now):
        return None
    if reminder.kind == ReminderKind.SERIES_CANCELLED:
        return Outcome(Status.EXPIRED, ReminderReason.APPOINTMENT_STARTED, APPOINTMENT_STARTED)
    return _skipped(
        ReminderReason.APPOINTMENT_CHANGED, "No visit of the series is still booked and ahead."
    )


def _series_request(reminder: Reminder) -> list[Attachment]:
    return _invitation(reminder, cancel=False, appointments=series_visits(reminder, timezone.now()))


def _series_cancel(reminder: Reminder) -> list[Attachment]:
    return _invitation(reminder, cancel=True, appointments=series_visits(reminder, timezone.now()))


register(
    ReminderKind.SERIES_BOOKED,
    KindSpec(
        family=Family.APPOINTMENT,
        context=_series_context,
        still_wanted=_series_still_wanted,
        attachments=_series_request,
    ),
)
register(
    ReminderKind.SERIES_CANCELLED,
    KindSpec(
        family=Family.APPOINTMENT,
        context=_series_context,
        still_wanted=_series_still_wanted,
        attachments=_series_cancel,
    ),
)


# Patient questionnaires (clinic/questionnaires/): between-visit care, like the exercise
# reminders, so under the same consent (reminders_opt_in) and unsubscribe.


def _questionnaire_context(reminder: Reminder) -> dict[str, Any]:
    patient = reminder.patient
    return {
        "links": {
            Purpose.QUESTIONNAIRE.value: absolute_link(
                Purpose.QUESTIONNAIRE,
                patient_id=patient.id,
                email=patient.email,
                response_id=reminder.questionnaire_id,
            )
        }
    }


def _questionnaire_still_wanted(reminder: Reminder, now: dt.datetime) -> Outcome | None:
    questionnaire = reminder.questionnaire
    assert questionnaire is not None  # a questionnaire reminder keeps its questionnaire
    if questionnaire.status != QuestionnaireStatus.REQUESTED:
        return _skipped(
            ReminderReason.QUESTIONNAIRE_CLOSED,
            "The questionnaire was already answered or has expired.",
        )
    return None


register(
    ReminderKind.QUESTIONNAIRE,
    KindSpec(
        family=Family.EXERCISE,
        context=_questionnaire_context,
        still_wanted=_questionnaire_still_wanted,
    ),
)


# Waitlist offers (clinic/waitlist/): an appointment email. The offer's words live with
# the waitlist; imported when a row is rendered, as the waitlist builds on the outbox.


def _offer_context(reminder: Reminder) -> dict[str, Any]:
    from clinic.waitlist.emails import offer_context

    return offer_context(reminder)


def _offer_still_wanted(reminder: Reminder, now: dt.datetime) -> Outcome | None:
    """The offer is still open and unexpired (the patient's state and consent were
    checked by the send path, as for every kind)."""
    offer = reminder.offer
    if offer is None:
        return _skipped(ReminderReason.OFFER_CLOSED, "The waitlist offer is gone.")
    if offer.status != SlotOfferStatus.OPEN:
        return _skipped(
            ReminderReason.OFFER_CLOSED,
            f"The waitlist offer is {offer.get_status_display().lower()}.",
        )
    if offer.expires_at <= now:
        return _skipped(ReminderReason.OFFER_CLOSED, "The waitlist offer has expired.")
    return None


register(
    ReminderKind.WAITLIST_OFFER,
    KindSpec(family=Family.APPOINTMENT, context=_offer_context, still_wanted=_offer_still_wanted),
)
