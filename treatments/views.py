"""Thin views: permission, access-checked getter, form, one service call, redirect."""

from __future__ import annotations

import hashlib
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from patients.audit import AuditAction, audit_record, audit_view, client_ip
from patients.forms import AddendumForm
from patients.inputs import parse_id
from patients.localtime import clinic_today, patient_today
from patients.models import RecordStatus
from patients.services import author_require
from patients.views import render_history_page

from . import handout, selectors, services
from .forms import (
    AppliedTechniqueFormSet,
    BasePrescriptionFormSet,
    ExerciseForm,
    HomeExerciseProgramForm,
    PlannedTechniqueFormSet,
    PrecautionRestoreForm,
    PrecautionTableForm,
    PrescriptionFormSet,
    TechniqueForm,
    TreatmentPlanCloseForm,
    TreatmentPlanForm,
    VisitNoteAmendForm,
    VisitNoteForm,
)
from .models import Exercise, PlanStatus, ProgramStatus, Technique
from .sections import note_rows, plan_items


def _errors_to_form(form, error: ValidationError) -> None:
    """Show a service's refusal on the form (field errors where the field exists)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for item in errors:
                form.add_error(target, item.messages[0] if hasattr(item, "messages") else item)
    else:
        for text in error.messages:
            form.add_error(None, text)


def _screening(assessment) -> list:
    """(technique name, restriction) for the assessment, contraindicated first."""
    if assessment is None:
        return []
    names = dict(Technique.objects.values_list("code", "name"))
    rows = sorted(
        (names.get(code, code), restriction)
        for code, restriction in selectors.restrictions_for_assessment(assessment).items()
    )
    rows.sort(key=lambda item: item[1].level != "contraindicated")
    return rows


# Plans of care.


def _warnings_fingerprint(assessment, rows) -> str:
    text = f"{assessment.pk if assessment else ''}|" + "|".join(
        f"{code}:{level}" for code, level in rows
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _technique_warnings(rows, restrictions, *, verb: str) -> tuple[list, bool]:
    """The contraindication gate's form side, for plans of care and visit notes alike.

    Returns (technique, restriction) for every restricted row, and whether a
    contraindicated one lacks an override reason (that row gets the error). The services
    refuse the same thing again (treatments.services.techniques_screen)."""
    warnings: list[tuple[Any, Any]] = []
    blocked = False
    for row in rows:
        technique = row.cleaned_data["technique"]
        restriction = restrictions.get(technique.code)
        if restriction is None:
            continue
        warnings.append((technique, restriction))
        if restriction.contraindicated and not row.cleaned_data["override_reason"].strip():
            row.add_error(
                "override_reason",
                f"{technique.name} is contraindicated for this patient "
                f"({'; '.join(restriction.reasons)}). Type an override reason to {verb} "
                "it anyway, or remove it.",
            )
            blocked = True
    return warnings, blocked


def _warnings_confirmed(request, assessment, warnings, blocked, *, button: str):
    """(go ahead, fingerprint): caution and overridden techniques need a second press of
    ``button`` with the same warnings, as shown; a change of warnings asks again."""
    fingerprint = _warnings_fingerprint(assessment, [(t.code, r.level) for t, r in warnings])
    reviewed = request.POST.get("warnings_reviewed", "") == fingerprint
    if blocked:
        return False, fingerprint
    if warnings and not reviewed:
        messages.warning(
            request,
            f"Check the warnings for this patient, then press “{button}” again to confirm.",
        )
        return False, fingerprint
    return True, fingerprint


@login_required
@permission_required("treatments.add_treatmentplan", raise_exception=True)
@require_http_methods(["GET", "POST"])
def plan_create(request, patient_id: int):
    patient = selectors.get_patient_for_user(
        request.user, patient_id, "treatments.add_treatmentplan"
    )
    context: dict[str, Any] = {"patient": patient}
    if patient.is_archived:
        context["refusal"] = (
            f"{patient.full_name} is archived. Restore the patient before starting a plan of care."
        )
        return render(request, "treatments/plan_form.html", context, status=409)
    assessments = selectors.signed_assessments_for(patient)
    latest = assessments.first()
    if latest is None:
        context["refusal"] = (
            "This patient has no signed assessment yet. Sign an assessment, then plan from it."
        )
        return render(request, "treatments/plan_form.html", context, status=409)
    initial: dict[str, Any] = {"start_date": clinic_today(), "assessment": latest}
    assessment_id = parse_id(request.GET.get("assessment"))
    if assessment_id is not None:
        chosen = assessments.filter(pk=assessment_id).first()
        if chosen is not None:
            initial["assessment"] = chosen
    form = TreatmentPlanForm(request.POST or None, patient=patient, initial=initial)
    formset = PlannedTechniqueFormSet(request.POST or None, prefix="techniques")
    assessment = initial["assessment"]
    fingerprint = ""
    warnings: list[tuple[Any, Any]] = []
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        assessment = form.cleaned_data["assessment"]
        restrictions = selectors.restrictions_for_assessment(assessment)
        rows = [f for f in formset.forms if f.cleaned_data.get("technique")]
        warnings, blocked = _technique_warnings(rows, restrictions, verb="plan")
        go_ahead, fingerprint = _warnings_confirmed(
            request, assessment, warnings, blocked, button="Save plan"
        )
        if go_ahead:
            try:
                plan = services.treatment_plan_create(
                    patient=patient,
                    acting_user=request.user,
                    techniques=[row.cleaned_data for row in rows],
                    ip=client_ip(request),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, "Plan of care saved.")
                return redirect("treatments:plan_detail", plan_id=plan.pk)
    elif form.is_bound and form.is_valid():
        assessment = form.cleaned_data["assessment"]
    screening = _screening(assessment)
    audit_view(request, patient=patient, obj=assessment, detail="plan of care form (screening)")
    context.update(
        form=form,
        formset=formset,
        assessment=assessment,
        screening=screening,
        warnings=warnings,
        fingerprint=fingerprint,
    )
    return render(request, "treatments/plan_form.html", context)


@login_required
@permission_required("treatments.view_treatmentplan", raise_exception=True)
def plan_list(request, patient_id: int):
    """Every plan of care of the patient, newest first, a page at a time (the patient
    page shows the latest ones). Audited as a view of the record."""
    patient = selectors.get_patient_for_user(
        request.user, patient_id, "treatments.view_treatmentplan"
    )
    return render_history_page(
        request,
        patient,
        selectors.patient_plans(patient).values_list("pk", flat=True),
        what="plan",
        template="treatments/plan_list.html",
        markup=lambda ids: plan_items(selectors.plan_rows(ids)),
    )


@login_required
@permission_required("treatments.view_visitnote", raise_exception=True)
def note_list(request, patient_id: int):
    """Every visit note of the patient, newest first, a page at a time. Audited."""
    patient = selectors.get_patient_for_user(request.user, patient_id, "treatments.view_visitnote")
    return render_history_page(
        request,
        patient,
        selectors.patient_notes(patient),
        what="note",
        template="treatments/note_list.html",
        markup=lambda rows: note_rows(selectors.note_row_values(rows)),
    )


@login_required
@permission_required("treatments.view_treatmentplan", raise_exception=True)
def plan_detail(request, plan_id: int):
    plan = selectors.get_plan_for_user(request.user, plan_id)
    audit_view(request, patient=plan.patient, obj=plan)
    return render(
        request,
        "treatments/plan_detail.html",
        _plan_context(request, plan, TreatmentPlanCloseForm()),
    )


# The plan page lists the latest visits under the plan; "Show all" (?all=1) lists every one.
PLAN_VISITS_SHOWN = 20


def _plan_context(request, plan, close_form) -> dict:
    show_all = request.GET.get("all") == "1"
    visits, more = selectors.plan_visits(plan, limit=None if show_all else PLAN_VISITS_SHOWN)
    return {
        "plan": plan,
        "patient": plan.patient,
        "close_form": close_form,
        "visits": visits,
        "more_visits": more,
    }


@login_required
@permission_required("treatments.change_treatmentplan", raise_exception=True)
@require_POST
def plan_close(request, plan_id: int):
    plan = selectors.get_plan_for_user(request.user, plan_id)
    form = TreatmentPlanCloseForm(request.POST)
    if plan.status != PlanStatus.ACTIVE:
        messages.error(request, "This plan is already closed.")
        return redirect("treatments:plan_detail", plan_id=plan.pk)
    if form.is_valid():
        try:
            services.treatment_plan_close(
                plan=plan,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
                ip=client_ip(request),
            )
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"Plan marked {form.cleaned_data['status']}.")
            return redirect("treatments:plan_detail", plan_id=plan.pk)
    audit_view(request, patient=plan.patient, obj=plan)
    return render(
        request, "treatments/plan_detail.html", _plan_context(request, plan, form), status=400
    )


# Visit notes.


def _note_initial(note) -> tuple[dict, list[dict]]:
    initial = {
        "visited_at": timezone.localtime(note.visited_at),
        "appointment": note.appointment,
        "treatment_plan": note.treatment_plan,
        "pain_before": note.pain_before,
        "pain_after": note.pain_after,
        "subjective": note.subjective,
        "objective": note.objective,
        "assessment": note.assessment,
        "plan": note.plan,
        "exercises_reviewed": list(note.exercises_reviewed.all()),
    }
    techniques = [
        {
            "technique": t.technique,
            "grade": t.grade,
            "minutes": t.minutes,
            "target": t.target,
            "override_reason": t.override_reason,
        }
        for t in note.techniques.all()
    ]
    return initial, techniques


def _applied_rows(formset) -> list:
    return [f for f in formset.forms if f.cleaned_data.get("technique")]


def _note_gate(request, patient, formset) -> tuple[bool, dict]:
    """The plan's contraindication gate applied to a note's techniques, against the
    patient's latest signed screening: (go ahead, context for the warnings)."""
    assessment = selectors.latest_signed_assessment(patient)
    restrictions = {} if assessment is None else selectors.restrictions_for_assessment(assessment)
    warnings, blocked = _technique_warnings(_applied_rows(formset), restrictions, verb="apply")
    go_ahead, fingerprint = _warnings_confirmed(
        request, assessment, warnings, blocked, button="Save draft"
    )
    return go_ahead, {"warnings": warnings, "fingerprint": fingerprint}


