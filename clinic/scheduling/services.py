"""Writes for scheduling: booking, the status flow, recurring series and the set-up
managers keep (practitioners, working hours, time off, rooms, settings).

No double booking: every booking runs in one transaction that first locks the
practitioner's row (``select_for_update``), then checks the practitioner, the room and
the patient for overlapping live visits, then inserts. On PostgreSQL exclusion
constraints (migration 0005) back this up; a violation comes back as the same
``SlotTaken`` error. Appointments are not clinical records, but creations, changes and
cancellations go to the audit log with the patient set, for the managers.

Rooms with capacity (docs/decisions.md, "Rooms with capacity"): a booking with a room also
locks the room's row. A room of capacity 1 is checked like the practitioner, and held by
the exclusion constraint ``appt_no_overlap_room`` (which applies to visits flagged
``room_exclusive``); a shared room is free until as many live visits as its capacity
overlap, which the service counts under that lock (no constraint can read the capacity).
The patient hears of each through the outbox (clinic/reminders/outbox.py): a booking
sends a confirmation, a move a change, a cancellation a cancellation, each with the
visit's calendar entry (one UID across moves, a rising SEQUENCE).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from clinic.models import (
    LIVE_APPOINTMENT_STATUSES,
    MAX_APPOINTMENT_DURATION,
    Appointment,
    AppointmentKind,
    AppointmentSeries,
    AppointmentStatus,
    ClinicClosure,
    Practitioner,
    ReminderKind,
    Room,
    SchedulingSettings,
    TimeOff,
    WorkingHours,
    closed_day_label,
    closed_message,
    overlapping,
)
from clinic.models.scheduling import ROOM_CAPACITY_MAX
from clinic.reminders.outbox import appointment_emails_enqueue
from clinic.waitlist import services as waitlist
from patients.audit import AuditAction, audit_record
from patients.localtime import UTC, clinic_today, clinic_zone

from .availability import Availability, peak_occupancy, within_working_hours
from .selectors import UNDO_TO, can_undo_status, hours_time_off_closures, scheduling_settings

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from patients.models import Patient
    from treatments.models import TreatmentPlan


MIN_DURATION = dt.timedelta(minutes=10)
MAX_DURATION = MAX_APPOINTMENT_DURATION  # window queries rely on it (``overlapping``)
MAX_SERIES = 104  # two years of weekly visits


class SchedulingError(Exception):
    """A booking rule refused the change; ``message`` is meant for the person at the desk."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SlotTaken(SchedulingError):
    """Someone else holds (part of) this time: the practitioner, the room or the patient."""


class RoomFull(SlotTaken):
    """A shared room already holds as many visits as its capacity at that time."""


class OutsideWorkingHours(SchedulingError):
    """The time is outside the practitioner's working hours; the user may override."""


class InvalidTransition(SchedulingError):
    """The visit's status does not allow this change."""


class ClinicClosed(SchedulingError):
    """The time falls on a day the whole clinic is closed; no override books it."""


# Exclusion constraint names (migration 0005) -> who is double-booked.
_CONSTRAINT_SUBJECT = {
    "appt_no_overlap_practitioner": "the practitioner",
    "appt_no_overlap_room": "the room",
    "appt_no_overlap_patient": "the patient",
}


def _slot_taken(subject: str) -> SlotTaken:
    return SlotTaken(
        f"This slot is taken: {subject} already has a visit at that time. "
        "Nothing was saved; please pick another time."
    )


