"""Sections of the patient page and of the Today page: one way to add either.

Both pages are a list of sections, each shown only to users holding its permission
(``user.has_perm``, cached on the user for the request, so deciding costs no query).
An app declares its sections as plain ``Section`` values in its own ``sections.py``
(``PATIENT_SECTIONS``, ``TODAY_SECTIONS``) and registers them explicitly from its
AppConfig.ready(). The registries live here because ``patients`` is the lowest app:
``treatments`` and ``clinic`` may import it, it imports neither, so the patient page
shows their parts (visit notes, programs, appointments, reminders) without knowing them.

Each loader runs a fixed number of queries, whatever the patient's history, so a page's
query count stays constant. Patient-page loaders are called ``load(request, patient)``,
Today loaders ``load(request)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .charts import outcome_chart
from .links import path_maker, when_maker
from .models import (
    AssessmentKind,
    RecordStatus,
    Region,
    Side,
    lefs_percent_of,
    precaution_labels_of,
    suspected_cause_labels_of,
)
from .selectors import ChartPoint, TimelineRow, clinical_record_for_request, therapist_drafts


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    template: str  # rendered with ``section`` and ``data`` (the loader's result)
    permission: str  # "app_label.codename" the viewer must hold
    load: Callable[..., dict]
    order: int = 100
    # Patient page only: showing a clinical section is audited as a view of the record.
    clinical: bool = True


class SectionRegistry:
    def __init__(self) -> None:
        self._sections: dict[str, Section] = {}

    def register(self, *sections: Section) -> None:
        for section in sections:
            self._sections[section.key] = section

    def visible(self, request, *args) -> list[tuple[Section, dict]]:
        """The sections this user may see, in order, each with its loaded data."""
        user = request.user
        shown = sorted(
            (s for s in self._sections.values() if user.has_perm(s.permission)),
            key=lambda s: (s.order, s.key),
        )
        return [(section, section.load(request, *args)) for section in shown]


patient_page = SectionRegistry()
today_page = SectionRegistry()


# This app's own sections (registered from PatientsConfig.ready()) ------------------


def load_outcomes(request, patient) -> dict:
    record = clinical_record_for_request(request, patient)
    return {"outcomes": record.outcomes, "chart": outcome_chart(record.outcomes)}


def load_timeline(request, patient) -> dict:
    record = clinical_record_for_request(request, patient)
    return {
        "assessments": record.assessments,
        "timeline": assessment_timeline(record.assessments),
        "more_assessments": record.more_assessments,
        "other_reports": record.other_reports,
        "other_reports_html": _other_reports_html(record.other_reports),
        "more_other_reports": record.more_other_reports,
    }


def assessment_timeline(assessments: list[TimelineRow]) -> SafeString:
    """The timeline's items (patients/partials/assessment_timeline.html puts them in its
    list), one ``<li>`` per assessment, made once here rather than by tags and filters per
    row (links.py): the patient page's latest assessments and the assessment list's pages
    (selectors.patient_assessments)."""
    link = path_maker("patients:assessment_detail", 2)
    assessed = when_maker("j M Y, H:i")
    items = []
    for a in assessments:
        is_signed = a.status == RecordStatus.SIGNED
        badges = (
            '<span class="badge text-bg-success">Signed</span>'
            if is_signed
            else '<span class="badge text-bg-warning">Draft</span>'
        )
        if a.amendment_count:
            plural = "" if a.amendment_count == 1 else "s"
            badges += (
                f'\n<span class="badge text-bg-info">{a.amendment_count} amendment{plural}</span>'
            )
        if a.xray_indicated:
            badges += '\n<span class="badge text-bg-danger">X-ray indicated (Ottawa)</span>'
        scores = f"Pain now {a.pain_now}/10"
        if a.lefs_total is not None:
            scores += f" · LEFS {a.lefs_total}/80 ({localize(lefs_percent_of(a.lefs_total))}%)"
        if causes := suspected_cause_labels_of(a.suspected_causes, a.suspected_cause_other):
            scores += " · " + ", ".join(escape(cause) for cause in causes)
        precautions = (
            '\n<div class="small text-danger">Precautions: '
            f"{', '.join(escape(label) for label in labels)}</div>"
            if (labels := precaution_labels_of(a.precautions))
            else ""
        )
        items.append(
            '<li class="border-start border-3 ps-3 mb-3 '
            f'{"border-success" if is_signed else "border-warning"}" '
            f'data-assessment="{a.id}">\n'
            '<div class="d-flex flex-wrap gap-2 align-items-baseline">\n'
            f'<a class="fw-semibold" href="{link(a.patient_id, a.id)}">'
            f"{escape(_KINDS.get(a.kind, a.kind))}</a>\n"
            f'<span class="text-muted">{assessed(a.assessed_at)} · '
            f"{escape(_REGIONS.get(a.region, a.region))}, "
            f"{escape(_SIDES.get(a.side, a.side).lower())} · "
            f"{escape(a.therapist)}</span>\n{badges}\n</div>\n"
            f'<div class="small">{scores}</div>{precautions}\n</li>\n'
        )
    # Every value above is escaped, a number or a link made from ids.
    return mark_safe("".join(items))  # noqa: S308


# Labels by value, as get_kind_display() and the like give them, made once.
_KINDS = dict(AssessmentKind.choices)
_REGIONS = dict(Region.choices)
_SIDES = dict(Side.choices)


def _other_reports_html(reports: list[ChartPoint]) -> SafeString:
    """The latest pain scores from visits and check-ins, one ``<li>`` each."""
    day = when_maker("j M")
    items = "".join(
        '<li class="list-inline-item border rounded px-2 mb-1">'
        f'{day(r.at)}: {r.value}/10 <span class="text-muted">({escape(r.label)})</span>'
        "</li>"
        for r in reports
    )
    # Every value above is escaped or a number.
    return mark_safe(items)  # noqa: S308


def load_drafts(request) -> dict:
    # One query; the rows' markup made here once, not by tags per row (links.py).
    drafts, more = therapist_drafts(request.user)
    link = path_maker("patients:assessment_detail", 2)
    assessed = when_maker("j M, H:i")
    kinds = {kind: str(label) for kind, label in AssessmentKind.choices}  # once a page
    rows = "".join(
        '<li class="list-group-item px-0 d-flex justify-content-between">\n'
        f'<a href="{link(draft.patient_id, draft.id)}">{escape(draft.patient_name)} · '
        f"{escape(kinds.get(draft.kind, draft.kind))}</a>\n"
        f'<span class="text-muted small">{assessed(draft.assessed_at)}</span>\n</li>\n'
        for draft in drafts
    )
    # Every value above is escaped.
    return {"drafts": drafts, "more": more, "rows_html": mark_safe(rows)}  # noqa: S308


# Clinical sections: shown only to holders of view_assessment (therapists).
PATIENT_SECTIONS = [
    Section(
        key="outcomes",
        title="Outcomes",
        template="patients/sections/outcomes.html",
        permission="patients.view_assessment",
        load=load_outcomes,
        order=10,
    ),
    Section(
        key="assessments",
        title="Assessments and pain reports",
        template="patients/sections/assessments.html",
        permission="patients.view_assessment",
        load=load_timeline,
        order=20,
    ),
]

TODAY_SECTIONS = [
    Section(
        key="assessment-drafts",
        title="Assessments to sign",
        template="patients/today_drafts.html",
        permission="patients.sign_assessment",
        load=load_drafts,
        order=20,
    ),
]
