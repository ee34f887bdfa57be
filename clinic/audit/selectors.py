"""Reads for the audit-log page and its CSV export."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from clinic.models import AuditEvent
from patients.clinical import normalise_name
from patients.models import Patient

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# Clinical values and free text in the log (AuditEvent.clinical_detail) are clinical
# content: only someone who may read assessments sees them. No role holds both this and
# the audit log today, so the manager never does (minimum necessary, 45 CFR 164.502(b)).
CLINICAL_DETAIL_PERMISSION = "patients.view_assessment"


def may_read_clinical_detail(user: User) -> bool:
    """Free of queries once the view's permission check has filled the user's cache."""
    return user.has_perm(CLINICAL_DETAIL_PERMISSION)


def audit_events(
    *,
    patient_id: int | None = None,
    patient_name: str = "",
    user: User | None = None,
    action: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    with_clinical_detail: bool = False,
) -> QuerySet[AuditEvent]:
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


# --- Pages without a count -------------------------------------------------------------
#
# The log is read newest first, (at, id) descending. A page is the events just older
# (or just newer) than a cursor, the (at, id) of the event at its edge, so every page
# costs one indexed query of PAGE_SIZE + 1 rows however long the log is: no COUNT, no
# OFFSET.

_CURSOR = re.compile(r"^(\d{1,19})-(\d{1,19})$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_MICROSECONDS = int((dt.datetime(9999, 1, 1, tzinfo=dt.UTC) - _EPOCH).total_seconds() * 1e6)


@dataclass(frozen=True)
class Cursor:
    at: dt.datetime
    id: int

    def __str__(self) -> str:
        delta = self.at - _EPOCH
        micro = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return f"{micro}-{self.id}"


def cursor_for(event: AuditEvent) -> Cursor:
    return Cursor(at=event.at, id=event.pk)


def parse_cursor(text: str | None) -> Cursor | None:
    """A cursor from a page link ("<microseconds since 1970>-<event id>"), or None."""
    match = _CURSOR.match(text or "")
    if match is None:
        return None
    micro, event_id = int(match[1]), int(match[2])
    if micro > _MAX_MICROSECONDS or not 0 < event_id <= 2**63 - 1:
        return None
    return Cursor(at=_EPOCH + dt.timedelta(microseconds=micro), id=event_id)


@dataclass
class AuditPage:
    events: list[AuditEvent]
    # Cursors for the links to the next older and newer page, None when there is none.
    older: Cursor | None
    newer: Cursor | None


def audit_page(
    events: QuerySet[AuditEvent],
    *,
    older_than: Cursor | None = None,
    newer_than: Cursor | None = None,
    size: int = 50,
) -> AuditPage:
    """One page of ``events`` (ordered newest first): the first, or the one just older
    than ``older_than``, or the one just newer than ``newer_than``. One query.

    The seek condition is written ``at <= c.at AND (at < c.at OR id < c.id)`` rather
    than only the OR, so that its first half bounds the index range scan."""
    if newer_than is not None:
        c = newer_than
        rows = list(
            events.filter(Q(at__gt=c.at) | Q(at=c.at, id__gt=c.id), at__gte=c.at).order_by(
                "at", "id"
            )[: size + 1]
        )
        more = len(rows) > size
        rows = rows[:size][::-1]
        return AuditPage(
            events=rows,
            older=cursor_for(rows[-1]) if rows else c,
            newer=cursor_for(rows[0]) if more else None,
        )
    if older_than is not None:
        c = older_than
        events = events.filter(Q(at__lt=c.at) | Q(at=c.at, id__lt=c.id), at__lte=c.at)
    rows = list(events[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    newer = None
    if older_than is not None:
        newer = cursor_for(rows[0]) if rows else older_than
    return AuditPage(events=rows, older=cursor_for(rows[-1]) if more else None, newer=newer)


def audit_export_rows(
    *, with_clinical_detail: bool = False, **filters: Any
) -> Iterator[tuple[Any, ...]]:
    """The filtered events for the CSV export as tuples, newest first, streamed from the
    database in chunks (a server-side cursor on PostgreSQL): (at as ISO text in UTC,
    actor_username, action, patient_id, patient first name, patient last name,
    object_type, object_id, ip, detail[, clinical_detail]).

    No model instances, and the time as text: the database driver's timestamp parsing
    in Python cost more than all the rest of a row (``datetime.fromisoformat`` is C)."""
    columns = [
        "at_text",
        "actor_username",
        "action",
        "patient_id",
        "patient__first_name",
        "patient__last_name",
        "object_type",
        "object_id",
        "ip",
        "detail",
    ]
    if with_clinical_detail:
        columns.append("clinical_detail")
    events = audit_events(**filters).select_related(None)
    events = events.annotate(at_text=Cast("at", output_field=CharField()))
    return events.values_list(*columns).iterator(chunk_size=5000)


def filters_from(cleaned: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient_id": cleaned.get("patient"),
        "patient_name": cleaned.get("patient_name") or "",
        "user": cleaned.get("user"),
        "action": cleaned.get("action") or "",
        "date_from": cleaned.get("date_from"),
        "date_to": cleaned.get("date_to"),
    }


def describe_filters(filters: dict[str, Any]) -> str:
    parts = []
    for key, value in filters.items():
        if value:
            parts.append(f"{key}={getattr(value, 'username', value)}")
    return "; ".join(parts) or "no filter"


# URL keyword -> the clinical record it names (patients and treatments URLs).
URL_RECORDS = {
    "assessment_id": "patients.assessment",
    "plan_id": "treatments.treatmentplan",
    "note_id": "treatments.visitnote",
    "program_id": "treatments.homeexerciseprogram",
}
_MAX_ID = 2**63 - 1  # larger ids name no row, and SQLite cannot even compare them


def _row_id(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= _MAX_ID else None


def record_named_by_url(kwargs: dict[str, Any]) -> tuple[Patient | None, str, str]:
    """(patient, object type, object id) that a clinical URL's keywords name.

    The object is the most specific record (an assessment, plan, note or program, else
    the patient); its id is kept as the URL gave it even when no such row exists. The
    patient is the URL's own, or the record's when the URL names only the record. One
    query; only refused requests ask."""
    object_type, object_id, record_id, model = "", "", None, None
    for keyword, label in URL_RECORDS.items():
        if keyword in kwargs:
            object_type, object_id = label, str(kwargs[keyword])[:64]
            record_id, model = _row_id(kwargs[keyword]), apps.get_model(label)
            break
    patient = None
    if "patient_id" in kwargs:
        if not object_type:
            object_type, object_id = "patients.patient", str(kwargs["patient_id"])[:64]
        patient_id = _row_id(kwargs["patient_id"])
        if patient_id is not None:
            patient = Patient.objects.filter(pk=patient_id).first()
    elif model is not None and record_id is not None:
        owner = model.objects.filter(pk=record_id).values("patient_id")
        patient = Patient.objects.filter(pk__in=owner).first()
    return patient, object_type, object_id