def _validate_times(starts_at: dt.datetime, ends_at: dt.datetime, *, now: dt.datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise SchedulingError("Times must carry a time zone.")
    if ends_at <= starts_at:
        raise SchedulingError("The visit must end after it starts.")
    length = ends_at - starts_at
    if length < MIN_DURATION or length > MAX_DURATION:
        raise SchedulingError("A visit lasts between 10 minutes and 4 hours.")
    if starts_at < now:
        raise SchedulingError("That time is in the past: visits can only be booked ahead.")


def _lock_practitioner(practitioner_id: int) -> Practitioner:
    """Serialise bookings per practitioner: a second booking waits here for the first."""
    return Practitioner.objects.select_for_update().get(pk=practitioner_id)


def _lock_room(room_id: int) -> Room:
    """Serialise bookings per room: its capacity is read, and its visits counted, under
    this lock; changing the capacity takes it too."""
    return Room.objects.select_for_update().get(pk=room_id)


def room_peak(
    room_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    exclude_ids: Collection[int] = (),
) -> tuple[int, dt.datetime | None]:
    """The most live visits in the room at one instant of [starts_at, ends_at), and when."""
    rows = (
        Appointment.objects.filter(
            overlapping(starts_at, ends_at), room_id=room_id, status__in=LIVE_APPOINTMENT_STATUSES
        )
        .exclude(pk__in=list(exclude_ids))
        .values_list("starts_at", "ends_at")
    )
    return peak_occupancy(rows, starts_at, ends_at)


def _room_full(room: Room, when: dt.datetime | None) -> RoomFull:
    at = f" at {when.astimezone(clinic_zone()):%H:%M}" if when else ""
    return RoomFull(
        f"This slot is taken: {room.name} is full{at} ({room.capacity} visits at once). "
        "Nothing was saved; please pick another time or room."
    )


def _check_room(
    room: Room,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    exclude_ids: Collection[int] = (),
) -> None:
    """For a shared room (capacity > 1, locked by the caller): refuse when it is full."""
    if room.capacity <= 1:
        return
    peak, when = room_peak(room.pk, starts_at, ends_at, exclude_ids=exclude_ids)
    if peak >= room.capacity:
        raise _room_full(room, when)


def _conflict_subject(
    *,
    practitioner_id: int,
    room_id: int | None,
    patient_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    exclude_ids: Collection[int] = (),
) -> str | None:
    who = Q(practitioner_id=practitioner_id) | Q(patient_id=patient_id)
    if room_id is not None:
        who |= Q(room_id=room_id)
    clash = (
        Appointment.objects.filter(
            who, overlapping(starts_at, ends_at), status__in=LIVE_APPOINTMENT_STATUSES
        )
        .exclude(pk__in=list(exclude_ids))
        .values("practitioner_id", "room_id", "patient_id")
        .first()
    )
    if clash is None:
        return None
    if clash["practitioner_id"] == practitioner_id:
        return "the practitioner"
    if room_id is not None and clash["room_id"] == room_id:
        return "the room"
    return "the patient"


def _check_availability(
    practitioner: Practitioner,
    availability: Availability,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    allow_outside_hours: bool,
) -> None:
    """Refuse a visit in the practitioner's time off or, unless allowed, outside their
    working hours (``availability``: theirs, read under their lock)."""
    off = availability.time_off.get(practitioner.pk)  # by start: the earliest first
    if off:
        reason = off[0][2]
        raise SchedulingError(
            f"{practitioner.display_name} is away then ({reason or 'time off'}). "
            "Pick another time or practitioner."
        )
    hours = availability.hours.get(practitioner.pk, {})
    if not allow_outside_hours and not within_working_hours(
        hours, starts_at, ends_at, availability.tz
    ):
        raise OutsideWorkingHours(
            f"This is outside {practitioner.display_name}'s working hours. "
            "Tick “Book outside working hours” to book it anyway."
        )


def _check_open(availability: Availability) -> None:
    """Refuse a visit touching a closed day (``availability.closed``: the closures of the
    visit's local days in the clinic's zone, each day with its earliest closure's
    reason)."""
    if availability.closed:
        day = min(availability.closed)
        raise ClinicClosed(closed_message(day, availability.closed[day]))


def _insert(appointment: Appointment) -> Appointment:
    try:
        # A savepoint, so a constraint violation leaves the caller's transaction usable.
        with transaction.atomic():
            appointment.save(force_insert=True)
    except IntegrityError as error:
        cause = error.__cause__
        if getattr(cause, "sqlstate", None) == "23P01":  # exclusion_violation
            name = getattr(getattr(cause, "diag", None), "constraint_name", "") or ""
            raise _slot_taken(_CONSTRAINT_SUBJECT.get(name, "someone")) from error
        raise
    except OperationalError as error:
        # Inserts racing for one slot wait on each other's exclusion check; PostgreSQL
        # may break such a cycle by aborting one of them (deadlock_detected). That
        # booking lost the race for the slot: say so, like any other taken slot.
        if getattr(error.__cause__, "sqlstate", None) in {"40P01", "40001"}:
            raise SlotTaken(
                "This slot is taken: someone else was booking it at the same moment. "
                "Nothing was saved; please check the calendar and pick a time."
            ) from error
        raise
    return appointment


@transaction.atomic
def appointment_book(
    *,
    patient: Patient,
    practitioner: Practitioner,
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    acting_user: User,
    room: Room | None = None,
    allow_outside_hours: bool = False,
    series: AppointmentSeries | None = None,
    rescheduled_from: Appointment | None = None,
    ip: str | None = None,
    audit: bool = True,
    email: bool = True,
) -> Appointment:
    """Book one visit. ``audit`` and ``email`` False: the caller (a series) records the
    booking and puts its email in the outbox for all its visits at once."""
    now = timezone.now()
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    _validate_times(starts_at, ends_at, now=now)
    if kind not in AppointmentKind.values:
        raise SchedulingError("Choose a kind of visit.")
    if patient.archived_at is not None:
        raise SchedulingError(
            f"{patient.full_name}'s record is archived: restore it before booking visits."
        )
    if room is not None and not room.active:
        raise SchedulingError(f"{room.name} is not in use any more; choose another room.")
    locked = _lock_practitioner(practitioner.pk)
    # The clinic's closures of the visit's days, the practitioner's time off and working
    # hours: one query, under the lock.
    availability = hours_time_off_closures([locked.pk], starts_at, ends_at)
    _check_open(availability)
    if not locked.active:
        raise SchedulingError(f"{locked.display_name} is not taking bookings.")
    _check_availability(
        locked, availability, starts_at, ends_at, allow_outside_hours=allow_outside_hours
    )
    # After the practitioner, always in that order: the capacity is read under the lock.
    room = _lock_room(room.pk) if room is not None else None
    exclusive = room is None or room.capacity <= 1
    subject = _conflict_subject(
        practitioner_id=locked.pk,
        room_id=room.pk if room is not None and exclusive else None,
        patient_id=patient.pk,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    if subject:
        raise _slot_taken(subject)
    if room is not None:
        _check_room(room, starts_at, ends_at)
    if rescheduled_from is not None:
        # The same calendar entry, moved: the patient's calendar updates it in place.
        ics_uid = rescheduled_from.calendar_uid
        ics_sequence = rescheduled_from.ics_sequence + 1
    else:
        ics_uid, ics_sequence = _new_calendar_uid(), 0
    appointment = _insert(
        Appointment(
            patient=patient,
            practitioner=locked,
            room=room,
            starts_at=starts_at,
            ends_at=ends_at,
            kind=kind,
            status=AppointmentStatus.BOOKED,
            series=series,
            rescheduled_from=rescheduled_from,
            room_exclusive=exclusive,
            created_by=acting_user,
            created_at=now,
            ics_uid=ics_uid,
            ics_sequence=ics_sequence,
        )
    )
    if email:
        appointment_emails_enqueue(
            kind=ReminderKind.CHANGE if rescheduled_from is not None else ReminderKind.CONFIRMATION,
            appointments=[appointment],
            now=now,
        )
    if audit:
        audit_record(
            acting_user=acting_user,
            action=AuditAction.CREATE,
            patient=patient,
            obj=appointment,
            ip=ip,
            detail=_describe(appointment, "booked"),
        )
    return appointment


def _new_calendar_uid() -> str:
    return f"appointment-{uuid.uuid4().hex}@{settings.CLINIC_NAME.replace(' ', '-')}"


def _describe(appointment: Appointment, verb: str) -> str:
    local = appointment.starts_at.astimezone(clinic_zone())
    return (
        f"appointment {verb}: {appointment.get_kind_display()} with "
        f"{appointment.practitioner.display_name} on {local:%Y-%m-%d %H:%M}"
    )


# The status flow ------------------------------------------------------------------

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    AppointmentStatus.BOOKED: {
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    },
    AppointmentStatus.CHECKED_IN: {AppointmentStatus.COMPLETED},
}

_VERBS: dict[str, str] = {
    AppointmentStatus.CHECKED_IN: "checked in",
    AppointmentStatus.COMPLETED: "completed",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "marked as a no-show",
}


def _lock_for_transition(appointment: Appointment, to: str) -> Appointment:
    current = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practitioner", "patient")
        .get(pk=appointment.pk)
    )
    if to not in ALLOWED_TRANSITIONS.get(current.status, set()):
        raise InvalidTransition(
            f"This visit is {current.get_status_display().lower()}, so it cannot be {_VERBS[to]}."
        )
    return current


