"""Writes for plans of care, visit notes, home-exercise programs and the catalogue.

Every write that touches a patient's clinical record writes an audit event through
``patients.audit.audit_record`` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from patients.audit import AuditAction, audit_record
from patients.localtime import patient_today
from patients.models import Assessment, PainSource, Patient, Precaution, RecordStatus
from patients.services import (
    addendum_audit,
    addendum_text_clean,
    author_require,
    pain_report_create,
)

from . import selectors
from .catalogue import NO_RESTRICTION
from .contraindications import Restriction
from .models import (
    AppliedTechnique,
    CompletionSource,
    Exercise,
    ExerciseCompletion,
    ExercisePrescription,
    HomeExerciseProgram,
    PlannedTechnique,
    PlanStatus,
    PrecautionRule,
    ProgramStatus,
    RestrictionLevel,
    Technique,
    TreatmentPlan,
    VisitNote,
    VisitNoteAddendum,
    VisitNoteAmendment,
)
from .visits import visit_hooks

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def exercise_completion_record(
    *, program: HomeExerciseProgram, on_date: dt.date, source: str
) -> tuple[ExerciseCompletion, bool]:
    """Mark the program's exercises done on ``on_date``; at most one row per program and day.

    Returns (completion, created). Clicking "done" twice, or two requests at once, leave
    one row: the unique constraint decides, and the loser reads the winner's row.
    """
    if source not in CompletionSource.values:
        raise ValidationError({"source": f"Unknown source {source!r}."})
    if on_date < program.start_date or (program.end_date and on_date > program.end_date):
        raise ValidationError("That day is outside the program's dates.")
    try:
        with transaction.atomic():
            completion = ExerciseCompletion.objects.create(
                program=program, date=on_date, source=source
            )
        return completion, True
    except IntegrityError:
        return ExerciseCompletion.objects.get(program=program, date=on_date), False


def _refuse_archived(patient: Patient) -> None:
    if patient.is_archived:
        raise ValidationError(
            f"{patient.full_name} is archived: restore the patient before adding to the record."
        )


# The contraindication gate, shared by plans of care and visit notes (docs/clinical.md §4).


@dataclass(frozen=True)
class ScreenedTechnique:
    """One technique a therapist plans or applies, checked against the screening."""

    item: dict[str, Any]
    technique: Technique
    grade: str
    restriction: Restriction | None
    # Kept only for a contraindicated technique (a reason for anything else is dropped).
    override_reason: str

    @property
    def level(self) -> str:
        return self.restriction.level if self.restriction else ""

    @property
    def overridden(self) -> bool:
        return self.level == RestrictionLevel.CONTRAINDICATED


def techniques_screen(
    *, items: Iterable[dict[str, Any]], restrictions: dict[str, Restriction], verb: str
) -> list[ScreenedTechnique]:
    """Check each technique's grade and restriction before anything is written.

    A technique the screening contraindicates is refused (ValidationError on
    "override_reason") unless the item carries an override reason; caution needs no
    reason (the form asks the therapist to confirm it). ``verb`` ("plan", "apply") words
    the refusal."""
    screened = []
    for item in items:
        technique: Technique = item["technique"]
        grade = item.get("grade", "") or ""
        problem = technique.grade_problem(grade)
        if problem:
            raise ValidationError({"grade": problem})
        restriction = restrictions.get(technique.code)
        reason = (item.get("override_reason") or "").strip()
        if restriction is not None and restriction.contraindicated:
            if not reason:
                raise ValidationError(
                    {
                        "override_reason": f"{technique.name} is contraindicated "
                        f"({'; '.join(restriction.reasons)}). Type an override reason to "
                        f"{verb} it."
                    }
                )
        else:
            reason = ""
        screened.append(
            ScreenedTechnique(
                item=item,
                technique=technique,
                grade=grade,
                restriction=restriction,
                override_reason=reason,
            )
        )
    return screened


def _override_audit(
    *,
    acting_user: User,
    patient: Patient,
    obj: models.Model,
    screened: ScreenedTechnique,
    done: str,
    ip: str | None = None,
) -> None:
    """The ``override`` event for a contraindicated technique the therapist went ahead with."""
    assert screened.restriction is not None  # only a restricted technique is overridden
    audit_record(
        acting_user=acting_user,
        action=AuditAction.OVERRIDE,
        patient=patient,
        obj=obj,
        ip=ip,
        clinical_detail=f"{screened.technique.name} {done} despite: "
        f"{'; '.join(screened.restriction.reasons)}. Reason: {screened.override_reason}",
    )


# Plans of care.


@transaction.atomic
def treatment_plan_create(
    *,
    patient: Patient,
    assessment: Assessment,
    acting_user: User,
    goals: str,
    visits_per_week: int,
    weeks: int,
    start_date: dt.date,
    techniques: Iterable[dict[str, Any]],
    ip: str | None = None,
) -> TreatmentPlan:
    """Create a plan of care from a signed assessment of the same patient.

    ``techniques`` are dicts with technique, grade, target, notes, override_reason. A
    technique the patient's flags contraindicate is refused unless an override reason is
    given; the restriction and the reason are stored on the planned technique and the
    override is audited.
    """
    _refuse_archived(patient)
    if assessment.patient_id != patient.pk:
        raise ValidationError({"assessment": "That assessment belongs to another patient."})
    if assessment.status != RecordStatus.SIGNED:
        raise ValidationError({"assessment": "Sign the assessment before planning from it."})
    screened = techniques_screen(
        items=techniques,
        restrictions=selectors.restrictions_for_assessment(assessment),
        verb="plan",
    )
    plan = TreatmentPlan.objects.create(
        patient=patient,
        therapist=acting_user,
        assessment=assessment,
        goals=goals,
        visits_per_week=visits_per_week,
        weeks=weeks,
        start_date=start_date,
    )
    audit_record(
        acting_user=acting_user, action=AuditAction.CREATE, patient=patient, obj=plan, ip=ip
    )
    for row in screened:
        planned = PlannedTechnique.objects.create(
            plan=plan,
            technique=row.technique,
            grade=row.grade,
            target=row.item["target"],
            notes=row.item.get("notes", "") or "",
            restriction=row.level,
            override_reason=row.override_reason,
        )
        if row.overridden:
            _override_audit(
                acting_user=acting_user,
                patient=patient,
                obj=planned,
                screened=row,
                done="planned",
                ip=ip,
            )
    return plan


@transaction.atomic
def treatment_plan_close(
    *, plan: TreatmentPlan, status: str, reason: str, acting_user: User, ip: str | None = None
) -> TreatmentPlan:
    """Complete or discontinue an active plan. Any therapist may, not only the plan's
    author; the audit detail says when it was a colleague's plan (docs/decisions.md)."""
    if status not in (PlanStatus.COMPLETED, PlanStatus.DISCONTINUED):
        raise ValidationError({"status": "Choose completed or discontinued."})
    locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if locked.status != PlanStatus.ACTIVE:
        raise ValidationError("This plan is already closed.")
    if status == PlanStatus.DISCONTINUED and not reason.strip():
        raise ValidationError({"reason": "Say why the plan is discontinued."})
    locked.status = status
    locked.ended_at = timezone.now()
    locked.end_reason = reason.strip()
    locked.save(update_fields=["status", "ended_at", "end_reason", "updated_at"])
    detail = f"plan {status}"
    if locked.therapist_id != acting_user.pk:
        # Allowed (a colleague takes over or discharges the patient), and said so in the
        # audit log (docs/decisions.md).
        detail += f"; a colleague's plan (therapist {locked.therapist.get_username()})"
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=locked.patient,
        obj=locked,
        ip=ip,
        detail=detail,
    )
    return locked


