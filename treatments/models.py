"""Manual therapies, plans of care, visit notes and home-exercise programs."""

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from patients.models import NPRS_VALIDATORS, Patient, Precaution, RecordStatus


class TechniqueCode(models.TextChoices):
    JOINT_MOBILIZATION = "joint_mobilization", "Joint mobilization"
    SOFT_TISSUE_MOBILIZATION = "soft_tissue_mobilization", "Soft tissue mobilization"
    HVLA_THRUST = "hvla_thrust", "High-velocity low-amplitude (HVLA) thrust"
    MUSCLE_ENERGY = "muscle_energy", "Muscle energy technique"


class Grade(models.TextChoices):
    """Maitland grades (docs/clinical.md §4)."""

    I = "I", "Grade I"  # noqa: E741 - the clinical name of the grade
    II = "II", "Grade II"
    III = "III", "Grade III"
    IV = "IV", "Grade IV"
    V = "V", "Grade V (thrust)"


class Technique(models.Model):
    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    # Maitland grades the technique may be recorded with; empty = not graded
    # (minutes and target are recorded instead).
    allowed_grades = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def graded(self) -> bool:
        return bool(self.allowed_grades)

    def grade_problem(self, grade: str) -> str:
        """Why ``grade`` cannot be recorded with this technique ("" when it can)."""
        if not self.allowed_grades:
            if grade:
                return f"{self.name} is not graded: leave the grade empty and record the target."
            return ""
        if not grade:
            allowed = ", ".join(self.allowed_grades)
            return f"Choose a grade for {self.name} ({allowed})."
        if grade not in self.allowed_grades:
            allowed = ", ".join(self.allowed_grades)
            return f"Grade {grade} is not allowed for {self.name}; allowed: {allowed}."
        return ""


class RestrictionLevel(models.TextChoices):
    CAUTION = "caution", "Caution"
    CONTRAINDICATED = "contraindicated", "Contraindicated"


class PrecautionRule(models.Model):
    """One cell of the clinic's precaution -> technique table (default: docs/clinical.md §4)."""

    precaution = models.CharField(max_length=32, choices=Precaution.choices)
    technique = models.ForeignKey(Technique, on_delete=models.CASCADE, related_name="rules")
    level = models.CharField(max_length=16, choices=RestrictionLevel.choices)

    class Meta:
        ordering = ["precaution", "technique__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["precaution", "technique"], name="precautionrule_one_per_cell"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_precaution_display()} / {self.technique}: {self.level}"


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    DISCONTINUED = "discontinued", "Discontinued"


class TreatmentPlan(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatment_plans")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="treatment_plans"
    )
    assessment = models.ForeignKey(
        "patients.Assessment", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    goals = models.TextField(max_length=5000)
    visits_per_week = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    weeks = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(52)]
    )
    start_date = models.DateField()
    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [
            # Patient page: a patient's plans, newest first.
            models.Index(fields=["patient", "start_date"], name="plan_patient_start_idx"),
            # The outcomes rollup's changes since its last read (clinic/reports/rollup.py).
            models.Index(fields=["updated_at"], name="plan_updated_idx"),
            # Needs attention (clinic/attention/selectors._caseload_sql): a therapist's active
            # plans and their patients, without reading the therapist's ended plans.
            models.Index(
                fields=["therapist", "status", "patient"], name="plan_therapist_active_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(visits_per_week__gte=1, visits_per_week__lte=7),
                name="plan_visits_per_week_1_7",
            ),
            models.CheckConstraint(
                condition=models.Q(weeks__gte=1, weeks__lte=52), name="plan_weeks_1_52"
            ),
        ]

    def __str__(self) -> str:
        return f"Plan of care for {self.patient} from {self.start_date}"


class PlannedTechnique(models.Model):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="techniques")
    technique = models.ForeignKey(Technique, on_delete=models.PROTECT, related_name="+")
    grade = models.CharField(max_length=3, choices=Grade.choices, blank=True)
    target = models.CharField(max_length=100)
    notes = models.TextField(blank=True, max_length=2000)
    # The strongest restriction the patient's flags put on this technique when planned,
    # and the therapist's reason for going ahead with a contraindicated one.
    restriction = models.CharField(max_length=16, choices=RestrictionLevel.choices, blank=True)
    override_reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.technique} {self.grade} ({self.target})"