@login_required
@permission_required("treatments.add_visitnote", raise_exception=True)
@require_http_methods(["GET", "POST"])
def note_create(request, patient_id: int):
    patient = selectors.get_patient_for_user(request.user, patient_id, "treatments.add_visitnote")
    if patient.is_archived:
        return render(
            request,
            "treatments/note_form.html",
            {"patient": patient, "refusal": f"{patient.full_name} is archived."},
            status=409,
        )
    initial: dict[str, Any] = {"visited_at": timezone.localtime().replace(second=0, microsecond=0)}
    plan = selectors.plans_queryset_for(patient).filter(status=PlanStatus.ACTIVE).first()
    if plan is not None:
        initial["treatment_plan"] = plan
    appointment_id = parse_id(request.GET.get("appointment"))
    form = VisitNoteForm(request.POST or None, patient=patient, initial=initial)
    if appointment_id is not None:
        field = form.fields["appointment"]
        appointment = field.queryset.filter(pk=appointment_id).first()  # type: ignore[attr-defined]
        if appointment is not None:
            form.initial["appointment"] = appointment
            form.initial["visited_at"] = timezone.localtime(appointment.starts_at)
    formset = AppliedTechniqueFormSet(request.POST or None, prefix="applied")
    gate: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        go_ahead, gate = _note_gate(request, patient, formset)
        if go_ahead:
            try:
                note = services.visit_note_create(
                    patient=patient,
                    acting_user=request.user,
                    techniques=[row.cleaned_data for row in _applied_rows(formset)],
                    ip=client_ip(request),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, "Draft note saved. Sign it when it is complete.")
                return redirect("treatments:note_detail", note_id=note.pk)
    assessment = selectors.signed_assessments_for(patient).first()
    # The form shows the latest signed screening: opening it is a view of that record.
    audit_view(request, patient=patient, obj=assessment or patient, detail="new visit note form")
    return render(
        request,
        "treatments/note_form.html",
        {
            "patient": patient,
            "form": form,
            "formset": formset,
            "title": "New visit note",
            "assessment": assessment,
            "screening": _screening(assessment),
            **gate,
        },
    )


