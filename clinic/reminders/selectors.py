"""Reads for the reminder outbox: dispatch batches, the staff page, the patient pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from clinic.models import (
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderReason,
    ReminderStatus,
)
from patients.models import Patient
from treatments.models import (
    ExerciseCompletion,
    ExercisePrescription,
    HomeExerciseProgram,
    ProgramStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# Dispatch --------------------------------------------------------------------------


def _reachable_patient(prefix: str, consent: str = "reminders_opt_in") -> Q:
    """Patients who may get these emails: ``consent`` (reminders_opt_in for exercise
    reminders, appointment_emails_opt_in for appointment emails), an email address, not
    archived."""
    return Q(**{f"{prefix}{consent}": True, f"{prefix}archived_at__isnull": True}) & ~Q(
        **{f"{prefix}email": ""}
    )


APPOINTMENT_CONSENT = "appointment_emails_opt_in"


def exercise_reminder_candidates(*, now: dt.datetime) -> Iterator[list[dict[str, Any]]]:
    """Active programs with reminders on whose dates may include a patient's local today,
    in id order, one batch (one query) at a time. The local time and weekday checks
    need each patient's time zone and happen in Python (clinic/reminders/schedule.py)."""
    # Local dates anywhere on Earth lie within UTC-12 .. UTC+14 of now; yesterday too.
    latest = (now + dt.timedelta(hours=14)).date()
    earliest = (now - dt.timedelta(hours=12)).date() - dt.timedelta(days=1)
    base = (
        HomeExerciseProgram.objects.filter(
            _reachable_patient("patient__"),
            status=ProgramStatus.ACTIVE,
            reminders_enabled=True,
            start_date__lte=latest,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=earliest))
        .order_by("id")
    )
    yield from _batches(
        base,
        fields=(
            "id",
            "patient_id",
            "patient__timezone",
            "reminder_time",
            "reminder_days",
            "start_date",
            "end_date",
        ),
    )


def appointment_reminder_candidates(*, now: dt.datetime) -> Iterator[list[dict[str, Any]]]:
    """Booked visits starting within APPOINTMENT_REMINDER_HOURS (index appt_status_start_idx).
    Cancelled and moved-away visits are not "booked", so they never get one."""
    ahead = dt.timedelta(hours=settings.APPOINTMENT_REMINDER_HOURS)
    base = Appointment.objects.filter(
        _reachable_patient("patient__", APPOINTMENT_CONSENT),
        status=AppointmentStatus.BOOKED,
        starts_at__gt=now,
        starts_at__lte=now + ahead,
    ).order_by("id")
    yield from _batches(base, fields=("id", "patient_id", "starts_at"))


def _batches(queryset: QuerySet[Any], *, fields: tuple[str, ...]) -> Iterator[list[dict[str, Any]]]:
    size = settings.REMINDER_BATCH_SIZE
    last_id = 0
    while True:
        rows = list(queryset.filter(id__gt=last_id).values(*fields)[:size])
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last_id = rows[-1]["id"]


def existing_keys(keys: list[str]) -> list[str]:
    """Which of these occurrences already have a row (unique index on key)."""
    return list(Reminder.objects.filter(key__in=keys).values_list("key", flat=True))


def left_behind_ids(*, now: dt.datetime, requeue_before: dt.datetime, after_id: int) -> list[int]:
    """Pending, due rows whose retry time has come (enqueued_at NULL), whose send task
    never reached the broker (NULL too) or has not run long after it should have
    (index reminder_status_due_idx)."""
    return list(
        Reminder.objects.filter(status=ReminderStatus.PENDING, due_at__lte=now, id__gt=after_id)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=requeue_before))
        .order_by("id")
        .values_list("id", flat=True)[: settings.REMINDER_BATCH_SIZE]
    )


def reminders_for_send(ids: list[int]) -> list[Reminder]:
    """The claimed rows with what the re-check and the emails need, in one query."""
    return list(
        Reminder.objects.filter(id__in=ids)
        .select_related(
            "patient",
            "program",
            "appointment__practitioner",
            "offer__practitioner",
            "questionnaire",
        )
        .order_by("id")
    )


# Staff pages --------------------------------------------------------------------


STAFF_LIST_LIMIT = 50