def _save_transition(
    current: Appointment, *, acting_user: User | None, ip: str | None, fields: list[str], verb: str
) -> Appointment:
    current.save(update_fields=[*fields, "status", "updated_at"])
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=current.patient,
        obj=current,
        ip=ip,
        detail=_describe(current, verb),
    )
    return current


@transaction.atomic
def appointment_check_in(
    *, appointment: Appointment, acting_user: User, ip: str | None = None
) -> Appointment:
    current = _lock_for_transition(appointment, AppointmentStatus.CHECKED_IN)
    now = timezone.now()
    if clinic_today(current.starts_at) != clinic_today(now):
        raise InvalidTransition("Patients can be checked in only on the day of their visit.")
    current.status = AppointmentStatus.CHECKED_IN
    current.checked_in_at = now
    return _save_transition(
        current, acting_user=acting_user, ip=ip, fields=["checked_in_at"], verb="checked in"
    )


@transaction.atomic
def appointment_complete(
    *, appointment: Appointment, acting_user: User, ip: str | None = None
) -> Appointment:
    current = _lock_for_transition(appointment, AppointmentStatus.COMPLETED)
    current.status = AppointmentStatus.COMPLETED
    return _save_transition(current, acting_user=acting_user, ip=ip, fields=[], verb="completed")


# Visit notes follow the visit (treatments/visits.py; docs/decisions.md, "Notes follow
# the visit"). These are the scheduling side of that hook, connected at start-up.

# Visits a note may document: the live ones. A cancelled or no-show visit did not happen.
NOTE_DOCUMENTABLE_STATUSES = LIVE_APPOINTMENT_STATUSES


def appointment_note_documentable() -> Q:
    return Q(status__in=NOTE_DOCUMENTABLE_STATUSES)


def appointment_note_refusal(appointment: Appointment) -> str:
    """Why a visit note may not document this visit ("" when it may)."""
    if appointment.status in NOTE_DOCUMENTABLE_STATUSES:
        return ""
    local = appointment.starts_at.astimezone(clinic_zone())
    what = "was a no-show" if appointment.status == AppointmentStatus.NO_SHOW else "was cancelled"
    return (
        f"The visit of {local:%a %d %b %Y %H:%M} {what}: a note cannot document it. "
        "Choose another visit, or none."
    )


