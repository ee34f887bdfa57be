"""Reads for plans of care, visit notes, home programs and the catalogue.

Each page's selector does its own select_related/prefetch_related so a page runs a
fixed number of queries however long the patient's history grows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.db.models import (
    Case,
    DateTimeField,
    F,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.shortcuts import get_object_or_404
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from patients import sql as prepared
from patients.localtime import clinic_today, clinic_zone, local_datetime
from patients.models import Assessment, Patient, Precaution, RecordStatus
from patients.selectors import epoch_sql, moment, oldest_drafts

from .catalogue import DEFAULT_PRECAUTION_TABLE, NO_RESTRICTION, PUBLISHED_TECHNIQUES
from .contraindications import Restriction, technique_restrictions
from .models import (
    AppliedTechnique,
    Exercise,
    ExerciseCompletion,
    ExercisePrescription,
    HomeExerciseProgram,
    PlannedTechnique,
    PrecautionRule,
    ProgramStatus,
    Technique,
    TreatmentPlan,
    VisitNote,
)
from .visits import visit_hooks

if TYPE_CHECKING:
    from django.contrib.auth.models import User


if TYPE_CHECKING:
    from django.contrib.auth.models import User


ADHERENCE_DAYS = 28  # the last 4 weeks, today included
SOAP_FIELDS = ["subjective", "objective", "assessment", "plan"]


# Access-checked getters: one per object type; PermissionDenied (403) or Http404.


def get_patient_for_user(user: User, patient_id: int, permission: str) -> Patient:
    if not user.has_perm(permission):
        raise PermissionDenied
    return get_object_or_404(Patient, pk=patient_id)


def get_plan_for_user(user: User, plan_id: int) -> TreatmentPlan:
    if not user.has_perm("treatments.view_treatmentplan"):
        raise PermissionDenied
    return get_object_or_404(
        TreatmentPlan.objects.select_related("patient", "therapist", "assessment").prefetch_related(
            Prefetch("techniques", queryset=PlannedTechnique.objects.select_related("technique"))
        ),
        pk=plan_id,
    )


def plan_visits(plan: TreatmentPlan, *, limit: int | None) -> tuple[list[VisitNote], bool]:
    """The plan's visit notes, latest first, as its page lists them (date and status):
    the latest ``limit`` (all with None) and whether there are more. One query, reading
    ``limit + 1`` rows by the (treatment_plan, visited_at) index, however long the plan."""
    notes = VisitNote.objects.filter(treatment_plan=plan).only("id", "visited_at", "status")
    notes = notes.order_by("-visited_at", "-id")
    if limit is None:
        return list(notes), False
    rows = list(notes[: limit + 1])
    return rows[:limit], len(rows) > limit


def get_note_for_user(user: User, note_id: int, *, with_related: bool = True) -> VisitNote:
    """The note with what its page shows; ``with_related=False``: the note's own row only
    (for a change that reads and locks what it needs itself, such as signing)."""
    if not user.has_perm("treatments.view_visitnote"):
        raise PermissionDenied
    if not with_related:
        return get_object_or_404(VisitNote, pk=note_id)
    return get_object_or_404(
        VisitNote.objects.select_related(
            "patient", "therapist", "signed_by", "appointment", "treatment_plan"
        ).prefetch_related(
            Prefetch("techniques", queryset=AppliedTechnique.objects.select_related("technique")),
            "exercises_reviewed",
            Prefetch("amendments", queryset=_amendments()),
        ),
        pk=note_id,
    )


def get_program_for_user(user: User, program_id: int) -> HomeExerciseProgram:
    if not user.has_perm("treatments.view_homeexerciseprogram"):
        raise PermissionDenied
    return get_object_or_404(
        HomeExerciseProgram.objects.select_related("patient", "prescribed_by").prefetch_related(
            Prefetch("prescriptions", queryset=_prescriptions())
        ),
        pk=program_id,
    )


def _prescriptions() -> QuerySet[ExercisePrescription]:
    return ExercisePrescription.objects.select_related("exercise").order_by("position", "id")


def _amendments() -> QuerySet[Any]:
    from .models import VisitNoteAmendment

    return VisitNoteAmendment.objects.select_related("author").order_by("created_at", "id")


# Screening.


def precaution_rules() -> list[tuple[str, str, str]]:
    """The clinic's precaution table as (precaution, technique code, level): one query."""
    return list(
        PrecautionRule.objects.values_list("precaution", "technique__code", "level").order_by()
    )


