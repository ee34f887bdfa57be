"""The "Appointments" section of the patient page: upcoming and past visits, status only
(no clinical content, so front desk sees it too). Imported from ClinicConfig.ready()."""

from __future__ import annotations

from patients.sections import PatientSection, register

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


register(
    PatientSection(
        key="appointments",
        title="Appointments",
        template="clinic/scheduling/patient_section.html",
        permission="clinic.view_appointment",
        load=load_appointments,
        order=20,
        clinical=False,
    )
)
