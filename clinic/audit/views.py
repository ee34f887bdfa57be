import csv

from django.contrib.auth.decorators import login_required, permission_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from patients.audit import AuditAction, audit_record, client_ip

from . import selectors
from .forms import AuditFilterForm

PAGE_SIZE = 50


def _filters(request):
    form = AuditFilterForm(request.GET or None)
    filters = selectors.filters_from(form.cleaned_data if form.is_valid() else {})
    return form, filters


@login_required
@permission_required("clinic.view_auditevent", raise_exception=True)
def audit_log(request):
    form, filters = _filters(request)
    clinical = selectors.may_read_clinical_detail(request.user)
    params = request.GET.copy()
    older = selectors.parse_cursor(params.pop("older", [""])[-1])
    newer = selectors.parse_cursor(params.pop("newer", [""])[-1])
    params.pop("page", None)  # the numbered pages of old links: show the newest
    if form.is_bound and not form.is_valid():
        page = selectors.AuditPage(events=[], older=None, newer=None)
    else:
        page = selectors.audit_page(
            selectors.audit_events(**filters, with_clinical_detail=clinical),
            older_than=older,
            newer_than=None if older else newer,
            size=PAGE_SIZE,
        )
    return render(
        request,
        "clinic/audit/audit_log.html",
        {
            "form": form,
            "page": page,
            "query_string": params.urlencode(),
            "show_clinical_detail": clinical,
        },
    )


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@login_required
@permission_required("clinic.export_auditevent", raise_exception=True)
def audit_export(request):
    """The filtered log as CSV. The export is itself audited, before any row is sent.

    The clinical_detail column exists only for users with clinical permission."""
    form, filters = _filters(request)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "clinic/audit/audit_log.html",
            {"form": form, "page": None, "query_string": ""},
            status=400,
        )
    patient = None
    if filters["patient_id"]:
        from patients.models import Patient

        patient = Patient.objects.filter(pk=filters["patient_id"]).first()
    clinical = selectors.may_read_clinical_detail(request.user)
    what = "audit log CSV with clinical detail: " if clinical else "audit log CSV: "
    audit_record(
        acting_user=request.user,
        action=AuditAction.EXPORT,
        patient=patient,
        object_type="clinic.auditevent",
        ip=client_ip(request),
        detail=what + selectors.describe_filters(filters),
    )
    events = selectors.audit_events(**filters, with_clinical_detail=clinical)
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(
            [
                "at",
                "user",
                "action",
                "patient_id",
                "patient",
                "object_type",
                "object_id",
                "ip",
                "detail",
                *(["clinical_detail"] if clinical else []),
            ]
        )
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    _cell(timezone.localtime(event.at).isoformat()),
                    _cell(event.actor_username),
                    _cell(event.action),
                    _cell(event.patient_id),
                    _cell(event.patient.full_name if event.patient else ""),
                    _cell(event.object_type),
                    _cell(event.object_id),
                    _cell(event.ip),
                    _cell(event.detail),
                    *([_cell(event.clinical_detail)] if clinical else []),
                ]
            )

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response