# Visit notes.


def _check_note_links(
    *, patient: Patient, appointment: Any, treatment_plan: TreatmentPlan | None
) -> None:
    if appointment is not None and appointment.patient_id != patient.pk:
        raise ValidationError({"appointment": "That appointment belongs to another patient."})
    if appointment is not None:
        refusal = visit_hooks().refusal(appointment)
        if refusal:
            raise ValidationError({"appointment": refusal})
    if treatment_plan is not None and treatment_plan.patient_id != patient.pk:
        raise ValidationError({"treatment_plan": "That plan belongs to another patient."})


def _note_restrictions(patient: Patient) -> dict[str, Restriction]:
    """What the patient's latest signed screening restricts (nothing without one)."""
    assessment = selectors.latest_signed_assessment(patient)
    return {} if assessment is None else selectors.restrictions_for_assessment(assessment)


def _write_applied(
    note: VisitNote,
    techniques: Iterable[dict[str, Any]],
    *,
    acting_user: User,
    ip: str | None = None,
    audited: frozenset[tuple[int, str]] = frozenset(),
) -> None:
    """Screen and store the techniques applied, as a plan of care does: a contraindicated
    one needs an override reason, stored on the row and audited as ``override``.

    ``audited`` holds (technique id, reason) overrides the draft already had, so saving
    a draft again does not repeat their audit events."""
    screened = techniques_screen(
        items=techniques, restrictions=_note_restrictions(note.patient), verb="apply"
    )
    for row in screened:
        applied = AppliedTechnique.objects.create(
            note=note,
            technique=row.technique,
            grade=row.grade,
            minutes=row.item.get("minutes"),
            target=row.item["target"],
            restriction=row.level,
            override_reason=row.override_reason,
        )
        if row.overridden and (row.technique.pk, row.override_reason) not in audited:
            _override_audit(
                acting_user=acting_user,
                patient=note.patient,
                obj=applied,
                screened=row,
                done="applied",
                ip=ip,
            )