@transaction.atomic
def appointment_note_signing(
    *, appointment_id: int, acting_user: User, ip: str | None = None
) -> Appointment:
    """A note for this visit is being signed (in the caller's transaction): lock the
    visit, refuse if it no longer can be documented (SchedulingError), and complete it
    if the patient is checked in, audited like any status change."""
    current = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practitioner", "patient")
        .get(pk=appointment_id)
    )
    refusal = appointment_note_refusal(current)
    if refusal:
        raise SchedulingError(refusal)
    if current.status == AppointmentStatus.CHECKED_IN:
        current.status = AppointmentStatus.COMPLETED
        _save_transition(
            current,
            acting_user=acting_user,
            ip=ip,
            fields=[],
            verb="completed (visit note signed)",
        )
    return current


@transaction.atomic
def appointment_mark_no_show(
    *, appointment: Appointment, acting_user: User, ip: str | None = None
) -> Appointment:
    current = _lock_for_transition(appointment, AppointmentStatus.NO_SHOW)
    if current.starts_at > timezone.now():
        raise InvalidTransition("A visit can be marked as a no-show only once it has started.")
    current.status = AppointmentStatus.NO_SHOW
    return _save_transition(
        current, acting_user=acting_user, ip=ip, fields=[], verb="marked no-show"
    )


@transaction.atomic
def appointment_undo_status(
    *, appointment: Appointment, reason: str, acting_user: User, ip: str | None = None
) -> Appointment:
    """Undo a check-in, a no-show or a completion on the day it was made: back to booked
    (checked in for a completion). The reason goes to the audit log."""
    reason = (reason or "").strip()
    if not reason:
        raise SchedulingError("Give a reason for undoing it.")
    if len(reason) > 300:
        raise SchedulingError("Keep the reason under 300 characters.")
    _lock_practitioner(appointment.practitioner_id)
    current = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practitioner", "patient")
        .get(pk=appointment.pk)
    )
    if current.status not in UNDO_TO:
        raise InvalidTransition(
            f"This visit is {current.get_status_display().lower()}: there is nothing to undo."
        )
    if not can_undo_status(current):
        raise InvalidTransition(
            f"“{current.get_status_display()}” can be undone only on the day it was set."
        )
    before = current.get_status_display()
    if current.status == AppointmentStatus.NO_SHOW:
        # A no-show frees its slot: someone may have been booked into it since.
        room = _lock_room(current.room_id) if current.room_id is not None else None
        exclusive = room is None or room.capacity <= 1
        subject = _conflict_subject(
            practitioner_id=current.practitioner_id,
            room_id=current.room_id if exclusive else None,
            patient_id=current.patient_id,
            starts_at=current.starts_at,
            ends_at=current.ends_at,
            exclude_ids=[current.pk],
        )
        if subject:
            raise SlotTaken(
                f"The no-show cannot be undone: {subject} has another visit at that time now."
            )
        if room is not None:
            try:
                _check_room(room, current.starts_at, current.ends_at, exclude_ids=[current.pk])
            except RoomFull as error:
                raise RoomFull(
                    f"The no-show cannot be undone: {room.name} is full at that time now."
                ) from error
        current.room_exclusive = exclusive
    current.status = UNDO_TO[current.status]
    if current.status == AppointmentStatus.BOOKED:
        current.checked_in_at = None
    try:
        with transaction.atomic():
            current.save(update_fields=["status", "checked_in_at", "room_exclusive", "updated_at"])
    except IntegrityError as error:  # the exclusion constraints, on PostgreSQL
        raise SlotTaken("The no-show cannot be undone: the slot has been booked again.") from error
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=current.patient,
        obj=current,
        ip=ip,
        detail=f"{_describe(current, 'status undone')}: {before} → "
        f"{current.get_status_display()}. Reason: {reason}",
    )
    return current


def _cancel_locked(
    current: Appointment, *, reason: str, now: dt.datetime, late_window: dt.timedelta
) -> None:
    current.status = AppointmentStatus.CANCELLED
    current.cancel_reason = reason
    current.cancelled_at = now
    current.late_cancellation = current.starts_at - now < late_window
    # The cancellation's METHOD:CANCEL must outrank every REQUEST sent for the visit.
    current.ics_sequence += 1


# What a cancellation writes (bulk_update skips auto_now: callers set updated_at).
_CANCEL_FIELDS = [
    "status",
    "cancel_reason",
    "cancelled_at",
    "late_cancellation",
    "ics_sequence",
    "updated_at",
]


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise SchedulingError("Give a reason for the cancellation.")
    if len(reason) > 500:
        raise SchedulingError("Keep the reason under 500 characters.")
    return reason