def restrictions_for_assessment(
    assessment: Assessment, rules: list[tuple[str, str, str]] | None = None
) -> dict[str, Restriction]:
    return technique_restrictions(
        precautions=assessment.precautions or [],
        xray_indicated=assessment.xray_indicated,
        rules=precaution_rules() if rules is None else rules,
        precaution_labels=dict(Precaution.choices),
    )


def signed_assessments_for(patient: Patient) -> QuerySet[Assessment]:
    return Assessment.objects.filter(patient=patient, status=RecordStatus.SIGNED).order_by(
        "-assessed_at", "-id"
    )


def latest_signed_assessment(patient: Patient) -> Assessment | None:
    """The patient's latest signed screening: what visit notes are checked against."""
    return signed_assessments_for(patient).first()


def note_addenda(note: VisitNote) -> list[Any]:
    """The note's addenda in the order they were written, with authors: one query."""
    return list(note.addenda.select_related("author").order_by("created_at", "id"))


def active_techniques() -> QuerySet[Technique]:
    return Technique.objects.filter(active=True).order_by("name")


def active_exercises() -> QuerySet[Exercise]:
    return Exercise.objects.filter(active=True).order_by("name")


# Patient page sections (each a fixed number of queries).


def patient_plans(patient: Patient) -> QuerySet[TreatmentPlan]:
    """Every plan of the patient, newest first (index plan_patient_start_idx); what the
    lists print of them is read by ``plan_rows``."""
    return TreatmentPlan.objects.filter(patient=patient).order_by("-start_date", "-id")


class PlannedRow(NamedTuple):
    technique: str
    grade: str
    target: str
    restriction: str
    overridden: bool  # planned despite a contraindication, with a reason


class PlanRow(NamedTuple):
    """A plan as the patient page and the plan list print it (sections.plan_items)."""

    id: int
    start_date: dt.date
    status: str
    visits_per_week: int
    weeks: int
    therapist: str  # full name, else username
    techniques: list[PlannedRow]


def plan_rows(plans: QuerySet[Any] | list[int]) -> list[PlanRow]:
    """The plans ``plans`` names (ids, or a sliced query of them), newest first, with
    therapist and planned techniques: one query, plain values (a plan without
    techniques comes with none)."""
    rows = (
        TreatmentPlan.objects.filter(pk__in=plans)
        .order_by("-start_date", "-id", "techniques__id")
        .values_list(
            "id",
            "start_date",
            "status",
            "visits_per_week",
            "weeks",
            "therapist__first_name",
            "therapist__last_name",
            "therapist__username",
            "techniques__technique__name",
            "techniques__grade",
            "techniques__target",
            "techniques__restriction",
            "techniques__override_reason",
        )
    )
    return _plan_rows(rows)


def _plan_rows(rows: Any) -> list[PlanRow]:
    """Plans from rows of (id, start date, status, visits a week, weeks, the therapist's
    first name, last name and username, and a planned technique's name, grade, target,
    restriction and override reason, None without one), newest first."""
    found: dict[int, PlanRow] = {}
    for pk, start, status, per_week, weeks, first, last, username, *technique in rows:
        plan = found.get(pk)
        if plan is None:
            # The name as User.get_full_name() gives it, else the username.
            therapist = f"{first} {last}".strip() or username
            plan = found[pk] = PlanRow(pk, start, status, per_week, weeks, therapist, [])
        name, grade, target, restriction, override_reason = technique
        if name is not None:
            plan.techniques.append(
                PlannedRow(name, grade, target, restriction, bool(override_reason))
            )
    return list(found.values())