def _editable_note(request, note_id: int, doing: str, *, with_related: bool = True):
    """The note, if the user wrote it (403 otherwise: docs/decisions.md)."""
    note = selectors.get_note_for_user(request.user, note_id, with_related=with_related)
    author_require(record=note, user=request.user, doing=doing)
    return note


@login_required
@permission_required("treatments.change_visitnote", raise_exception=True)
@require_http_methods(["GET", "POST"])
def note_edit(request, note_id: int):
    note = _editable_note(request, note_id, "change this draft note")
    if note.status != RecordStatus.DRAFT:
        messages.error(request, "This note is signed and locked; add an amendment instead.")
        return redirect("treatments:note_detail", note_id=note.pk)
    initial, techniques = _note_initial(note)
    form = VisitNoteForm(request.POST or None, patient=note.patient, note=note, initial=initial)
    formset = AppliedTechniqueFormSet(
        request.POST or None, prefix="applied", initial=techniques or None
    )
    gate: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        go_ahead, gate = _note_gate(request, note.patient, formset)
        if go_ahead:
            data = dict(form.cleaned_data)
            exercises = data.pop("exercises_reviewed")
            try:
                services.visit_note_update(
                    note=note,
                    acting_user=request.user,
                    techniques=[row.cleaned_data for row in _applied_rows(formset)],
                    exercises_reviewed=exercises,
                    ip=client_ip(request),
                    **data,
                )
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, "Draft note saved.")
                return redirect("treatments:note_detail", note_id=note.pk)
    audit_view(request, patient=note.patient, obj=note, detail="edit form")
    assessment = selectors.signed_assessments_for(note.patient).first()
    return render(
        request,
        "treatments/note_form.html",
        {
            "patient": note.patient,
            "note": note,
            "form": form,
            "formset": formset,
            "title": "Edit visit note",
            "assessment": assessment,
            "screening": _screening(assessment),
            **gate,
        },
    )


