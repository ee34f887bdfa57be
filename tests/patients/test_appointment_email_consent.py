"""Two consents, shown and edited apart: exercise reminders and appointment emails."""

import re

import pytest
from django.urls import reverse

from patients.models import Patient
from tests.factories import HomeExerciseProgramFactory, PatientFactory

pytestmark = pytest.mark.django_db


def _row(html: str, consent: str) -> str:
    match = re.search(rf'data-consent="{consent}">(.*?)</dd>', html, re.S)
    assert match, consent
    return match.group(1).strip()


def test_a_new_patient_gets_appointment_emails_unless_the_desk_unticks_it(client_for, front_desk):
    client = client_for(front_desk)
    form = client.get(reverse("patients:create")).content.decode()
    assert re.search(r'name="appointment_emails_opt_in"[^>]*checked', form)
    data = {
        "first_name": "Ana",
        "last_name": "Gil",
        "date_of_birth": "1980-01-02",
        "email": "ana@example.com",
        "preferred_language": "en",
        "timezone": "America/New_York",
        "reminders_opt_in": "on",
    }
    client.post(reverse("patients:create"), data)  # appointment emails unticked
    patient = Patient.objects.get()
    assert (patient.reminders_opt_in, patient.appointment_emails_opt_in) == (True, False)
    edit = reverse("patients:edit", args=[patient.pk])
    response = client.post(
        edit, {**data, "reminders_opt_in": "", "appointment_emails_opt_in": "on"}
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.reminders_opt_in, patient.appointment_emails_opt_in) == (False, True)


def test_the_patient_page_shows_both_consents(client_for, front_desk):
    patient = PatientFactory(reminders_opt_in=True, appointment_emails_opt_in=False)
    html = client_for(front_desk).get(reverse("patients:detail", args=[patient.pk])).content
    assert _row(html.decode(), "exercise") == "On"
    assert _row(html.decode(), "appointment") == "Off"


def test_the_program_page_does_not_say_on_when_the_patient_turned_reminders_off(
    client_for, therapist
):
    program = HomeExerciseProgramFactory(
        patient__reminders_opt_in=False, patient__appointment_emails_opt_in=True
    )
    assert program.reminders_enabled
    url = reverse("treatments:program_detail", args=[program.pk])
    html = client_for(therapist).get(url).content.decode()
    assert _row(html, "exercise") == "Off: the patient turned exercise reminders off"
    assert _row(html, "appointment") == "On"
