"""A patient's link works only while it is still theirs: sent to the address on file,
for the program that is still current (docs/decisions.md)."""

import pytest
from django.test import Client

from clinic.models import AuditEvent
from clinic.reminders.signing import Purpose, link_path
from patients.models import PainReport
from tests.factories import HomeExerciseProgramFactory
from treatments.models import ExerciseCompletion, ProgramStatus

from .helpers import program_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    return program_due(
        patient_first_name="Ana",
        patient_preferred_language="es",
        patient_email="ana@example.com",
    )


def _path(purpose, program, email="ana@example.com"):
    return link_path(purpose, patient_id=program.patient_id, email=email, program_id=program.id)


def _records_nothing(program):
    assert not PainReport.objects.exists()
    assert not ExerciseCompletion.objects.exists()
    assert not AuditEvent.objects.filter(patient=program.patient).exists()
    program.patient.refresh_from_db()
    assert program.patient.reminders_opt_in is True


def test_the_address_is_compared_normalised(client, program):
    path = _path(Purpose.EXERCISES, program, email="  Ana@Example.COM ")
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("purpose", [Purpose.EXERCISES, Purpose.DONE, Purpose.PAIN])
def test_a_link_sent_to_an_old_address_shows_the_outdated_page_and_records_nothing(
    client, program, purpose
):
    path = _path(purpose, program)
    program.patient.email = "front.desk@clinic.example"
    program.patient.save()
    for method in ("get", "post"):
        response = getattr(client, method)(path, {"score": "4"})
        html = response.content.decode()
        assert response.status_code == 410
        assert "Este enlace ya no es válido" in html  # in the patient's language
        assert "Ana" not in html and "ejercicios de hoy" not in html.lower()
    _records_nothing(program)


def test_an_unsubscribe_from_an_old_address_says_so_and_changes_nothing(program):
    path = _path(Purpose.UNSUBSCRIBE, program)
    program.patient.email = "ana.new@example.com"
    program.patient.save()
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-state="address-not-on-file"' in html
    assert "Ana" not in html
    _records_nothing(program)


@pytest.mark.parametrize("status", [ProgramStatus.SUPERSEDED, ProgramStatus.ENDED])
def test_a_done_link_of_a_replaced_program_records_nothing_on_the_new_one(client, program, status):
    path = _path(Purpose.DONE, program)
    program.status = status
    program.save()
    newer = HomeExerciseProgramFactory(
        patient=program.patient, start_date=program.start_date, status=ProgramStatus.ACTIVE
    )
    response = client.post(path)
    assert response.status_code == 410
    assert "Este enlace ya no es válido" in response.content.decode()
    assert client.get(_path(Purpose.EXERCISES, program)).status_code == 410
    assert not ExerciseCompletion.objects.filter(program=newer).exists()
    _records_nothing(program)
    # The new program's own link works.
    assert client.post(_path(Purpose.DONE, newer)).status_code == 302
    assert ExerciseCompletion.objects.filter(program=newer).count() == 1


def test_a_link_of_a_program_past_its_end_date_is_outdated(client, program):
    import datetime as dt

    from patients.localtime import patient_today

    program.end_date = patient_today(program.patient) - dt.timedelta(days=1)
    program.save()
    assert client.post(_path(Purpose.PAIN, program), {"score": "3"}).status_code == 410
    _records_nothing(program)


def test_the_done_service_refuses_a_program_that_is_no_longer_active(program):
    from django.core.exceptions import ValidationError

    from clinic.reminders.services import exercises_done_record

    program.status = ProgramStatus.SUPERSEDED
    program.save()
    with pytest.raises(ValidationError):
        exercises_done_record(program=program)
    assert not ExerciseCompletion.objects.exists()
