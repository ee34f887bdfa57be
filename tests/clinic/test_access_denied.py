"""A refused (403) request for a clinical page is written to the audit log.

Who tried (the user, or nobody for an anonymous request), which record the URL named
(the patient, and the assessment, plan, note or program), the method and path, and the
IP. Refusals of non-clinical pages (the registry, the catalogue, staff pages) and
anonymous redirects to the login page are not access_denied events.
"""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.audit.middleware import NOT_CLINICAL, is_clinical
from clinic.models import AuditEvent
from tests.factories import (
    AssessmentFactory,
    HomeExerciseProgramFactory,
    PatientFactory,
    TherapistFactory,
    TreatmentPlanFactory,
    UserFactory,
    VisitNoteFactory,
)

pytestmark = pytest.mark.django_db


def _denied():
    return list(AuditEvent.objects.filter(action="access_denied"))


def test_front_desk_opening_an_assessment_is_refused_and_audited(client_for, front_desk):
    assessment = AssessmentFactory(clinical_impression="Suspected meniscal tear.")
    url = reverse("patients:assessment_detail", args=[assessment.patient_id, assessment.pk])
    response = client_for(front_desk).get(url, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 403
    page = response.content.decode()
    assert "You don't have access to this page" in page
    assert "meniscal" not in page
    [event] = _denied()
    assert event.actor == front_desk and event.actor_username == front_desk.username
    assert event.patient == assessment.patient
    assert (event.object_type, event.object_id) == ("patients.assessment", str(assessment.pk))
    assert event.detail == f"GET {url}"
    assert event.ip == "10.1.2.3"
    assert event.clinical_detail == ""


# (method, url, the patient, (object_type, object_id)) for each clinical page.
def _urls():
    a = AssessmentFactory()
    p = a.patient
    plan = TreatmentPlanFactory()
    note = VisitNoteFactory()
    program = HomeExerciseProgramFactory()
    assessment = ("patients.assessment", a.pk)
    patient = ("patients.patient", p.pk)
    return [
        ("get", reverse("patients:assessment_edit", args=[p.pk, a.pk]), p, assessment),
        ("get", reverse("patients:assessment_amend", args=[p.pk, a.pk]), p, assessment),
        ("post", reverse("patients:assessment_sign", args=[p.pk, a.pk]), p, assessment),
        ("get", reverse("patients:assessment_create", args=[p.pk]), p, patient),
        ("get", reverse("patients:outcomes", args=[p.pk]), p, patient),
        ("get", reverse("treatments:plan_create", args=[p.pk]), p, patient),
        ("get", reverse("treatments:note_create", args=[p.pk]), p, patient),
        ("get", reverse("treatments:program_create", args=[p.pk]), p, patient),
    ] + [
        (method, reverse(name, args=[obj.pk]), obj.patient, (obj._meta.label_lower, obj.pk))
        for method, name, obj in (
            ("get", "treatments:plan_detail", plan),
            ("post", "treatments:plan_close", plan),
            ("get", "treatments:note_detail", note),
            ("get", "treatments:note_edit", note),
            ("post", "treatments:note_sign", note),
            ("get", "treatments:note_amend", note),
            ("get", "treatments:program_detail", program),
            ("post", "treatments:program_end", program),
            ("get", "treatments:program_handout", program),
        )
    ]


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_every_refused_clinical_page_names_the_patient_and_record(client_for, role_users, role):
    client = client_for(role_users[role])
    for method, url, patient, (object_type, object_id) in _urls():
        AuditEvent.objects.all().delete()
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
        [event] = _denied()
        assert event.actor == role_users[role], url
        assert event.patient == patient, url
        assert (event.object_type, event.object_id) == (object_type, str(object_id)), url
        assert event.detail == f"{method.upper()} {url}"


def test_therapist_refused_a_colleagues_draft_note_is_audited(client_for, therapist):
    colleague = TherapistFactory()
    note = VisitNoteFactory(therapist=colleague)
    url = reverse("treatments:note_edit", args=[note.pk])
    assert client_for(therapist).get(url).status_code == 403
    [event] = _denied()
    assert event.actor == therapist
    assert event.patient == note.patient
    assert (event.object_type, event.object_id) == ("treatments.visitnote", str(note.pk))


def test_anonymous_visitors_are_sent_to_login_and_write_no_event(client):
    assessment = AssessmentFactory()
    url = reverse("patients:assessment_detail", args=[assessment.patient_id, assessment.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert _denied() == []


@pytest.mark.parametrize(
    ("role", "name", "args"),
    [
        ("manager", "patients:edit", "patient"),
        ("manager", "patients:create", None),
        ("front_desk", "treatments:catalogue", None),
        ("front_desk", "treatments:precaution_table", None),
        ("therapist", "audit:log", None),
        ("front_desk", "staff_list", None),
    ],
)
def test_refusals_of_non_clinical_pages_write_no_access_denied(
    client_for, role_users, role, name, args
):
    patient = PatientFactory()
    url = reverse(name, args=[patient.pk] if args else [])
    assert client_for(role_users[role]).get(url).status_code == 403
    assert _denied() == []


def test_a_refusal_naming_records_that_do_not_exist_is_still_audited(client_for):
    # Someone without a role guessing ids: recorded with the ids the URL named.
    client = client_for(UserFactory())
    missing = 2**63 - 1  # the largest id the database holds, and no row has it
    for url, object_id in (
        (reverse("patients:assessment_detail", args=[999999, 888888]), "888888"),
        (reverse("treatments:note_detail", args=[missing]), str(missing)),
        (reverse("patients:outcomes", args=[missing]), str(missing)),
    ):
        AuditEvent.objects.all().delete()
        assert client.get(url).status_code == 403
        [event] = _denied()
        assert event.patient is None
        assert event.object_id == object_id
        assert event.actor_username
    # An id no database can hold names no record at all: "not found" (clinic/middleware.py).
    AuditEvent.objects.all().delete()
    assert client.get(reverse("treatments:note_detail", args=[10**20])).status_code == 404
    assert _denied() == []


def test_allowed_requests_cost_no_extra_query(client_for, therapist, settings):
    assessment = AssessmentFactory(therapist=therapist)
    url = reverse("patients:assessment_detail", args=[assessment.patient_id, assessment.pk])
    client = client_for(therapist)
    client.get(url)  # warm caches (content types, templates)
    with CaptureQueriesContext(connection) as with_middleware:
        assert client.get(url).status_code == 200
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "clinic.audit.middleware.AccessDeniedAuditMiddleware"
    ]
    with CaptureQueriesContext(connection) as without:
        assert client.get(url).status_code == 200
    assert len(with_middleware.captured_queries) == len(without.captured_queries)
    assert _denied() == []


def test_the_middleware_is_installed():
    assert "clinic.audit.middleware.AccessDeniedAuditMiddleware" in settings.MIDDLEWARE


def test_registry_catalogue_and_report_figures_are_the_only_non_clinical_pages():
    from django.urls import get_resolver

    names = {
        f"{namespace}:{name}"
        for namespace in ("patients", "treatments", "reports")
        for name in get_resolver().namespace_dict[namespace][1].reverse_dict
        if isinstance(name, str)
    }
    assert NOT_CLINICAL < names  # no stale entry
    assert is_clinical("patients:assessment_detail")
    assert is_clinical("treatments:note_edit")
    assert not is_clinical("patients:list")
    assert not is_clinical("scheduling:book")
    assert not is_clinical("")
    # The caseload reports' counts and rates are not; the therapist's patients behind them
    # are (clinic/reports/views.py).
    assert not is_clinical("reports:outcomes")
    assert is_clinical("reports:outcomes_patients")


def test_manager_finds_refusals_in_the_audit_log(client_for, front_desk, manager):
    note = VisitNoteFactory(subjective="Knee gave way on the stairs.")
    url = reverse("treatments:note_detail", args=[note.pk])
    client_for(front_desk).get(url)
    page = client_for(manager).get(reverse("audit:log"), {"action": "access_denied"})
    html = page.content.decode()
    [event] = page.context["page"].events
    assert event.actor == front_desk
    assert "Access denied" in html and f"GET {url}" in html and note.patient.full_name in html
    assert "Knee gave way" not in html
