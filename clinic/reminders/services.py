"""Writes for the reminder outbox: dispatch, send, retry, and what the patient's links do.

How a reminder travels (docs/design.md, "Reminders: the outbox and its guarantees"):

1. ``reminders_dispatch`` runs every minute (Celery beat). In batches of
   REMINDER_BATCH_SIZE it finds what is due, inserts one ``Reminder`` row per occurrence
   (``bulk_create(ignore_conflicts=True)`` on the unique key, so a second run or a
   concurrent dispatcher inserts nothing) and, once the batch has committed, publishes
   the ids it inserted in send tasks of REMINDER_SEND_BATCH_SIZE ids each. It also
   sweeps: rows no longer useful become "expired", rows whose retry time has come (or
   whose task never reached the broker, or was lost) are published again, and claims
   left by a dead worker become "not confirmed".
2. ``reminders_send_batch`` (the send task) claims its rows with one conditional UPDATE
   … RETURNING (pending -> sending); only the rows this caller changed come back, so two
   tasks holding the same ids (a redelivery, a double dispatch, two beats) never both
   send one. It re-checks each reminder is still wanted, renders the emails, hands them
   to the mail server over one SMTP connection and records the outcomes in bulk.

Delivery guarantee. Everything up to handing the message to the SMTP server is retried
until it works (at least once). The one moment that cannot be made exactly-once is a
worker that dies *while* talking to the SMTP server: the email may or may not have gone
out. For that case we choose **at most once**: the rows stay "sending", a redelivered
task cannot claim them, and after REMINDER_STALE_SENDING_SECONDS dispatch marks them
"not confirmed" (reason ``worker_stopped``): most such emails did arrive, so the staff
page does not call them failed and offers no retry. Outcomes are recorded every
REMINDER_RECORD_EVERY emails, so a crash leaves at most that many rows in doubt; a task
that runs out of time (soft time limit) records what it sent and gives back the rows
it had not started.

Mail server trouble is not the patient's failure: connection refused, a timeout or a
4xx answer put the row back to pending (reason ``mail_server``) with backoff, and the
dispatch sweep sends it again, however long the outage, until the reminder is no longer
useful (an exercise reminder past its grace, an appointment that has started): then it
ends "expired". A 5xx refusal of one address fails that row only.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from clinic.celery import app as celery_app
from clinic.models import (
    APPOINTMENT_EMAIL_KINDS,
    Appointment,
    AppointmentStatus,
    Reminder,
    ReminderKind,
    ReminderReason,
    ReminderStatus,
)
from clinic.questionnaires import selectors as questionnaire_selectors
from clinic.questionnaires import services as questionnaire_services
from clinic.reminders.tasks import send_reminders
from clinic.scheduling import services as scheduling
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

from . import emails, kinds, schedule, selectors
from .outbox import SERIES_KINDS

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.mail import EmailMessage

log = logging.getLogger(__name__)

STALE_CLAIM_ERROR = (
    "The worker stopped while handing this email to the mail server. It most likely "
    "reached the patient, but that could not be confirmed. It is not sent again "
    "automatically, so the patient never gets it twice."
)


# Dispatch ------------------------------------------------------------------------


@dataclass
class DispatchResult:
    created: int = 0
    enqueued: int = 0
    requeued: int = 0
    enqueue_failed: int = 0
    stale: int = 0
    expired: int = 0
    created_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "enqueued": self.enqueued,
            "requeued": self.requeued,
            "enqueue_failed": self.enqueue_failed,
            "stale": self.stale,
            "expired": self.expired,
        }


def reminders_dispatch(*, now: dt.datetime | None = None) -> DispatchResult:
    """Create and enqueue everything that is due at ``now``. Safe to run concurrently."""
    now = now or timezone.now()
    result = DispatchResult()
    result.stale = _mark_stale_claims(now=now)
    result.expired = _expire_useless(now=now)
    for rows in selectors.exercise_reminder_candidates(now=now):
        _insert_and_enqueue(_exercise_rows(rows, now=now), now=now, result=result)
    for rows in selectors.appointment_reminder_candidates(now=now):
        _insert_and_enqueue(_appointment_rows(rows), now=now, result=result)
    # Patient-reported questionnaires (clinic/questionnaires/): before re-assessment and
    # discharge visits, and every few weeks of an active plan of care.
    questionnaire_services.questionnaires_expire(now=now)
    for occasions in questionnaire_selectors.visit_occasions(now=now):
        _insert_questionnaires(occasions, now=now, result=result)
    for occasions in questionnaire_selectors.plan_occasions(now=now):
        _insert_questionnaires(occasions, now=now, result=result)
    _requeue_left_behind(now=now, result=result)
    if result.created or result.requeued or result.stale or result.enqueue_failed:
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


appointment_key = kinds.appointment_key


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


def _insert_questionnaires(
    occasions: list[questionnaire_selectors.Occasion], *, now: dt.datetime, result: DispatchResult
) -> None:
    """Like _insert_and_enqueue, with the QuestionnaireResponse each row asks for."""
    stamp = now + dt.timedelta(microseconds=_unique_micros())
    with transaction.atomic():
        ids = questionnaire_services.questionnaire_reminders_insert(occasions, now=now, stamp=stamp)
        if ids:
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


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def reminders_enqueue(*, ids: list[int]) -> int:
    """Publish send tasks of REMINDER_SEND_BATCH_SIZE ids each over one broker
    connection; returns how many ids reached the broker.

    A broker that is down is not an error here: the rows that did not make it get
    ``enqueued_at = NULL`` and stay pending, and the next dispatch enqueues them again.
    """
    published = 0
    if not ids:
        return 0
    try:
        with celery_app.connection_for_write() as broker:
            # The stubs do not know the connection option.
            options: dict[str, Any] = {
                "queue": settings.REMINDER_QUEUE,
                "connection": broker,
                "ignore_result": True,
            }
            for chunk in _chunks(ids, settings.REMINDER_SEND_BATCH_SIZE):
                send_reminders.apply_async((chunk,), **options)
                published += len(chunk)
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
    """Pending rows whose retry time has come, whose task never reached the broker, or
    whose task was lost: publish them again (the claim makes a duplicate harmless)."""
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


def _mark_stale_claims(*, now: dt.datetime) -> int:
    """Rows stuck in "sending" past the task's hard time limit: their worker died, maybe
    after the mail server took the email. At most once: never sent again by itself."""
    cutoff = now - dt.timedelta(seconds=settings.REMINDER_STALE_SENDING_SECONDS)
    return Reminder.objects.filter(status=ReminderStatus.SENDING, claimed_at__lt=cutoff).update(
        status=ReminderStatus.UNCONFIRMED,
        reason=ReminderReason.WORKER_STOPPED,
        last_error=STALE_CLAIM_ERROR,
        updated_at=now,
    )


def _expire_useless(*, now: dt.datetime) -> int:
    """Pending rows (waiting out a mail server outage, say) that are no longer useful:
    an exercise reminder past its grace, a visit that has started. Index
    reminder_status_due_idx finds them; an appointment's start is checked by a join."""
    grace = dt.timedelta(hours=settings.EXERCISE_REMINDER_GRACE_HOURS)
    pending = Reminder.objects.filter(status=ReminderStatus.PENDING)
    expired = pending.filter(kind=ReminderKind.EXERCISE, due_at__lt=now - grace).update(
        status=ReminderStatus.EXPIRED,
        reason=ReminderReason.TOO_LATE,
        last_error=TOO_LATE,
        updated_at=now,
    )
    # A series' email names its first visit; the later ones may still be ahead, so the
    # send path's own check decides (kinds.series_visits).
    one_visit = [kind for kind in APPOINTMENT_EMAIL_KINDS if kind not in SERIES_KINDS]
    expired += pending.filter(
        kind__in=one_visit, due_at__lte=now, appointment__starts_at__lte=now
    ).update(
        status=ReminderStatus.EXPIRED,
        reason=ReminderReason.APPOINTMENT_STARTED,
        last_error=APPOINTMENT_STARTED,
        updated_at=now,
    )
    return expired