# Every (state, reason) a row can be in, in the order the staff page lists them.
STATE_REASONS: list[tuple[str, list[str]]] = [
    (
        ReminderStatus.FAILED,
        [
            ReminderReason.ADDRESS_REFUSED,
            ReminderReason.MESSAGE_REFUSED,
            ReminderReason.MESSAGE_ERROR,
            ReminderReason.MAIL_SERVER,
            ReminderReason.NONE,
        ],
    ),
    (ReminderStatus.UNCONFIRMED, [ReminderReason.WORKER_STOPPED]),
    (ReminderStatus.PENDING, [ReminderReason.NONE, ReminderReason.MAIL_SERVER]),
    (ReminderStatus.SENDING, [ReminderReason.NONE]),
    (ReminderStatus.SENT, [ReminderReason.NONE]),
    (ReminderStatus.EXPIRED, [ReminderReason.TOO_LATE, ReminderReason.APPOINTMENT_STARTED]),
    (
        ReminderStatus.SKIPPED,
        [
            ReminderReason.OPTED_OUT,
            ReminderReason.ARCHIVED,
            ReminderReason.NO_EMAIL,
            ReminderReason.PROGRAM_INACTIVE,
            ReminderReason.APPOINTMENT_CHANGED,
            ReminderReason.OFFER_CLOSED,
            ReminderReason.QUESTIONNAIRE_CLOSED,
            ReminderReason.NONE,
        ],
    ),
]


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    label: str
    count: int
    capped: bool  # there are more than ``count`` (REMINDER_COUNT_CAP)


@dataclass(frozen=True)
class StateCount:
    status: str
    label: str
    count: int
    capped: bool
    reasons: list[ReasonCount]


def reminder_counts() -> list[StateCount]:
    """Rows by state and reason, each counted up to REMINDER_COUNT_CAP, in one query
    however large the table: one bounded sub-select per (state, reason), each an
    index-only range of reminder_status_reason_idx. Never a count of every sent row."""
    table = connection.ops.quote_name(Reminder._meta.db_table)
    cap = settings.REMINDER_COUNT_CAP
    pairs = [(status, reason) for status, reasons in STATE_REASONS for reason in reasons]
    parts = []
    params: list[Any] = []
    for status, reason in pairs:
        parts.append(
            f"(SELECT COUNT(*) FROM (SELECT 1 FROM {table} "
            "WHERE status = %s AND reason = %s LIMIT %s) AS bounded)"
        )
        params += [str(status), str(reason), cap + 1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        values = dict(zip(pairs, cursor.fetchone(), strict=True))
    states = []
    for status, reasons in STATE_REASONS:
        counts = [
            ReasonCount(
                reason=str(reason),
                label=ReminderReason(reason).label if reason else "",
                count=min(values[(status, reason)], cap),
                capped=values[(status, reason)] > cap,
            )
            for reason in reasons
        ]
        states.append(
            StateCount(
                status=str(status),
                label=ReminderStatus(status).label,
                count=sum(c.count for c in counts),
                capped=any(c.capped for c in counts),
                reasons=[c for c in counts if c.count and c.reason],
            )
        )
    return states


@dataclass(frozen=True)
class ReminderPage:
    status: str
    reason: str | None
    rows: list[Reminder]
    next_cursor: str  # "" on the last page


def parse_list_query(query: Any) -> tuple[str, str | None, tuple[dt.datetime, int] | None]:
    """The list the staff page shows, from its query string; anything unknown or
    malformed means the default (failed, every reason, first page), never an error."""
    status = query.get("status", "")
    if status not in ReminderStatus.values:
        status = ReminderStatus.FAILED
    reason = query.get("reason")
    if reason is not None and reason not in ReminderReason.values:
        reason = None
    return status, reason, _parse_cursor(query.get("after", ""))


def _parse_cursor(value: str) -> tuple[dt.datetime, int] | None:
    """ "<microseconds since the epoch>.<id>" of the last row on the previous page."""
    micros, _, row_id = str(value).partition(".")
    if not (micros.isdigit() and row_id.isdigit() and len(micros) <= 17 and len(row_id) <= 18):
        return None
    try:
        at = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(micros))
    except OverflowError:
        return None
    return at, int(row_id)


def _cursor(row: Reminder) -> str:
    delta = row.updated_at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return f"{delta // dt.timedelta(microseconds=1)}.{row.id}"


