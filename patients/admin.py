"""Django admin for the patient registry and the assessment record: read-only.

Patients are registered, edited and archived on the registry's pages, and assessments,
amendments and pain reports are written only by the services, which enforce the
sign/amend lock and write the audit log (see ``patients.admin_readonly``).
"""

from django.contrib import admin

from .admin_readonly import ReadOnlyModelAdmin
from .models import Assessment, AssessmentAmendment, PainReport, Patient


@admin.register(Patient)
class PatientAdmin(ReadOnlyModelAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "email", "archived_at"]
    search_fields = ["search_name", "email", "phone"]


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyModelAdmin):
    list_display = ["assessed_at", "patient", "therapist", "kind", "region", "status"]
    list_filter = ["status", "kind", "region"]
    list_select_related = ["patient", "therapist"]
    raw_id_fields = ["patient"]


@admin.register(AssessmentAmendment)
class AssessmentAmendmentAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "assessment", "author"]
    raw_id_fields = ["assessment"]


@admin.register(PainReport)
class PainReportAdmin(ReadOnlyModelAdmin):
    list_display = ["reported_at", "patient", "score", "source"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient"]