@login_required
@permission_required("treatments.view_visitnote", raise_exception=True)
def note_detail(request, note_id: int):
    note = selectors.get_note_for_user(request.user, note_id)
    audit_view(request, patient=note.patient, obj=note)
    # Edit, sign and amend are the author's; anyone clinical adds an addendum to a signed
    # note (docs/decisions.md).
    is_author = note.therapist_id == request.user.pk
    return render(
        request,
        "treatments/note_detail.html",
        {
            "note": note,
            "patient": note.patient,
            "text": selectors.note_effective_text(note),
            "addenda": selectors.note_addenda(note),
            "can_edit": note.status == RecordStatus.DRAFT and is_author,
            "can_amend": note.status == RecordStatus.SIGNED and is_author,
        },
    )


@login_required
@permission_required("treatments.sign_visitnote", raise_exception=True)
@require_POST
def note_sign(request, note_id: int):
    # Signing shows nothing of the note: the service reads and locks what it checks.
    note = _editable_note(request, note_id, "sign this note", with_related=False)
    try:
        services.visit_note_sign(note=note, acting_user=request.user, ip=client_ip(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Note signed and locked.")
    return redirect("treatments:note_detail", note_id=note.pk)


@login_required
@permission_required("treatments.sign_visitnote", raise_exception=True)
@require_http_methods(["GET", "POST"])
def note_amend(request, note_id: int):
    note = _editable_note(
        request, note_id, "amend this note; add an addendum under your own name instead"
    )
    if note.status != RecordStatus.SIGNED:
        messages.error(request, "Only a signed note is amended; edit the draft instead.")
        return redirect("treatments:note_detail", note_id=note.pk)
    current = selectors.note_effective_text(note)
    form = VisitNoteAmendForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        try:
            services.visit_note_amend(
                note=note,
                acting_user=request.user,
                reason=reason,
                changes=data,
                ip=client_ip(request),
            )
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, "Amendment added; the signed original is kept.")
            return redirect("treatments:note_detail", note_id=note.pk)
    audit_view(request, patient=note.patient, obj=note, detail="amendment form")
    return render(
        request, "treatments/note_amend.html", {"note": note, "patient": note.patient, "form": form}
    )


@login_required
@permission_required("treatments.add_visitnoteaddendum", raise_exception=True)
@require_http_methods(["GET", "POST"])
def note_addendum(request, note_id: int):
    """Any clinician adds an addendum under their own name to a signed note."""
    note = selectors.get_note_for_user(request.user, note_id)
    if note.status != RecordStatus.SIGNED:
        messages.error(request, "This note is a draft: only a signed note takes addenda.")
        return redirect("treatments:note_detail", note_id=note.pk)
    form = AddendumForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_note_addendum_create(
                note=note,
                acting_user=request.user,
                text=form.cleaned_data["text"],
                ip=client_ip(request),
            )
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, "Addendum added under your name.")
            return redirect("treatments:note_detail", note_id=note.pk)
    audit_view(request, patient=note.patient, obj=note, detail="addendum form")
    return render(
        request,
        "treatments/note_addendum.html",
        {"note": note, "patient": note.patient, "form": form},
    )


# Home-exercise programs.