_NOTE_FIELDS = [
    "appointment",
    "treatment_plan",
    "visited_at",
    "subjective",
    "objective",
    "assessment",
    "plan",
    "pain_before",
    "pain_after",
]


@transaction.atomic
def visit_note_create(
    *,
    patient: Patient,
    acting_user: User,
    visited_at: dt.datetime,
    subjective: str = "",
    objective: str = "",
    assessment: str = "",
    plan: str = "",
    pain_before: int | None = None,
    pain_after: int | None = None,
    appointment: Any = None,
    treatment_plan: TreatmentPlan | None = None,
    techniques: Iterable[dict[str, Any]] = (),
    exercises_reviewed: Iterable[Exercise] = (),
    ip: str | None = None,
) -> VisitNote:
    """Start a draft SOAP note for a visit. Techniques are checked against the patient's
    latest signed screening (a contraindicated one needs an override reason)."""
    _refuse_archived(patient)
    _check_note_links(patient=patient, appointment=appointment, treatment_plan=treatment_plan)
    if appointment is not None and VisitNote.objects.filter(appointment=appointment).exists():
        raise ValidationError({"appointment": "That appointment already has a visit note."})
    note = VisitNote.objects.create(
        patient=patient,
        therapist=acting_user,
        appointment=appointment,
        treatment_plan=treatment_plan,
        visited_at=visited_at,
        subjective=subjective,
        objective=objective,
        assessment=assessment,
        plan=plan,
        pain_before=pain_before,
        pain_after=pain_after,
    )
    audit_record(
        acting_user=acting_user, action=AuditAction.CREATE, patient=patient, obj=note, ip=ip
    )
    _write_applied(note, techniques, acting_user=acting_user, ip=ip)
    note.exercises_reviewed.set(list(exercises_reviewed))
    return note


