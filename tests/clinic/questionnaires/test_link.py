"""The patient's questionnaire link, reminder_links:questionnaire (clinic/questionnaires/
views.py): what it shows, what a POST records, and every way a link is refused."""

import datetime as dt
import time
from unittest import mock

import pytest
from django.utils import timezone

from clinic.models import AuditEvent
from clinic.questionnaires.forms import LEFS_ANSWERS, LEFS_ITEMS
from clinic.reminders.signing import Purpose, link_path, make_token
from patients import clinical
from patients.models import PainReport, PainSource, QuestionnaireResponse, QuestionnaireStatus
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def response():
    patient = PatientFactory(first_name="Rosa", preferred_language="en")
    return QuestionnaireResponse.objects.create(patient=patient, instrument="lefs")


def path(response, purpose=Purpose.QUESTIONNAIRE, **overrides):
    fields = {
        "patient_id": response.patient_id,
        "email": response.patient.email,
        "response_id": response.pk,
        **overrides,
    }
    return link_path(purpose, **fields)


def answers(**items) -> dict:
    """POST data answering every item 1 (total 20), with ``item_N=""`` to leave one out."""
    data = {f"item_{n}": "1" for n in range(1, 21)}
    data.update({name: value for name, value in items.items()})
    return {name: value for name, value in data.items() if value != ""}


def nothing_recorded(response):
    response.refresh_from_db()
    assert response.status == QuestionnaireStatus.REQUESTED
    assert response.total is None and response.answers == []
    assert not AuditEvent.objects.exists()


def test_the_english_lefs_on_the_page_is_the_one_in_patients_clinical():
    assert [str(item) for item in LEFS_ITEMS] == list(clinical.LEFS_ITEMS)
    assert [str(answer) for answer in LEFS_ANSWERS] == list(clinical.LEFS_ANSWER_LABELS)


def test_get_shows_the_20_items_one_column_and_records_nothing(client, response):
    page = client.get(path(response))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<fieldset class="card card-body mb-3') == 20
    assert html.count('type="radio"') == 100
    assert "Activity 20 of 20" in html and "0 of 20 answered" in html
    assert "Rolling over in bed" in html
    assert page["Cache-Control"] == "no-store"
    nothing_recorded(response)


def test_the_page_is_in_the_patients_language(client, response):
    response.patient.preferred_language = "es"
    response.patient.save(update_fields=["preferred_language"])
    html = client.get(path(response)).content.decode()
    assert 'lang="es"' in html
    assert "Sus actividades diarias" in html
    assert "Darse la vuelta en la cama" in html and "Ninguna dificultad" in html


def test_one_missing_answer_is_named_and_the_others_are_shown_again(client, response):
    page = client.post(path(response), answers(item_7=""))
    assert page.status_code == 400
    html = page.content.decode()
    assert (
        "One activity is not answered yet: 7. Lifting an object, like a bag of groceries, "
        "from the floor." in html
    )
    assert 'id="item-7-missing"' in html and 'id="item-6-missing"' not in html
    assert html.count("checked") == 19
    assert "19 of 20 answered" in html
    nothing_recorded(response)


def test_several_missing_answers_are_all_named_in_spanish(client, response):
    response.patient.preferred_language = "es"
    response.patient.save(update_fields=["preferred_language"])
    page = client.post(path(response), answers(item_3="", item_19=""))
    html = page.content.decode()
    assert "Faltan 2 actividades por responder: 3. Entrar o salir de la bañera; 19. Saltar" in html
    nothing_recorded(response)


@pytest.mark.parametrize("bad", ["5", "-1", "x", "1.5", "\x00"])
def test_an_answer_out_of_range_is_a_form_error(client, response, bad):
    page = client.post(path(response), answers(item_2=bad))
    assert page.status_code == 400
    assert "Choose one of the answers." in page.content.decode()
    nothing_recorded(response)


