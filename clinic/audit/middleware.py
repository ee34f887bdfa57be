"""Every refused request for a clinical page is written to the audit log.

One place for every view: a clinical view refuses by raising PermissionDenied (its
permission decorator, its access-checked getter, an author check), and Django hands
that exception to ``process_exception`` before it renders the 403 page, which is left
as it is. Allowed requests never reach ``process_exception``, so they cost nothing.
Anonymous visitors are redirected to the login page, not refused, and write nothing.
"""

from django.core.exceptions import PermissionDenied

from patients.audit import AuditAction, audit_record, client_ip

from . import selectors

# "attention": the needs-attention list of clinic/attention/, clinical content too;
# "reports": the caseload reports, whose patient drill-down is clinical.
CLINICAL_NAMESPACES = frozenset({"patients", "treatments", "attention", "reports"})

# Pages of the clinical apps that show no clinical content: the patient registry and its
# type-ahead search (front desk's work) and the technique and exercise catalogue. Every
# other page of those apps, including one added later, counts as clinical.
NOT_CLINICAL = frozenset(
    {
        "patients:list",
        "patients:search",
        "patients:create",
        "patients:detail",
        "patients:edit",
        "patients:archive",
        "treatments:catalogue",
        "treatments:technique_edit",
        "treatments:precaution_table",
        "treatments:precaution_table_restore",
        "treatments:exercise_create",
        "treatments:exercise_edit",
        "treatments:exercise_toggle",
        # The caseload reports' counts and rates, which name no patient and show no
        # patient's score (clinic/reports/views.py); the drill-down to patients is not here.
        "reports:outcomes",
        "reports:outcomes_csv",
        "reports:attendance",
        "reports:attendance_csv",
        "reports:utilisation",
        "reports:utilisation_csv",
        "reports:adherence",
        "reports:adherence_csv",
    }
)


def is_clinical(view_name: str) -> bool:
    """Whether the URL named ``view_name`` ("namespace:name") is a clinical page."""
    namespace = view_name.rpartition(":")[0]
    return namespace in CLINICAL_NAMESPACES and view_name not in NOT_CLINICAL


class AccessDeniedAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        match = getattr(request, "resolver_match", None)
        if not isinstance(exception, PermissionDenied) or match is None:
            return None
        if not is_clinical(match.view_name):
            return None
        patient, object_type, object_id = selectors.record_named_by_url(match.kwargs)
        audit_record(
            acting_user=getattr(request, "user", None),
            action=AuditAction.ACCESS_DENIED,
            patient=patient,
            object_type=object_type,
            object_id=object_id,
            ip=client_ip(request),
            detail=f"{request.method} {request.path}",
        )
        return None  # Django goes on to render the usual 403 page.
