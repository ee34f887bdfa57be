"""Putting an appointment email in the outbox, from the scheduling services.

The row is inserted in the caller's transaction (the booking, move or cancellation and
its email commit together, or neither does) and its send task is published only once
that transaction has committed (``transaction.on_commit``): a rolled-back booking sends
nothing, and a task never runs before its row is visible. From there the usual rules
hold (clinic/reminders/services.py): the unique key makes a second insert a no-op, the
send task claims the row, re-checks it is still wanted (a visit cancelled before its
confirmation went out ends "skipped"), retries with backoff, and a row whose task never
reached the broker is published again by the next dispatch.

Kept apart from services.py so that clinic/scheduling/services.py can import it without
importing the whole send path (which imports the scheduling services for the patient's
cancel link).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from clinic.models import (
    APPOINTMENT_EMAIL_KINDS,
    Appointment,
    Reminder,
    ReminderKind,
    ReminderStatus,
)

from .kinds import Family, appointment_email_key, reachable

# Kinds whose one email covers several visits of a series (clinic/reminders/kinds.py).
SERIES_KINDS = {ReminderKind.SERIES_BOOKED, ReminderKind.SERIES_CANCELLED}


def appointment_emails_enqueue(
    *, kind: str, appointments: Iterable[Appointment], now: dt.datetime | None = None
) -> list[int]:
    """One ``kind`` email per appointment (confirmation, change or cancellation), due now;
    for a series kind, one email for all of them, its row naming the first.

    Returns the ids of the pending rows for these keys (a row that already existed is
    published again; its claim makes that harmless). 3 queries whatever the number."""
    if kind not in APPOINTMENT_EMAIL_KINDS:
        raise ValueError(f"{kind!r} is not an appointment email.")
    now = now or timezone.now()
    appointments = list(appointments)
    if kind in SERIES_KINDS:
        appointments = sorted(appointments, key=lambda visit: (visit.starts_at, visit.pk))[:1]
    rows = [
        Reminder(
            kind=kind,
            patient_id=appointment.patient_id,
            appointment_id=appointment.pk,
            due_at=now,
            key=appointment_email_key(kind, appointment, at=now),
            enqueued_at=now,
            created_at=now,
        )
        for appointment in appointments
        if reachable(appointment.patient, Family.APPOINTMENT)
    ]
    if not rows:
        return []
    # No savepoint inside a caller's transaction (a booking's): an error here fails the
    # caller's transaction whole, and the savepoint cost two round trips per booking.
    with transaction.atomic(savepoint=False):
        Reminder.objects.bulk_create(rows, ignore_conflicts=True)
        ids = list(
            Reminder.objects.filter(
                key__in=[row.key for row in rows], status=ReminderStatus.PENDING
            ).values_list("id", flat=True)
        )
        transaction.on_commit(lambda: _publish(ids))
    return ids


def _publish(ids: list[int]) -> None:
    from .services import reminders_enqueue  # the send path; see the module docstring

    reminders_enqueue(ids=ids)