# Send ----------------------------------------------------------------------------

TOO_LATE = kinds.TOO_LATE
APPOINTMENT_STARTED = kinds.APPOINTMENT_STARTED
Outcome = kinds.Outcome


@dataclass
class BatchResult:
    claimed: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict[str, int]:
        return {"claimed": self.claimed, **self.counts}


def retry_delay(attempts: int) -> int:
    """Exponential backoff: base, 2x base, 4x base ... capped."""
    delay = settings.REMINDER_RETRY_BASE_SECONDS * (2 ** min(max(attempts - 1, 0), 30))
    return int(min(delay, settings.REMINDER_RETRY_MAX_SECONDS))


def reminders_claim(*, ids: Iterable[int], now: dt.datetime) -> list[int]:
    """pending -> sending, attempts + 1, in one conditional UPDATE … RETURNING.

    Returns the ids this caller changed: a row another task claimed first (or that is
    not due for its retry yet) is not among them. Under PostgreSQL's READ COMMITTED a
    concurrent UPDATE of the same row waits, then re-checks ``status = 'pending'`` and
    skips it; SQLite runs one writer at a time."""
    ids = list(ids)
    if not ids:
        return []
    table = connection.ops.quote_name(Reminder._meta.db_table)
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {table} SET status = %s, attempts = attempts + 1, claimed_at = %s, "
        f"updated_at = %s WHERE id IN ({marks}) AND status = %s "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= %s) RETURNING id"
    )
    params: list[Any] = [ReminderStatus.SENDING.value, now, now, *ids]
    params += [ReminderStatus.PENDING.value, now]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(row[0] for row in cursor.fetchall())