class VisitNote(models.Model):
    """A SOAP note for one visit."""

    appointment = models.OneToOneField(
        "clinic.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visit_note",
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visit_notes")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visit_notes"
    )
    treatment_plan = models.ForeignKey(
        TreatmentPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="visit_notes"
    )
    visited_at = models.DateTimeField(default=timezone.now)
    subjective = models.TextField(blank=True, max_length=10000)
    objective = models.TextField(blank=True, max_length=10000)
    assessment = models.TextField(blank=True, max_length=10000)
    plan = models.TextField(blank=True, max_length=10000)
    pain_before = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=NPRS_VALIDATORS
    )
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True, validators=NPRS_VALIDATORS)
    exercises_reviewed: "models.ManyToManyField[Exercise, Any]" = models.ManyToManyField(
        "Exercise", blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=RecordStatus.choices, default=RecordStatus.DRAFT
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-visited_at", "-id"]
        permissions = [("sign_visitnote", "Can sign and amend visit notes")]
        indexes = [
            # Patient timeline.
            models.Index(fields=["patient", "visited_at"], name="visitnote_patient_date_idx"),
            # A therapist's unsigned notes on the Today page, oldest first:
            # WHERE therapist_id = %s AND status = 'draft' ORDER BY visited_at, id LIMIT 21
            # (selectors.unsigned_notes_for) reads 21 rows, not every draft.
            models.Index(
                fields=["therapist", "status", "visited_at", "id"],
                name="visitnote_therapist_todo_idx",
            ),
            # The plan page's visits: WHERE treatment_plan_id = %s ORDER BY visited_at DESC,
            # id DESC LIMIT 21 (selectors.plan_visits) reads 21 rows, not the whole plan.
            models.Index(
                fields=["treatment_plan", "-visited_at", "-id"], name="visitnote_plan_date_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pain_before__isnull=True)
                | models.Q(pain_before__gte=0, pain_before__lte=10),
                name="visitnote_pain_before_0_10",
            ),
            models.CheckConstraint(
                condition=models.Q(pain_after__isnull=True)
                | models.Q(pain_after__gte=0, pain_after__lte=10),
                name="visitnote_pain_after_0_10",
            ),
        ]

    def __str__(self) -> str:
        return f"Visit note for {self.patient} on {self.visited_at:%Y-%m-%d}"


class VisitNoteAmendment(models.Model):
    note = models.ForeignKey(VisitNote, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(max_length=2000)
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Amendment to note {self.note_id}"


class VisitNoteAddendum(models.Model):
    """A note a clinician (the author or a colleague) adds under their own name to a
    signed visit note. Append-only: created by the services, never edited or deleted
    (docs/decisions.md, "Who may change whose clinical record")."""

    note = models.ForeignKey(VisitNote, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(text=""), name="visitnoteaddendum_text_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum to note {self.note_id} by {self.author_id}"


class AppliedTechnique(models.Model):
    note = models.ForeignKey(VisitNote, on_delete=models.CASCADE, related_name="techniques")
    technique = models.ForeignKey(Technique, on_delete=models.PROTECT, related_name="+")
    grade = models.CharField(max_length=3, choices=Grade.choices, blank=True)
    minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    target = models.CharField(max_length=100)
    # As on PlannedTechnique: the strongest restriction the patient's latest signed
    # screening put on the technique when the note was saved (refreshed at signing), and
    # the therapist's reason for applying a contraindicated one.
    restriction = models.CharField(max_length=16, choices=RestrictionLevel.choices, blank=True)
    override_reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.technique} {self.grade} ({self.target})"


class Exercise(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    name_es = models.CharField(max_length=100, blank=True)
    instructions_en = models.TextField()
    instructions_es = models.TextField(blank=True)
    default_sets = models.PositiveSmallIntegerField(default=1)
    default_reps = models.PositiveSmallIntegerField(default=10)
    default_hold_seconds = models.PositiveSmallIntegerField(default=0)
    default_times_per_day = models.PositiveSmallIntegerField(default=1)
    default_days_per_week = models.PositiveSmallIntegerField(default=7)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProgramStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"
    ENDED = "ended", "Ended"


def default_reminder_days() -> list[int]:
    return [0, 1, 2, 3, 4, 5, 6]


class HomeExerciseProgram(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="exercise_programs")
    prescribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=ProgramStatus.choices, default=ProgramStatus.ACTIVE
    )
    # Local time in the patient's own time zone, and ISO weekdays as Python numbers
    # (Monday = 0 ... Sunday = 6).
    reminder_time = models.TimeField(default="18:00")
    reminder_days = models.JSONField(default=default_reminder_days, blank=True)
    reminders_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [
            # Reminder dispatch scans active programs with reminders on.
            models.Index(
                fields=["status", "reminders_enabled"], name="program_status_reminders_idx"
            ),
            # Caseload reports' rollup (clinic/reports/rollup.py): programs changed since
            # its last refresh.
            models.Index(fields=["updated_at"], name="program_updated_idx"),
        ]
        constraints = [
            # One active program per patient: a new one supersedes the old.
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(status="active"),
                name="program_one_active_per_patient",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="program_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Home exercise program for {self.patient} from {self.start_date}"


class ExercisePrescription(models.Model):
    program = models.ForeignKey(
        HomeExerciseProgram, on_delete=models.CASCADE, related_name="prescriptions"
    )
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    sets = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    reps = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    hold_seconds = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(300)]
    )
    times_per_day = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(6)]
    )
    days_per_week = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    notes = models.TextField(blank=True, max_length=2000)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.exercise}: {self.sets} x {self.reps}"


class CompletionSource(models.TextChoices):
    EMAIL_LINK = "email_link", "Email link"
    VISIT = "visit", "Visit"


class ExerciseCompletion(models.Model):
    program = models.ForeignKey(
        HomeExerciseProgram, on_delete=models.CASCADE, related_name="completions"
    )
    date = models.DateField()
    source = models.CharField(max_length=16, choices=CompletionSource.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date"]
        indexes = [
            # Caseload reports (clinic/reports/selectors.py, adherence): the completions of
            # the report's weeks by date, with their program, as an index-only scan
            # (PostgreSQL; elsewhere a plain index on date).
            models.Index(fields=["date"], include=["program"], name="completion_date_idx"),
            # Caseload reports' rollup (clinic/reports/rollup.py): completions recorded
            # since its last refresh, whatever day they are for.
            models.Index(fields=["created_at"], name="completion_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["program", "date"], name="completion_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id} done on {self.date}"
