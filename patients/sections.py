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

from django.utils.html import escape
from django.utils.safestring import mark_safe

from .charts import outcome_chart
from .links import path_maker, when
from .selectors import clinical_record_for_request, therapist_drafts


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
        "more_assessments": record.more_assessments,
        "other_reports": record.other_reports,
        "more_other_reports": record.more_other_reports,
    }


def load_drafts(request) -> dict:
    # One query; the rows' markup made here once, not by tags per row (links.py).
    drafts, more = therapist_drafts(request.user)
    link = path_maker("patients:assessment_detail", 2)
    rows = "".join(
        '<li class="list-group-item px-0 d-flex justify-content-between">\n'
        f'<a href="{link(draft.patient_id, draft.pk)}">{escape(draft.patient.full_name)} · '
        f"{escape(draft.get_kind_display())}</a>\n"
        f'<span class="text-muted small">{when(draft.assessed_at, "j M, H:i")}</span>\n</li>\n'
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
