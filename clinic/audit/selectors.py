"""Reads for the audit-log page and its CSV export."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from clinic.models import AuditEvent
from patients.clinical import normalise_name

# Clinical values and free text in the log (AuditEvent.clinical_detail) are clinical
# content: only someone who may read assessments sees them. No role holds both this and
# the audit log today, so the manager never does (minimum necessary, 45 CFR 164.502(b)).
CLINICAL_DETAIL_PERMISSION = "patients.view_assessment"


def may_read_clinical_detail(user) -> bool:
    """Free of queries once the view's permission check has filled the user's cache."""
    return user.has_perm(CLINICAL_DETAIL_PERMISSION)


def audit_events(
    *,
    patient_id: int | None = None,
    patient_name: str = "",
    user=None,
    action: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    with_clinical_detail: bool = False,
) -> QuerySet:
    """Events newest first, with actor and patient joined (one query per page).

    Dates are days in the clinic's time zone; ``date_to`` is inclusive. Without
    ``with_clinical_detail`` the clinical text is not even read from the database; a page
    that showed it anyway would cost one query per row, which its pinned count catches."""
    events = AuditEvent.objects.select_related("actor", "patient").order_by("-at", "-id")
    if not with_clinical_detail:
        events = events.defer("clinical_detail")
    if patient_id:
        events = events.filter(patient_id=patient_id)
    for word in normalise_name(patient_name).split():
        events = events.filter(patient__search_name__contains=word)
    if user is not None:
        events = events.filter(actor=user)
    if action:
        events = events.filter(action=action)
    zone = timezone.get_current_timezone()
    if date_from:
        events = events.filter(at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=zone))
    if date_to:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        events = events.filter(at__lt=end)
    return events


def filters_from(cleaned: dict) -> dict:
    return {
        "patient_id": cleaned.get("patient"),
        "patient_name": cleaned.get("patient_name") or "",
        "user": cleaned.get("user"),
        "action": cleaned.get("action") or "",
        "date_from": cleaned.get("date_from"),
        "date_to": cleaned.get("date_to"),
    }


def describe_filters(filters: dict) -> str:
    parts = []
    for key, value in filters.items():
        if value:
            parts.append(f"{key}={getattr(value, 'username', value)}")
    return "; ".join(parts) or "no filter"
