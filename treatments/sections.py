"""This app's sections of the patient page (registered from TreatmentsConfig.ready()).

Each loader runs a fixed number of queries, whatever the patient's history.
"""

from __future__ import annotations

from patients.sections import PatientSection, register

from . import selectors


def load_plans(request, patient) -> dict:
    # 2 queries: plans (with therapist), their planned techniques (with technique).
    return {
        "plans": selectors.plans_for_patient(patient),
        "can_add": request.user.has_perm("treatments.add_treatmentplan"),
    }


def load_notes(request, patient) -> dict:
    # 1 query: the latest notes (with therapist).
    limit = 10
    notes = selectors.notes_for_patient(patient, limit=limit + 1)
    return {
        "notes": notes[:limit],
        "more": len(notes) > limit,
        "can_add": request.user.has_perm("treatments.add_visitnote"),
    }


def load_program(request, patient) -> dict:
    # 3 queries with an active program (program, prescriptions, completions in the
    # window); 1 without.
    program = selectors.active_program_for(patient)
    return {
        "program": program,
        "adherence": (
            selectors.program_adherence(program, today=selectors.patient_local_date(patient))
            if program
            else None
        ),
        "can_add": request.user.has_perm("treatments.add_homeexerciseprogram"),
    }


def register_sections() -> None:
    register(
        PatientSection(
            key="treatment-plans",
            title="Plans of care",
            template="treatments/sections/plans.html",
            permission="treatments.view_treatmentplan",
            load=load_plans,
            order=40,
        )
    )
    register(
        PatientSection(
            key="visit-notes",
            title="Visit notes",
            template="treatments/sections/notes.html",
            permission="treatments.view_visitnote",
            load=load_notes,
            order=50,
        )
    )
    register(
        PatientSection(
            key="home-program",
            title="Home exercise program",
            template="treatments/sections/program.html",
            permission="treatments.view_homeexerciseprogram",
            load=load_program,
            order=60,
        )
    )
