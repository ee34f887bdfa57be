import csv
import datetime as dt
import io
from html import escape

from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from patients.audit import AuditAction, audit_record, client_ip
from patients.links import path_maker, when_maker

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
            "rows_html": event_rows_html(page.events, clinical),
            "query_string": params.urlencode(),
            "show_clinical_detail": clinical,
        },
    )


# The action badge's colour: refusals and failed sign-ins stand out, exports warn.
_BADGES = {
    "login_failed": "text-bg-danger",
    "access_denied": "text-bg-danger",
    "export": "text-bg-warning",
}
_ACTIONS = dict(AuditAction.choices)


def event_rows_html(events, show_clinical_detail: bool) -> SafeString:
    """The log's rows, one ``<tr>`` per event, written once here rather than by a
    template loop of a dozen tags and filters a row (docs/decisions.md, "Pages at a
    clinic group's size"); the markup the template had. The patient link and the time
    are made once per page (patients/links.py)."""
    patient_link = path_maker("patients:detail", 1)
    at = when_maker("j M Y, H:i:s")  # the time zone and language looked up once
    out = []
    for event in events:
        badge = _BADGES.get(event.action, "text-bg-light text-dark border")
        action = escape(str(_ACTIONS.get(event.action, event.action)))
        patient = (
            f'<a href="{patient_link(event.patient_id)}">{escape(event.patient.full_name)}</a>'
            if event.patient_id
            else "—"
        )
        record = escape(event.object_type) + (
            f" #{escape(event.object_id)}" if event.object_id else ""
        )
        detail = escape(event.detail)
        if show_clinical_detail and event.clinical_detail:
            detail += (
                '<div class="text-body-secondary" data-clinical-detail>'
                '<span class="visually-hidden">Clinical detail: </span>'
                f"{_breaks(event.clinical_detail)}</div>"
            )
        out.append(
            f'<tr data-event="{event.pk}">'
            f'<td class="text-nowrap">{escape(at(event.at))}</td>'
            f"<td>{escape(event.actor_username or '—')}</td>"
            f'<td><span class="badge {badge}">{action}</span></td>'
            f"<td>{patient}</td>"
            f'<td class="small">{record}</td>'
            f'<td class="small">{detail}</td>'
            f'<td class="small">{escape(event.ip or "")}</td>'
            "</tr>\n"
        )
    # Every value above is escaped, a number, or a class from _BADGES.
    return mark_safe("".join(out))  # noqa: S308


def _breaks(text: str) -> str:
    """Escaped text with its line breaks as ``<br>``, as the linebreaksbr filter."""
    return escape(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


EXPORT_COLUMNS = [
    "at",
    "user",
    "action",
    "patient_id",
    "patient",
    "object_type",
    "object_id",
    "ip",
    "detail",
]
# Rows written to the response at a time: one write per batch, not per row.
EXPORT_BATCH = 2000
# First cell of the file's last row, followed by the row count: a file that does not
# end with it was cut off.
TRAILER = "# end of export"


def _take(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def _local_iso(text: str, zone: dt.tzinfo) -> str:
    """The database's UTC time as text (PostgreSQL "…+00", SQLite without an offset)
    as ISO 8601 in the clinic's time zone."""
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(zone).isoformat()


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@login_required
@permission_required("clinic.export_auditevent", raise_exception=True)
def audit_export(request):
    """The filtered log as CSV, streamed, and audited twice so the log never overstates it.

    An "export" event with the filters is written before any row is read ("started"); a
    second one with the number of rows ("completed: N rows") only after the last row was
    produced, and then the file's last line, a trailer with the same count. A download
    without that trailer, or an export with no "completed" event, is incomplete. An error
    while streaming is not caught: the server drops the connection, so the response never
    ends cleanly, and neither the completion event nor the trailer is written.

    Rows are read as tuples (``values_list``, ``iterator``) inside one transaction,
    never as model instances, and written in batches: 500,000 rows take seconds, well
    inside gunicorn's timeout (README, Deploying). The clinical_detail column exists
    only for users with clinical permission."""
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
    what = "audit log CSV with clinical detail" if clinical else "audit log CSV"
    described = selectors.describe_filters(filters)
    user, ip = request.user, client_ip(request)
    audit_record(
        acting_user=user,
        action=AuditAction.EXPORT,
        patient=patient,
        object_type="clinic.auditevent",
        ip=ip,
        detail=f"{what} started: {described}",
    )
    rows = selectors.audit_export_rows(**filters, with_clinical_detail=clinical)
    zone = timezone.get_current_timezone()

    def content():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS + (["clinical_detail"] if clinical else []))
        count, batch = 0, []
        # One transaction from the first row to the completion event: the server-side
        # cursor then streams rows as they are read (outside a transaction PostgreSQL
        # first copies the whole result, WITH HOLD, before the first row), and the
        # completion event is committed only if every row was read.
        with transaction.atomic():
            for row in rows:
                at_text, username, action, patient_id, first, last, kind, object_id, address = row[
                    :9
                ]
                batch.append(
                    [
                        _local_iso(at_text, zone),
                        _cell(username),
                        action,
                        "" if patient_id is None else patient_id,
                        "" if patient_id is None else _cell(f"{first} {last}"),
                        _cell(kind),
                        _cell(object_id),
                        address or "",
                        *[_cell(text) for text in row[9:]],
                    ]
                )
                if len(batch) == EXPORT_BATCH:
                    writer.writerows(batch)
                    count += len(batch)
                    batch = []
                    yield _take(out)
            writer.writerows(batch)
            count += len(batch)
            # Every row is out: only now is the export complete, in the log and the file.
            audit_record(
                acting_user=user,
                action=AuditAction.EXPORT,
                patient=patient,
                object_type="clinic.auditevent",
                ip=ip,
                detail=f"{what} completed: {count} rows; {described}",
            )
        writer.writerow([TRAILER, f"{count} rows"])
        yield _take(out)

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(content(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response