def plans_for_patient(patient: Patient, limit: int = 10) -> list[PlanRow]:
    """The latest plans, newest first, as ``plan_rows`` gives them: one query, as plain
    SQL (Django took longer to build it than the database to run it). Ask for
    ``limit + 1`` to know whether there are more."""
    with connection.cursor() as cursor:
        prepared.execute(cursor, _latest_plans_sql(), [patient.pk, limit], label="plans")
        return _plan_rows(cursor.fetchall())


def _latest_plans_sql() -> str:
    """The latest plans (index plan_patient_start_idx) with therapist and planned
    techniques, the columns ``_plan_rows`` reads."""
    q = connection.ops.quote_name
    plan = q(TreatmentPlan._meta.db_table)
    user = q(get_user_model()._meta.db_table)
    planned = q(PlannedTechnique._meta.db_table)
    technique = q(Technique._meta.db_table)
    return (
        "SELECT tp.id, tp.start_date, tp.status, tp.visits_per_week, tp.weeks, "
        "u.first_name, u.last_name, u.username, t.name, pt.grade, pt.target, "
        f"pt.restriction, pt.override_reason FROM {plan} AS tp "
        f"JOIN {user} AS u ON u.id = tp.therapist_id "
        f"LEFT JOIN {planned} AS pt ON pt.plan_id = tp.id "
        f"LEFT JOIN {technique} AS t ON t.id = pt.technique_id "
        f"WHERE tp.id IN (SELECT id FROM {plan} WHERE patient_id = %s "
        "ORDER BY start_date DESC, id DESC LIMIT %s) "
        "ORDER BY tp.start_date DESC, tp.id DESC, pt.id"
    )


def patient_notes(patient: Patient) -> QuerySet[Any]:
    """Every note of the patient, newest first (index visitnote_patient_date_idx): rows of
    what the lists show (``note_row_values`` makes them NoteRows); the SOAP text stays in
    the database."""
    return (
        VisitNote.objects.filter(patient=patient)
        .order_by("-visited_at", "-id")
        .values_list(
            "id",
            "visited_at",
            "pain_before",
            "pain_after",
            "status",
            "therapist__first_name",
            "therapist__last_name",
            "therapist__username",
        )
    )


class NoteRow(NamedTuple):
    """A visit note as the patient page and the note list print it (sections.note_rows)."""

    id: int
    visited_at: dt.datetime
    pain_before: int | None
    pain_after: int | None
    status: str
    therapist: str  # full name, else username


def note_row_values(rows: Iterable[Any]) -> list[NoteRow]:
    """NoteRows from rows of ``patient_notes``' columns."""
    return [
        # The name as User.get_full_name() gives it, else the username.
        NoteRow._make((*values, f"{first} {last}".strip() or username))
        for *values, first, last, username in rows
    ]


def notes_for_patient(patient: Patient, limit: int = 10) -> list[NoteRow]:
    """The most recent notes, newest first: one query, as plain SQL (Django took longer
    to build it than the database to run it)."""
    with connection.cursor() as cursor:
        prepared.execute(cursor, _latest_notes_sql(), [patient.pk, limit], label="notes")
        return note_row_values((pk, moment(epoch), *rest) for pk, epoch, *rest in cursor.fetchall())


def _latest_notes_sql() -> str:
    """The latest notes (index visitnote_patient_date_idx) with therapist, the columns of
    ``patient_notes`` (the moment as epoch_sql reads it)."""
    q = connection.ops.quote_name
    note = q(VisitNote._meta.db_table)
    user = q(get_user_model()._meta.db_table)
    return (
        f"SELECT n.id, {epoch_sql('n.visited_at')}, n.pain_before, n.pain_after, n.status, "
        f"u.first_name, u.last_name, u.username FROM {note} AS n "
        f"JOIN {user} AS u ON u.id = n.therapist_id "
        "WHERE n.patient_id = %s ORDER BY n.visited_at DESC, n.id DESC LIMIT %s"
    )


class UnsignedNote(NamedTuple):
    """A draft visit note as Today lists it: plain values, no model instance."""

    id: int
    visited_at: dt.datetime
    patient_name: str


