"""A long history on the patient page: the latest records of each list with "show all"
links to full, paginated lists, and query counts that do not grow with the history."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from tests.factories import (
    AssessmentFactory,
    PainReportFactory,
    PatientFactory,
    TreatmentPlanFactory,
    VisitNoteFactory,
)

pytestmark = pytest.mark.django_db


def _history(patient, therapist, count):
    """``count`` each of signed assessments (with LEFS), pain scores from visits, visit
    notes and plans of care, one a week, oldest first."""
    now = timezone.now()
    for n in range(count):
        when = now - dt.timedelta(weeks=count - n)
        assessment = AssessmentFactory(
            patient=patient,
            therapist=therapist,
            assessed_at=when,
            status="signed",
            signed_by=therapist,
            signed_at=when,
            lefs_total=n % 81,
        )
        PainReportFactory(patient=patient, reported_at=when, score=n % 11, source="visit")
        VisitNoteFactory(patient=patient, therapist=therapist, visited_at=when)
        TreatmentPlanFactory(assessment=assessment, start_date=when.date())


def _sections(response):
    return {section.key: data for section, data in response.context["sections"]}


def test_patient_page_shows_the_latest_ten_of_each_list_and_runs_fixed_queries(
    client_for, therapist, django_assert_num_queries
):
    short, long = PatientFactory(), PatientFactory()
    _history(short, therapist, 5)
    _history(long, therapist, 60)
    client = client_for(therapist)
    responses = {}
    for patient in (short, long):
        # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 patient, 6 the
        # latest assessments, 7 the pain scores and LEFS of the chart (one UNION ALL of
        # tuples), 8 upcoming and past appointments (one UNION ALL), 9 the latest plans
        # with their techniques, 10 the latest notes, 11 the active program, 12 the
        # "view" audit.
        with django_assert_num_queries(12):
            responses[patient] = client.get(reverse("patients:detail", args=[patient.pk]))
    few, many = (_sections(responses[p]) for p in (short, long))
    assert len(few["assessments"]["assessments"]) == 5
    assert len(many["assessments"]["assessments"]) == 10
    assert len(many["visit-notes"]["notes"]) == len(many["treatment-plans"]["plans"]) == 10
    assert len(many["assessments"]["other_reports"]) == 10
    # The newest first; the chart still plots the whole history.
    newest = max(a.assessed_at for a in many["assessments"]["assessments"])
    assert many["assessments"]["assessments"][0].assessed_at == newest
    assert len(many["outcomes"]["outcomes"].nprs) == 60
    html = {p: responses[p].content.decode() for p in (short, long)}
    for key in ("assessments", "pain-scores", "visit-notes", "plans"):
        assert f'data-show-all="{key}"' in html[long], key
        assert f'data-show-all="{key}"' not in html[short], key
    assert html[long].count("data-assessment=") == 10
    assert html[long].count("data-note=") == 10
    assert html[long].count("data-plan=") == 10


LISTS = [
    ("patients:assessment_list", "data-assessment="),
    ("treatments:note_list", "data-note="),
    ("treatments:plan_list", "data-plan="),
]


@pytest.mark.parametrize(("name", "marker"), LISTS)
def test_full_lists_are_paginated_with_fixed_queries_and_audited(
    client_for, therapist, django_assert_num_queries, name, marker
):
    short, long = PatientFactory(), PatientFactory()
    _history(short, therapist, 5)
    _history(long, therapist, 60)
    client = client_for(therapist)
    # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 patient, 6 count,
    # 7 the page of records (for plans, their ids, then 8 the plans with therapist and
    # techniques), 8/9 the "view" audit event.
    queries = 9 if name == "treatments:plan_list" else 8
    pages = {}
    for patient in (short, long):
        with django_assert_num_queries(queries):
            pages[patient] = client.get(reverse(name, args=[patient.pk]))
    assert pages[short].content.decode().count(marker) == 5
    assert pages[long].content.decode().count(marker) == 50
    second = client.get(reverse(name, args=[long.pk]), {"page": 2}).content.decode()
    assert second.count(marker) == 10
    assert "Page 2 of 2" in second
    events = AuditEvent.objects.filter(action="view", patient=long, actor=therapist)
    assert events.count() == 2
    assert {e.detail.rsplit(", ", 1)[1] for e in events} == {"page 1", "page 2"}


@pytest.mark.parametrize(
    "name",
    [name for name, _ in LISTS] + ["patients:outcomes"],
)
@pytest.mark.parametrize(
    ("role", "status"), [("therapist", 200), ("front_desk", 403), ("manager", 403), (None, 302)]
)
def test_full_lists_are_for_clinicians_only(client_for, role_users, name, role, status):
    patient = PatientFactory()
    user = role_users[role] if role else None
    response = client_for(user).get(reverse(name, args=[patient.pk]), {"all": "nprs"})
    assert response.status_code == status
    views = AuditEvent.objects.filter(action="view", patient=patient)
    assert views.exists() is (status == 200)
    if status == 302:
        assert response["Location"].startswith(reverse("login"))
    if status == 403:
        assert AuditEvent.objects.filter(action="access_denied", patient=patient).exists()


def _points(patient, count):
    now = timezone.now()
    PainReportFactory._meta.model.objects.bulk_create(
        PainReportFactory.build(
            patient=patient,
            score=n % 11,
            source="visit",
            reported_at=now - dt.timedelta(days=count - n),
        )
        for n in range(count)
    )


def test_outcomes_page_with_500_points_plots_them_all_with_fixed_queries(
    client_for, therapist, django_assert_num_queries
):
    short, long = PatientFactory(), PatientFactory()
    _points(short, 5)
    _points(long, 500)
    client = client_for(therapist)
    pages = {}
    for patient in (short, long):
        # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 patient, 6 the
        # pain scores and the LEFS (one UNION ALL of tuples, not model instances), 7 the
        # audit event.
        with django_assert_num_queries(7):
            pages[patient] = client.get(reverse("patients:outcomes", args=[patient.pk]))
    html = pages[long].content.decode()
    assert html.count("<circle") == 500
    table = html.split('data-testid="nprs-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 10  # header and the 10 latest
    assert 'data-show-all="nprs"' in html
    assert 'data-show-all="nprs"' not in pages[short].content.decode()
    rows = pages[long].context["tables"]["nprs"]["rows"]
    assert [p.at for p in rows] == sorted((p.at for p in rows), reverse=True)


def test_outcomes_all_scores_are_paginated(client_for, therapist, django_assert_num_queries):
    patient = PatientFactory()
    _points(patient, 120)
    client = client_for(therapist)
    url = reverse("patients:outcomes", args=[patient.pk])
    with django_assert_num_queries(7):
        first = client.get(url, {"all": "nprs"})
    assert len(first.context["tables"]["nprs"]["rows"]) == 50
    last = client.get(url, {"all": "nprs", "page": 3})
    assert len(last.context["tables"]["nprs"]["rows"]) == 20
    html = last.content.decode()
    assert "Page 3 of 3" in html and "all=nprs&amp;page=2" in html
    detail = AuditEvent.objects.filter(action="view", patient=patient).values_list(
        "detail", flat=True
    )
    assert set(detail) == {"outcomes, every NPRS score"}


@pytest.mark.parametrize("params", [{"all": "x" * 50}, {"all": "nprs", "page": "-1"}])
def test_outcomes_odd_parameters_show_a_page(client_for, therapist, params):
    patient = PatientFactory()
    _points(patient, 3)
    response = client_for(therapist).get(reverse("patients:outcomes", args=[patient.pk]), params)
    assert response.status_code == 200


def test_chart_titles_are_escaped():
    from patients import charts
    from patients.selectors import ChartPoint, Outcomes

    point = ChartPoint(
        epoch=timezone.now().timestamp(), value=3, source="visit", label="<b>Visit</b>"
    )
    markup = charts.outcome_chart(Outcomes(nprs=[point])).panels[0].markup
    assert "<b>" not in markup and "&lt;b&gt;Visit&lt;/b&gt;" in markup
