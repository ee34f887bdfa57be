"""Django admin: a read-mostly view for superusers.

The clinical record is changed only through the app's pages (services), which compute
the derived fields, enforce the sign/amend lock and write the audit log; so assessments,
amendments and pain reports are read-only here, and patients are never deleted.
"""

from django.contrib import admin

from . import clinical
from .models import Assessment, AssessmentAmendment, PainReport, Patient


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "email", "archived_at"]
    search_fields = ["search_name", "email", "phone"]
    readonly_fields = ["search_name", "created_by", "created_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # archive instead (the registry's Archive button)

    def save_model(self, request, obj, form, change):
        # Keep search working for rows edited here, as the services do.
        obj.search_name = clinical.normalise_name(f"{obj.first_name} {obj.last_name}")
        super().save_model(request, obj, form, change)


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ["assessed_at", "patient", "therapist", "kind", "region", "status"]
    list_filter = ["status", "kind", "region"]
    list_select_related = ["patient", "therapist"]
    raw_id_fields = ["patient"]


@admin.register(AssessmentAmendment)
class AssessmentAmendmentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "assessment", "author"]
    raw_id_fields = ["assessment"]


@admin.register(PainReport)
class PainReportAdmin(ReadOnlyAdmin):
    list_display = ["reported_at", "patient", "score", "source"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient"]
