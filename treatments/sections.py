"""This app's sections of the patient page and of Today (patients/sections.py),
registered from TreatmentsConfig.ready().

Each loader runs a fixed number of queries, whatever the patient's history.
"""

from __future__ import annotations

from django.utils import dateformat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from patients.links import path_maker, when_maker
from patients.localtime import patient_today
from patients.models import RecordStatus
from patients.sections import Section
from patients.selectors import RECENT

from . import selectors
from .models import PlanStatus, RestrictionLevel


def load_plans(request, patient) -> dict:
    # 1 query: the latest plans with therapist and planned techniques. Older ones are
    # on the plan list ("show all").
    plans = selectors.plans_for_patient(patient, limit=RECENT + 1)
    return {
        "plans": plans[:RECENT],
        "rows_html": plan_items(plans[:RECENT]),
        "more": len(plans) > RECENT,
        "can_add": request.user.has_perm("treatments.add_treatmentplan"),
    }


def load_notes(request, patient) -> dict:
    # 1 query: the latest notes (with therapist). Older ones are on the note list.
    notes = selectors.notes_for_patient(patient, limit=RECENT + 1)
    return {
        "notes": notes[:RECENT],
        "rows_html": note_rows(notes[:RECENT]),
        "more": len(notes) > RECENT,
        "can_add": request.user.has_perm("treatments.add_visitnote"),
    }


# The rows of the patient page's plans and notes and of their lists ("show all"), made
# once here rather than by tags and filters per row (patients/links.py).


def plan_items(plans: list[selectors.PlanRow]) -> SafeString:
    """One ``<li>`` per plan, with its techniques (treatments/partials/plan_items.html
    puts them in its list)."""
    link = path_maker("treatments:plan_detail", 1)
    items = []
    for plan in plans:
        status = "text-bg-success" if plan.status == PlanStatus.ACTIVE else "text-bg-secondary"
        techniques = "; ".join(_planned(planned) for planned in plan.techniques)
        items.append(
            f'<li class="mb-2" data-plan="{plan.id}">\n'
            f'<a href="{link(plan.id)}">Plan from '
            f"{dateformat.format(plan.start_date, 'j M Y')}</a>\n"
            f'<span class="badge {status}">{escape(_PLAN_STATUS[plan.status])}</span>\n'
            f'<span class="text-muted small">· {plan.visits_per_week}×/week for {plan.weeks} '
            f"weeks · {escape(plan.therapist)}</span>\n"
            + (f'<div class="small">\n{techniques}\n</div>\n' if techniques else "")
            + "</li>\n"
        )
    # Every value above is escaped, a number, a date or a link made from an id.
    return mark_safe("".join(items))  # noqa: S308


_PLAN_STATUS = dict(PlanStatus.choices)


def _planned(planned: selectors.PlannedRow) -> str:
    grade = f" {escape(planned.grade)}" if planned.grade else ""
    badge = ""
    if planned.overridden:
        badge = ' <span class="badge text-bg-danger">override</span>'
    elif planned.restriction == RestrictionLevel.CAUTION:
        badge = ' <span class="badge text-bg-warning">caution</span>'
    return f"{escape(planned.technique)}{grade} ({escape(planned.target)}){badge}"


def note_rows(notes: list[selectors.NoteRow]) -> SafeString:
    """One ``<tr>`` per visit note (treatments/partials/note_table.html puts them in its
    table)."""
    link = path_maker("treatments:note_detail", 1)
    visited = when_maker("D j M Y, H:i")
    signed = '<span class="badge text-bg-success">Signed</span>'
    draft = '<span class="badge text-bg-warning">Draft</span>'
    rows = []
    for note in notes:
        before = "–" if note.pain_before is None else note.pain_before
        after = "–" if note.pain_after is None else note.pain_after
        rows.append(
            f'<tr data-note="{note.id}">\n'
            f'<td><a href="{link(note.id)}">{visited(note.visited_at)}</a></td>\n'
            f"<td>{escape(note.therapist)}</td>\n"
            f"<td>{before} → {after}</td>\n"
            f"<td>{signed if note.status == RecordStatus.SIGNED else draft}</td>\n</tr>\n"
        )
    # Every value above is escaped, a number, a date or a link made from an id.
    return mark_safe("".join(rows))  # noqa: S308


def load_program(request, patient) -> dict:
    # 1 query: the active program with its prescriptions and its completions in the
    # window.
    program, adherence = selectors.active_program_row(patient, today=patient_today(patient))
    return {
        "program": program,
        "adherence": adherence,
        "can_add": request.user.has_perm("treatments.add_homeexerciseprogram"),
    }


def load_unsigned_notes(request) -> dict:
    # 1 query: the therapist's oldest draft notes with their patients. The rows' markup is
    # made here once, not by tags per row (patients/links.py).
    notes, more = selectors.unsigned_notes_for(request.user)
    link = path_maker("treatments:note_detail", 1)
    visited = when_maker("D j M, H:i")
    rows = "".join(
        f'<li><a href="{link(note.id)}">{escape(note.patient_name)}, '
        f"{visited(note.visited_at)}</a></li>\n"
        for note in notes
    )
    # Every value above is escaped.
    return {"notes": notes, "more": more, "rows_html": mark_safe(rows)}  # noqa: S308


PATIENT_SECTIONS = [
    Section(
        key="treatment-plans",
        title="Plans of care",
        template="treatments/sections/plans.html",
        permission="treatments.view_treatmentplan",
        load=load_plans,
        order=40,
    ),
    Section(
        key="visit-notes",
        title="Visit notes",
        template="treatments/sections/notes.html",
        permission="treatments.view_visitnote",
        load=load_notes,
        order=50,
    ),
    Section(
        key="home-program",
        title="Home exercise program",
        template="treatments/sections/program.html",
        permission="treatments.view_homeexerciseprogram",
        load=load_program,
        order=60,
    ),
]

TODAY_SECTIONS = [
    Section(
        key="unsigned-visit-notes",
        title="Visit notes to sign",
        template="treatments/today_unsigned_notes.html",
        permission="treatments.sign_visitnote",
        load=load_unsigned_notes,
        order=30,
    ),
]