def reminders_send_batch(
    *,
    ids: Iterable[int],
    now: dt.datetime | None = None,
    outcomes: dict[int, Outcome] | None = None,
) -> BatchResult:
    """Claim, re-check, render, send over one SMTP connection, record in bulk.

    Delivered twice (a redelivery, a double dispatch), the second call claims nothing.
    ``outcomes``, if given, receives each claimed row's outcome."""
    now = now or timezone.now()
    outcomes = {} if outcomes is None else outcomes
    result = BatchResult()
    claimed = reminders_claim(ids=ids, now=now)
    result.claimed = len(claimed)
    if not claimed:
        return result
    recorder = _Recorder(outcomes, result)
    in_flight: list[int] = []  # the id being handed to the mail server, if any
    try:
        to_send: list[tuple[Reminder, EmailMessage]] = []
        for reminder in selectors.reminders_for_send(claimed):
            skip = _reason_to_skip(reminder, now=now)
            if skip is not None:
                recorder.add(reminder, skip)
                continue
            try:
                to_send.append((reminder, emails.reminder_message(reminder)))
            except Exception as exc:  # noqa: BLE001 - one bad row must not stop the batch
                log.exception("Reminder %s could not be prepared", reminder.id)
                recorder.add(
                    reminder,
                    Outcome(ReminderStatus.FAILED, ReminderReason.MESSAGE_ERROR, _text(exc)),
                )
        recorder.flush()
        if to_send:
            _deliver(to_send, recorder, in_flight)
        recorder.flush()
    except SoftTimeLimitExceeded:
        # Out of time: record what is known; the rows not yet started go back to pending
        # untouched; the one being handed over stays "sending" (at most once).
        recorder.flush()
        _release([i for i in claimed if i not in outcomes and i not in in_flight])
        raise
    return result


def _deliver(
    to_send: list[tuple[Reminder, EmailMessage]], recorder: _Recorder, in_flight: list[int]
) -> None:
    """Hand each email to the mail server over one connection, recording as we go."""
    mail = get_connection()
    try:
        mail.open()
    except (smtplib.SMTPException, OSError) as exc:
        for reminder, _message in to_send:
            recorder.add(reminder, _retry(reminder, exc))
        return
    try:
        for position, (reminder, message) in enumerate(to_send):
            in_flight[:] = [reminder.id]
            try:
                mail.send_messages([message])
            except (smtplib.SMTPException, OSError) as exc:
                answered = smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused
                if not isinstance(exc, answered):
                    # The connection is gone (refused, reset, timed out): this one and
                    # the rest wait for a retry, like a server that was never reached.
                    for later, _message in to_send[position:]:
                        recorder.add(later, _retry(later, exc))
                    return
                recorder.add(reminder, _refused(reminder, exc))
            else:
                recorder.add(reminder, Outcome(ReminderStatus.SENT))
            in_flight.clear()
            if recorder.pending >= settings.REMINDER_RECORD_EVERY:
                recorder.flush()
    finally:
        try:
            mail.close()
        except Exception:  # noqa: BLE001 - the outcomes are what matter
            log.debug("SMTP close failed", exc_info=True)