@transaction.atomic
def visit_note_update(
    *,
    note: VisitNote,
    acting_user: User,
    techniques: Iterable[dict[str, Any]] = (),
    exercises_reviewed: Iterable[Exercise] = (),
    ip: str | None = None,
    **fields: Any,
) -> VisitNote:
    """Change a draft note (its author only); signed notes change only by amendment."""
    locked = VisitNote.objects.select_for_update().get(pk=note.pk)
    author_require(record=locked, user=acting_user, doing="change this draft note")
    if locked.status != RecordStatus.DRAFT:
        raise ValidationError("This note is signed: add an amendment instead.")
    unknown = set(fields) - set(_NOTE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown note fields: {sorted(unknown)}")
    _check_note_links(
        patient=locked.patient,
        appointment=fields.get("appointment", locked.appointment),
        treatment_plan=fields.get("treatment_plan", locked.treatment_plan),
    )
    appointment = fields.get("appointment")
    if (
        appointment is not None
        and VisitNote.objects.filter(appointment=appointment).exclude(pk=locked.pk).exists()
    ):
        raise ValidationError({"appointment": "That appointment already has a visit note."})
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save()
    audited = frozenset(
        locked.techniques.filter(restriction=RestrictionLevel.CONTRAINDICATED)
        .exclude(override_reason="")
        .values_list("technique_id", "override_reason")
    )
    locked.techniques.all().delete()
    _write_applied(locked, techniques, acting_user=acting_user, ip=ip, audited=audited)
    locked.exercises_reviewed.set(list(exercises_reviewed))
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=locked.patient,
        obj=locked,
        ip=ip,
    )
    return locked


@transaction.atomic
def visit_note_sign(*, note: VisitNote, acting_user: User, ip: str | None = None) -> VisitNote:
    """Sign and lock a draft note.

    A note for a visit is refused when the visit was cancelled or a no-show since, and
    completes the visit when the patient is checked in (treatments/visits.py).

    The techniques applied are checked again against the latest signed screening (it may
    have changed since the draft was saved): a contraindicated one without an override
    reason is refused. Its pain scores become pain reports (source "visit") for the
    outcome chart, and when
    exercises were reviewed on a day inside the patient's active program, that day counts
    as done (source "visit").
    """
    locked = VisitNote.objects.select_for_update().select_related("patient").get(pk=note.pk)
    author_require(record=locked, user=acting_user, doing="sign this note")
    if locked.status != RecordStatus.DRAFT:
        raise ValidationError("This note is already signed.")
    if not any(getattr(locked, name).strip() for name in selectors.SOAP_FIELDS):
        raise ValidationError("Write at least one part of the note before signing it.")
    _applied_rescreen(locked)
    if locked.appointment_id is not None:
        # Notes follow the visit (treatments/visits.py): refused against a cancelled or
        # no-show visit; a checked-in visit is completed, in this transaction.
        visit_hooks().note_signing(
            appointment_id=locked.appointment_id, acting_user=acting_user, ip=ip
        )
    now = timezone.now()
    locked.status = RecordStatus.SIGNED
    locked.signed_at = now
    locked.signed_by = acting_user
    locked.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
    for score in (locked.pain_before, locked.pain_after):
        if score is not None:
            pain_report_create(
                patient=locked.patient,
                score=score,
                source=PainSource.VISIT,
                reported_at=locked.visited_at,
            )
    if locked.exercises_reviewed.exists():
        program = HomeExerciseProgram.objects.filter(
            patient=locked.patient, status=ProgramStatus.ACTIVE
        ).first()
        visit_day = timezone.localtime(locked.visited_at).date()
        if (
            program is not None
            and visit_day >= program.start_date
            and (program.end_date is None or visit_day <= program.end_date)
        ):
            exercise_completion_record(
                program=program, on_date=visit_day, source=CompletionSource.VISIT
            )
    audit_record(
        acting_user=acting_user, action=AuditAction.SIGN, patient=locked.patient, obj=locked, ip=ip
    )
    return locked


def _applied_rescreen(note: VisitNote) -> None:
    """At signing: refuse a contraindicated technique without an override reason, and
    store each technique's restriction as the screening stands when the note is signed."""
    restrictions = _note_restrictions(note.patient)
    refused = []
    for applied in note.techniques.select_related("technique"):
        restriction = restrictions.get(applied.technique.code)
        level = restriction.level if restriction else ""
        if level == RestrictionLevel.CONTRAINDICATED and not applied.override_reason:
            reasons = restriction.reasons if restriction else ()
            refused.append(f"{applied.technique.name} ({'; '.join(reasons)})")
        elif applied.restriction != level:
            applied.restriction = level
            applied.save(update_fields=["restriction"])
    if refused:
        raise ValidationError(
            f"Not signed: {', '.join(refused)} is contraindicated by the latest screening. "
            "Edit the draft and type an override reason, or remove the technique."
        )


