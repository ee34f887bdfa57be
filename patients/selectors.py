"""Reads for the registry and the clinical record."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Model, QuerySet, Value
from django.db.models.functions import Concat
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from . import clinical
from . import sql as prepared
from .models import (
    Assessment,
    AssessmentAmendment,
    AssessmentKind,
    PainReport,
    PainSource,
    Patient,
    QuestionnaireInstrument,
    QuestionnaireResponse,
    QuestionnaireStatus,
    RecordStatus,
)
from .services import ASSESSMENT_FIELDS, DERIVED_FIELDS, json_value

if TYPE_CHECKING:
    from django.contrib.auth.models import User


DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y")


def get_patient_for_user(user: User, patient_id: int) -> Patient:
    """The access-checked getter for patients: staff who may view patients, or 403/404."""
    if not user.has_perm("patients.view_patient"):
        raise PermissionDenied
    return get_object_or_404(Patient, pk=patient_id)


def get_assessment_for_user(user: User, patient_id: int, assessment_id: int) -> Assessment:
    """The access-checked getter for assessments: clinicians only (403), and the
    assessment must belong to the patient in the URL (404 otherwise, so another
    patient's id in the URL reveals nothing)."""
    if not user.has_perm("patients.view_assessment"):
        raise PermissionDenied
    return get_object_or_404(
        Assessment.objects.select_related("patient", "therapist", "signed_by"),
        pk=assessment_id,
        patient_id=patient_id,
    )


# --- Registry search ------------------------------------------------------------------


def parse_date(text: str) -> dt.date | None:
    text = (text or "").strip()
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


# The shortest word pg_trgm indexes (a trigram): shorter ones cannot use the index.
TRIGRAM = 3


def patient_search(
    *, query: str = "", date_of_birth: dt.date | None = None, include_archived: bool = False
) -> QuerySet[Patient]:
    """Patients matching a free-text query, alphabetical.

    The query is read as a date of birth when it parses as one, an email when it has an
    @, a phone number when it is mostly digits, and otherwise as (parts of) a name: every
    word must occur in the normalised name, so "jose gar" finds "José García" and so
    does "garcia jose", on SQLite and PostgreSQL alike.
    """
    patients = Patient.objects.all()
    if not include_archived:
        patients = patients.filter(archived_at__isnull=True)
    if date_of_birth is not None:
        patients = patients.filter(date_of_birth=date_of_birth)
    query = (query or "").strip()[:200]
    if query:
        as_date = parse_date(query)
        digits = clinical.phone_digits(query)
        if as_date is not None:
            patients = patients.filter(date_of_birth=as_date)
        elif "@" in query:
            patients = patients.filter(email__icontains=query)
        elif len(digits) >= 3 and re.fullmatch(r"[\d\s().\-+/]+", query):
            patients = patients.filter(phone__contains=digits)
        else:
            # search_name LIKE '%word%' per word: on PostgreSQL the trigram GIN index
            # patient_search_name_trgm_idx (patients migration 0008) serves it.
            words = clinical.normalise_name(query).split()
            for word in words:
                patients = patients.filter(search_name__contains=word)
            if words and min(len(word) for word in words) >= TRIGRAM:
                # Every word has a trigram: read the matches from the trigram index and
                # sort them (a few hundred at most for a name part). Ordered by the bare
                # columns, PostgreSQL instead walks patient_name_idx from "A" filtering
                # every row until a page of matches turns up: 5,600 rows for "garc" at
                # 20,000 patients. The expression sorts exactly as last_name does.
                return patients.order_by(Concat("last_name", Value("")), "first_name", "id")
    return patients.order_by("last_name", "first_name", "id")


PICKER_LIMIT = 10
PICKER_MIN_LENGTH = 2


@dataclass(frozen=True)
class PickerResults:
    patients: list[Patient]
    more: bool  # more patients match than are shown: type more to narrow


def patient_picker_search(query: str, *, limit: int = PICKER_LIMIT) -> PickerResults:
    """Current patients for the type-ahead picker: at most ``limit`` (one query, reading
    one row more to know whether there are more), demographics only."""
    # NUL cannot be stored or compared in PostgreSQL text: no name or phone contains one.
    query = (query or "").replace("\x00", "").strip()[:100]
    if len(query) < PICKER_MIN_LENGTH:
        return PickerResults(patients=[], more=False)
    rows = list(
        patient_search(query=query).only(
            "id", "first_name", "last_name", "date_of_birth", "phone", "archived_at"
        )[: limit + 1]
    )
    return PickerResults(patients=rows[:limit], more=len(rows) > limit)


def possible_duplicates(
    *, first_name: str, last_name: str, date_of_birth: dt.date, exclude_id: int | None = None
) -> list[Patient]:
    """Registered patients (archived too) with the same normalised name and birth date."""
    name = clinical.normalise_name(f"{first_name} {last_name}")
    matches = Patient.objects.filter(search_name=name, date_of_birth=date_of_birth)
    if exclude_id is not None:
        matches = matches.exclude(pk=exclude_id)
    return list(matches.order_by("id")[:10])


# --- Clinical record ------------------------------------------------------------------


class ChartPoint(NamedTuple):
    """A point of a chart series (a long history has hundreds: a tuple is the cheapest
    to make), its moment as ``epoch_sql`` read it: the chart places and words points
    from the number; ``at`` makes the moment for the few a table lists."""

    epoch: float  # seconds since the epoch
    value: int
    source: str
    label: str

    @property
    def at(self) -> dt.datetime:
        return moment(self.epoch)


@dataclass
class Outcomes:
    nprs: list[ChartPoint] = field(default_factory=list)
    lefs: list[ChartPoint] = field(default_factory=list)
    nprs_change: clinical.Change | None = None
    lefs_change: clinical.Change | None = None


# How many of each list the patient page shows; "show all" links lead to the full,
# paginated lists (the assessment list, the outcomes page's score tables).
RECENT = 10


@dataclass
class ClinicalRecord:
    assessments: list[TimelineRow]  # the latest RECENT, newest first
    more_assessments: bool
    # Pain scores not taken at an assessment (visits, email check-ins): the latest
    # RECENT, oldest first.
    other_reports: list[ChartPoint]
    more_other_reports: bool
    outcomes: Outcomes


def recent_assessments(patient: Patient, limit: int = RECENT) -> tuple[list[TimelineRow], bool]:
    """The latest ``limit`` assessments as the timeline shows them, and whether there are
    more: one query of ``limit + 1`` rows, as plain SQL (Django took longer to build the
    query, with its join and count, than the database to run it)."""
    with connection.cursor() as cursor:
        prepared.execute(
            cursor, _latest_assessments_sql(), [patient.pk, limit + 1], label="assessments"
        )
        rows = timeline_rows(
            # The JSON columns come as text, the moment as epoch_sql reads it.
            (pk, patient_id, moment(epoch), json.loads(causes), json.loads(precautions), *rest)
            for pk, patient_id, epoch, causes, precautions, *rest in cursor.fetchall()
        )
    return rows[:limit], len(rows) > limit


def _latest_assessments_sql() -> str:
    """The latest assessments (index assessment_patient_date_idx) with therapist and
    amendment count, the columns of TIMELINE_COLUMNS."""
    q = connection.ops.quote_name
    assessments = q(Assessment._meta.db_table)
    user = q(get_user_model()._meta.db_table)
    amendments = q(AssessmentAmendment._meta.db_table)
    return (
        f"SELECT a.id, a.patient_id, {epoch_sql('a.assessed_at')}, a.suspected_causes, "
        "a.precautions, a.kind, a.region, a.side, a.status, a.xray_indicated, a.pain_now, "
        "a.lefs_total, a.suspected_cause_other, u.first_name, u.last_name, u.username, "
        f"(SELECT COUNT(*) FROM {amendments} AS am WHERE am.assessment_id = a.id) "
        f"FROM {assessments} AS a JOIN {user} AS u ON u.id = a.therapist_id "
        "WHERE a.patient_id = %s ORDER BY a.assessed_at DESC, a.id DESC LIMIT %s"
    )


def patient_assessments(patient: Patient) -> QuerySet[Any]:
    """Every assessment of the patient, newest first, for the lists (index
    assessment_patient_date_idx): rows of TIMELINE_COLUMNS (``timeline_rows`` makes them
    TimelineRows). The LEFS answers, Ottawa findings and free text stay in the
    database."""
    return (
        Assessment.objects.filter(patient=patient)
        .annotate(amendment_count=Count("amendments"))
        .order_by("-assessed_at", "-id")
        .values_list(*TIMELINE_COLUMNS)
    )


# What the timeline shows (sections.assessment_timeline), in TimelineRow's order with the
# therapist's first name, last name and username in place of the name.
TIMELINE_COLUMNS = (
    "id",
    "patient_id",
    "assessed_at",
    "suspected_causes",
    "precautions",
    "kind",
    "region",
    "side",
    "status",
    "xray_indicated",
    "pain_now",
    "lefs_total",
    "suspected_cause_other",
    "therapist__first_name",
    "therapist__last_name",
    "therapist__username",
    "amendment_count",
)


class TimelineRow(NamedTuple):
    """An assessment as the timeline shows it (sections.assessment_timeline)."""

    id: int
    patient_id: int
    assessed_at: dt.datetime
    suspected_causes: list[str]
    precautions: list[str]
    kind: str
    region: str
    side: str
    status: str
    xray_indicated: bool
    pain_now: int
    lefs_total: int | None
    suspected_cause_other: str
    therapist: str  # full name, else username
    amendment_count: int


def timeline_rows(rows: Iterable[Any]) -> list[TimelineRow]:
    """TimelineRows from rows of TIMELINE_COLUMNS' values."""
    return [
        # The name as User.get_full_name() gives it, else the username.
        TimelineRow._make((*values, f"{first} {last}".strip() or username, amendments))
        for *values, first, last, username, amendments in rows
    ]


def clinical_record(patient: Patient) -> ClinicalRecord:
    """Everything the clinical sections of the patient page show, in three queries
    whatever the history: the latest assessments, and the two chart series as tuples
    (patient_outcomes), which also give the latest pain scores from visits and
    check-ins."""
    assessments, more = recent_assessments(patient)
    outcomes, other = _outcomes_and_other_reports(patient)
    return ClinicalRecord(
        assessments=assessments,
        more_assessments=more,
        other_reports=other[-RECENT:],
        more_other_reports=len(other) > RECENT,
        outcomes=outcomes,
    )


def clinical_record_for_request(request: HttpRequest, patient: Patient) -> ClinicalRecord:
    """The clinical record, loaded once per request however many sections show it."""
    cache: dict[int, ClinicalRecord] = request.__dict__.setdefault("_patients_clinical_record", {})
    if patient.pk not in cache:
        cache[patient.pk] = clinical_record(patient)
    return cache[patient.pk]


_SOURCE_LABELS = dict(PainSource.choices)
_KIND_LABELS = dict(AssessmentKind.choices)
# The source column of a patient questionnaire's LEFS in the chart's union (no
# assessment kind is spelled so).
QUESTIONNAIRE = "questionnaire"
QUESTIONNAIRE_LABEL = str(PainSource.QUESTIONNAIRE.label)


def patient_outcomes(patient: Patient) -> Outcomes:
    """The chart series of the whole history in one query of plain tuples (no model
    instances): pain scores (index painreport_patient_date_idx), the LEFS of signed
    assessments (index assessment_patient_date_idx) and of completed patient
    questionnaires, read together."""
    return _outcomes_and_other_reports(patient)[0]


def epoch_sql(column: str) -> str:
    """SQL for a timestamp or date column as seconds since the epoch, a float: psycopg
    reads a timestamp in Python (a few microseconds each, most of reading a long
    history's chart series), a number in C. SQLite's come rounded to the millisecond
    (its julian day is a float: 08:00 would read as a hair before). A time of day reads
    as that time on some day (``moment(epoch).time()``)."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS double precision)"
    return f"ROUND((julianday({column}) - 2440587.5) * 86400.0, 3)"


def moment(epoch: float) -> dt.datetime:
    """The moment ``epoch_sql`` read."""
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


# The series tags.
_NPRS, _LEFS = "nprs", "lefs"


def _outcomes_and_other_reports(patient: Patient) -> tuple[Outcomes, list[ChartPoint]]:
    nprs: list[ChartPoint] = []
    lefs: list[ChartPoint] = []
    other: list[ChartPoint] = []
    params: list[Any] = [
        patient.pk,
        patient.pk,
        RecordStatus.SIGNED.value,
        patient.pk,
        QuestionnaireInstrument.LEFS.value,
        QuestionnaireStatus.COMPLETED.value,
    ]
    with connection.cursor() as cursor:
        prepared.execute(cursor, _series_sql(), params, label="chart_series")
        rows = cursor.fetchall()
    # A questionnaire whose answers went into a signed assessment is that assessment's
    # point already: drawn once, as the assessment (its LEFS is the one on record).
    signed = {
        row for series, _e, row, _v, label, _a in rows if series == _LEFS and label != QUESTIONNAIRE
    }
    for series, epoch, _row, value, label, assessment_id in rows:
        if series == _NPRS:
            point = ChartPoint(epoch, value, label, _SOURCE_LABELS[label])
            nprs.append(point)
            if assessment_id is None:
                other.append(point)
        elif label == QUESTIONNAIRE:
            if assessment_id not in signed:
                lefs.append(ChartPoint(epoch, value, "questionnaire", QUESTIONNAIRE_LABEL))
        else:
            lefs.append(ChartPoint(epoch, value, "assessment", _KIND_LABELS[label]))
    return _with_changes(Outcomes(nprs=nprs, lefs=lefs)), other


def _series_sql() -> str:
    """One UNION ALL of the series (each part on its own index), tagged and in order:
    every LEFS (signed assessments and questionnaires), then every pain score, each
    oldest first. Plain SQL: Django took longer to build the three-part union than the
    database to run it.

    The columns: series, moment (epoch_sql), id, value, label (a pain score's source,
    an assessment's kind, QUESTIONNAIRE), and the assessment a pain score or a
    questionnaire comes from (an assessment's own id)."""
    q = connection.ops.quote_name
    reports = q(PainReport._meta.db_table)
    assessments = q(Assessment._meta.db_table)
    responses = q(QuestionnaireResponse._meta.db_table)
    return (
        # Pain scores (index painreport_patient_date_idx).
        f"SELECT '{_NPRS}', {epoch_sql('reported_at')}, id, score, source, assessment_id "
        f"FROM {reports} WHERE patient_id = %s "
        # The LEFS of signed assessments (index assessment_patient_date_idx).
        f"UNION ALL SELECT '{_LEFS}', {epoch_sql('assessed_at')}, id, lefs_total, kind, id "
        f"FROM {assessments} WHERE patient_id = %s AND status = %s "
        "AND lefs_total IS NOT NULL "
        # The completed questionnaires' LEFS (index questionnaire_patient_done_idx), with
        # the label QUESTIONNAIRE (no assessment kind is spelled so); a completed LEFS
        # always has its total. A patient-reported NPRS is a pain report (source
        # "questionnaire"), already in the first part.
        f"UNION ALL SELECT '{_LEFS}', {epoch_sql('completed_at')}, id, total, "
        f"'{QUESTIONNAIRE}', assessment_id FROM {responses} "
        "WHERE patient_id = %s AND instrument = %s AND status = %s "
        "ORDER BY 1, 2, 3"
    )


def questionnaire_offer(patient: Patient) -> QuestionnaireResponse | None:
    """The patient's latest completed LEFS since their latest assessment, not yet used in
    one: offered on the new assessment form ("use these answers"). Two queries."""
    latest = (
        Assessment.objects.filter(patient=patient)
        .order_by("-assessed_at", "-id")
        .values_list("assessed_at", flat=True)
        .first()
    )
    responses = QuestionnaireResponse.objects.filter(
        patient=patient,
        instrument=QuestionnaireInstrument.LEFS,
        status=QuestionnaireStatus.COMPLETED,
        assessment__isnull=True,
    )
    if latest is not None:
        responses = responses.filter(completed_at__gt=latest)
    return responses.order_by("-completed_at", "-id").first()


def questionnaire_for_assessment(patient: Patient, value: Any) -> QuestionnaireResponse | None:
    """The completed, unused response named by a form's ``questionnaire_response`` value,
    if it is this patient's; None for anything else (bad input changes nothing)."""
    try:
        pk = int(str(value))
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**31:
        return None
    return QuestionnaireResponse.objects.filter(
        pk=pk,
        patient=patient,
        instrument=QuestionnaireInstrument.LEFS,
        status=QuestionnaireStatus.COMPLETED,
        assessment__isnull=True,
    ).first()


def _with_changes(outcomes: Outcomes) -> Outcomes:
    nprs, lefs = outcomes.nprs, outcomes.lefs
    if len(nprs) >= 2:
        outcomes.nprs_change = clinical.nprs_change(nprs[0].value, nprs[-1].value)
    if len(lefs) >= 2:
        outcomes.lefs_change = clinical.lefs_change(lefs[0].value, lefs[-1].value)
    return outcomes


def assessment_amendments(assessment: Assessment) -> list[Any]:
    return list(assessment.amendments.select_related("author").order_by("created_at", "id"))


def assessment_addenda(assessment: Assessment) -> list[Any]:
    """The assessment's addenda in the order they were written, with authors: one query."""
    return list(assessment.addenda.select_related("author").order_by("created_at", "id"))


def assessment_as_signed(assessment: Assessment, amendments: list[Any]) -> dict[str, Any]:
    """The values as originally signed: the current values with every amendment undone,
    newest first. Keys are field names; values are as stored in the amendments (JSON)."""
    original = {
        name: json_value(getattr(assessment, name)) for name in ASSESSMENT_FIELDS + DERIVED_FIELDS
    }
    for amendment in reversed(amendments):
        for name, change in amendment.changes.items():
            original[name] = change.get("old")
    return original


def latest_assessment(patient: Patient) -> Assessment | None:
    return Assessment.objects.filter(patient=patient).order_by("-assessed_at", "-id").first()


class DraftRow(NamedTuple):
    """An unsigned assessment as Today lists it: plain values, no model instance."""

    id: int
    kind: str
    assessed_at: dt.datetime
    patient_id: int
    patient_name: str


def oldest_drafts(
    model: type[Model], moment_field: str, columns: list[str], user: User, limit: int
) -> tuple[list[tuple[Any, ...]], bool]:
    """The therapist's oldest ``limit`` drafts of ``model`` (a signed record with
    ``therapist``, ``status`` and ``patient``), oldest ``moment_field`` first, as tuples:
    the record's ``columns`` (``moment_field`` as seconds since the epoch wherever it is
    listed), then the patient's name; and whether there are more. One query of ``limit +
    1`` rows on the model's (therapist, status, moment, id) index, plain SQL prepared
    once per connection on PostgreSQL (patients/sql.py): the ORM's query and its deferred
    instances with their patients took four times as long."""
    q = connection.ops.quote_name
    table = model._meta.db_table
    selected = ", ".join(
        epoch_sql(f"r.{name}") if name == moment_field else f"r.{name}" for name in columns
    )
    sql = (
        f"SELECT {selected}, p.first_name, p.last_name FROM {q(table)} AS r "
        f"INNER JOIN {q(Patient._meta.db_table)} AS p ON p.id = r.patient_id "
        "WHERE r.therapist_id = %s AND r.status = %s "
        f"ORDER BY r.{moment_field}, r.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        params = [user.pk, RecordStatus.DRAFT.value, limit + 1]
        prepared.execute(cursor, sql, params, label=f"drafts_{table}")
        rows = cursor.fetchall()
    return rows[:limit], len(rows) > limit


def therapist_drafts(user: User, limit: int = 20) -> tuple[list[DraftRow], bool]:
    """The therapist's oldest ``limit`` unsigned assessments for Today, and whether there
    are more (``oldest_drafts``, index assessment_therapist_todo_idx), so a therapist
    with hundreds of drafts costs the same as one with three."""
    rows, more = oldest_drafts(
        Assessment, "assessed_at", ["id", "kind", "assessed_at", "patient_id"], user, limit
    )
    drafts = [
        DraftRow(pk, kind, moment(at), patient_id, f"{first} {last}")
        for pk, kind, at, patient_id, first, last in rows
    ]
    return drafts, more
