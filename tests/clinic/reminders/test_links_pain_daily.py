"""The pain link: one report per patient and local day, and a rate limit on every /r/ link."""

import datetime as dt
import threading
from unittest import mock

import pytest
from django.db import connection
from django.test import Client

from clinic.models import AuditEvent
from clinic.reminders.signing import Purpose, link_path
from patients.localtime import patient_today
from patients.models import PainReport, PainSource, QuestionnaireResponse

from .helpers import program_due


@pytest.fixture
def program(db):
    return program_due(patient_first_name="Ana", patient_preferred_language="en")


def _path(purpose, program):
    if purpose is Purpose.QUESTIONNAIRE:
        # A questionnaire link names one open questionnaire instead of the program.
        response = QuestionnaireResponse.objects.create(patient=program.patient, instrument="lefs")
        return link_path(
            purpose,
            patient_id=program.patient_id,
            email=program.patient.email,
            response_id=response.pk,
        )
    return link_path(
        purpose,
        patient_id=program.patient_id,
        email=program.patient.email,
        program_id=program.id,
    )


@pytest.mark.django_db
def test_many_pain_posts_in_one_day_leave_one_report_with_the_last_score(client, program, settings):
    settings.REMINDER_LINK_RATE_LIMIT_PER_TOKEN = 1000
    settings.REMINDER_LINK_RATE_LIMIT_PER_IP = 1000
    path = _path(Purpose.PAIN, program)
    for i in range(200):
        assert client.post(path, {"score": str(i % 11)}).status_code == 302
    report = PainReport.objects.get()
    assert report.score == 199 % 11
    assert report.local_date == patient_today(program.patient)
    assert report.source == PainSource.EMAIL_LINK
    updates = AuditEvent.objects.filter(action="update", patient=program.patient)
    assert updates.count() == 199
    assert updates.order_by("-id").first().clinical_detail == "pain 0 → 1"
    assert not updates.exclude(detail="").filter(detail__contains="→").exists()


@pytest.mark.django_db
def test_the_next_local_day_gets_a_second_pain_report(client, program):
    path = _path(Purpose.PAIN, program)
    today = patient_today(program.patient)
    client.post(path, {"score": "6"})
    with mock.patch("patients.localtime.patient_today", return_value=today + dt.timedelta(1)):
        client.post(path, {"score": "4"})
    assert list(PainReport.objects.values_list("local_date", "score")) == [
        (today, 6),
        (today + dt.timedelta(1), 4),
    ]


@pytest.mark.django_db
def test_the_database_refuses_a_second_email_pain_report_for_one_local_day(program):
    from django.db import IntegrityError, transaction

    today = patient_today(program.patient)
    fields = {"patient": program.patient, "source": PainSource.EMAIL_LINK, "local_date": today}
    PainReport.objects.create(score=3, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        PainReport.objects.create(score=4, **fields)


@pytest.mark.django_db
@pytest.mark.parametrize(
    # The confirm and cancel links name an appointment (test_appointment_links.py).
    "purpose",
    [p for p in Purpose if p not in (Purpose.CONFIRM, Purpose.CANCEL)],
)
def test_a_link_over_its_rate_limit_gets_429_and_records_nothing(
    client, program, settings, purpose
):
    settings.REMINDER_LINK_RATE_LIMIT_PER_TOKEN = 3
    path = _path(purpose, program)
    for _ in range(3):
        assert client.get(path).status_code == 200
    response = client.post(path, {"score": "7"})
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert response["Retry-After"] == str(settings.REMINDER_LINK_RATE_WINDOW_SECONDS)
    assert not PainReport.objects.exists()
    program.patient.refresh_from_db()
    assert program.patient.reminders_opt_in is True
    assert not program.completions.exists()


@pytest.mark.django_db
def test_one_address_over_its_rate_limit_gets_429_on_every_token(client, program, settings):
    settings.REMINDER_LINK_RATE_LIMIT_PER_IP = 4
    for purpose in (Purpose.EXERCISES, Purpose.DONE, Purpose.PAIN, Purpose.UNSUBSCRIBE):
        assert client.get(_path(purpose, program)).status_code == 200
    assert client.get(_path(Purpose.EXERCISES, program)).status_code == 429
    other_address = Client(REMOTE_ADDR="192.0.2.7")
    assert other_address.get(_path(Purpose.EXERCISES, program)).status_code == 200


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_pain_posts_at_once_leave_one_report_and_no_error(require_service, program):
    require_service("postgresql")
    path = _path(Purpose.PAIN, program)
    barrier = threading.Barrier(2)
    statuses, errors = [], []

    def post(score):
        try:
            barrier.wait(timeout=10)
            statuses.append(Client().post(path, {"score": str(score)}).status_code)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(score,)) for score in (2, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert statuses == [302, 302]
    report = PainReport.objects.get()
    assert report.score in (2, 9)
