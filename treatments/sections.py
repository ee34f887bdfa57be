"""This app's sections of the patient page and of Today (patients/sections.py),
registered from TreatmentsConfig.ready().

Each loader runs a fixed number of queries, whatever the patient's history.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe

from patients.links import path_maker, when
from patients.localtime import patient_today
from patients.sections import Section
from patients.selectors import RECENT

from . import selectors


def load_plans(request, patient) -> dict:
    # 2 queries: the latest plans (with therapist), their planned techniques (with
    # technique). Older ones are on the plan list ("show all").
    plans = selectors.plans_for_patient(patient, limit=RECENT + 1)
    return {
        "plans": plans[:RECENT],
        "more": len(plans) > RECENT,
        "can_add": request.user.has_perm("treatments.add_treatmentplan"),
    }


def load_notes(request, patient) -> dict:
    # 1 query: the latest notes (with therapist). Older ones are on the note list.
    notes = selectors.notes_for_patient(patient, limit=RECENT + 1)
    return {
        "notes": notes[:RECENT],
        "more": len(notes) > RECENT,
        "can_add": request.user.has_perm("treatments.add_visitnote"),
    }


def load_program(request, patient) -> dict:
    # 3 queries with an active program (program, prescriptions, completions in the
    # window); 1 without.
    program = selectors.active_program_for(patient)
    return {
        "program": program,
        "adherence": (
            selectors.program_adherence(program, today=patient_today(patient)) if program else None
        ),
        "can_add": request.user.has_perm("treatments.add_homeexerciseprogram"),
    }


def load_unsigned_notes(request) -> dict:
    # 1 query: the therapist's oldest draft notes with their patients. The rows' markup is
    # made here once, not by tags per row (patients/links.py).
    notes, more = selectors.unsigned_notes_for(request.user)
    link = path_maker("treatments:note_detail", 1)
    rows = "".join(
        f'<li><a href="{link(note.pk)}">{escape(note.patient.full_name)}, '
        f"{when(note.visited_at, 'D j M, H:i')}</a></li>\n"
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
