"""Writes for patient-reported questionnaires on the clinic side: the outbox rows that ask
for them (called by the reminder dispatch sweep, clinic/reminders/services.py) and the
expiry of requests nobody answered. Answering one is patients.services'
questionnaire_response_complete.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from clinic.models import Reminder, ReminderKind
from clinic.reminders.selectors import existing_keys
from patients.models import (
    QuestionnaireResponse,
    QuestionnaireSource,
    QuestionnaireStatus,
)

from .selectors import Occasion


def questionnaire_reminders_insert(
    occasions: list[Occasion], *, now: dt.datetime, stamp: dt.datetime
) -> list[int]:
    """One batch of occasions: a requested QuestionnaireResponse and its outbox row each,
    in one transaction; returns the ids of the Reminder rows this caller inserted.

    The outbox key decides, as for every reminder: an occasion whose key exists is left
    out, and if a concurrent dispatcher inserted the same key first (ignore_conflicts),
    the response made for it here is deleted again, so every request has one email.
    A patient's older unanswered request of the same instrument expires: the newest link
    is the one to answer. Queries: existing keys, two inserts, the inserted ids, and an
    update (plus a delete after a lost race)."""
    seen: set[int] = set()
    wanted = []
    existing = set(existing_keys([occasion.key for occasion in occasions]))
    for occasion in occasions:
        # One email per patient and run, whichever occasions coincide.
        if occasion.key in existing or occasion.patient_id in seen:
            continue
        seen.add(occasion.patient_id)
        wanted.append(occasion)
    if not wanted:
        return []
    instrument = settings.QUESTIONNAIRE_INSTRUMENT
    with transaction.atomic():
        responses = QuestionnaireResponse.objects.bulk_create(
            [
                QuestionnaireResponse(
                    patient_id=occasion.patient_id,
                    instrument=instrument,
                    status=QuestionnaireStatus.REQUESTED,
                    source=QuestionnaireSource.EMAIL_LINK,
                    requested_at=now,
                )
                for occasion in wanted
            ]
        )
        Reminder.objects.bulk_create(
            [
                Reminder(
                    kind=ReminderKind.QUESTIONNAIRE,
                    patient_id=occasion.patient_id,
                    questionnaire_id=response.pk,
                    due_at=now,
                    key=occasion.key,
                    enqueued_at=stamp,
                    created_at=now,
                )
                for occasion, response in zip(wanted, responses, strict=True)
            ],
            ignore_conflicts=True,
        )
        inserted = dict(
            Reminder.objects.filter(
                key__in=[occasion.key for occasion in wanted], enqueued_at=stamp
            ).values_list("id", "questionnaire_id")
        )
        used = set(inserted.values())
        lost = [response.pk for response in responses if response.pk not in used]
        if lost:
            QuestionnaireResponse.objects.filter(pk__in=lost).delete()
        QuestionnaireResponse.objects.filter(
            patient_id__in=list(seen),
            instrument=instrument,
            status=QuestionnaireStatus.REQUESTED,
            requested_at__lt=now,
        ).update(status=QuestionnaireStatus.EXPIRED)
    return sorted(inserted)


def questionnaires_expire(*, now: dt.datetime) -> int:
    """Requests whose link has run out (REMINDER_LINK_MAX_AGE_DAYS) become "expired":
    one UPDATE on index questionnaire_status_req_idx."""
    cutoff = now - dt.timedelta(days=settings.REMINDER_LINK_MAX_AGE_DAYS)
    return QuestionnaireResponse.objects.filter(
        status=QuestionnaireStatus.REQUESTED, requested_at__lt=cutoff
    ).update(status=QuestionnaireStatus.EXPIRED)
