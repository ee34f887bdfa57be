"""Pinned query counts: the patient page and the assessment page do not grow with history."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients import services
from tests.factories import PainReportFactory, PatientFactory, TherapistFactory

pytestmark = pytest.mark.django_db


def _history(patient, therapist, values, count):
    """``count`` signed assessments, each amended once, plus an email check-in each."""
    now = timezone.now()
    for n in range(count):
        when = now - dt.timedelta(days=7 * (count - n))
        assessment = services.assessment_create(
            patient=patient, acting_user=therapist, values=values(assessed_at=when)
        )
        services.assessment_sign(assessment=assessment, acting_user=therapist)
        services.assessment_amend(
            assessment=assessment,
            values=values(assessed_at=when, pain_now=4),
            reason="Typo",
            acting_user=therapist,
        )
        PainReportFactory(patient=patient, reported_at=when + dt.timedelta(days=2))


def test_patient_page_for_a_therapist_runs_a_fixed_number_of_queries(
    client_for, therapist, values, django_assert_num_queries
):
    patient = PatientFactory()
    client = client_for(therapist)
    url = reverse("patients:detail", args=[patient.pk])
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 patient,
    # 6 the latest assessments (with therapist and amendment count), 7 the pain
    # scores and the LEFS of the chart (one UNION ALL of tuples), 8 upcoming and past
    # appointments (scheduling's section, one UNION ALL), 9 plans of care, 10 visit
    # notes, 11 the active program with its adherence (treatments' sections), 12 the
    # "view" audit event insert. (The navigation and the sections check permissions: no
    # query for the user's groups.)
    _history(patient, therapist, values, 1)
    with django_assert_num_queries(12):
        first = client.get(url)
    _history(patient, therapist, values, 6)
    with django_assert_num_queries(12):
        more = client.get(url)

    def assessments(response):
        data = {section.key: data for section, data in response.context["sections"]}
        return data["assessments"]["assessments"]

    assert len(assessments(first)) == 1
    assert len(assessments(more)) == 7
    assert more.content.decode().count("<circle") == 7 + 7 + 7  # pain (2 sources) and LEFS


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_patient_page_for_other_roles_has_no_clinical_queries_and_no_view_audit(
    client_for, role_users, therapist, values, django_assert_num_queries, role
):
    patient = PatientFactory()
    _history(patient, therapist, values, 3)
    client = client_for(role_users[role])
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 patient,
    # 6 upcoming and past appointments (one UNION ALL), for front desk 7 the active
    # plans' visit frequency (to book them; no goals or techniques), then the reminder
    # history. No query for the user's groups (permissions decide). No assessment, note
    # or program query, no audit.
    expected = {"front_desk": 8, "manager": 7}[role]
    with django_assert_num_queries(expected):
        response = client.get(reverse("patients:detail", args=[patient.pk]))
    assert response.context["sections"] == [] or all(
        not section.clinical for section, _ in response.context["sections"]
    )
    assert not AuditEvent.objects.filter(action="view", patient=patient).exists()


def test_viewing_the_clinical_patient_page_writes_a_view_event(client_for, therapist):
    patient = PatientFactory()
    client_for(therapist).get(reverse("patients:detail", args=[patient.pk]))
    event = AuditEvent.objects.get(action="view", patient=patient)
    assert event.actor == therapist


def test_assessment_page_runs_a_fixed_number_of_queries(
    client_for, therapist, values, django_assert_num_queries
):
    patient = PatientFactory()
    when = timezone.now() - dt.timedelta(days=1)
    assessment = services.assessment_create(
        patient=patient, acting_user=therapist, values=values(assessed_at=when)
    )
    services.assessment_sign(assessment=assessment, acting_user=therapist)
    client = client_for(therapist)
    url = reverse("patients:assessment_detail", args=[patient.pk, assessment.pk])
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 the assessment with
    # patient, therapist and signer, 6 its amendments with their authors, 7 its addenda
    # with their authors, 8 the "view" audit event insert. (No query for the user's
    # groups: the navigation checks permissions.)
    with django_assert_num_queries(8):
        client.get(url)
    colleague = TherapistFactory()
    for n in range(5):
        services.assessment_amend(
            assessment=assessment,
            values=values(assessed_at=when, pain_now=n % 3 + 3),
            reason=f"Amendment {n}",
            acting_user=therapist,
        )
        services.assessment_addendum_create(
            assessment=assessment, acting_user=colleague, text=f"Addendum {n}"
        )
    with django_assert_num_queries(8):
        response = client.get(url)
    assert len(response.context["amendments"]) == 5
    assert len(response.context["addenda"]) == 5


def test_outcomes_page_runs_a_fixed_number_of_queries(
    client_for, therapist, values, django_assert_num_queries
):
    patient = PatientFactory()
    client = client_for(therapist)
    url = reverse("patients:outcomes", args=[patient.pk])
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 patient,
    # 6 pain scores and LEFS (one UNION ALL of tuples), 7 audit insert. (No query for
    # the user's groups.)
    _history(patient, therapist, values, 1)
    with django_assert_num_queries(7):
        client.get(url)
    _history(patient, therapist, values, 5)
    with django_assert_num_queries(7):
        response = client.get(url)
    assert len(response.context["outcomes"].nprs) == 12


def test_today_lists_the_therapists_own_drafts(client_for, therapist, values):
    from tests.factories import TherapistFactory

    patient = PatientFactory(first_name="Drafty")
    mine = services.assessment_create(patient=patient, acting_user=therapist, values=values())
    other = TherapistFactory()
    services.assessment_create(
        patient=PatientFactory(first_name="Elsewhere"), acting_user=other, values=values()
    )
    signed = services.assessment_create(
        patient=PatientFactory(first_name="Signedy"), acting_user=therapist, values=values()
    )
    services.assessment_sign(assessment=signed, acting_user=therapist)
    html = client_for(therapist).get(reverse("today")).content.decode()
    assert "Assessments to sign" in html
    assert reverse("patients:assessment_detail", args=[patient.pk, mine.pk]) in html
    assert "Elsewhere" not in html and "Signedy" not in html


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_today_drafts_are_not_shown_to_other_roles(client_for, role_users, therapist, values, role):
    services.assessment_create(
        patient=PatientFactory(first_name="Drafty"), acting_user=therapist, values=values()
    )
    html = client_for(role_users[role]).get(reverse("today")).content.decode()
    assert "Assessments to sign" not in html and "Drafty" not in html


def test_today_reads_the_oldest_drafts_in_one_query_however_many(
    therapist, values, django_assert_num_queries
):
    """Today shows the 20 oldest unsigned assessments and says when more wait, reading
    21 rows whatever the backlog (a therapist at a clinic group's size had 138)."""
    from patients.models import Assessment
    from patients.selectors import therapist_drafts

    start = timezone.now() - dt.timedelta(days=200)
    drafts = []
    for count in (3, 30):
        while len(drafts) < count:
            draft = services.assessment_create(
                patient=PatientFactory(), acting_user=therapist, values=values()
            )
            Assessment.objects.filter(pk=draft.pk).update(
                assessed_at=start + dt.timedelta(days=len(drafts))
            )
            drafts.append(draft.pk)
        with django_assert_num_queries(1):
            shown, more = therapist_drafts(therapist, limit=20)
        assert [a.id for a in shown] == drafts[:20]
        first = Assessment.objects.select_related("patient").get(pk=drafts[0])
        assert (shown[0].patient_name, shown[0].kind) == (first.patient.full_name, first.kind)
        # SQLite gives moments to the millisecond.
        assert abs(shown[0].assessed_at - first.assessed_at) < dt.timedelta(milliseconds=1)
        assert more is (count > 20)


def test_today_lists_each_draft_with_its_patient_kind_and_link(client_for, therapist, values):
    patient = PatientFactory(first_name="Dora", last_name="Draft")
    draft = services.assessment_create(patient=patient, acting_user=therapist, values=values())
    html = client_for(therapist).get(reverse("today")).content.decode()
    link = reverse("patients:assessment_detail", args=[patient.pk, draft.pk])
    assert f'<a href="{link}">Dora Draft · {draft.get_kind_display()}</a>' in html


def test_today_says_when_more_drafts_wait_than_it_shows(client_for, therapist, values):
    for _ in range(21):
        services.assessment_create(patient=PatientFactory(), acting_user=therapist, values=values())
    html = client_for(therapist).get(reverse("today")).content.decode()
    assert "More than 20 unsigned assessments wait for your signature" in html