@transaction.atomic
def appointment_cancel(
    *, appointment: Appointment, reason: str, acting_user: User | None, ip: str | None = None
) -> Appointment:
    """Cancel one visit; under the late-cancellation window it is flagged late.
    ``acting_user`` is None when the patient cancels from their email link."""
    reason = _clean_reason(reason)
    current = _lock_for_transition(appointment, AppointmentStatus.CANCELLED)
    window = dt.timedelta(hours=scheduling_settings().late_cancellation_hours)
    now = timezone.now()
    _cancel_locked(current, reason=reason, now=now, late_window=window)
    verb = "cancelled late" if current.late_cancellation else "cancelled"
    waitlist.waitlist_slot_freed(appointment=current)
    appointment_emails_enqueue(kind=ReminderKind.CANCELLATION, appointments=[current], now=now)
    return _save_transition(
        current,
        acting_user=acting_user,
        ip=ip,
        fields=["cancel_reason", "cancelled_at", "late_cancellation", "ics_sequence"],
        verb=verb,
    )


@transaction.atomic
def series_cancel_following(
    *, appointment: Appointment, reason: str, acting_user: User, ip: str | None = None
) -> list[Appointment]:
    """Cancel this visit and every later booked visit of its series."""
    reason = _clean_reason(reason)
    if appointment.series_id is None:
        return [
            appointment_cancel(
                appointment=appointment, reason=reason, acting_user=acting_user, ip=ip
            )
        ]
    current = _lock_for_transition(appointment, AppointmentStatus.CANCELLED)
    later = list(
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practitioner", "patient")
        .filter(
            series_id=current.series_id,
            status=AppointmentStatus.BOOKED,
            starts_at__gte=current.starts_at,
        )
        .order_by("starts_at")
    )
    now = timezone.now()
    window = dt.timedelta(hours=scheduling_settings().late_cancellation_hours)
    for visit in later:
        _cancel_locked(visit, reason=reason, now=now, late_window=window)
        visit.updated_at = now  # bulk_update skips auto_now
    Appointment.objects.bulk_update(later, _CANCEL_FIELDS)
    appointment_emails_enqueue(kind=_cancellation_kind(later), appointments=later, now=now)
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=current.patient,
        obj=current,
        ip=ip,
        detail=f"{len(later)} visits of series {current.series_id} cancelled from "
        f"{current.starts_at.astimezone(clinic_zone()):%Y-%m-%d %H:%M}",
    )
    return later


def _cancellation_kind(visits: list[Appointment]) -> str:
    """Visits of a series cancelled together: one email for all of them."""
    return ReminderKind.SERIES_CANCELLED if len(visits) > 1 else ReminderKind.CANCELLATION


def _remaining_locked(series: AppointmentSeries, now: dt.datetime) -> list[Appointment]:
    """The series' booked visits from now on, locked, in order."""
    return list(
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practitioner", "patient", "room")
        .filter(series=series, status=AppointmentStatus.BOOKED, starts_at__gte=now)
        .order_by("starts_at", "id")
    )


@transaction.atomic
def series_cancel_remaining(
    *, series: AppointmentSeries, reason: str, acting_user: User, ip: str | None = None
) -> list[Appointment]:
    """Cancel every booked visit of the series from now on, all or none, each as
    ``appointment_cancel`` would (late ones flagged late)."""
    reason = _clean_reason(reason)
    now = timezone.now()
    remaining = _remaining_locked(series, now)
    if not remaining:
        raise SchedulingError("No booked visits of this series are left to cancel.")
    window = dt.timedelta(hours=scheduling_settings().late_cancellation_hours)
    for visit in remaining:
        _cancel_locked(visit, reason=reason, now=now, late_window=window)
        visit.updated_at = now  # bulk_update skips auto_now
    Appointment.objects.bulk_update(remaining, _CANCEL_FIELDS)
    appointment_emails_enqueue(kind=_cancellation_kind(remaining), appointments=remaining, now=now)
    late = sum(v.late_cancellation for v in remaining)
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=series.patient,
        obj=series,
        ip=ip,
        detail=f"{len(remaining)} remaining visits of series {series.pk} cancelled"
        f"{f' ({late} late)' if late else ''}: {reason}",
    )
    return remaining


