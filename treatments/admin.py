"""Django admin for the catalogue, plans, notes and programs: read-only.

Plans, visit notes (and their amendments), programs and the catalogue change only on the
app's pages, through services that keep signed notes locked, check contraindications and
write the audit log (see ``patients.admin_readonly``).
"""

from django.contrib import admin

from patients.admin_readonly import ReadOnlyModelAdmin, ReadOnlyTabularInline

from .models import (
    AppliedTechnique,
    Exercise,
    ExerciseCompletion,
    ExercisePrescription,
    HomeExerciseProgram,
    PlannedTechnique,
    PrecautionRule,
    Technique,
    TreatmentPlan,
    VisitNote,
    VisitNoteAmendment,
)


@admin.register(Technique)
class TechniqueAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "code", "allowed_grades", "active"]


@admin.register(PrecautionRule)
class PrecautionRuleAdmin(ReadOnlyModelAdmin):
    list_display = ["precaution", "technique", "level"]
    list_filter = ["precaution", "level"]
    list_select_related = ["technique"]


class PlannedTechniqueInline(ReadOnlyTabularInline):
    model = PlannedTechnique


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(ReadOnlyModelAdmin):
    list_display = ["patient", "therapist", "start_date", "status"]
    list_select_related = ["patient", "therapist"]
    raw_id_fields = ["patient", "assessment"]
    inlines = [PlannedTechniqueInline]


class AppliedTechniqueInline(ReadOnlyTabularInline):
    model = AppliedTechnique


@admin.register(VisitNote)
class VisitNoteAdmin(ReadOnlyModelAdmin):
    list_display = ["visited_at", "patient", "therapist", "status"]
    list_select_related = ["patient", "therapist"]
    raw_id_fields = ["patient", "appointment", "treatment_plan"]
    inlines = [AppliedTechniqueInline]


@admin.register(VisitNoteAmendment)
class VisitNoteAmendmentAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "note", "author"]
    raw_id_fields = ["note"]


@admin.register(Exercise)
class ExerciseAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "code", "active"]


class ExercisePrescriptionInline(ReadOnlyTabularInline):
    model = ExercisePrescription


@admin.register(HomeExerciseProgram)
class HomeExerciseProgramAdmin(ReadOnlyModelAdmin):
    list_display = ["patient", "start_date", "end_date", "status", "reminders_enabled"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient"]
    inlines = [ExercisePrescriptionInline]


@admin.register(ExerciseCompletion)
class ExerciseCompletionAdmin(ReadOnlyModelAdmin):
    list_display = ["date", "program", "source"]
    raw_id_fields = ["program"]