@transaction.atomic
def visit_note_amend(
    *,
    note: VisitNote,
    acting_user: User,
    reason: str,
    changes: dict[str, str],
    ip: str | None = None,
) -> VisitNoteAmendment:
    """Amend a signed note's SOAP text (its author only: NotTheAuthor; a colleague adds
    an addendum); the signed original is kept unchanged."""
    locked = (
        VisitNote.objects.select_for_update()
        .prefetch_related("amendments")
        .select_related("patient")
        .get(pk=note.pk)
    )
    author_require(
        record=locked,
        user=acting_user,
        doing="amend this note; add an addendum under your own name instead",
    )
    if locked.status != RecordStatus.SIGNED:
        raise ValidationError("Only a signed note is amended; edit the draft instead.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the note is amended."})
    current = selectors.note_effective_text(locked)
    diff = {
        name: {"old": current[name], "new": value}
        for name, value in changes.items()
        if name in current and value != current[name]
    }
    if not diff:
        raise ValidationError("Nothing changed: edit at least one part of the note.")
    amendment = VisitNoteAmendment.objects.create(
        note=locked, author=acting_user, reason=reason.strip(), changes=diff
    )
    audit_record(
        acting_user=acting_user,
        action=AuditAction.AMEND,
        patient=locked.patient,
        obj=locked,
        ip=ip,
        clinical_detail=f"changed {', '.join(sorted(diff))}",
    )
    return amendment


@transaction.atomic
def visit_note_addendum_create(
    *, note: VisitNote, acting_user: User, text: str, ip: str | None = None
) -> VisitNoteAddendum:
    """Add an addendum under ``author``'s name to a signed note (any clinician, the
    author too); the note is not changed. A draft is refused: it belongs to its author."""
    text = addendum_text_clean(text)
    locked = VisitNote.objects.select_for_update().select_related("patient").get(pk=note.pk)
    if locked.status != RecordStatus.SIGNED:
        raise ValidationError("This note is a draft: only a signed note takes addenda.")
    addendum = VisitNoteAddendum.objects.create(note=locked, author=acting_user, text=text)
    addendum_audit(record=locked, addendum=addendum, acting_user=acting_user, ip=ip)
    return addendum


# Home-exercise programs.


@transaction.atomic
def home_exercise_program_create(
    *,
    patient: Patient,
    acting_user: User,
    start_date: dt.date,
    end_date: dt.date | None,
    reminder_time: dt.time,
    reminder_days: list[int],
    reminders_enabled: bool,
    items: Iterable[dict[str, Any]],
    ip: str | None = None,
) -> HomeExerciseProgram:
    """Prescribe a new program; the patient's active one, if any, is superseded.

    The patient's row is locked first so two therapists saving at once cannot both pass
    the "one active program" step; the partial unique constraint backs this up.
    """
    locked_patient = Patient.objects.select_for_update().get(pk=patient.pk)
    _refuse_archived(locked_patient)
    if end_date is not None and end_date < start_date:
        raise ValidationError({"end_date": "The end date must be on or after the start date."})
    days = sorted(set(reminder_days))
    if any(day not in range(7) for day in days):
        raise ValidationError({"reminder_days": "Weekdays are numbered 0 (Monday) to 6."})
    if not days:
        raise ValidationError({"reminder_days": "Choose at least one exercise day."})
    items = list(items)
    if not items:
        raise ValidationError("Choose at least one exercise.")
    previous = list(
        HomeExerciseProgram.objects.select_for_update().filter(
            patient=locked_patient, status=ProgramStatus.ACTIVE
        )
    )
    for old in previous:
        # It runs to the day before the new one starts, never past an end date it had
        # and never before its own start (docs/decisions.md, "Home-exercise programs").
        old.status = ProgramStatus.SUPERSEDED
        old.end_date = superseded_end(old, start_date)
        old.save(update_fields=["status", "end_date", "updated_at"])
    program = HomeExerciseProgram.objects.create(
        patient=locked_patient,
        prescribed_by=acting_user,
        start_date=start_date,
        end_date=end_date,
        reminder_time=reminder_time,
        reminder_days=days,
        reminders_enabled=reminders_enabled,
    )
    prescriptions = []
    for position, item in enumerate(items, start=1):
        prescription = ExercisePrescription(
            program=program,
            exercise=item["exercise"],
            sets=item["sets"],
            reps=item["reps"],
            hold_seconds=item.get("hold_seconds", 0),
            times_per_day=item.get("times_per_day", 1),
            days_per_week=item.get("days_per_week", 7),
            notes=item.get("notes", "") or "",
            position=position,
        )
        prescription.full_clean(exclude=["program", "exercise"])
        prescriptions.append(prescription)
    ExercisePrescription.objects.bulk_create(prescriptions)
    detail = f"supersedes program {previous[0].pk}" if previous else ""
    audit_record(
        acting_user=acting_user,
        action=AuditAction.CREATE,
        patient=locked_patient,
        obj=program,
        ip=ip,
        detail=detail,
    )
    return program