@transaction.atomic
def series_move_remaining(
    *,
    series: AppointmentSeries,
    moves: dict[int, dt.datetime],
    practitioner: Practitioner,
    acting_user: User,
    ip: str | None = None,
) -> list[Appointment]:
    """Move booked visits of the series (visit id -> new start) to ``practitioner``, each
    keeping its length, kind and room: the old visits are cancelled ("Rescheduled") and
    new ones point back to them, all through ``appointment_book``. All or none."""
    if not moves:
        raise SchedulingError("Tick at least one visit to move.")
    tz = clinic_zone()
    if len({start.astimezone(tz).date() for start in moves.values()}) != len(moves):
        raise SchedulingError(
            "Two visits would fall on the same day: untick one. No visit was moved."
        )
    now = timezone.now()
    # Lock every practitioner involved in id order (as appointment_reschedule does).
    involved = set(
        Appointment.objects.filter(series=series, pk__in=list(moves)).values_list(
            "practitioner_id", flat=True
        )
    )
    for pk in sorted(involved | {practitioner.pk}):
        _lock_practitioner(pk)
    visits = [v for v in _remaining_locked(series, now) if v.pk in moves]
    if len(visits) != len(moves):
        raise SchedulingError(
            "Some of these visits changed since the preview: check the new preview. "
            "No visit was moved."
        )
    # Free the old times first, so a visit may move onto another one's old slot.
    for visit in visits:
        visit.status = AppointmentStatus.CANCELLED
        visit.cancel_reason = "Rescheduled"
        visit.cancelled_at = now
        visit.late_cancellation = False
        visit.updated_at = now
    Appointment.objects.bulk_update(
        visits, ["status", "cancel_reason", "cancelled_at", "late_cancellation", "updated_at"]
    )
    moved = []
    for visit in sorted(visits, key=lambda v: moves[v.pk]):
        start = moves[visit.pk].astimezone(UTC)
        try:
            moved.append(
                appointment_book(
                    patient=visit.patient,
                    practitioner=practitioner,
                    kind=visit.kind,
                    starts_at=start,
                    ends_at=start + (visit.ends_at - visit.starts_at),
                    room=visit.room,
                    acting_user=acting_user,
                    series=series,
                    rescheduled_from=visit,
                    audit=False,
                )
            )
        except SchedulingError as error:
            local = start.astimezone(tz)
            raise type(error)(
                f"{local:%a %d %b %Y %H:%M}: {error.message} No visit was moved."
            ) from error
    if series.practitioner_id != practitioner.pk:
        series.practitioner = practitioner
        series.save(update_fields=["practitioner"])
    first = min(moves.values()).astimezone(tz)
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=series.patient,
        obj=series,
        ip=ip,
        detail=f"{len(moved)} visits of series {series.pk} moved to {practitioner.display_name}"
        f" from {first:%Y-%m-%d %H:%M}",
    )
    return moved


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    practitioner: Practitioner,
    room: Room | None,
    acting_user: User,
    allow_outside_hours: bool = False,
    ip: str | None = None,
) -> Appointment:
    """Move a booked visit: the old one is cancelled ("Rescheduled"), a new one points back
    to it, so the history stays. Both or neither are saved."""
    # Lock both practitioners in id order, so two moves in opposite directions cannot
    # deadlock; appointment_book locks the new one again (a no-op in this transaction).
    for pk in sorted({appointment.practitioner_id, practitioner.pk}):
        _lock_practitioner(pk)
    current = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practitioner", "patient", "series")
        .get(pk=appointment.pk)
    )
    if current.status != AppointmentStatus.BOOKED:
        raise InvalidTransition(
            f"This visit is {current.get_status_display().lower()}: "
            "only booked visits can be moved."
        )
    now = timezone.now()
    current.status = AppointmentStatus.CANCELLED
    current.cancel_reason = "Rescheduled"
    current.cancelled_at = now
    current.late_cancellation = False
    current.save(
        update_fields=["status", "cancel_reason", "cancelled_at", "late_cancellation", "updated_at"]
    )
    new = appointment_book(
        patient=current.patient,
        practitioner=practitioner,
        kind=current.kind,
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
        acting_user=acting_user,
        allow_outside_hours=allow_outside_hours,
        series=current.series,
        rescheduled_from=current,
        ip=ip,
        audit=False,
    )
    waitlist.waitlist_slot_freed(appointment=current)
    old_local = current.starts_at.astimezone(clinic_zone())
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=current.patient,
        obj=new,
        ip=ip,
        detail=f"appointment rescheduled from {old_local:%Y-%m-%d %H:%M} "
        f"(appointment {current.pk}); {_describe(new, 'now')}",
    )
    return new


@transaction.atomic
def series_book(
    *,
    patient: Patient,
    practitioner: Practitioner,
    kind: str,
    starts: list[dt.datetime],
    duration: dt.timedelta,
    acting_user: User,
    room: Room | None = None,
    treatment_plan: TreatmentPlan | None = None,
    allow_outside_hours: bool = False,
    description: str = "",
    ip: str | None = None,
) -> AppointmentSeries:
    """Book every occurrence or none: any refusal rolls the whole series back."""
    if not starts:
        raise SchedulingError("There are no visits to book.")
    if len(starts) > MAX_SERIES:
        raise SchedulingError(f"A series holds at most {MAX_SERIES} visits.")
    if len(set(starts)) != len(starts):
        raise SchedulingError("The same time appears twice in the series.")
    tz = clinic_zone()
    if len({start.astimezone(tz).date() for start in starts}) != len(starts):
        # A series is one visit a day: two on one day is a conflict and its suggestion
        # both ticked, which would book the patient twice that day.
        raise SchedulingError(
            "Two visits of the series fall on the same day: untick one. "
            "No visit of the series was booked."
        )
    _lock_practitioner(practitioner.pk)
    series = AppointmentSeries.objects.create(
        patient=patient,
        practitioner=practitioner,
        treatment_plan=treatment_plan,
        description=description[:200],
        created_by=acting_user,
    )
    booked = []
    for start in sorted(starts):
        try:
            visit = appointment_book(
                patient=patient,
                practitioner=practitioner,
                kind=kind,
                starts_at=start,
                ends_at=start.astimezone(UTC) + duration,
                room=room,
                acting_user=acting_user,
                allow_outside_hours=allow_outside_hours,
                series=series,
                audit=False,
                email=False,
            )
        except SchedulingError as error:
            local = start.astimezone(tz)
            raise type(error)(
                f"{local:%a %d %b %Y %H:%M}: {error.message} No visit of the series was booked."
            ) from error
        booked.append(visit)
    # One email for the series (a dozen confirmations at once would bury the dates).
    appointment_emails_enqueue(
        kind=ReminderKind.SERIES_BOOKED if len(booked) > 1 else ReminderKind.CONFIRMATION,
        appointments=booked,
    )
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient=patient,
        obj=series,
        ip=ip,
        detail=f"{len(starts)} recurring visits booked with {practitioner.display_name}",
    )
    return series