def reminder_page(
    *, status: str, reason: str | None, after: tuple[dt.datetime, int] | None
) -> ReminderPage:
    """One page of one state (and reason), most recently changed first, in one query:
    keyset paging on (updated_at, id), so page 1,000 costs what page 1 does (index
    reminder_status_upd_idx, or reminder_status_reason_idx with a reason)."""
    rows = Reminder.objects.select_related("patient").filter(status=status)
    if reason is not None:
        rows = rows.filter(reason=reason)
    if after is not None:
        at, row_id = after
        rows = rows.filter(Q(updated_at__lt=at) | Q(updated_at=at, id__lt=row_id))
    found = list(
        rows.only(
            "id",
            "kind",
            "due_at",
            "status",
            "reason",
            "attempts",
            "last_error",
            "sent_at",
            "updated_at",
            "next_attempt_at",
            "patient__id",
            "patient__first_name",
            "patient__last_name",
            "patient__email",
        ).order_by("-updated_at", "-id")[: STAFF_LIST_LIMIT + 1]
    )
    more = len(found) > STAFF_LIST_LIMIT
    found = found[:STAFF_LIST_LIMIT]
    return ReminderPage(
        status=status,
        reason=reason,
        rows=found,
        next_cursor=_cursor(found[-1]) if more else "",
    )


def scheduled_appointments(*, now: dt.datetime) -> list[Appointment]:
    """Booked visits whose reminder is due within the next day and not yet created."""
    ahead = dt.timedelta(hours=settings.APPOINTMENT_REMINDER_HOURS)
    scheduled = list(
        Appointment.objects.filter(
            _reachable_patient("patient__", APPOINTMENT_CONSENT),
            status=AppointmentStatus.BOOKED,
            starts_at__gt=now + ahead,
            starts_at__lte=now + ahead + dt.timedelta(days=1),
        )
        .exclude(Exists(Reminder.objects.filter(appointment=OuterRef("pk"))))
        .select_related("patient")
        .only("id", "starts_at", "patient__id", "patient__first_name", "patient__last_name")
        .order_by("starts_at", "id")[:STAFF_LIST_LIMIT]
    )
    for appointment in scheduled:
        appointment.reminder_due_at = appointment.starts_at - ahead  # type: ignore[attr-defined]
    return scheduled


def opted_out_patients() -> list[Patient]:
    return list(
        Patient.objects.filter(
            Q(reminders_opt_in=False) | Q(appointment_emails_opt_in=False),
            archived_at__isnull=True,
        )
        .only(
            "id",
            "first_name",
            "last_name",
            "email",
            "reminders_opt_in",
            "appointment_emails_opt_in",
            "updated_at",
        )
        .order_by("last_name", "first_name", "id")[:STAFF_LIST_LIMIT]
    )


def get_reminder_for_user(user: User, reminder_id: int) -> Reminder:
    """The access-checked getter for reminders: staff who may change them, or 403/404."""
    if not user.has_perm("clinic.change_reminder"):
        raise PermissionDenied
    return get_object_or_404(Reminder.objects.select_related("patient"), pk=reminder_id)


def patient_reminder_history(patient: Patient, *, limit: int = 20) -> list[Reminder]:
    """A patient's latest reminders, status only (index reminder_patient_due_idx)."""
    return list(
        Reminder.objects.filter(patient=patient)
        .only("id", "kind", "due_at", "status", "reason", "attempts", "last_error", "sent_at")
        .order_by("-due_at", "-id")[:limit]
    )


# Patient link pages ---------------------------------------------------------------


def program_for_link(*, patient_id: int, program_id: int | None) -> HomeExerciseProgram | None:
    """The program a link was sent for, if it is still the patient's active program.

    A therapist who changes the exercises replaces the program, and an ended program is
    over: the old links then show the "outdated link" page rather than the new program
    (docs/decisions.md, "Patient links are bound to their address and program").
    Two queries: the program with its patient, then its prescriptions with exercises."""
    if program_id is None:
        return None
    programs = (
        HomeExerciseProgram.objects.filter(
            id=program_id,
            patient_id=patient_id,
            status=ProgramStatus.ACTIVE,
            patient__archived_at__isnull=True,
        )
        .select_related("patient")
        .prefetch_related(
            Prefetch(
                "prescriptions",
                queryset=ExercisePrescription.objects.select_related("exercise").order_by(
                    "position", "id"
                ),
            )
        )
    )
    return programs.first()


def completion_exists(*, program: HomeExerciseProgram, on_date: dt.date) -> bool:
    return ExerciseCompletion.objects.filter(program=program, date=on_date).exists()


def appointment_for_link(*, patient_id: int, appointment_id: int | None) -> Appointment | None:
    """The appointment a confirm or cancel link was sent for, if it is the patient's,
    with its practitioner (one query). The view decides what a cancelled or past one
    shows."""
    if appointment_id is None:
        return None
    return (
        Appointment.objects.filter(id=appointment_id, patient_id=patient_id)
        .select_related("practitioner")
        .first()
    )


def patient_for_link(patient_id: int) -> Patient | None:
    """The token's patient, archived or not: the view decides what an archived
    patient's link shows (the "outdated link" page, never the record)."""
    return Patient.objects.filter(pk=patient_id).first()
