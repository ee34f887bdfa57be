"""The "Reminders" section of the patient page: delivery history, status only.

Registered from ClinicConfig.ready(). It shows when and whether each reminder went out,
never what it was about beyond "exercise" or "appointment", so front desk may see it.
"""

from patients.sections import Section

from . import selectors


def _load(request, patient) -> dict:
    # One query: the patient's latest reminders (index reminder_patient_due_idx).
    return {"reminders": selectors.patient_reminder_history(patient)}


PATIENT_SECTIONS = [
    Section(
        key="reminders",
        title="Reminders",
        template="clinic/reminders/patient_section.html",
        permission="clinic.view_reminder",
        load=_load,
        order=800,
        clinical=False,
    ),
]