def superseded_end(old: HomeExerciseProgram, new_start: dt.date) -> dt.date:
    """The last day of a program superseded by one starting ``new_start``: the day
    before, or its own start if the new one starts on or before it (the day is then the
    new program's: clinic/reports/rollup.py counts a patient's day once), or the end
    date it had if earlier."""
    last = max(old.start_date, new_start - dt.timedelta(days=1))
    return last if old.end_date is None else min(old.end_date, last)


@transaction.atomic
def home_exercise_program_end(
    *, program: HomeExerciseProgram, acting_user: User, ip: str | None = None
) -> HomeExerciseProgram:
    """End an active program today (the patient stops getting reminders). Any therapist
    may; the audit detail says when it was a colleague's program (docs/decisions.md)."""
    locked = (
        HomeExerciseProgram.objects.select_for_update().select_related("patient").get(pk=program.pk)
    )
    if locked.status != ProgramStatus.ACTIVE:
        raise ValidationError("This program is not active.")
    today = patient_today(locked.patient)
    locked.status = ProgramStatus.ENDED
    locked.end_date = (
        max(today, locked.start_date)
        if locked.end_date is None
        else min(locked.end_date, max(today, locked.start_date))
    )
    locked.save(update_fields=["status", "end_date", "updated_at"])
    detail = "program ended"
    if locked.prescribed_by_id != acting_user.pk:
        # Allowed, and said so in the audit log (docs/decisions.md).
        detail += f"; a colleague's program (prescribed by {locked.prescribed_by.get_username()})"
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        patient=locked.patient,
        obj=locked,
        ip=ip,
        detail=detail,
    )
    return locked


# Catalogue (clinic manager).


@transaction.atomic
def technique_update(*, technique: Technique, description: str, acting_user: User) -> Technique:
    technique.description = description
    technique.save(update_fields=["description"])
    audit_record(
        acting_user=acting_user, action=AuditAction.UPDATE, obj=technique, detail="description"
    )
    return technique


@transaction.atomic
def precaution_table_update(
    *, cells: dict[tuple[str, str], str], acting_user: User, ip: str | None = None
) -> int:
    """Set the whole precaution table (docs/clinical.md §4).

    ``cells`` maps (precaution code, technique code) to "none", "caution" or
    "contraindicated" and must hold every cell of the table (each precaution × each active
    technique): an incomplete table is refused, so no caller can empty it by leaving cells
    out. Each changed cell is audited with its level before and after. Returns how many
    cells changed.
    """
    return _precaution_table_apply(
        cells=cells, acting_user=acting_user, ip=ip, what="precaution table"
    )


@transaction.atomic
def precaution_table_restore_defaults(*, acting_user: User, ip: str | None = None) -> int:
    """Reset the table to the published defaults (docs/clinical.md §4); audited per cell.

    A technique the published table has no column for keeps its cells. Returns how many
    cells changed.
    """
    # Lock the columns first, as every table write does, so the table read next cannot
    # change under us.
    list(Technique.objects.select_for_update().filter(active=True))
    table = selectors.precaution_table()
    cells = {
        (code, cell.technique.code): cell.level if cell.default is None else cell.default
        for code, _, row in table.rows
        for cell in row
    }
    return _precaution_table_apply(
        cells=cells, acting_user=acting_user, ip=ip, what="published default restored"
    )


