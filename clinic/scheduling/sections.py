"""This app's sections of the patient page and of Today (patients/sections.py),
registered from ClinicConfig.ready().

The patient page's "Appointments" shows upcoming and past visits, status only (no
clinical content, so front desk sees it too). Today shows a clinician their own visits
and front desk the clinic's day.
"""

from __future__ import annotations

from patients.sections import Section

from . import selectors


def load_appointments(request, patient) -> dict:
    """Queries: upcoming visits, past visits, and (for those who book) active plans."""
    data = selectors.patient_appointments(patient)
    data["plans"] = (
        selectors.active_plans_for(patient)
        if request.user.has_perm("clinic.add_appointment") and patient.archived_at is None
        else []
    )
    return data


def load_therapist_day(request) -> dict:
    return selectors.therapist_day(request.user)


def load_front_desk_day(request) -> dict:
    return selectors.front_desk_day()


PATIENT_SECTIONS = [
    Section(
        key="appointments",
        title="Appointments",
        template="clinic/scheduling/patient_section.html",
        permission="clinic.view_appointment",
        load=load_appointments,
        order=20,
        clinical=False,
    ),
]

TODAY_SECTIONS = [
    # A clinician's own visits: held by those who write visit notes (therapists).
    Section(
        key="therapist-day",
        title="Your clinical day",
        template="clinic/scheduling/today_therapist.html",
        permission="treatments.add_visitnote",
        load=load_therapist_day,
        order=10,
    ),
    # The clinic's day with its gaps: held by those who book (front desk).
    Section(
        key="front-desk-day",
        title="Front desk",
        template="clinic/scheduling/today_front_desk.html",
        permission="clinic.add_appointment",
        load=load_front_desk_day,
        order=10,
    ),
]