def _program_rows(current) -> tuple[list[dict], object]:
    """One row per catalogue exercise: the current program's first, in its order."""
    exercises = list(selectors.active_exercises())
    rows = []
    seen = set()
    if current is not None:
        for position, p in enumerate(current.prescriptions.all(), start=1):
            seen.add(p.exercise_id)
            rows.append(
                {
                    "include": True,
                    "exercise": p.exercise,
                    "order": position,
                    "sets": p.sets,
                    "reps": p.reps,
                    "hold_seconds": p.hold_seconds,
                    "times_per_day": p.times_per_day,
                    "days_per_week": p.days_per_week,
                    "notes": p.notes,
                }
            )
    for exercise in exercises:
        if exercise.pk in seen:
            continue
        rows.append(
            {
                "include": False,
                "exercise": exercise,
                "order": len(rows) + 1,
                "sets": exercise.default_sets,
                "reps": exercise.default_reps,
                "hold_seconds": exercise.default_hold_seconds,
                "times_per_day": exercise.default_times_per_day,
                "days_per_week": exercise.default_days_per_week,
                "notes": "",
            }
        )
    allowed = Exercise.objects.filter(pk__in=[row["exercise"].pk for row in rows])
    return rows, allowed


@login_required
@permission_required("treatments.add_homeexerciseprogram", raise_exception=True)
@require_http_methods(["GET", "POST"])
def program_create(request, patient_id: int):
    patient = selectors.get_patient_for_user(
        request.user, patient_id, "treatments.add_homeexerciseprogram"
    )
    if patient.is_archived:
        return render(
            request,
            "treatments/program_form.html",
            {"patient": patient, "refusal": f"{patient.full_name} is archived."},
            status=409,
        )
    current = selectors.active_program_for(patient)
    rows, allowed = _program_rows(current)
    today = patient_today(patient)
    initial = {
        "start_date": today,
        "reminder_time": current.reminder_time if current else "18:00",
        "reminder_days": [str(d) for d in (current.reminder_days if current else range(7))],
        "reminders_enabled": current.reminders_enabled if current else patient.reminders_opt_in,
    }
    form = HomeExerciseProgramForm(request.POST or None, initial=initial)
    formset = PrescriptionFormSet(
        request.POST or None,
        prefix="rx",
        initial=None if request.method == "POST" else rows,
        form_kwargs={"exercises": allowed},
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            program = services.home_exercise_program_create(
                patient=patient,
                acting_user=request.user,
                items=cast(BasePrescriptionFormSet, formset).items(),
                ip=client_ip(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            note = " It replaces the previous program." if current else ""
            messages.success(request, f"Home exercise program saved.{note}")
            return redirect("treatments:program_detail", program_id=program.pk)
    # The builder shows the current program, or the patient's name for a first one.
    audit_view(request, patient=patient, obj=current or patient, detail="program builder")
    names = {row["exercise"].pk: row["exercise"] for row in rows}
    return render(
        request,
        "treatments/program_form.html",
        {
            "patient": patient,
            "form": form,
            "formset": formset,
            "current": current,
            "exercise_by_id": names,
        },
    )


@login_required
@permission_required("treatments.view_homeexerciseprogram", raise_exception=True)
def program_detail(request, program_id: int):
    program = selectors.get_program_for_user(request.user, program_id)
    audit_view(request, patient=program.patient, obj=program)
    return render(
        request,
        "treatments/program_detail.html",
        {
            "program": program,
            "patient": program.patient,
            "adherence": selectors.program_adherence(program, patient_today(program.patient)),
            "history": selectors.program_history(program.patient),
            "weekdays": handout.weekday_names(program.reminder_days, "en"),
        },
    )


@login_required
@permission_required("treatments.change_homeexerciseprogram", raise_exception=True)
@require_POST
def program_end(request, program_id: int):
    program = selectors.get_program_for_user(request.user, program_id)
    if program.status != ProgramStatus.ACTIVE:
        messages.error(request, "This program is not active.")
    else:
        services.home_exercise_program_end(
            program=program, acting_user=request.user, ip=client_ip(request)
        )
        messages.success(request, "Program ended; reminders stop.")
    return redirect("treatments:program_detail", program_id=program.pk)


@login_required
@permission_required("treatments.view_homeexerciseprogram", raise_exception=True)
def program_handout(request, program_id: int):
    program = selectors.get_program_for_user(request.user, program_id)
    language = request.GET.get("lang") or program.patient.preferred_language
    if language not in handout.LANGUAGES:
        language = "en"
    audit_record(
        acting_user=request.user,
        action=AuditAction.EXPORT,
        patient=program.patient,
        obj=program,
        ip=client_ip(request),
        detail=f"printed handout ({language})",
    )
    return render(
        request,
        "treatments/handout.html",
        {"program": program, "patient": program.patient, **handout.context(program, language)},
    )


# Catalogue (clinic manager; therapists may read).


@login_required
@permission_required("treatments.view_technique", raise_exception=True)
def catalogue(request):
    table = selectors.precaution_table()
    return render(
        request,
        "treatments/catalogue.html",
        {"table": table, "exercises": selectors.exercise_catalogue()},
    )


@login_required
@permission_required("treatments.change_technique", raise_exception=True)
@require_http_methods(["GET", "POST"])
def technique_edit(request, technique_id: int):
    technique = get_object_or_404(Technique, pk=technique_id)
    form = TechniqueForm(request.POST or None, initial={"description": technique.description})
    if request.method == "POST" and form.is_valid():
        services.technique_update(
            technique=technique,
            description=form.cleaned_data["description"],
            acting_user=request.user,
        )
        messages.success(request, f"{technique.name} saved.")
        return redirect("treatments:catalogue")
    return render(request, "treatments/technique_form.html", {"technique": technique, "form": form})


@login_required
@permission_required("treatments.change_precautionrule", raise_exception=True)
@require_http_methods(["GET", "POST"])
def precaution_table_edit(request):
    table = selectors.precaution_table()
    # An empty POST is bound too: it must fail validation, not re-show the form silently.
    form = PrecautionTableForm(request.POST if request.method == "POST" else None, table=table)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.precaution_table_update(
                cells=form.cells(), acting_user=request.user, ip=client_ip(request)
            )
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"Precaution table saved ({changed} cells changed).")
            return redirect("treatments:catalogue")
    grid = [
        (
            label,
            [(cell, form[f"cell__{code}__{cell.technique.code}"]) for cell in cells],
        )
        for code, label, cells in table.rows
    ]
    return render(
        request,
        "treatments/precaution_table_form.html",
        {"table": table, "grid": grid, "form": form},
    )


@login_required
@permission_required("treatments.change_precautionrule", raise_exception=True)
@require_http_methods(["GET", "POST"])
def precaution_table_restore(request):
    """Confirm, then reset the table to the published defaults (docs/clinical.md §4)."""
    table = selectors.precaution_table()
    form = PrecautionRestoreForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        changed = services.precaution_table_restore_defaults(
            acting_user=request.user, ip=client_ip(request)
        )
        messages.success(request, f"Published defaults restored ({changed} cells changed).")
        return redirect("treatments:catalogue")
    return render(
        request, "treatments/precaution_table_restore.html", {"table": table, "form": form}
    )


@login_required
@permission_required("treatments.add_exercise", raise_exception=True)
@require_http_methods(["GET", "POST"])
def exercise_create(request):
    form = ExerciseForm(
        request.POST or None,
        initial={
            "default_sets": 2,
            "default_reps": 10,
            "default_hold_seconds": 0,
            "default_times_per_day": 1,
            "default_days_per_week": 7,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            exercise = services.exercise_create(acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, f"{exercise.name} added to the catalogue.")
            return redirect("treatments:catalogue")
    return render(request, "treatments/exercise_form.html", {"form": form, "exercise": None})


@login_required
@permission_required("treatments.change_exercise", raise_exception=True)
@require_http_methods(["GET", "POST"])
def exercise_edit(request, exercise_id: int):
    exercise = get_object_or_404(Exercise, pk=exercise_id)
    initial = {name: getattr(exercise, name) for name in ExerciseForm.base_fields if name != "code"}
    form = ExerciseForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        services.exercise_update(exercise=exercise, acting_user=request.user, **form.cleaned_data)
        messages.success(request, f"{exercise.name} saved.")
        return redirect("treatments:catalogue")
    return render(request, "treatments/exercise_form.html", {"form": form, "exercise": exercise})


@login_required
@permission_required("treatments.change_exercise", raise_exception=True)
@require_POST
def exercise_toggle(request, exercise_id: int):
    exercise = get_object_or_404(Exercise, pk=exercise_id)
    services.exercise_set_active(
        exercise=exercise, active=not exercise.active, acting_user=request.user
    )
    if exercise.active:
        messages.success(request, f"{exercise.name} is back in the catalogue.")
    else:
        messages.success(request, f"{exercise.name} retired: it stays on existing programs only.")
    return redirect("treatments:catalogue")
