"""Reads for the reminder outbox: dispatch batches, the staff page, the patient pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from clinic.models import Appointment, AppointmentStatus, Reminder, ReminderKind, ReminderStatus
from patients.models import Patient
from treatments.models import (
    ExerciseCompletion,
    ExercisePrescription,
    HomeExerciseProgram,
    ProgramStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


if TYPE_CHECKING:
    from django.contrib.auth.models import User


# Dispatch --------------------------------------------------------------------------


def _reachable_patient(prefix: str) -> Q:
    """Patients who may get reminders: consent, an email address, not archived."""
    return Q(**{f"{prefix}reminders_opt_in": True, f"{prefix}archived_at__isnull": True}) & ~Q(
        **{f"{prefix}email": ""}
    )


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
        _reachable_patient("patient__"),
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
    """Pending, due rows whose send task never reached the broker (enqueued_at NULL) or
    has not run long after it should have (index reminder_status_due_idx)."""
    return list(
        Reminder.objects.filter(status=ReminderStatus.PENDING, due_at__lte=now, id__gt=after_id)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=requeue_before))
        .order_by("id")
        .values_list("id", flat=True)[: settings.REMINDER_BATCH_SIZE]
    )


def reminder_for_send(reminder_id: int) -> Reminder:
    """The row with what the re-check and the email need, in one query."""
    return Reminder.objects.select_related("patient", "program", "appointment").get(id=reminder_id)


# Staff pages --------------------------------------------------------------------


STAFF_LIST_LIMIT = 50


@dataclass(frozen=True)
class ReminderOverview:
    counts: dict[str, int]
    upcoming: list[Reminder]
    scheduled_appointments: list[Appointment]
    sent: list[Reminder]
    failed: list[Reminder]
    opted_out: list[Patient]


def reminder_overview(*, now: dt.datetime) -> ReminderOverview:
    """Everything the staff Reminders page shows, in six queries however many rows."""
    counts = {status: 0 for status in ReminderStatus.values}
    for row in Reminder.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    rows = Reminder.objects.select_related("patient").only(
        "id",
        "kind",
        "due_at",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "updated_at",
        "patient__id",
        "patient__first_name",
        "patient__last_name",
        "patient__email",
    )
    upcoming = list(
        rows.filter(status__in=[ReminderStatus.PENDING, ReminderStatus.SENDING]).order_by(
            "due_at", "id"
        )[:STAFF_LIST_LIMIT]
    )
    sent = list(
        rows.filter(status=ReminderStatus.SENT).order_by("-sent_at", "-id")[:STAFF_LIST_LIMIT]
    )
    failed = list(
        rows.filter(status=ReminderStatus.FAILED).order_by("-updated_at", "-id")[:STAFF_LIST_LIMIT]
    )
    # Booked visits whose reminder is due within the next day and not yet created.
    ahead = dt.timedelta(hours=settings.APPOINTMENT_REMINDER_HOURS)
    scheduled = list(
        Appointment.objects.filter(
            _reachable_patient("patient__"),
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
    opted_out = list(
        Patient.objects.filter(reminders_opt_in=False, archived_at__isnull=True)
        .only("id", "first_name", "last_name", "email", "updated_at")
        .order_by("last_name", "first_name", "id")[:STAFF_LIST_LIMIT]
    )
    return ReminderOverview(
        counts=counts,
        upcoming=upcoming,
        scheduled_appointments=scheduled,
        sent=sent,
        failed=failed,
        opted_out=opted_out,
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
        .only("id", "kind", "due_at", "status", "attempts", "last_error", "sent_at")
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


def patient_for_link(patient_id: int) -> Patient | None:
    """The token's patient, archived or not: the view decides what an archived
    patient's link shows (the "outdated link" page, never the record)."""
    return Patient.objects.filter(pk=patient_id).first()


KIND_LABELS = {ReminderKind.EXERCISE: "Exercise reminder", ReminderKind.APPOINTMENT: "Appointment"}