def _text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _is_permanent(exc: Exception) -> bool:
    """A 5xx answer (unknown mailbox, rejected message) will not change on a retry."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _refused(reminder: Reminder, exc: Exception) -> Outcome:
    """The server answered this one message: 5xx fails the row, 4xx waits for a retry."""
    if not _is_permanent(exc):
        return _retry(reminder, exc)
    reason = (
        ReminderReason.ADDRESS_REFUSED
        if isinstance(exc, smtplib.SMTPRecipientsRefused)
        else ReminderReason.MESSAGE_REFUSED
    )
    log.warning("Reminder %s refused by the mail server: %s", reminder.id, _text(exc))
    return Outcome(ReminderStatus.FAILED, reason, _text(exc))


def _retry(reminder: Reminder, exc: Exception) -> Outcome:
    return Outcome(
        ReminderStatus.PENDING,
        ReminderReason.MAIL_SERVER,
        _text(exc),
        retry_in=retry_delay(reminder.attempts),
    )


class _Recorder:
    """Collects outcomes and writes them with one UPDATE per distinct outcome (one, when
    every email went out), only on rows still "sending"."""

    def __init__(self, outcomes: dict[int, Outcome], result: BatchResult) -> None:
        self.outcomes = outcomes
        self.result = result
        self.waiting: dict[tuple[str, str, str, int | None], list[int]] = defaultdict(list)
        self.pending = 0

    def add(self, reminder: Reminder, outcome: Outcome) -> None:
        self.outcomes[reminder.id] = outcome
        self.waiting[outcome.key()].append(reminder.id)
        self.pending += 1
        name = "retry" if outcome.status == ReminderStatus.PENDING else outcome.status
        self.result.counts[name] += 1

    def flush(self) -> None:
        now = timezone.now()
        for (status, reason, error, retry_in), ids in self.waiting.items():
            fields: dict[str, Any] = {
                "status": status,
                "reason": reason,
                "last_error": error,
                "updated_at": now,
            }
            if status == ReminderStatus.SENT:
                fields["sent_at"] = now
            if status == ReminderStatus.PENDING:
                # Not before the backoff; enqueued_at NULL: the first dispatch after
                # next_attempt_at publishes it again (_requeue_left_behind).
                fields["next_attempt_at"] = now + dt.timedelta(seconds=retry_in or 0)
                fields["enqueued_at"] = None
                log.info("Reminders %s: %s; retry in %ss", ids, error, retry_in)
            Reminder.objects.filter(id__in=ids, status=ReminderStatus.SENDING).update(**fields)
        self.waiting.clear()
        self.pending = 0


def _release(ids: list[int]) -> None:
    """Claimed but never started: back to pending for the next dispatch, no attempt used."""
    if ids:
        Reminder.objects.filter(id__in=ids, status=ReminderStatus.SENDING).update(
            status=ReminderStatus.PENDING, enqueued_at=None, updated_at=timezone.now()
        )


def _reason_to_skip(reminder: Reminder, *, now: dt.datetime) -> Outcome | None:
    """Why this reminder should no longer go out (skipped, or expired), or None: the
    patient's state and the consent of the kind's family, then the kind's own check
    (clinic/reminders/kinds.py)."""
    patient = reminder.patient
    spec = kinds.spec_for(reminder.kind)

    def skipped(reason: str, text: str) -> Outcome:
        return Outcome(ReminderStatus.SKIPPED, reason, text)

    if patient.archived_at is not None:
        return skipped(ReminderReason.ARCHIVED, "The patient's record is archived.")
    if not kinds.consents(patient, spec.family):
        if spec.family is kinds.Family.EXERCISE:
            return skipped(ReminderReason.OPTED_OUT, "The patient has turned reminders off.")
        return skipped(ReminderReason.OPTED_OUT, "The patient has turned appointment emails off.")
    if not patient.email:
        return skipped(ReminderReason.NO_EMAIL, "The patient has no email address.")
    return spec.still_wanted(reminder, now)


# Staff ---------------------------------------------------------------------------


def _back_to_pending(now: dt.datetime) -> dict[str, Any]:
    return {
        "status": ReminderStatus.PENDING,
        "reason": ReminderReason.NONE,
        "attempts": 0,
        "next_attempt_at": None,
        "enqueued_at": now,
        "claimed_at": None,
        "updated_at": now,
    }


@transaction.atomic
def reminder_retry(*, reminder: Reminder, acting_user: User, ip: str | None = None) -> bool:
    """Put a failed reminder back in the queue (staff action). False if it was not failed
    (a "not confirmed" one is not failed: it most likely arrived)."""
    now = timezone.now()
    changed = Reminder.objects.filter(id=reminder.id, status=ReminderStatus.FAILED).update(
        **_back_to_pending(now)
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


@transaction.atomic
def reminders_retry_failed(*, reason: str, acting_user: User, ip: str | None = None) -> int:
    """Put every failed reminder with this reason back in the queue (staff action), in
    one UPDATE (index reminder_status_reason_idx); one audit event names the reason and
    how many. Returns how many."""
    if reason not in ReminderReason.values:
        raise ValidationError("Unknown reason.")
    now = timezone.now()
    failed = Reminder.objects.filter(status=ReminderStatus.FAILED, reason=reason)
    ids = list(failed.values_list("id", flat=True))
    changed = Reminder.objects.filter(id__in=ids, status=ReminderStatus.FAILED).update(
        **_back_to_pending(now)
    )
    if not changed:
        return 0
    label = ReminderReason(reason).label
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        object_type="reminder",
        object_id=f"failed:{reason}",
        ip=ip,
        detail=f"retry of {changed} failed reminder(s): {label}",
    )
    transaction.on_commit(lambda: reminders_enqueue(ids=ids))
    return changed


# What the patient's signed links do ------------------------------------------------


def _consent_withdraw(*, patient: Patient, field: str, what: str, ip: str | None) -> bool:
    """Turn one consent flag off from the patient's own link, audited; True if it was on.
    Anything already queued under it is skipped by the send task's re-check."""
    changed = Patient.objects.filter(id=patient.id, **{field: True}).update(
        **{field: False}, updated_at=timezone.now()
    )
    if changed:
        setattr(patient, field, False)
        audit_record(
            acting_user=None,
            action=AuditAction.UPDATE,
            patient=patient,
            obj=patient,
            ip=ip,
            detail=f"{what} turned off by the patient (email link)",
        )
    return bool(changed)