def unsigned_notes_for(user: User, limit: int = 20) -> tuple[list[UnsignedNote], bool]:
    """A therapist's oldest ``limit`` draft notes for the Today page, and whether there
    are more (``oldest_drafts``, the therapist/status/visited_at index)."""
    rows, more = oldest_drafts(VisitNote, "visited_at", ["id", "visited_at"], user, limit)
    return [UnsignedNote(pk, moment(at), f"{first} {last}") for pk, at, first, last in rows], more


@dataclass(frozen=True)
class AdherenceDay:
    date: dt.date
    state: str  # "done", "missed", "done-extra" (done on a rest day), "rest", "outside"

    @property
    def label(self) -> str:
        text = {
            "done": "done",
            "missed": "not done",
            "done-extra": "done (extra day)",
            "rest": "no exercises planned",
            "outside": "outside the program",
        }[self.state]
        return f"{self.date:%a %d %b}: {text}"


@dataclass(frozen=True)
class Adherence:
    prescribed_days: int
    done_days: int
    days: list[AdherenceDay]

    @property
    def percent(self) -> int | None:
        if not self.prescribed_days:
            return None
        return round(self.done_days / self.prescribed_days * 100)

    @property
    def days_html(self) -> SafeString:
        """The strip's days, one ``<li>`` each (treatments/partials/adherence_strip.html
        puts them in its list), made once here rather than by a template loop."""
        items = []
        for day in self.days:
            label = escape(day.label)
            items.append(
                f'<li class="adherence-day adherence-{day.state}" title="{label}">'
                f'<span class="visually-hidden">{label}</span></li>'
            )
        # The states are fixed words; the labels are escaped.
        return mark_safe("".join(items))  # noqa: S308


def adherence_compute(
    *,
    start_date: dt.date,
    end_date: dt.date | None,
    weekdays: list[int],
    completed: set[dt.date],
    today: dt.date,
    days: int = ADHERENCE_DAYS,
) -> Adherence:
    """Adherence over the ``days`` days ending today, as a share of prescribed days.

    Prescribed days are the program's reminder weekdays within its dates, up to today.
    A completion on a day without exercises shows on the strip but does not count.
    """
    first = today - dt.timedelta(days=days - 1)
    last = min(today, end_date) if end_date else today
    prescribed = done = 0
    strip = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        if day < start_date or day > last:
            state = "outside"
        elif day.weekday() in weekdays:
            prescribed += 1
            if day in completed:
                done += 1
                state = "done"
            else:
                state = "missed"
        else:
            state = "done-extra" if day in completed else "rest"
        strip.append(AdherenceDay(date=day, state=state))
    return Adherence(prescribed_days=prescribed, done_days=done, days=strip)


def program_adherence(program: HomeExerciseProgram | ProgramRow, today: dt.date) -> Adherence:
    """One query: the program's completions in the window ending ``today`` (the
    patient's date)."""
    completed = set(
        ExerciseCompletion.objects.filter(
            program_id=program.id, date__gte=_window_start(today), date__lte=today
        ).values_list("date", flat=True)
    )
    return _adherence(program, completed, today)


def _window_start(today: dt.date) -> dt.date:
    """The first day of the adherence window ending ``today``."""
    return today - dt.timedelta(days=ADHERENCE_DAYS - 1)


def _adherence(
    program: HomeExerciseProgram | ProgramRow, completed: set[dt.date], today: dt.date
) -> Adherence:
    return adherence_compute(
        start_date=program.start_date,
        end_date=program.end_date,
        weekdays=list(program.reminder_days or []),
        completed=completed,
        today=today,
    )


def active_program_for(patient: Patient) -> HomeExerciseProgram | None:
    """Two queries: the program and its prescriptions (with exercises)."""
    return (
        HomeExerciseProgram.objects.filter(patient=patient, status=ProgramStatus.ACTIVE)
        .prefetch_related(Prefetch("prescriptions", queryset=_prescriptions()))
        .first()
    )


class PrescriptionRow(NamedTuple):
    exercise: str
    sets: int
    reps: int
    hold_seconds: int


