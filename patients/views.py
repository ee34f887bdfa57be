from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render

from . import sections, selectors


@login_required
@permission_required("patients.view_patient", raise_exception=True)
def patient_detail(request, patient_id: int):
    """Demographics for every role that may see patients, then the sections each role may
    see (patients/sections.py): clinical ones only for clinicians."""
    patient = selectors.get_patient_for_user(request.user, patient_id)
    return render(
        request,
        "patients/patient_detail.html",
        {"patient": patient, "sections": sections.sections_for(request, patient)},
    )
