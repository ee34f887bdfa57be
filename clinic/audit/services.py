"""The audit log's writer: the one place that stores an ``AuditEvent``.

Callers never use it directly: they call ``patients.audit.audit_record``, which checks
the action, keeps clinical text out of ``detail`` and hands the event here;
``ClinicConfig.ready`` connects this writer. It runs in the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from clinic.models import AuditEvent
from patients.models import Patient


def audit_event_write(
    *,
    acting_user: Any,
    username: str,
    action: str,
    patient: Patient | None,
    object_type: str,
    object_id: str,
    ip: str | None,
    detail: str,
    clinical_detail: str,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=acting_user,
        actor_username=username,
        action=action,
        patient=patient,
        object_type=object_type,
        object_id=object_id,
        ip=ip,
        detail=detail,
        clinical_detail=clinical_detail,
    )