class ProgramRow(NamedTuple):
    """The active program as the patient page shows it (treatments/sections/program.html)."""

    id: int
    start_date: dt.date
    end_date: dt.date | None
    reminders_enabled: bool
    reminder_time: dt.time
    reminder_days: list[int]
    prescriptions: list[PrescriptionRow]  # in the program's order


def active_program_row(
    patient: Patient, today: dt.date
) -> tuple[ProgramRow | None, Adherence | None]:
    """The patient's active program (at most one: program_one_active_per_patient) with
    its prescriptions' exercise names and doses, and its adherence over the window ending
    ``today`` (the patient's date): one query of plain values, a UNION ALL of the
    program's rows (one per prescription) and the window's completion dates (in the
    start date's column), as plain SQL: building the union with the ORM cost more
    than the two queries it replaces."""
    active = ProgramStatus.ACTIVE.value
    params: list[Any] = [patient.pk, active, patient.pk, active, _window_start(today), today]
    with connection.cursor() as cursor:
        prepared.execute(cursor, _active_program_sql(), params, label="program")
        rows = cursor.fetchall()
    program = None
    completed: set[dt.date] = set()
    for part, pk, day, end, enabled, at, days, exercise, sets, reps, hold, _, _ in rows:
        if part == "c":
            completed.add(day)
            continue
        if program is None:
            # Both databases give the reminder days' JSON as text; SQLite may give the
            # boolean as 0 or 1.
            program = ProgramRow(pk, day, end, bool(enabled), at, json.loads(days), [])
        if exercise is not None:
            program.prescriptions.append(PrescriptionRow(exercise, sets, reps, hold))
    if program is None:
        return None, None
    return program, _adherence(program, completed, today)


def _active_program_sql() -> str:
    """The program's rows ("p", indexes program_one_active_per_patient and the
    prescriptions' program_id) and its completions in the window ("c", index
    completion_one_per_day), the prescriptions in the program's order."""
    q = connection.ops.quote_name
    program = q(HomeExerciseProgram._meta.db_table)
    prescription = q(ExercisePrescription._meta.db_table)
    exercise = q(Exercise._meta.db_table)
    completion = q(ExerciseCompletion._meta.db_table)
    return (
        "SELECT 'p', hp.id, hp.start_date, hp.end_date, hp.reminders_enabled, "
        "hp.reminder_time, hp.reminder_days, ex.name, pr.sets, pr.reps, pr.hold_seconds, "
        f"pr.position, pr.id FROM {program} AS hp "
        f"LEFT JOIN {prescription} AS pr ON pr.program_id = hp.id "
        f"LEFT JOIN {exercise} AS ex ON ex.id = pr.exercise_id "
        "WHERE hp.patient_id = %s AND hp.status = %s "
        "UNION ALL "
        "SELECT 'c', hp.id, done.date, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
        f"NULL, NULL FROM {program} AS hp JOIN {completion} AS done ON done.program_id = hp.id "
        "WHERE hp.patient_id = %s AND hp.status = %s AND done.date >= %s AND done.date <= %s "
        "ORDER BY 1, 12, 13"
    )


def program_history(patient: Patient) -> list[HomeExerciseProgram]:
    """Every program of the patient, newest first: one query."""
    return list(
        HomeExerciseProgram.objects.filter(patient=patient)
        .select_related("prescribed_by")
        .order_by("-created_at", "-id")
    )


# Visit notes.


def note_effective_text(note: VisitNote) -> dict[str, str]:
    """The SOAP text as amended: the signed original with each amendment applied in order.

    Uses the prefetched amendments; the note row itself is never changed after signing.
    """
    text = {name: getattr(note, name) for name in SOAP_FIELDS}
    for amendment in note.amendments.all():
        for name, change in (amendment.changes or {}).items():
            if name in text:
                text[name] = change.get("new", text[name])
    return text


# The note form's visit picker (docs/decisions.md, "Notes follow the visit"): the
# patient's visits of today, then of these many past days (newest first), then of these
# many days ahead; never every visit the patient ever had.
NOTE_VISITS_PAST_DAYS = 14
NOTE_VISITS_AHEAD_DAYS = 7


