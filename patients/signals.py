"""The audit hook for clinical records.

Every view, create, update, sign, amendment and export of a clinical record must be
audited, but the audit log belongs to the clinic app and ``patients``/``treatments``
never import ``clinic`` (dependencies flow one way). So they announce the event here and
the clinic app, which connects its writer when it starts, records it synchronously, in
the caller's transaction. Sending with nobody listening is an error, never a silent gap.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.dispatch import Signal

clinical_record_event = Signal()


def record_event(
    *,
    actor,
    action: str,
    patient=None,
    obj: models.Model | None = None,
    request=None,
    detail: str = "",
    clinical_detail: str = "",
) -> None:
    """Announce that ``actor`` did ``action`` ("view", "create", "update", "sign", "amend",
    "export", "override") on ``obj`` belonging to ``patient``.

    ``detail`` is shown to everyone who reads the audit log, the clinic manager included:
    a non-clinical summary ("edit form", "plan completed"). Clinical values and free text
    (override reasons, which clinical fields changed) go in ``clinical_detail``, shown
    only to users with clinical permission."""
    if not clinical_record_event.receivers:
        raise ImproperlyConfigured("No audit writer is connected to clinical_record_event.")
    clinical_record_event.send(
        sender=type(obj) if obj is not None else None,
        actor=actor,
        action=action,
        patient=patient,
        obj=obj,
        request=request,
        detail=detail,
        clinical_detail=clinical_detail,
    )