def _precaution_table_apply(
    *, cells: dict[tuple[str, str], str], acting_user: User, ip: str | None, what: str
) -> int:
    techniques = {t.code: t for t in Technique.objects.select_for_update().filter(active=True)}
    expected = {(precaution, code) for precaution in Precaution.values for code in techniques}
    missing = sorted(expected - cells.keys())
    unknown = sorted(cells.keys() - expected, key=repr)
    if missing or unknown:
        problems = []
        if missing:
            shown = ", ".join(f"{p} × {t}" for p, t in missing[:5])
            more = ", …" if len(missing) > 5 else ""
            problems.append(f"{len(missing)} cells missing ({shown}{more})")
        if unknown:
            shown = ", ".join(repr(cell) for cell in unknown[:5])
            problems.append(f"{len(unknown)} unknown cells ({shown})")
        raise ValidationError(
            f"The precaution table is incomplete: {'; '.join(problems)}. Nothing was changed."
        )
    levels = {NO_RESTRICTION, *RestrictionLevel.values}
    invalid = sorted(cell for cell, level in cells.items() if level not in levels)
    if invalid:
        precaution, code = invalid[0]
        raise ValidationError(
            f"Unknown level {cells[invalid[0]]!r} for {precaution} × {code} "
            f"({len(invalid)} invalid cells). Nothing was changed."
        )
    existing = {
        (rule.precaution, rule.technique.code): rule
        for rule in PrecautionRule.objects.select_for_update()
        .select_related("technique")
        .filter(technique__active=True)
    }
    changed = 0
    for precaution, code in sorted(cells):
        level = cells[(precaution, code)]
        rule = existing.get((precaution, code))
        before = rule.level if rule is not None else NO_RESTRICTION
        if before == level:
            continue
        if rule is None:
            PrecautionRule.objects.create(
                precaution=precaution, technique=techniques[code], level=level
            )
        elif level == NO_RESTRICTION:
            rule.delete()
        else:
            rule.level = level
            rule.save(update_fields=["level"])
        # One event per cell: a restore can change every cell, more than one event's
        # detail holds, and each row then reads on its own in the audit log.
        audit_record(
            acting_user=acting_user,
            action=AuditAction.UPDATE,
            obj=techniques[code],
            ip=ip,
            detail=f"{what}: {code} × {precaution}: {before} → {level}",
        )
        changed += 1
    return changed


_EXERCISE_FIELDS = [
    "name",
    "name_es",
    "instructions_en",
    "instructions_es",
    "default_sets",
    "default_reps",
    "default_hold_seconds",
    "default_times_per_day",
    "default_days_per_week",
]


@transaction.atomic
def exercise_create(*, code: str, acting_user: User, **fields: Any) -> Exercise:
    if Exercise.objects.filter(code=code).exists():
        raise ValidationError({"code": "An exercise with this code exists already."})
    exercise = Exercise.objects.create(
        code=code, **{k: v for k, v in fields.items() if k in _EXERCISE_FIELDS}
    )
    audit_record(acting_user=acting_user, action=AuditAction.CREATE, obj=exercise)
    return exercise


@transaction.atomic
def exercise_update(*, exercise: Exercise, acting_user: User, **fields: Any) -> Exercise:
    for name, value in fields.items():
        if name not in _EXERCISE_FIELDS:
            raise TypeError(f"Unknown exercise field {name!r}")
        setattr(exercise, name, value)
    exercise.save()
    audit_record(acting_user=acting_user, action=AuditAction.UPDATE, obj=exercise)
    return exercise


@transaction.atomic
def exercise_set_active(*, exercise: Exercise, active: bool, acting_user: User) -> Exercise:
    """Retire an exercise (it stays on existing programs) or bring it back."""
    exercise.active = active
    exercise.save(update_fields=["active"])
    audit_record(
        acting_user=acting_user,
        action=AuditAction.UPDATE,
        obj=exercise,
        detail="returned to the catalogue" if active else "retired",
    )
    return exercise