@transaction.atomic
def reminders_unsubscribe(*, patient: Patient, ip: str | None = None) -> bool:
    """Turn the patient's reminders off (their own link). True if it was on."""
    return _consent_withdraw(patient=patient, field="reminders_opt_in", what="reminders", ip=ip)


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


@transaction.atomic
def appointment_emails_unsubscribe(*, patient: Patient, ip: str | None = None) -> bool:
    """Turn the patient's appointment emails off (the link in any appointment email):
    confirmations, changes, cancellations, appointment reminders and waitlist offers.
    Exercise reminders keep their own consent. True if it was on."""
    return _consent_withdraw(
        patient=patient, field="appointment_emails_opt_in", what="appointment emails", ip=ip
    )


class CancelTooLate(ValidationError):
    """Inside the late-cancellation window: the patient is asked to phone the clinic."""


@transaction.atomic
def appointment_confirm_from_link(*, appointment: Appointment, ip: str | None = None) -> bool:
    """ "I will come": records the confirmation once, on a booked visit that has not
    started. True if this call recorded it."""
    now = timezone.now()
    changed = Appointment.objects.filter(
        id=appointment.pk,
        status=AppointmentStatus.BOOKED,
        starts_at__gt=now,
        confirmed_at__isnull=True,
    ).update(confirmed_at=now, updated_at=now)
    if changed:
        appointment.confirmed_at = now
        audit_record(
            acting_user=None,
            action=AuditAction.UPDATE,
            patient=appointment.patient,
            obj=appointment,
            ip=ip,
            detail="appointment confirmed by the patient (email link)",
        )
    return bool(changed)


def appointment_cancel_from_link(
    *, appointment: Appointment, reason: str, ip: str | None = None
) -> Appointment:
    """The patient cancels from the reminder: only before the late-cancellation window
    (docs/decisions.md, "Late cancellation"), then through the very service the front
    desk uses (audited with no staff actor, cancellation email, slot freed).

    Raises CancelTooLate inside the window, SchedulingError if the visit is no longer
    booked or the reason is missing."""
    if kinds.cancel_deadline(appointment) <= timezone.now():
        raise CancelTooLate("Too late to cancel online.")
    reason = " ".join((reason or "").split())
    if not reason:
        raise scheduling.SchedulingError("Give a reason for the cancellation.")
    return scheduling.appointment_cancel(
        appointment=appointment,
        reason=f"Cancelled by the patient (email link): {reason}"[:500],
        acting_user=None,
        ip=ip,
    )
