from django.contrib import admin

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
class TechniqueAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "allowed_grades", "active"]


@admin.register(PrecautionRule)
class PrecautionRuleAdmin(admin.ModelAdmin):
    list_display = ["precaution", "technique", "level"]
    list_filter = ["precaution", "level"]
    list_select_related = ["technique"]


class PlannedTechniqueInline(admin.TabularInline):
    model = PlannedTechnique
    extra = 0


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(admin.ModelAdmin):
    list_display = ["patient", "therapist", "start_date", "status"]
    list_select_related = ["patient", "therapist"]
    raw_id_fields = ["patient", "assessment"]
    inlines = [PlannedTechniqueInline]


class AppliedTechniqueInline(admin.TabularInline):
    model = AppliedTechnique
    extra = 0


@admin.register(VisitNote)
class VisitNoteAdmin(admin.ModelAdmin):
    list_display = ["visited_at", "patient", "therapist", "status"]
    list_select_related = ["patient", "therapist"]
    raw_id_fields = ["patient", "appointment", "treatment_plan"]
    inlines = [AppliedTechniqueInline]


@admin.register(VisitNoteAmendment)
class VisitNoteAmendmentAdmin(admin.ModelAdmin):
    list_display = ["created_at", "note", "author"]
    raw_id_fields = ["note"]


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "active"]


class ExercisePrescriptionInline(admin.TabularInline):
    model = ExercisePrescription
    extra = 0


@admin.register(HomeExerciseProgram)
class HomeExerciseProgramAdmin(admin.ModelAdmin):
    list_display = ["patient", "start_date", "end_date", "status", "reminders_enabled"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient"]
    inlines = [ExercisePrescriptionInline]


@admin.register(ExerciseCompletion)
class ExerciseCompletionAdmin(admin.ModelAdmin):
    list_display = ["date", "program", "source"]
    raw_id_fields = ["program"]
