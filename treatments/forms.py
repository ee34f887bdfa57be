"""Forms for plans of care, visit notes, home programs and the catalogue (validation only)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from patients.complete_forms import CompleteFormMixin
from patients.inputs import (
    BoundedFormSet,
    ClinicDateField,
    ClinicDateTimeField,
    IdModelChoiceField,
    IdModelMultipleChoiceField,
)
from patients.models import NPRS_VALIDATORS

from . import selectors
from .catalogue import NO_RESTRICTION
from .models import Exercise, Grade, PlanStatus, RestrictionLevel, Technique

WEEKDAYS = [
    ("0", "Mon"),
    ("1", "Tue"),
    ("2", "Wed"),
    ("3", "Thu"),
    ("4", "Fri"),
    ("5", "Sat"),
    ("6", "Sun"),
]
GRADE_CHOICES = [("", "— (not graded)"), *Grade.choices]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TechniqueChoiceField(IdModelChoiceField):
    def label_from_instance(self, obj: Technique) -> str:
        grades = f" (grades {', '.join(obj.allowed_grades)})" if obj.allowed_grades else ""
        return f"{obj.name}{grades}"


# Plans of care.


class AssessmentChoiceField(IdModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.get_kind_display()}, {timezone.localtime(obj.assessed_at):%d %b %Y}"


class TreatmentPlanForm(CompleteFormMixin, forms.Form):
    assessment = AssessmentChoiceField(
        queryset=None,
        label="From assessment",
        empty_label=None,
        help_text="A signed assessment of this patient; its flags decide the warnings below.",
    )
    goals = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the patient should be able to do at the end, e.g. walk a mile "
        "without pain.",
    )
    visits_per_week = forms.IntegerField(
        label="Visits per week", min_value=1, max_value=7, initial=2
    )
    weeks = forms.IntegerField(label="Length (weeks)", min_value=1, max_value=52, initial=6)
    start_date = ClinicDateField(label="Start date", widget=DateInput())

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessment"].queryset = selectors.signed_assessments_for(patient)


class PlannedTechniqueForm(CompleteFormMixin, forms.Form):
    technique = TechniqueChoiceField(queryset=None, required=False, empty_label="—")
    grade = forms.ChoiceField(choices=GRADE_CHOICES, required=False)
    target = forms.CharField(
        max_length=100,
        required=False,
        label="Target joint or region",
        help_text="e.g. right talocrural joint",
    )
    notes = forms.CharField(max_length=2000, required=False)
    override_reason = forms.CharField(
        max_length=2000,
        required=False,
        label="Override reason",
        help_text="Only for a contraindicated technique: why it is safe for this patient.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technique"].queryset = selectors.active_techniques()

    def clean(self):
        data = super().clean()
        technique = data.get("technique")
        if technique is None:
            if data.get("grade") or data.get("target") or data.get("override_reason"):
                self.add_error("technique", "Choose the technique for this row.")
            return data
        problem = technique.grade_problem(data.get("grade", ""))
        if problem:
            self.add_error("grade", problem)
        if not data.get("target"):
            self.add_error("target", "Say which joint or region is treated.")
        return data


# Every formset has a hard absolute_max equal to max_num (patients/inputs.py): Django's
# default (max_num + 1000) lets one POST with a huge TOTAL_FORMS build a thousand forms.
PlannedTechniqueFormSet = forms.formset_factory(
    PlannedTechniqueForm,
    formset=BoundedFormSet,
    extra=4,
    max_num=12,
    absolute_max=12,
    validate_max=True,
)


class TreatmentPlanCloseForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(PlanStatus.COMPLETED, "Completed"), (PlanStatus.DISCONTINUED, "Discontinued")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when discontinuing.",
    )

    def clean(self):
        data = super().clean()
        if data.get("status") == PlanStatus.DISCONTINUED and not data.get("reason", "").strip():
            self.add_error("reason", "Say why the plan is discontinued.")
        return data


# Visit notes.


class AppointmentChoiceField(IdModelChoiceField):
    default_error_messages = {
        "invalid_choice": "That visit cannot take this note: choose one from the list (a "
        "cancelled or no-show visit, one that has a note already, or another patient's "
        "is never offered).",
    }

    def label_from_instance(self, obj) -> str:
        return f"{timezone.localtime(obj.starts_at):%a %d %b %Y %H:%M} with {obj.practitioner}"


class PlanChoiceField(IdModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"Plan from {obj.start_date:%d %b %Y} ({obj.get_status_display().lower()})"


class VisitNoteForm(CompleteFormMixin, forms.Form):
    visited_at = ClinicDateTimeField(
        label="Visit date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    appointment = AppointmentChoiceField(
        queryset=None, required=False, label="Appointment", empty_label="— not linked —"
    )
    treatment_plan = PlanChoiceField(
        queryset=None, required=False, label="Plan of care", empty_label="— none —"
    )
    pain_before = forms.IntegerField(
        label="Pain before treatment (0–10)",
        required=False,
        validators=NPRS_VALIDATORS,
        help_text="0 = no pain, 10 = worst possible pain.",
    )
    pain_after = forms.IntegerField(
        label="Pain after treatment (0–10)", required=False, validators=NPRS_VALIDATORS
    )
    subjective = forms.CharField(
        label="Subjective",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the patient reports since the last visit.",
    )
    objective = forms.CharField(
        label="Objective",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Measurements and findings today.",
    )
    assessment = forms.CharField(
        label="Assessment",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Your interpretation: progress against the goals.",
    )
    plan = forms.CharField(
        label="Plan",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Next steps and changes to treatment or home exercises.",
    )
    exercises_reviewed = IdModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Home exercises reviewed",
        help_text="Reviewing exercises counts the visit day as done in the home program.",
    )

    def __init__(self, *args, patient, note=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["appointment"].queryset = selectors.appointments_for_note(patient, note)
        self.fields["treatment_plan"].queryset = selectors.plans_queryset_for(patient)
        self.fields["exercises_reviewed"].queryset = selectors.active_exercises()

    def clean_visited_at(self):
        visited_at = self.cleaned_data["visited_at"]
        # A note records a visit that happened; allow a little slack for clock drift.
        if visited_at > timezone.now() + dt.timedelta(hours=1):
            raise forms.ValidationError("The visit cannot be in the future.")
        return visited_at


class AppliedTechniqueForm(CompleteFormMixin, forms.Form):
    technique = TechniqueChoiceField(queryset=None, required=False, empty_label="—")
    grade = forms.ChoiceField(choices=GRADE_CHOICES, required=False)
    minutes = forms.IntegerField(
        required=False, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    target = forms.CharField(max_length=100, required=False, label="Target joint or region")
    override_reason = forms.CharField(
        max_length=2000,
        required=False,
        label="Override reason",
        help_text="Only for a contraindicated technique: why it was safe for this patient.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technique"].queryset = selectors.active_techniques()

    def clean(self):
        data = super().clean()
        technique = data.get("technique")
        if technique is None:
            if (
                data.get("grade")
                or data.get("target")
                or data.get("minutes")
                or data.get("override_reason")
            ):
                self.add_error("technique", "Choose the technique for this row.")
            return data
        problem = technique.grade_problem(data.get("grade", ""))
        if problem:
            self.add_error("grade", problem)
        if not data.get("target"):
            self.add_error("target", "Say which joint or region was treated.")
        if not technique.graded and not data.get("minutes"):
            self.add_error("minutes", f"Record how many minutes of {technique.name}.")
        return data


AppliedTechniqueFormSet = forms.formset_factory(
    AppliedTechniqueForm,
    formset=BoundedFormSet,
    extra=3,
    max_num=12,
    absolute_max=12,
    validate_max=True,
)


class VisitNoteAmendForm(CompleteFormMixin, forms.Form):
    subjective = forms.CharField(
        required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    objective = forms.CharField(
        required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    assessment = forms.CharField(
        required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    plan = forms.CharField(
        required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = forms.CharField(
        label="Reason for the amendment",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the amendment; the signed original is not changed.",
    )


# Home-exercise programs.


class HomeExerciseProgramForm(CompleteFormMixin, forms.Form):
    start_date = ClinicDateField(label="Start date", widget=DateInput())
    end_date = ClinicDateField(
        label="End date", required=False, widget=DateInput(), help_text="Leave empty for no end."
    )
    reminder_time = forms.TimeField(
        label="Reminder time (patient's local time)",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    reminder_days = forms.MultipleChoiceField(
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        label="Exercise days",
        help_text="Reminders go out on these days; adherence counts them as prescribed days.",
    )
    reminders_enabled = forms.BooleanField(label="Send email reminders", required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date must be on or after the start date.")
        return data

    def clean_reminder_days(self) -> list[int]:
        return sorted(int(day) for day in self.cleaned_data["reminder_days"])


class PrescriptionRowForm(CompleteFormMixin, forms.Form):
    include = forms.BooleanField(
        required=False,
        label="Include",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    exercise = IdModelChoiceField(queryset=None, widget=forms.HiddenInput)
    order = forms.IntegerField(min_value=1, max_value=99, label="Order")
    sets = forms.IntegerField(required=False, min_value=1, max_value=10, label="Sets")
    reps = forms.IntegerField(required=False, min_value=1, max_value=100, label="Reps")
    hold_seconds = forms.IntegerField(required=False, min_value=0, max_value=300, label="Hold (s)")
    times_per_day = forms.IntegerField(
        required=False, min_value=1, max_value=6, label="Times a day"
    )
    days_per_week = forms.IntegerField(
        required=False, min_value=1, max_value=7, label="Days a week"
    )
    notes = forms.CharField(required=False, max_length=2000, label="Notes for the patient")

    def __init__(self, *args, exercises=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exercise"].queryset = (
            exercises if exercises is not None else Exercise.objects.all()
        )

    def clean(self):
        data = super().clean()
        if data.get("include"):
            for name in ("sets", "reps", "hold_seconds", "times_per_day", "days_per_week"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, "Enter a number.")
        return data


class BasePrescriptionFormSet(BoundedFormSet):
    def clean(self):
        if any(self.errors):
            return
        chosen = [form.cleaned_data for form in self.forms if form.cleaned_data.get("include")]
        if not chosen:
            raise forms.ValidationError("Choose at least one exercise.")
        codes = [row["exercise"].pk for row in chosen]
        if len(codes) != len(set(codes)):
            raise forms.ValidationError("Each exercise can be in the program once.")

    def items(self) -> list[dict]:
        """The chosen exercises in the therapist's order."""
        chosen = [
            (form.cleaned_data["order"], index, form.cleaned_data)
            for index, form in enumerate(self.forms)
            if form.cleaned_data.get("include")
        ]
        chosen.sort(key=lambda row: (row[0], row[1]))
        return [
            {
                key: row[key]
                for key in (
                    "exercise",
                    "sets",
                    "reps",
                    "hold_seconds",
                    "times_per_day",
                    "days_per_week",
                    "notes",
                )
            }
            for _, _, row in chosen
        ]


