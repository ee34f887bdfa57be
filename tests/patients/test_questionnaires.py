"""Patient-reported questionnaires on the patients side: scoring, completing, the chart
and the offer on the next assessment (patients/services.py, selectors.py, views.py)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients import charts, selectors, services
from patients.models import (
    PainReport,
    PainSource,
    QuestionnaireResponse,
    QuestionnaireStatus,
    RecordStatus,
)
from tests.factories import AssessmentFactory, PatientFactory
from tests.patients.conftest import assessment_post
from tests.treatments.helpers import signed_assessment

pytestmark = pytest.mark.django_db

ALL_TWOS = [2] * 20  # total 40


def requested(patient, instrument="lefs", **fields):
    return QuestionnaireResponse.objects.create(patient=patient, instrument=instrument, **fields)


def completed(patient, total_answers, *, days_ago=0):
    response = requested(patient)
    services.questionnaire_response_complete(response=response, answers=total_answers)
    when = timezone.now() - dt.timedelta(days=days_ago)
    QuestionnaireResponse.objects.filter(pk=response.pk).update(completed_at=when)
    response.refresh_from_db()
    return response


# Scoring -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total"),
    [
        ([0] * 20, 0),
        ([4] * 20, 80),
        ([4] * 19 + [3], 79),
        ([4] * 19 + [None], None),  # 19 of 20: no total (docs/clinical.md §3)
        ([None] * 20, None),
    ],
)
def test_lefs_is_scored_only_when_all_20_are_answered(answers, total):
    assert services.questionnaire_score(instrument="lefs", answers=answers)[1] == total


@pytest.mark.parametrize(
    "answers", [[5] + [0] * 19, [-1] + [0] * 19, [True] + [0] * 19, [0] * 19, [0] * 21, ["2"] * 20]
)
def test_lefs_answers_out_of_range_or_shape_are_refused(answers):
    with pytest.raises(ValidationError):
        services.questionnaire_score(instrument="lefs", answers=answers)


@pytest.mark.parametrize(("score", "ok"), [(0, True), (10, True), (11, False), (-1, False)])
def test_nprs_is_one_answer_from_0_to_10(score, ok):
    if ok:
        assert services.questionnaire_score(instrument="nprs", answers=[score]) == ([score], score)
    else:
        with pytest.raises(ValidationError):
            services.questionnaire_score(instrument="nprs", answers=[score])


# Completing --------------------------------------------------------------------------


def test_an_incomplete_lefs_names_the_missing_items_and_records_nothing():
    response = requested(PatientFactory())
    answers = [3] * 20
    answers[6] = None
    answers[19] = None
    with pytest.raises(services.QuestionnaireIncomplete) as error:
        services.questionnaire_response_complete(response=response, answers=answers)
    assert error.value.missing == [7, 20]
    response.refresh_from_db()
    assert response.status == QuestionnaireStatus.REQUESTED
    assert response.total is None and response.answers == []
    assert not AuditEvent.objects.exists()


def test_a_complete_lefs_is_scored_completed_and_audited_once():
    patient = PatientFactory()
    response = requested(patient)
    services.questionnaire_response_complete(response=response, answers=ALL_TWOS, ip="192.0.2.1")
    response.refresh_from_db()
    assert (response.status, response.total) == (QuestionnaireStatus.COMPLETED, 40)
    assert response.completed_at is not None
    event = AuditEvent.objects.get()
    assert (event.action, event.patient_id, event.actor_id) == ("create", patient.pk, None)
    with pytest.raises(services.QuestionnaireClosed):
        services.questionnaire_response_complete(response=response, answers=[4] * 20)
    response.refresh_from_db()
    assert response.total == 40


def test_an_expired_questionnaire_cannot_be_completed():
    response = requested(PatientFactory(), status=QuestionnaireStatus.EXPIRED)
    with pytest.raises(services.QuestionnaireClosed):
        services.questionnaire_response_complete(response=response, answers=ALL_TWOS)


def test_an_nprs_answer_is_also_a_pain_report_of_its_own_source():
    patient = PatientFactory()
    response = requested(patient, instrument="nprs")
    services.questionnaire_response_complete(response=response, answers=[8])
    report = PainReport.objects.get(patient=patient)
    assert (report.score, report.source) == (8, PainSource.QUESTIONNAIRE)


def test_linking_to_an_assessment_happens_once_and_only_for_the_same_patient(therapist):
    patient = PatientFactory()
    response = completed(patient, ALL_TWOS)
    other = signed_assessment(therapist=therapist)
    assert not services.questionnaire_response_link(
        response=response, assessment=other, acting_user=therapist
    )
    mine = signed_assessment(therapist=therapist, patient=patient)
    assert services.questionnaire_response_link(
        response=response, assessment=mine, acting_user=therapist
    )
    assert not services.questionnaire_response_link(
        response=response, assessment=mine, acting_user=therapist
    )
    response.refresh_from_db()
    assert response.assessment_id == mine.pk


# The outcome chart ---------------------------------------------------------------------


def test_patient_reported_lefs_are_chart_points_of_their_own_source_in_time_order(therapist):
    patient = PatientFactory()
    signed_assessment(
        therapist=therapist,
        patient=patient,
        lefs_total=60,
        assessed_at=timezone.now() - dt.timedelta(days=20),
    )
    completed(patient, ALL_TWOS, days_ago=5)
    requested(patient)  # not answered: not a point
    outcomes = selectors.patient_outcomes(patient)
    assert [(p.value, p.source) for p in outcomes.lefs] == [
        (60, "assessment"),
        (40, "questionnaire"),
    ]
    assert outcomes.lefs[1].label == "Patient questionnaire"
    assert outcomes.lefs_change is not None and outcomes.lefs_change.points == -20
    chart = charts.outcome_chart(outcomes)
    markup = chart.panels[1].markup
    assert markup.count("<rect") == 1 and 'class="pt-questionnaire"' in markup
    assert markup.count("<circle") == 1


def test_answers_used_in_a_signed_assessment_are_one_point_the_assessments(therapist):
    patient = PatientFactory()
    used = completed(patient, ALL_TWOS, days_ago=3)
    draft = AssessmentFactory(therapist=therapist, patient=patient, lefs_total=40)
    services.questionnaire_response_link(response=used, assessment=draft, acting_user=therapist)
    # While the assessment is a draft the answers are the only point of that day.
    assert [p.source for p in selectors.patient_outcomes(patient).lefs] == ["questionnaire"]
    draft.status, draft.signed_at, draft.signed_by = RecordStatus.SIGNED, timezone.now(), therapist
    draft.save()
    later = completed(patient, [3] * 20, days_ago=0)  # not used in any: its own point
    outcomes = selectors.patient_outcomes(patient)
    assert [(p.value, p.source) for p in outcomes.lefs] == [
        (40, "assessment"),
        (later.total, "questionnaire"),
    ]


def test_outcomes_page_shows_the_patient_reported_point_and_legend_with_fixed_queries(
    client_for, therapist, django_assert_num_queries
):
    patient = PatientFactory()
    completed(patient, ALL_TWOS, days_ago=3)
    completed(patient, [1] * 20, days_ago=1)
    client = client_for(therapist)
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 patient, 6 the pain
    # scores and the LEFS of assessments and questionnaires (one UNION ALL), 7 the audit.
    with django_assert_num_queries(7):
        response = client.get(reverse("patients:outcomes", args=[patient.pk]))
    html = response.content.decode()
    assert html.count('class="pt-questionnaire"') == 2
    assert 'data-testid="legend-questionnaire"' in html
    assert "Patient questionnaire" in html.split('data-testid="lefs-table"')[1]


# The offer on the next assessment ------------------------------------------------------


def test_the_new_assessment_form_offers_the_latest_response_since_the_last_assessment(
    client_for, therapist
):
    patient = PatientFactory()
    completed(patient, [1] * 20, days_ago=9)  # before the last assessment: not offered
    signed_assessment(
        therapist=therapist, patient=patient, assessed_at=timezone.now() - dt.timedelta(days=8)
    )
    older = completed(patient, [3] * 20, days_ago=4)
    latest = completed(patient, ALL_TWOS, days_ago=2)
    assert selectors.questionnaire_offer(patient) == latest
    client = client_for(therapist)
    url = reverse("patients:assessment_create", args=[patient.pk])
    response = client.get(url)
    html = response.content.decode()
    assert 'data-testid="questionnaire-offer"' in html and "total 40/80" in html
    assert f"?questionnaire={latest.pk}" in html
    assert AuditEvent.objects.filter(
        action="view", object_id=str(latest.pk), detail__contains="offered"
    ).exists()
    # "Use these answers" pre-fills the LEFS; an older or unknown id does not.
    used = client.get(url, {"questionnaire": latest.pk})
    form = used.context["form"]
    assert [form.initial[f"lefs_{n}"] for n in range(1, 21)] == ["2"] * 20
    assert 'name="questionnaire_response"' in used.content.decode()
    for value in (older.pk, "x", "99999999999"):
        ignored = client.get(url, {"questionnaire": value})
        assert "lefs_1" not in ignored.context["form"].initial


def test_saving_the_assessment_links_the_response_and_it_is_not_offered_again(
    client_for, therapist
):
    patient = PatientFactory()
    response = completed(patient, ALL_TWOS, days_ago=1)
    client = client_for(therapist)
    url = reverse("patients:assessment_create", args=[patient.pk])
    data = assessment_post(questionnaire_response=str(response.pk))
    assert client.post(url, data).status_code == 302
    response.refresh_from_db()
    assert response.assessment is not None and response.assessment.patient_id == patient.pk
    assert selectors.questionnaire_offer(patient) is None
    assert 'data-testid="questionnaire-offer"' not in client.get(url).content.decode()


def test_another_patients_response_is_never_linked(client_for, therapist):
    patient, other = PatientFactory(), PatientFactory()
    theirs = completed(other, ALL_TWOS)
    client = client_for(therapist)
    data = assessment_post(questionnaire_response=str(theirs.pk))
    url = reverse("patients:assessment_create", args=[patient.pk])
    assert client.post(url, data).status_code == 302
    theirs.refresh_from_db()
    assert theirs.assessment_id is None


def test_the_new_assessment_form_with_an_offer_runs_fixed_queries(
    client_for, therapist, django_assert_num_queries
):
    patient = PatientFactory()
    signed_assessment(
        therapist=therapist, patient=patient, assessed_at=timezone.now() - dt.timedelta(days=8)
    )
    for days in (5, 3, 1):
        completed(patient, ALL_TWOS, days_ago=days)
    client = client_for(therapist)
    url = reverse("patients:assessment_create", args=[patient.pk])
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 patient, 6 the
    # previous assessment, 7 its patient and 8 its "view" audit (the form starts from
    # it), 9 the latest assessment's date, 10 the response offered, 11 its "view" audit.
    with django_assert_num_queries(11):
        client.get(url)
    offer = selectors.questionnaire_offer(patient)
    with django_assert_num_queries(11):
        used = client.get(url, {"questionnaire": offer.pk})
    assert used.context["questionnaire_using"] == offer