def test_a_complete_post_scores_on_the_server_and_the_link_then_says_so(client, response):
    page = client.post(path(response), answers(item_1="4", total="80"))
    assert page.status_code == 302
    response.refresh_from_db()
    assert response.status == QuestionnaireStatus.COMPLETED
    assert response.total == 23  # 4 + 19 x 1: the browser cannot choose the total
    assert response.answers == [4] + [1] * 19
    again = client.get(path(response))
    assert again.status_code == 200
    assert "This questionnaire has been answered" in again.content.decode()
    # A second POST records nothing more.
    client.post(path(response), answers(item_1="0"))
    response.refresh_from_db()
    assert response.total == 23
    assert AuditEvent.objects.count() == 1


def test_an_nprs_link_records_a_pain_score(client, response):
    response.instrument = "nprs"
    response.save(update_fields=["instrument"])
    html = client.get(path(response)).content.decode()
    assert 'data-testid="nprs-form"' in html
    assert client.post(path(response), {"score": "11"}).status_code == 400
    assert client.post(path(response), {"score": "8"}).status_code == 302
    response.refresh_from_db()
    assert (response.status, response.total) == (QuestionnaireStatus.COMPLETED, 8)
    report = PainReport.objects.get()
    assert (report.score, report.source) == (8, PainSource.QUESTIONNAIRE)


def test_an_expired_questionnaire_says_so_and_records_nothing(client, response):
    response.status = QuestionnaireStatus.EXPIRED
    response.save(update_fields=["status"])
    page = client.post(path(response), answers())
    assert page.status_code == 410
    assert "This questionnaire has expired" in page.content.decode()
    response.refresh_from_db()
    assert response.total is None


def test_a_request_older_than_its_links_is_expired_even_before_the_sweep(
    client, response, settings
):
    QuestionnaireResponse.objects.filter(pk=response.pk).update(
        requested_at=timezone.now() - dt.timedelta(days=settings.REMINDER_LINK_MAX_AGE_DAYS + 1)
    )
    assert client.post(path(response), answers()).status_code == 410
    nothing_recorded(response)


def test_an_expired_token_gets_410(client, response, settings):
    url = path(response)
    later = time.time() + settings.REMINDER_LINK_MAX_AGE_DAYS * 86400 + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        page = client.post(url, answers())
    assert page.status_code == 410
    assert "This link has expired" in page.content.decode()
    nothing_recorded(response)


@pytest.mark.parametrize("other", [Purpose.PAIN, Purpose.UNSUBSCRIBE, Purpose.EXERCISES])
def test_a_token_of_another_purpose_is_refused_both_ways(client, response, other):
    ids = {"patient_id": response.patient_id, "email": response.patient.email}
    wrong = path(response).replace(
        make_token(Purpose.QUESTIONNAIRE, response_id=response.pk, **ids),
        make_token(other, program_id=1, **ids),
    )
    page = client.post(wrong, answers())
    assert page.status_code == 403
    assert "This link cannot be used here" in page.content.decode()
    questionnaire_token = make_token(Purpose.QUESTIONNAIRE, response_id=response.pk, **ids)
    assert client.post(f"/r/p/{questionnaire_token}/", {"score": "5"}).status_code == 403
    assert client.post(f"/r/u/{questionnaire_token}/").status_code == 403
    nothing_recorded(response)
    response.patient.refresh_from_db()
    assert response.patient.reminders_opt_in is True
    assert not PainReport.objects.exists()


def test_a_link_naming_another_patients_questionnaire_opens_nothing(client, response):
    other = PatientFactory()
    url = path(response, patient_id=other.pk, email=other.email)
    page = client.post(url, answers())
    assert page.status_code == 410
    assert "This link is no longer valid" in page.content.decode()
    assert "Rosa" not in page.content.decode()
    nothing_recorded(response)


def test_a_link_sent_to_an_old_address_opens_nothing(client, response):
    url = path(response)
    response.patient.email = "new.address@example.com"
    response.patient.save(update_fields=["email"])
    page = client.post(url, answers())
    assert page.status_code == 410
    nothing_recorded(response)


def test_a_questionnaire_token_without_its_questionnaire_is_invalid(client, response):
    token = make_token(
        Purpose.QUESTIONNAIRE, patient_id=response.patient_id, email=response.patient.email
    )
    assert client.get(f"/r/q/{token}/").status_code == 400
    nothing_recorded(response)
