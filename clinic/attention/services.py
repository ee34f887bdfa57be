"""Acknowledging a reason on the needs-attention list (clinic/attention/selectors.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.models import AttentionAcknowledgement
from patients.audit import AuditAction, audit_record
from patients.models import Patient

from . import selectors

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def attention_acknowledge(
    *, acting_user: User, patient_id: int, reason: str, note: str, ip: str | None
) -> AttentionAcknowledgement:
    """Store that ``acting_user`` saw why ``patient_id`` is on their list, with a note.

    The rules are run again for this one patient, so only a reason that is on the
    acting therapist's list now can be acknowledged, and the acknowledgement names the
    data that raised it (the reason comes back when newer data raises it again).
    """
    rows = selectors.needs_attention(acting_user, patient_id=patient_id)
    flag = next((f for row in rows for f in row.flags if f.reason == reason), None)
    if flag is None:
        raise ValidationError(
            "This patient is not on your needs-attention list for that reason any more."
        )
    acknowledgement = AttentionAcknowledgement.objects.create(
        patient=Patient.objects.get(pk=patient_id),
        reason=reason,
        trigger_key=flag.key,
        summary=flag.text[:500],
        note=note,
        acknowledged_by=acting_user,
    )
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient=acknowledgement.patient,
        obj=acknowledgement,
        ip=ip,
        detail="needs attention: acknowledged",
        clinical_detail=f"{flag.text}\nNote: {note}",
    )
    return acknowledgement
