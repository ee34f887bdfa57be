from django.contrib import admin

from .models import Assessment, AssessmentAmendment, PainReport, Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "email", "archived_at"]
    search_fields = ["last_name", "first_name", "email", "phone"]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["assessed_at", "patient", "therapist", "kind", "region", "status"]
    list_filter = ["status", "kind", "region"]
    list_select_related = ["patient", "therapist"]
    raw_id_fields = ["patient"]


@admin.register(AssessmentAmendment)
class AssessmentAmendmentAdmin(admin.ModelAdmin):
    list_display = ["created_at", "assessment", "author"]
    raw_id_fields = ["assessment"]


@admin.register(PainReport)
class PainReportAdmin(admin.ModelAdmin):
    list_display = ["reported_at", "patient", "score", "source"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient"]