PrescriptionFormSet = forms.formset_factory(
    PrescriptionRowForm,
    formset=BasePrescriptionFormSet,
    extra=0,
    max_num=60,
    absolute_max=60,
    validate_max=True,
)


# Catalogue (clinic manager).


class TechniqueForm(forms.Form):
    description = forms.CharField(
        max_length=5000, widget=forms.Textarea(attrs={"rows": 5}), label="Description"
    )


class PrecautionTableForm(CompleteFormMixin, forms.Form):
    """One required select per (precaution, active technique) cell.

    Every cell must come back with a level: a cell missing from the POST is an error, never
    "no restriction" (one bodiless POST once emptied the whole table).
    """

    LEVELS = [
        (NO_RESTRICTION, "No restriction"),
        *RestrictionLevel.choices,
    ]

    def __init__(self, *args, table, **kwargs):
        super().__init__(*args, **kwargs)
        self.cell_names: dict[str, tuple[str, str]] = {}
        for code, label, cells in table.rows:
            for cell in cells:
                name = f"cell__{code}__{cell.technique.code}"
                cell_label = f"{label} / {cell.technique.name}"
                self.fields[name] = forms.ChoiceField(
                    choices=self.LEVELS,
                    initial=cell.level,
                    label=cell_label,
                    error_messages={
                        "required": f"Choose a level for {cell_label}.",
                        "invalid_choice": f"Choose a level from the list for {cell_label}.",
                    },
                )
                self.cell_names[name] = (code, cell.technique.code)

    def clean(self):
        cleaned = super().clean()
        bad = [name for name in self.cell_names if name in self.errors]
        if bad:
            raise forms.ValidationError(
                f"{len(bad)} of {len(self.cell_names)} cells have no valid level. Every cell "
                "needs one (choose “No restriction” where none applies); nothing was saved."
            )
        return cleaned

    def cells(self) -> dict[tuple[str, str], str]:
        """(precaution code, technique code) -> level, for every cell."""
        return {key: self.cleaned_data[name] for name, key in self.cell_names.items()}


class PrecautionRestoreForm(forms.Form):
    confirm = forms.BooleanField(
        label="Replace the clinic's edits with the published defaults",
        error_messages={
            "required": "Tick the box to confirm; the table was not changed.",
        },
    )


class ExerciseForm(forms.Form):
    code = forms.SlugField(
        max_length=50, help_text="Short unique identifier, e.g. wall-sit. Cannot be changed."
    )
    name = forms.CharField(max_length=100, label="Name (English)")
    name_es = forms.CharField(max_length=100, label="Name (Spanish)")
    instructions_en = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Instructions (English)",
        help_text="One step per line.",
    )
    instructions_es = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Instructions (Spanish)",
        help_text="One step per line.",
    )
    default_sets = forms.IntegerField(min_value=1, max_value=10, label="Default sets")
    default_reps = forms.IntegerField(min_value=1, max_value=100, label="Default reps")
    default_hold_seconds = forms.IntegerField(
        min_value=0, max_value=300, label="Default hold (seconds)"
    )
    default_times_per_day = forms.IntegerField(min_value=1, max_value=6, label="Times a day")
    default_days_per_week = forms.IntegerField(min_value=1, max_value=7, label="Days a week")

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
