"""The patient's signed links: each does its one thing, and a bad token does nothing."""

import time
from unittest import mock

import pytest
from django.test import Client

from clinic.models import AuditEvent
from clinic.reminders.signing import Purpose, link_path, make_token
from patients.localtime import patient_today
from patients.models import PainReport, PainSource
from tests.factories import ExerciseFactory
from treatments.models import ExerciseCompletion

from .helpers import program_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    program = program_due(patient_first_name="Ana", patient_preferred_language="en")
    program.start_date = patient_today(program.patient).replace(day=1)
    program.save()
    exercise = ExerciseFactory(
        name="Heel raises", name_es="Elevación de talones", instructions_en="Rise slowly."
    )
    program.prescriptions.create(exercise=exercise, sets=3, reps=15, hold_seconds=5, position=0)
    return program


def _ids(program):
    return {
        "patient_id": program.patient_id,
        "email": program.patient.email,
        "program_id": program.id,
    }


def _path(purpose, program):
    return link_path(
        purpose,
        patient_id=program.patient_id,
        email=program.patient.email,
        program_id=program.id,
    )


def test_exercises_page_shows_todays_exercises_and_doses(client, program):
    response = client.get(_path(Purpose.EXERCISES, program))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Heel raises" in html and "Rise slowly." in html
    assert "3 sets of 15 repetitions" in html and "hold 5 seconds" in html
    assert response["Cache-Control"] == "no-store"


def test_exercises_page_speaks_spanish_to_spanish_patients(client, program):
    program.patient.preferred_language = "es"
    program.patient.save()
    html = client.get(_path(Purpose.EXERCISES, program)).content.decode()
    assert 'lang="es"' in html
    assert "Elevación de talones" in html and "3 series de 15 repeticiones" in html


def test_done_records_one_completion_for_the_patients_local_today(client, program):
    path = _path(Purpose.DONE, program)
    page = client.get(path)
    assert page.status_code == 200
    assert not ExerciseCompletion.objects.exists()  # opening the link records nothing
    for _ in range(3):
        response = client.post(path)
        assert response.status_code == 302
    completion = ExerciseCompletion.objects.get()
    assert completion.program == program
    assert completion.date == patient_today(program.patient)
    assert completion.source == "email_link"
    assert 'data-state="recorded"' in client.get(path).content.decode()


def test_pain_check_in_records_a_report_from_the_email_link(client, program):
    path = _path(Purpose.PAIN, program)
    assert client.get(path).status_code == 200
    response = client.post(path, {"score": "3"})
    assert response.status_code == 302
    report = PainReport.objects.get()
    assert (report.patient, report.score, report.source) == (
        program.patient,
        3,
        PainSource.EMAIL_LINK,
    )
    assert AuditEvent.objects.filter(patient=program.patient, action="create").exists()
    assert 'data-state="recorded"' in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("score", ["11", "-1", "abc", "", "3.5", "9" * 5000])
def test_bad_pain_input_gets_a_clear_error_and_records_nothing(client, program, score):
    response = client.post(_path(Purpose.PAIN, program), {"score": score})
    assert response.status_code == 400
    assert "Choose a number from 0 to 10." in response.content.decode()
    assert not PainReport.objects.exists()


def test_unsubscribe_asks_first_then_turns_reminders_off(client, program):
    path = _path(Purpose.UNSUBSCRIBE, program)
    assert "Stop reminders" in client.get(path).content.decode()
    program.patient.refresh_from_db()
    assert program.patient.reminders_opt_in is True  # GET changes nothing
    response = client.post(path)
    assert response.status_code == 200
    assert "you will get no more exercise reminder emails" in response.content.decode()
    program.patient.refresh_from_db()
    assert program.patient.reminders_opt_in is False


def test_one_click_unsubscribe_works_without_a_csrf_token(program):
    """RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click" with no cookies."""
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        _path(Purpose.UNSUBSCRIBE, program),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    program.patient.refresh_from_db()
    assert program.patient.reminders_opt_in is False


def _tampered(path: str) -> str:
    token = path.rstrip("/").rsplit("/", 1)[1]
    body, signature = token.rsplit(":", 1)
    return path.replace(token, f"{body}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}")


VIEWS = [Purpose.EXERCISES, Purpose.DONE, Purpose.PAIN, Purpose.UNSUBSCRIBE]


def _nothing_changed(program):
    program.patient.refresh_from_db()
    assert program.patient.reminders_opt_in is True
    assert not PainReport.objects.exists()
    assert not ExerciseCompletion.objects.exists()


@pytest.mark.parametrize("purpose", VIEWS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_gets_400_and_no_data(client, program, purpose, method):
    response = getattr(client, method)(_tampered(_path(purpose, program)), {"score": "5"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This link is not valid" in html
    assert "Heel raises" not in html and "Ana" not in html
    _nothing_changed(program)


@pytest.mark.parametrize("purpose", VIEWS)
def test_a_token_for_another_purpose_gets_403(client, program, purpose):
    other = next(p for p in VIEWS if p != purpose)
    path = _path(purpose, program).replace(
        make_token(purpose, **_ids(program)),
        make_token(other, **_ids(program)),
    )
    response = client.post(path, {"score": "5"})
    assert response.status_code == 403
    assert "This link cannot be used here" in response.content.decode()
    _nothing_changed(program)


@pytest.mark.parametrize("purpose", VIEWS)
def test_an_expired_token_gets_410(client, program, purpose, settings):
    path = _path(purpose, program)
    later = time.time() + settings.REMINDER_LINK_MAX_AGE_DAYS * 86400 + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = client.post(path, {"score": "5"})
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    _nothing_changed(program)


@pytest.mark.parametrize("garbage", ["x", "abc:def", "%00", "a" * 600])
def test_garbage_tokens_get_400(client, garbage):
    response = client.get(f"/r/e/{garbage}/")
    assert response.status_code in (400, 404)
    assert response.status_code != 500


@pytest.mark.parametrize("purpose", [Purpose.EXERCISES, Purpose.DONE, Purpose.PAIN])
def test_a_link_for_an_archived_patient_shows_the_outdated_page_and_records_nothing(
    client, program, purpose
):
    from django.utils import timezone

    program.patient.archived_at = timezone.now()
    program.patient.save()
    path = _path(purpose, program)
    response = client.post(path, {"score": "5"})
    html = response.content.decode()
    assert response.status_code == 410
    assert "This link is no longer valid" in html
    assert "Heel raises" not in html and "Ana" not in html
    assert client.get(path).status_code == 410
    _nothing_changed(program)
