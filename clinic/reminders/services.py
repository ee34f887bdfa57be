"""Writes for the reminder outbox: dispatch, send, retry, and what the patient's links do.

How a reminder travels (docs/design.md, "Reminders: the outbox and its guarantees"):

1. ``reminders_dispatch`` runs every minute (Celery beat). In batches of
   REMINDER_BATCH_SIZE it finds what is due, inserts one ``Reminder`` row per occurrence
   (``bulk_create(ignore_conflicts=True)`` on the unique key, so a second run or a
   concurrent dispatcher inserts nothing) and, once the batch has committed, enqueues
   one send task per row it inserted. It also re-enqueues pending rows whose task never
   reached the broker (Redis was down) or was lost, and closes stale claims.
2. ``reminder_send`` (the send task) claims its row with a conditional UPDATE
   (pending -> sending); only the caller that changed the row goes on. It re-checks that
   the reminder is still wanted, sends the email and marks the row sent.

Delivery guarantee. Everything up to handing the message to the SMTP server is retried
until it works (at least once). The one moment that cannot be made exactly-once is a
worker that dies *while* talking to the SMTP server: the email may or may not have gone
out. For that case we choose **at most once**: the row stays "sending", the redelivered
task cannot claim it, and after REMINDER_STALE_SENDING_SECONDS dispatch marks it failed
with an explanation. Staff see it on the Reminders page and may retry it by hand. A
patient therefore never gets the same reminder twice from a crash; the price is that a
crash mid-send needs a person to decide. A send that overruns the task's soft time
limit is the same case (the exception leaves the row "sending"). SMTP errors the server
*reports* (connection refused, 4xx) are safe to retry and are retried automatically;
a 5xx refusal will not change on a retry and fails at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import KombuError

from clinic.celery import app as celery_app
from clinic.models import (
    AppointmentStatus,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from clinic.reminders.tasks import send_reminder
from patients.audit import AuditAction, audit_record
from patients.localtime import patient_today
from patients.models import PainReport, Patient
from patients.services import pain_checkin_record_daily
from treatments.models import (
    CompletionSource,
    ExerciseCompletion,
    HomeExerciseProgram,
    ProgramStatus,
)
from treatments.services import exercise_completion_record

from . import emails, schedule, selectors

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

STALE_CLAIM_ERROR = (
    "The worker stopped while sending this reminder, so it may or may not have reached "
    "the patient. It is not re-sent automatically, to avoid a duplicate; retry it if needed."
)


# Dispatch ------------------------------------------------------------------------


@dataclass
class DispatchResult:
    created: int = 0
    enqueued: int = 0
    requeued: int = 0
    enqueue_failed: int = 0
    stale_failed: int = 0
    created_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "enqueued": self.enqueued,
            "requeued": self.requeued,
            "enqueue_failed": self.enqueue_failed,
            "stale_failed": self.stale_failed,
        }


def reminders_dispatch(*, now: dt.datetime | None = None) -> DispatchResult:
    """Create and enqueue everything that is due at ``now``. Safe to run concurrently."""
    now = now or timezone.now()
    result = DispatchResult()
    result.stale_failed = _fail_stale_claims(now=now)
    for rows in selectors.exercise_reminder_candidates(now=now):
        _insert_and_enqueue(_exercise_rows(rows, now=now), now=now, result=result)
    for rows in selectors.appointment_reminder_candidates(now=now):
        _insert_and_enqueue(_appointment_rows(rows), now=now, result=result)
    _requeue_left_behind(now=now, result=result)
    if result.created or result.requeued or result.stale_failed or result.enqueue_failed:
        log.info("Reminder dispatch: %s", result.as_dict())
    return result


def _exercise_rows(candidates: list[dict[str, Any]], *, now: dt.datetime) -> list[Reminder]:
    grace = dt.timedelta(hours=settings.EXERCISE_REMINDER_GRACE_HOURS)
    rows = []
    for program in candidates:
        due = schedule.exercise_due_at(
            now=now,
            tz_name=program["patient__timezone"],
            reminder_time=program["reminder_time"],
            reminder_days=program["reminder_days"],
            start_date=program["start_date"],
            end_date=program["end_date"],
            grace=grace,
        )
        if due is None:
            continue
        local_day, due_at = due
        rows.append(
            Reminder(
                kind=ReminderKind.EXERCISE,
                patient_id=program["patient_id"],
                program_id=program["id"],
                due_at=due_at,
                key=exercise_key(program_id=program["id"], local_day=local_day),
            )
        )
    return rows


def _appointment_rows(candidates: list[dict[str, Any]]) -> list[Reminder]:
    ahead = dt.timedelta(hours=settings.APPOINTMENT_REMINDER_HOURS)
    return [
        Reminder(
            kind=ReminderKind.APPOINTMENT,
            patient_id=appointment["patient_id"],
            appointment_id=appointment["id"],
            due_at=appointment["starts_at"] - ahead,
            key=appointment_key(
                appointment_id=appointment["id"], starts_at=appointment["starts_at"]
            ),
        )
        for appointment in candidates
    ]


def exercise_key(*, program_id: int, local_day: dt.date) -> str:
    return f"exercise:{program_id}:{local_day.isoformat()}"


def appointment_key(*, appointment_id: int, starts_at: dt.datetime) -> str:
    # The start time is part of the key: a visit moved to another time is a new
    # occurrence, and the send task skips a row whose time no longer matches.
    start = starts_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
    return f"appointment:{appointment_id}:{start}"


def _insert_and_enqueue(rows: list[Reminder], *, now: dt.datetime, result: DispatchResult) -> None:
    """One batch: 1 query for existing keys, 1 insert, 1 read of what we inserted."""
    if not rows:
        return
    existing = set(selectors.existing_keys([row.key for row in rows]))
    new_rows = [row for row in rows if row.key not in existing]
    if not new_rows:
        return
    # This run's stamp marks the rows *this* dispatcher inserted: with ignore_conflicts
    # the database does not say which rows it skipped, and a concurrent dispatcher's
    # rows carry its own stamp. The stamp doubles as "handed to the broker at".
    stamp = now + dt.timedelta(microseconds=_unique_micros())
    for row in new_rows:
        row.enqueued_at = stamp
        row.created_at = now
    with transaction.atomic():
        Reminder.objects.bulk_create(new_rows, ignore_conflicts=True)
        ids = list(
            Reminder.objects.filter(
                key__in=[row.key for row in new_rows], enqueued_at=stamp
            ).values_list("id", flat=True)
        )
        result.created += len(ids)
        result.created_ids.extend(ids)
        transaction.on_commit(lambda: _publish_counting(ids, result))


_micro_counter = 0


def _unique_micros() -> int:
    """A per-process sequence, so two batches of one run never share a stamp."""
    global _micro_counter
    _micro_counter = (_micro_counter + 1) % 1000
    return _micro_counter


def _publish_counting(ids: list[int], result: DispatchResult) -> None:
    published = reminders_enqueue(ids=ids)
    result.enqueued += published
    result.enqueue_failed += len(ids) - published


def reminders_enqueue(*, ids: list[int], countdown: int | None = None) -> int:
    """Hand one send task per id to the broker over one connection; returns how many.

    A broker that is down is not an error here: the rows that did not make it get
    ``enqueued_at = NULL`` and stay pending, and the next dispatch enqueues them again.
    """
    published = 0
    if not ids:
        return 0
    try:
        with celery_app.connection_for_write() as connection:
            # countdown=None is "now" to Celery; the stubs only know a number.
            options: dict[str, Any] = {
                "queue": settings.REMINDER_QUEUE,
                "connection": connection,
                "ignore_result": True,
                "countdown": countdown,
            }
            for reminder_id in ids:
                send_reminder.apply_async((reminder_id,), **options)
                published += 1
    except (KombuError, OSError) as exc:
        log.warning(
            "Broker unavailable; %d reminder(s) stay pending for the next dispatch: %s",
            len(ids) - published,
            exc,
        )
        Reminder.objects.filter(id__in=ids[published:], status=ReminderStatus.PENDING).update(
            enqueued_at=None
        )
    return published


def _requeue_left_behind(*, now: dt.datetime, result: DispatchResult) -> None:
    """Pending rows whose task never reached the broker, or was lost: enqueue again."""
    if result.enqueue_failed:
        return  # the broker is down this minute; the rows wait for the next run
    requeue_before = now - dt.timedelta(seconds=settings.REMINDER_REQUEUE_AFTER_SECONDS)
    last_id = 0
    while True:
        ids = selectors.left_behind_ids(now=now, requeue_before=requeue_before, after_id=last_id)
        if not ids:
            return
        last_id = ids[-1]
        Reminder.objects.filter(id__in=ids, status=ReminderStatus.PENDING).update(enqueued_at=now)
        published = reminders_enqueue(ids=ids)
        result.requeued += published
        result.enqueue_failed += len(ids) - published
        if published < len(ids):
            return  # the broker is down: the next run tries again


def _fail_stale_claims(*, now: dt.datetime) -> int:
    """Rows stuck in "sending" past the task's hard time limit: their worker died."""
    cutoff = now - dt.timedelta(seconds=settings.REMINDER_STALE_SENDING_SECONDS)
    return Reminder.objects.filter(status=ReminderStatus.SENDING, claimed_at__lt=cutoff).update(
        status=ReminderStatus.FAILED, last_error=STALE_CLAIM_ERROR, updated_at=now
    )


