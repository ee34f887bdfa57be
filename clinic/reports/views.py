"""The caseload reports: /reports/... (clinic/reports/selectors.py computes every figure).

Who sees what (docs/decisions.md, caseload reports):

- the clinic manager and the therapists (``clinic.view_caseload_reports``) see the four
  reports: counts, rates and medians per practitioner or therapist, never a patient's
  name or score; front desk holds no permission and gets 403;
- a therapist (who also holds ``patients.view_assessment``) may open the patients behind
  their own outcomes row: names and changes, a clinical page, audited as a view that
  names every patient shown. There is no way to name another therapist's patients: the
  page only ever lists the signed-in user's own episodes.

Each report downloads as CSV (the same figures, one row per practitioner and week),
audited as an export.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from clinic.templatetags.reports import hours
from patients.audit import AuditAction, audit_record, client_ip
from patients.localtime import clinic_today

from . import selectors, svg
from .forms import OutcomesForm, PeriodForm

REPORTS_PERMISSION = "clinic.view_caseload_reports"
CLINICAL_PERMISSION = "patients.view_assessment"


def _form(request, form_class: type[PeriodForm]) -> PeriodForm:
    # Always bound: no parameters at all is the default period, a valid request.
    form = form_class(request.GET, today=clinic_today())
    form.is_valid()
    return form


def _without_page(request) -> str:
    """The request's period and measure, for a page's Previous/Next links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _audit_export(request, report: str, period: selectors.Period, rows: int, extra="") -> None:
    audit_record(
        acting_user=request.user,
        action=AuditAction.EXPORT,
        object_type=f"clinic.reports.{report}",
        ip=client_ip(request),
        detail=f"{report} report {period}{extra}: {rows} rows (per practitioner, no patient)",
    )


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (a practitioner's name could
    start with "=")."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _number(value: float | None, digits: int = 3) -> float | str:
    return "" if value is None else round(value, digits)