def appointments_for_note(patient: Patient, note: VisitNote | None = None) -> QuerySet[Any]:
    """The patient's visits a note may be linked to, in the order the form offers them:
    today's, then the past NOTE_VISITS_PAST_DAYS days' newest first, then the next
    NOTE_VISITS_AHEAD_DAYS days'. Never a cancelled or no-show visit, nor one that has
    another note. The note's own visit stays in the list whatever its date or status, so
    the form shows what the draft holds (the service says why it cannot stay, if so).

    The appointment model is reached through the relation, and which visits a note may
    document comes from the visit hooks (treatments/visits.py): nothing of ``clinic`` is
    imported."""
    appointment_model = cast(
        "type[models.Model]", VisitNote._meta.get_field("appointment").related_model
    )
    tz = clinic_zone()
    today = clinic_today()
    today_start = local_datetime(today, dt.time.min, tz)
    tomorrow_start = local_datetime(today + dt.timedelta(days=1), dt.time.min, tz)
    since = local_datetime(today - dt.timedelta(days=NOTE_VISITS_PAST_DAYS), dt.time.min, tz)
    until = local_datetime(today + dt.timedelta(days=NOTE_VISITS_AHEAD_DAYS + 1), dt.time.min, tz)
    offered = Q(starts_at__gte=since, starts_at__lt=until) & visit_hooks().documentable()
    if note is not None and note.appointment_id is not None:
        offered |= Q(pk=note.appointment_id)
    taken = VisitNote.objects.filter(appointment__isnull=False)
    if note is not None and note.pk:
        taken = taken.exclude(pk=note.pk)
    queryset: QuerySet[Any] = (
        appointment_model._default_manager.filter(offered, patient=patient)
        .exclude(pk__in=taken.values("appointment_id"))
        .select_related("practitioner")
        .annotate(
            note_bucket=Case(
                When(starts_at__gte=today_start, starts_at__lt=tomorrow_start, then=Value(0)),
                When(starts_at__lt=today_start, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            note_past_start=Case(
                When(starts_at__lt=today_start, then=F("starts_at")),
                default=None,
                output_field=DateTimeField(),
            ),
        )
        .order_by("note_bucket", F("note_past_start").desc(nulls_last=True), "starts_at", "pk")
    )
    return queryset


# Catalogue.


@dataclass(frozen=True)
class PrecautionCell:
    technique: Technique
    level: str  # "none" | "caution" | "contraindicated"
    default: str | None  # the published default; None for a technique it has no column for

    @property
    def differs(self) -> bool:
        return self.default is not None and self.level != self.default


@dataclass(frozen=True)
class PrecautionTable:
    techniques: list[Technique]  # the columns: active techniques
    rows: list[tuple[str, str, list[PrecautionCell]]]  # (precaution code, label, cells)

    @property
    def differences(self) -> list[tuple[str, PrecautionCell]]:
        """(precaution label, cell) for every cell that is not the published default."""
        return [(label, cell) for _, label, cells in self.rows for cell in cells if cell.differs]


def precaution_table() -> PrecautionTable:
    """The clinic's table next to the published defaults (docs/clinical.md §4): 2 queries."""
    techniques = list(Technique.objects.filter(active=True).order_by("id"))
    levels = {
        (rule.precaution, rule.technique_id): rule.level for rule in PrecautionRule.objects.all()
    }
    rows = []
    for code, label in Precaution.choices:
        cells = []
        for technique in techniques:
            default = None
            if technique.code in PUBLISHED_TECHNIQUES:
                default = DEFAULT_PRECAUTION_TABLE.get((code, technique.code), NO_RESTRICTION)
            level = levels.get((code, technique.id), NO_RESTRICTION)
            cells.append(PrecautionCell(technique=technique, level=level, default=default))
        rows.append((code, label, cells))
    return PrecautionTable(techniques=techniques, rows=rows)


def exercise_catalogue() -> list[Exercise]:
    return list(Exercise.objects.order_by("-active", "name"))


def plans_queryset_for(patient: Patient) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(patient=patient).order_by("-start_date", "-id")