# Send ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    outcome: str  # "sent", "skipped", "failed", "retry", "not_claimed"
    retry_in: int | None = None
    detail: str = ""


def retry_delay(attempts: int) -> int:
    """Exponential backoff: base, 2x base, 4x base ... capped."""
    delay = settings.REMINDER_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return int(min(delay, settings.REMINDER_RETRY_MAX_SECONDS))


def reminder_claim(*, reminder_id: int, now: dt.datetime) -> bool:
    """pending -> sending, attempts + 1; True only for the one caller that changed the row."""
    return bool(
        Reminder.objects.filter(id=reminder_id, status=ReminderStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(
            status=ReminderStatus.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=now,
            updated_at=now,
        )
    )


def reminder_send(*, reminder_id: int, now: dt.datetime | None = None) -> SendResult:
    """Claim, re-check, send, record. Delivered twice, the second call does nothing."""
    now = now or timezone.now()
    if not reminder_claim(reminder_id=reminder_id, now=now):
        return SendResult("not_claimed")
    reminder = selectors.reminder_for_send(reminder_id)
    reason = _reason_to_skip(reminder, now=now)
    if reason:
        _finish(reminder, status=ReminderStatus.SKIPPED, last_error=reason)
        return SendResult("skipped", detail=reason)
    try:
        emails.reminder_message(reminder).send()
    except (smtplib.SMTPException, OSError) as exc:
        return _after_send_error(reminder, exc)
    _finish(reminder, status=ReminderStatus.SENT, sent_at=timezone.now(), last_error="")
    return SendResult("sent")


def _finish(reminder: Reminder, **fields: Any) -> None:
    Reminder.objects.filter(id=reminder.id, status=ReminderStatus.SENDING).update(
        updated_at=timezone.now(), **fields
    )


def _is_permanent(exc: Exception) -> bool:
    """A 5xx answer (unknown mailbox, rejected message) will not change on a retry."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _after_send_error(reminder: Reminder, exc: Exception) -> SendResult:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if _is_permanent(exc) or reminder.attempts >= settings.REMINDER_MAX_ATTEMPTS:
        log.warning(
            "Reminder %s failed after %s attempt(s): %s", reminder.id, reminder.attempts, error
        )
        _finish(reminder, status=ReminderStatus.FAILED, last_error=error)
        return SendResult("failed", detail=error)
    delay = retry_delay(reminder.attempts)
    at = timezone.now() + dt.timedelta(seconds=delay)
    # Back to pending. enqueued_at = when the retry message is due, so the dispatch
    # sweep leaves it alone unless that message goes missing.
    _finish(
        reminder,
        status=ReminderStatus.PENDING,
        last_error=error,
        next_attempt_at=at,
        enqueued_at=at,
    )
    log.info("Reminder %s: %s; retry in %ss", reminder.id, error, delay)
    return SendResult("retry", retry_in=delay, detail=error)


def reminder_mark_not_enqueued(*, reminder_id: int) -> None:
    """The retry message could not be published: let the dispatch sweep pick the row up."""
    Reminder.objects.filter(id=reminder_id, status=ReminderStatus.PENDING).update(enqueued_at=None)


def _reason_to_skip(reminder: Reminder, *, now: dt.datetime) -> str:
    """Why this reminder should no longer go out, or "" if it should."""
    patient = reminder.patient
    if patient.archived_at is not None:
        return "The patient's record is archived."
    if not patient.reminders_opt_in:
        return "The patient has turned reminders off."
    if not patient.email:
        return "The patient has no email address."
    if reminder.kind == ReminderKind.APPOINTMENT:
        appointment = reminder.appointment
        assert appointment is not None  # an appointment reminder keeps its appointment
        if appointment.status != AppointmentStatus.BOOKED:
            return f"The appointment is {appointment.get_status_display().lower()}."
        if reminder.key != appointment_key(
            appointment_id=appointment.id, starts_at=appointment.starts_at
        ):
            return "The appointment was moved to another time."
        if appointment.starts_at <= now:
            return "The appointment has already started."
        return ""
    program = reminder.program
    assert program is not None  # every other kind is an exercise reminder
    if program.status != ProgramStatus.ACTIVE:
        return "The exercise program is no longer active."
    if not program.reminders_enabled:
        return "Reminders are turned off for the exercise program."
    if now - reminder.due_at > dt.timedelta(hours=settings.EXERCISE_REMINDER_GRACE_HOURS):
        return "Too late: the day's exercise reminder time has long passed."
    return ""


# Staff ---------------------------------------------------------------------------


@transaction.atomic
def reminder_retry(*, reminder: Reminder, acting_user: User, ip: str | None = None) -> bool:
    """Put a failed reminder back in the queue (staff action). False if it was not failed."""
    changed = Reminder.objects.filter(id=reminder.id, status=ReminderStatus.FAILED).update(
        status=ReminderStatus.PENDING,
        attempts=0,
        next_attempt_at=None,
        enqueued_at=timezone.now(),
        claimed_at=None,
        updated_at=timezone.now(),
    )
    if not changed:
        return False
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=reminder.patient,
        obj=reminder,
        ip=ip,
        detail="retry of a failed reminder",
    )
    transaction.on_commit(lambda: reminders_enqueue(ids=[reminder.id]))
    return True


# What the patient's signed links do ------------------------------------------------


@transaction.atomic
def reminders_unsubscribe(*, patient: Patient, ip: str | None = None) -> bool:
    """Turn the patient's reminders off (their own link). True if it was on."""
    changed = Patient.objects.filter(id=patient.id, reminders_opt_in=True).update(
        reminders_opt_in=False, updated_at=timezone.now()
    )
    if changed:
        patient.reminders_opt_in = False
        audit_record(
            acting_user=None,
            action=AuditAction.UPDATE,
            patient=patient,
            obj=patient,
            ip=ip,
            detail="reminders turned off by the patient (email link)",
        )
        # Anything already queued for this patient is skipped by the send task's re-check.
    return bool(changed)


@transaction.atomic
def exercises_done_record(
    *, program: HomeExerciseProgram, ip: str | None = None
) -> tuple[ExerciseCompletion, bool]:
    """ "I did my exercises today": one completion per program and local day, only on
    the patient's active program (an old link's program may have been replaced)."""
    if program.status != ProgramStatus.ACTIVE or program.patient.archived_at is not None:
        raise ValidationError("The exercise program is no longer active.")
    completion, created = exercise_completion_record(
        program=program,
        on_date=patient_today(program.patient),
        source=CompletionSource.EMAIL_LINK,
    )
    if created:
        audit_record(
            acting_user=None,
            action=AuditAction.CREATE,
            patient=program.patient,
            obj=completion,
            ip=ip,
            detail="exercises marked done by the patient (email link)",
        )
    return completion, created


@transaction.atomic
def pain_checkin_record(*, patient: Patient, score: int, ip: str | None = None) -> PainReport:
    """The patient's pain link: one report per local day; a later answer replaces it."""
    report, previous = pain_checkin_record_daily(patient=patient, score=score)
    if previous is None:
        audit_record(
            acting_user=None,
            action=AuditAction.CREATE,
            patient=patient,
            obj=report,
            ip=ip,
            detail="pain check-in by the patient (email link)",
        )
    else:
        audit_record(
            acting_user=None,
            action=AuditAction.UPDATE,
            patient=patient,
            obj=report,
            ip=ip,
            detail="pain check-in replaced by a later answer the same day (email link)",
            clinical_detail=f"pain {previous} → {score}",
        )
    return report