def _csv(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        # Numbers as they are (a negative change is a number, not a formula); text cells
        # are guarded.
        writer.writerow([_cell(v) if isinstance(v, str) else v for v in row])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _invalid_csv(request, template: str, form: PeriodForm) -> HttpResponse:
    return render(request, template, {"form": form, "report": None}, status=400)


def _stamp(period: selectors.Period) -> str:
    return f"{period.start.isoformat()}_{period.end.isoformat()}"


# --- Outcomes ---------------------------------------------------------------------------


def _outcomes_for(request, period: selectors.Period, measure: str) -> selectors.OutcomesReport:
    report = selectors.outcomes(period, measure, now=timezone.now())
    if not request.user.has_perm(CLINICAL_PERMISSION):
        selectors.hide_small_medians(report)
    return report


@login_required
@permission_required(REPORTS_PERMISSION, raise_exception=True)
@require_GET
def outcomes(request):
    form = _form(request, OutcomesForm)
    report = chart = None
    if form.is_valid():
        measure = form.cleaned_data["measure"]
        report = _outcomes_for(request, form.period, measure)
        chart = svg.bar_chart(
            chart_id="outcomes-chart",
            title=f"Share of episodes reaching the MCID ({selectors.MEASURES[measure]}), "
            "per therapist",
            desc="One bar per therapist: episodes that reached the minimal clinically "
            "important difference, out of the episodes with two measures. The table "
            "below gives the same figures.",
            bars=[(row.therapist, row.share) for row in report.by_therapist],
            axis_label="Share of measured episodes reaching the MCID",
        )
    can_drill = request.user.has_perm(CLINICAL_PERMISSION)
    query = request.GET.urlencode()
    return render(
        request,
        "clinic/reports/outcomes.html",
        {
            "form": form,
            "report": report,
            "chart": chart,
            "tab": "outcomes",
            "can_drill": can_drill,
            "rows_html": _outcome_rows_html(
                report, drill_for=request.user.pk if can_drill else None, query=query
            )
            if report
            else "",
            "min_episodes": selectors.MEDIAN_MIN_EPISODES,
            "query": query,
        },
    )


@login_required
@permission_required(REPORTS_PERMISSION, raise_exception=True)
@require_GET
def outcomes_csv(request):
    form = _form(request, OutcomesForm)
    if not form.is_valid():
        return _invalid_csv(request, "clinic/reports/outcomes.html", form)
    measure = form.cleaned_data["measure"]
    report = _outcomes_for(request, form.period, measure)
    header = [
        "therapist",
        "suspected_cause",
        "region",
        "measure",
        "episodes",
        "episodes_with_two_measures",
        "reached_mcid",
        "share_reaching_mcid",
        "median_change",
        "median_days_to_mcid",
    ]
    rows = [
        [
            row.therapist,
            row.cause or "(all)",
            row.region or "(all)",
            measure,
            row.episodes,
            row.measured,
            row.reached,
            _number(row.share),
            _number(row.median_change, 1),
            _number(row.median_days, 1),
        ]
        for row in [*report.detail, *report.by_therapist, report.total]
    ]
    _audit_export(request, "outcomes", form.period, len(rows), f" ({measure})")
    return _csv(f"outcomes-{measure}-{_stamp(form.period)}.csv", header, rows)


def _outcome_figures_html(row: selectors.OutcomeRow, min_episodes: int) -> str:
    """The figure cells of one outcomes row (what _outcome_figures.html printed)."""
    cells = (
        f'<td class="text-end">{row.episodes}</td><td class="text-end">{row.measured}</td>'
        f'<td class="text-end">{row.reached}</td>'
        f'<td class="text-end">{escape(svg.percent(row.share))}</td>'
    )
    if row.hidden:
        return cells + (
            f'<td class="text-end text-muted" colspan="2">fewer than {min_episodes} measured</td>'
        )
    change = "–" if row.median_change is None else f"{row.median_change:.1f}"
    days = "–" if row.median_days is None else f"{row.median_days:.1f}"
    return cells + f'<td class="text-end">{change}</td><td class="text-end">{days}</td>'


def _outcome_rows_html(
    report: selectors.OutcomesReport, *, drill_for: int | None, query: str
) -> SafeString:
    """The outcomes table's rows as one HTML string, computed once (as the drill-down's):
    each therapist's row, their rows per cause and region, the clinic's total. The link
    to the drill-down goes on ``drill_for``'s own row (the signed-in therapist; None: no
    link, a manager)."""
    minimum = selectors.MEDIAN_MIN_EPISODES
    drill = ""
    if drill_for is not None:
        href = escape(reverse("reports:outcomes_patients") + (f"?{query}" if query else ""))
        drill = f' <a class="fw-normal small ms-2" href="{href}">Your patients</a>'
    parts = []
    for row, groups in report.sections:
        link = drill if drill_for is not None and row.therapist_id == drill_for else ""
        parts.append(
            f'\n        <tr class="table-light fw-semibold" data-therapist="{row.therapist_id}">\n'
            f'          <th scope="row" colspan="3">{escape(row.therapist)}{link}</th>\n'
            f"          {_outcome_figures_html(row, minimum)}\n"
            "        </tr>"
        )
        for group in groups:
            parts.append(
                "\n        <tr>\n"
                f'          <td><span class="visually-hidden">{escape(group.therapist)}</span></td>'
                f"<td>{escape(group.cause)}</td><td>{escape(group.region)}</td>\n"
                f"          {_outcome_figures_html(group, minimum)}\n"
                "        </tr>"
            )
    parts.append(
        '\n      <tr class="fw-semibold border-top" data-therapist="all">'
        '<th scope="row" colspan="3">All therapists</th>'
        f"{_outcome_figures_html(report.total, minimum)}</tr>"
    )
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped or a number


def _patient_rows_html(rows: Sequence[selectors.PatientOutcome]) -> SafeString:
    """The drill-down's table rows as one HTML string, computed once (as the calendar's
    blocks, docs/decisions.md): the link to each patient's outcome chart from one reverse
    per page (prefix + id), each month's name formatted once, names escaped. A caseload of
    a few hundred episodes then costs no template lookup, filter or URL look-up per row."""
    prefix, suffix = escape(reverse("patients:outcomes", args=[0])).rsplit("0", 1)
    months: dict[tuple[int, int], str] = {}
    parts = []
    for row in rows:
        # "j M Y", the month and year formatted once per month.
        start = row.start_date
        month = months.get((start.year, start.month))
        if month is None:
            month = escape(date_format(start.replace(day=1), "M Y"))
            months[(start.year, start.month)] = month
        day = f"{start.day} {month}"
        baseline = "–" if row.baseline is None else row.baseline
        if row.change is None:
            change = "–"
        else:
            change = f"+{row.change}" if row.change > 0 else str(row.change)
        if row.reached:
            reached = "Yes"
        else:
            reached = "Not measured again" if row.change is None else "No"
        days = "–" if row.days_to_mcid is None else f"{row.days_to_mcid:.1f}"
        href = f"{prefix}{row.patient_id}{suffix}"
        parts.append(
            f'\n        <tr data-patient="{row.patient_id}">\n'
            f'          <td><a href="{href}">{escape(row.name)}</a></td>\n'
            f"          <td>{day}</td>\n"
            f'          <td class="text-end">{baseline}</td>\n'
            f'          <td class="text-end">{change}</td>\n'
            f"          <td>{reached}</td>\n"
            f'          <td class="text-end">{days}</td>\n'
            "        </tr>"
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped or a number


@login_required
@permission_required(REPORTS_PERMISSION, raise_exception=True)
@permission_required(CLINICAL_PERMISSION, raise_exception=True)
@require_GET
def outcomes_patients(request):
    """The signed-in therapist's own episodes behind their outcomes row, by patient."""
    form = _form(request, OutcomesForm)
    rows = page = None
    if form.is_valid():
        measure = form.cleaned_data["measure"]
        page = selectors.therapist_episodes(
            request.user.pk, form.period, measure, now=timezone.now(), page=request.GET.get("page")
        )
        rows = page.object_list
        audit_record(
            acting_user=request.user,
            action=AuditAction.VIEW,
            object_type="clinic.reports.outcomes",
            object_id=str(request.user.pk),
            ip=client_ip(request),
            detail=f"outcomes by patient {form.period} ({measure}), page {page.number}: "
            f"{len(rows)} episodes",
            clinical_detail="patients " + ", ".join(str(row.patient_id) for row in rows),
        )
    return render(
        request,
        "clinic/reports/outcomes_patients.html",
        {
            "form": form,
            "rows": rows,
            "rows_html": _patient_rows_html(rows) if rows else "",
            "page": page,
            "tab": "outcomes",
            "query_string": _without_page(request),
        },
    )


# --- Attendance -------------------------------------------------------------------------


def _week_labels(period: selectors.Period) -> list[str]:
    return [week.label for week in period.weeks]


@login_required
@permission_required(REPORTS_PERMISSION, raise_exception=True)
@require_GET
def attendance(request):
    form = _form(request, PeriodForm)
    report = chart = None
    weeks: list = []
    if form.is_valid():
        report = selectors.attendance(form.period, now=timezone.now())
        weeks = [
            (week, report.by_week.get(week.index, selectors.AttendanceCell()))
            for week in form.period.weeks
        ]
        top = max(
            [0.2] + [v for _w, c in weeks for v in (c.no_show_rate, c.late_rate) if v is not None]
        )
        # The smallest of 20, 40 ... 100 % that holds every rate: ticks in round steps.
        maximum = next((m / 5 for m in range(1, 6) if top <= m / 5), 1.0)
        chart = svg.line_chart(
            chart_id="attendance-chart",
            title="No-show and late-cancellation rates per week, whole clinic",
            desc="Two lines over the weeks of the period: the share of visits due that were "
            "no-shows, and the share cancelled late. The tables below give the same "
            "figures, and per practitioner.",
            x_labels=_week_labels(form.period),
            series=[
                svg.Series("No-show rate", [c.no_show_rate for _w, c in weeks]),
                svg.Series("Late-cancellation rate", [c.late_rate for _w, c in weeks]),
            ],
            y_label="Share of visits due",
            maximum=maximum,
        )
    return render(
        request,
        "clinic/reports/attendance.html",
        {
            "form": form,
            "report": report,
            "weeks": weeks,
            "chart": chart,
            "tab": "attendance",
            "query": request.GET.urlencode(),
        },
    )


@login_required
@permission_required(REPORTS_PERMISSION, raise_exception=True)
@require_GET
def attendance_csv(request):
    form = _form(request, PeriodForm)
    if not form.is_valid():
        return _invalid_csv(request, "clinic/reports/attendance.html", form)
    report = selectors.attendance(form.period, now=timezone.now())
    header = [
        "practitioner",
        "week_starting",
        "visits_due",
        "no_shows",
        "late_cancellations",
        "no_show_rate",
        "late_cancellation_rate",
    ]
    rows = []
    for practitioner_id, name in report.practitioners:
        for week in form.period.weeks:
            cell = report.cells.get((practitioner_id, week.index), selectors.AttendanceCell())
            rows.append(
                [
                    name,
                    week.start.isoformat(),
                    cell.due,
                    cell.no_shows,
                    cell.late,
                    _number(cell.no_show_rate),
                    _number(cell.late_rate),
                ]
            )
    _audit_export(request, "attendance", form.period, len(rows))
    return _csv(f"attendance-{_stamp(form.period)}.csv", header, rows)


# --- Utilisation ------------------------------------------------------------------------


@login_required
@permission_required(REPORTS_PERMISSION, raise_exception=True)
@require_GET
def utilisation(request):
    form = _form(request, PeriodForm)
    report = chart = None
    if form.is_valid():
        report = selectors.utilisation(form.period, now=timezone.now())
        rates = [report.by_practitioner[pk].rate for pk, _name in report.practitioners]
        maximum = max([1.0] + [rate for rate in rates if rate is not None])
        chart = svg.bar_chart(
            chart_id="utilisation-chart",
            title="Utilisation per practitioner: booked minutes ÷ working minutes",
            desc="One bar per practitioner over the whole period; working minutes exclude "
            "time off and days the clinic is closed. The tables below give the minutes, and "
            "each week.",
            bars=[(name, report.by_practitioner[pk].rate) for pk, name in report.practitioners],
            axis_label="Booked minutes ÷ working minutes",
            maximum=maximum,
        )
    return render(
        request,
        "clinic/reports/utilisation.html",
        {
            "form": form,
            "report": report,
            "chart": chart,
            "rows_html": _utilisation_rows_html(report, form.period) if report else None,
            "tab": "utilisation",
            "query": request.GET.urlencode(),
        },
    )


def _utilisation_rows_html(
    report: selectors.UtilisationReport, period: selectors.Period
) -> tuple[SafeString, SafeString]:
    """The rows of the two tables (per practitioner, then the clinic's total; per week)
    as HTML strings, computed once (as the outcomes tables'): the template's loops, a
    filter per figure, cost more than the report's own Python. The markup is the one
    the template had."""

    def figures(cell: selectors.UtilisationCell) -> str:
        return (
            f'<td class="text-end">{hours(cell.booked)}</td>'
            f'<td class="text-end">{hours(cell.working)}</td>'
            f'<td class="text-end">{escape(svg.percent(cell.rate))}</td>'
        )

    practitioners = "".join(
        f'\n      <tr data-practitioner="{pk}"><th scope="row">{escape(name)}</th>'
        f"{figures(report.by_practitioner[pk])}</tr>\n    "
        for pk, name in report.practitioners
    )
    weeks = "".join(
        f'\n      <tr><th scope="row">{escape(date_format(week.start, "j M Y"))}</th>'
        f"{figures(cell)}</tr>\n    "
        for week, cell in _weeks_with(report.by_week, selectors.UtilisationCell, period)
    )
    # Every value above is escaped or a number.
    return mark_safe(practitioners), mark_safe(weeks)  # noqa: S308


def _weeks_with(by_week: dict, empty, period: selectors.Period) -> list:
    return [(week, by_week.get(week.index, empty())) for week in period.weeks]


@login_required
@permission_required(REPORTS_PERMISSION, raise_exception=True)
@require_GET
def utilisation_csv(request):
    form = _form(request, PeriodForm)
    if not form.is_valid():
        return _invalid_csv(request, "clinic/reports/utilisation.html", form)
    report = selectors.utilisation(form.period, now=timezone.now())
    header = ["practitioner", "week_starting", "booked_minutes", "working_minutes", "utilisation"]
    rows = []
    for practitioner_id, name in report.practitioners:
        for week in form.period.weeks:
            cell = report.cells.get((practitioner_id, week.index), selectors.UtilisationCell())
            rows.append(
                [name, week.start.isoformat(), cell.booked, cell.working, _number(cell.rate)]
            )
    _audit_export(request, "utilisation", form.period, len(rows))
    return _csv(f"utilisation-{_stamp(form.period)}.csv", header, rows)


# --- Home-program adherence -------------------------------------------------------------


@login_required
@permission_required(REPORTS_PERMISSION, raise_exception=True)
@require_GET
def adherence(request):
    form = _form(request, PeriodForm)
    report = chart = None
    weeks: list = []
    if form.is_valid():
        report = selectors.adherence(form.period, today=clinic_today())
        weeks = [
            (week, report.by_week.get(week.index, selectors.AdherenceCell()))
            for week in form.period.weeks
            if week.start <= report.last_day
        ]
        chart = svg.line_chart(
            chart_id="adherence-chart",
            title="Home-program adherence per week, whole clinic",
            desc="The share of prescribed days on which the patient marked their exercises "
            "done, week by week. The tables below give the days, and per therapist.",
            x_labels=[week.label for week, _cell in weeks],
            series=[svg.Series("Days done ÷ prescribed days", [c.rate for _w, c in weeks])],
            y_label="Share of days done",
        )
    return render(
        request,
        "clinic/reports/adherence.html",
        {
            "form": form,
            "report": report,
            "weeks": weeks,
            "chart": chart,
            "tab": "adherence",
            "query": request.GET.urlencode(),
        },
    )


@login_required
@permission_required(REPORTS_PERMISSION, raise_exception=True)
@require_GET
def adherence_csv(request):
    form = _form(request, PeriodForm)
    if not form.is_valid():
        return _invalid_csv(request, "clinic/reports/adherence.html", form)
    report = selectors.adherence(form.period, today=clinic_today())
    header = ["therapist", "week_starting", "prescribed_days", "days_done", "adherence"]
    rows = []
    for therapist_id, name in report.therapists:
        for week in form.period.weeks:
            if week.start > report.last_day:
                continue
            cell = report.cells.get((therapist_id, week.index), selectors.AdherenceCell())
            rows.append(
                [name, week.start.isoformat(), cell.prescribed, cell.done, _number(cell.rate)]
            )
    _audit_export(request, "adherence", form.period, len(rows))
    return _csv(f"adherence-{_stamp(form.period)}.csv", header, rows)