# Set-up managed by the clinic manager --------------------------------------------------


@transaction.atomic
def practitioner_create(*, user: User, display_name: str, acting_user: User) -> Practitioner:
    practitioner = Practitioner.objects.create(user=user, display_name=display_name.strip())
    audit_record(acting_user=acting_user, action=AuditAction.CREATE, obj=practitioner)
    return practitioner


@transaction.atomic
def practitioner_update(
    *, practitioner: Practitioner, display_name: str, active: bool, acting_user: User
) -> Practitioner:
    practitioner.display_name = display_name.strip()
    practitioner.active = active
    practitioner.save(update_fields=["display_name", "active"])
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        obj=practitioner,
        detail="active" if active else "not taking bookings",
    )
    return practitioner


@transaction.atomic
def practitioner_feed_regenerate(*, practitioner: Practitioner, acting_user: User) -> str:
    """A new secret feed address; the old one stops working at once."""
    practitioner.feed_token = secrets.token_urlsafe(32)
    practitioner.save(update_fields=["feed_token"])
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        obj=practitioner,
        detail="calendar feed address renewed",
    )
    return practitioner.feed_token


@transaction.atomic
def practitioner_feed_revoke(*, practitioner: Practitioner, acting_user: User) -> None:
    practitioner.feed_token = None
    practitioner.save(update_fields=["feed_token"])
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        obj=practitioner,
        detail="calendar feed turned off",
    )


@transaction.atomic
def working_hours_add(
    *, practitioner: Practitioner, weekday: int, start: dt.time, end: dt.time, acting_user: User
) -> WorkingHours:
    if end <= start:
        raise SchedulingError("Working hours must end after they start.")
    if not 0 <= weekday <= 6:
        raise SchedulingError("Choose a day of the week.")
    clash = WorkingHours.objects.filter(
        practitioner=practitioner, weekday=weekday, start__lt=end, end__gt=start
    ).exists()
    if clash:
        raise SchedulingError("These hours overlap hours already set for that day.")
    hours = WorkingHours.objects.create(
        practitioner=practitioner, weekday=weekday, start=start, end=end
    )
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        obj=hours,
        detail=f"{practitioner.display_name}: weekday {weekday} {start:%H:%M}-{end:%H:%M}",
    )
    return hours


@transaction.atomic
def working_hours_delete(*, hours: WorkingHours, acting_user: User) -> None:
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        obj=hours,
        detail=f"{hours.practitioner.display_name}: removed weekday {hours.weekday} "
        f"{hours.start:%H:%M}-{hours.end:%H:%M}",
    )
    hours.delete()


@transaction.atomic
def time_off_add(
    *,
    practitioner: Practitioner,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    acting_user: User,
) -> TimeOff:
    if ends_at <= starts_at:
        raise SchedulingError("Time off must end after it starts.")
    off = TimeOff.objects.create(
        practitioner=practitioner, starts_at=starts_at, ends_at=ends_at, reason=reason.strip()
    )
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        obj=off,
        detail=f"{practitioner.display_name} away",
    )
    return off


@transaction.atomic
def time_off_delete(*, time_off: TimeOff, acting_user: User) -> None:
    audit_record(
        acting_user=acting_user, action=AuditAction.UPDATE, obj=time_off, detail="time off removed"
    )
    time_off.delete()


def _clean_capacity(capacity: int) -> int:
    if not isinstance(capacity, int) or not 1 <= capacity <= ROOM_CAPACITY_MAX:
        raise SchedulingError(f"A room holds between 1 and {ROOM_CAPACITY_MAX} visits at once.")
    return capacity


# The longest closure one entry may cover: long enough for a renovation, short enough that
# a typo in the year (2062 for 2026) is caught rather than closing the clinic for decades.
MAX_CLOSURE_DAYS = 366


def _check_closure(
    *, starts_on: dt.date, ends_on: dt.date, reason: str, exclude_pk: int | None = None
) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise SchedulingError("Say why the clinic is closed.")
    if len(reason) > 200:
        raise SchedulingError("Keep the reason under 200 characters.")
    if ends_on < starts_on:
        raise SchedulingError("The last day closed cannot be before the first.")
    if (ends_on - starts_on).days + 1 > MAX_CLOSURE_DAYS:
        raise SchedulingError(f"One closure covers at most {MAX_CLOSURE_DAYS} days.")
    # Overlapping closures would give one day two reasons: widen the existing one instead.
    clash = ClinicClosure.objects.filter(starts_on__lte=ends_on, ends_on__gte=starts_on)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    other = clash.order_by("starts_on").first()
    if other is not None:
        raise SchedulingError(
            f"These days overlap another closure ({other}): change that one instead."
        )
    return reason


def _closure_detail(closure: ClinicClosure) -> str:
    days = closed_day_label(closure.starts_on)
    if closure.ends_on != closure.starts_on:
        days += f" to {closed_day_label(closure.ends_on)}"
    return f"clinic closed {days}: {closure.reason}"


@transaction.atomic
def closure_create(
    *,
    starts_on: dt.date,
    ends_on: dt.date,
    reason: str,
    acting_user: User,
    ip: str | None = None,
) -> ClinicClosure:
    """Close the clinic on these days. Visits already booked on them stay booked: the
    closure's worklist lists them for the front desk to move or cancel."""
    reason = _check_closure(starts_on=starts_on, ends_on=ends_on, reason=reason)
    closure = ClinicClosure.objects.create(
        starts_on=starts_on, ends_on=ends_on, reason=reason, created_by=acting_user
    )
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        obj=closure,
        ip=ip,
        detail=_closure_detail(closure),
    )
    return closure


@transaction.atomic
def closure_update(
    *,
    closure: ClinicClosure,
    starts_on: dt.date,
    ends_on: dt.date,
    reason: str,
    acting_user: User,
    ip: str | None = None,
) -> ClinicClosure:
    reason = _check_closure(
        starts_on=starts_on, ends_on=ends_on, reason=reason, exclude_pk=closure.pk
    )
    before = _closure_detail(closure)
    closure.starts_on, closure.ends_on, closure.reason = starts_on, ends_on, reason
    closure.save(update_fields=["starts_on", "ends_on", "reason"])
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        obj=closure,
        ip=ip,
        detail=f"{_closure_detail(closure)} (was: {before})",
    )
    return closure


@transaction.atomic
def closure_delete(*, closure: ClinicClosure, acting_user: User, ip: str | None = None) -> None:
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        obj=closure,
        ip=ip,
        detail=f"closure removed: {_closure_detail(closure)}",
    )
    closure.delete()


@transaction.atomic
def room_create(*, name: str, acting_user: User, capacity: int = 1, ip: str | None = None) -> Room:
    room = Room.objects.create(name=name.strip(), capacity=_clean_capacity(capacity))
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        obj=room,
        ip=ip,
        detail=f"{room.name} (holds {room.capacity})",
    )
    return room


@transaction.atomic
def room_update(
    *,
    room: Room,
    name: str,
    active: bool,
    acting_user: User,
    capacity: int | None = None,
    ip: str | None = None,
) -> Room:
    """Rename, retire or resize a room. Lowering the capacity below the most visits the
    room already holds at once (from now on) is refused, naming when; on any change of
    capacity the room's visits from now on take the new ``room_exclusive`` flag, so the
    database holds a room of capacity 1 alone again (docs/decisions.md, "Rooms with
    capacity"). Past visits keep the flag they were booked with."""
    locked = _lock_room(room.pk)
    before = locked.capacity
    capacity = before if capacity is None else _clean_capacity(capacity)
    now = timezone.now()
    if capacity < before:
        rows = Appointment.objects.filter(
            room=locked, ends_at__gt=now, status__in=LIVE_APPOINTMENT_STATUSES
        ).values_list("starts_at", "ends_at")
        peak, when = peak_occupancy(rows, now, dt.datetime.max.replace(tzinfo=UTC))
        if peak > capacity and when is not None:
            local = when.astimezone(clinic_zone())
            raise SchedulingError(
                f"{locked.name} already holds {peak} visits at once on "
                f"{local:%a %d %b %Y at %H:%M}: its capacity cannot go below {peak} until "
                "those visits are moved or cancelled. Nothing was saved."
            )
    locked.name = name.strip()
    locked.active = active
    locked.capacity = capacity
    locked.save(update_fields=["name", "active", "capacity"])
    if (capacity == 1) != (before == 1):
        Appointment.objects.filter(room=locked, ends_at__gt=now).update(
            room_exclusive=capacity == 1
        )
    detail = locked.name
    if capacity != before:
        detail += f": capacity {before} → {capacity}"
    audit_record(
        acting_user=acting_user, action=AuditAction.UPDATE, obj=locked, ip=ip, detail=detail
    )
    room.name, room.active, room.capacity = locked.name, locked.active, locked.capacity
    return locked


@transaction.atomic
def scheduling_settings_update(*, acting_user: User, **values: Any) -> SchedulingSettings:
    current, _ = SchedulingSettings.objects.select_for_update().get_or_create(pk=1)
    for name, value in values.items():
        setattr(current, name, value)
    current.save()
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        obj=current,
        detail="scheduling settings changed",
    )
    return current
