"""Every patients view for each role: allowed, forbidden (403), anonymous (302 to login)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import Assessment
from tests.factories import AssessmentFactory, PatientFactory

pytestmark = pytest.mark.django_db

REGISTRY_VIEWERS = {"therapist", "front_desk", "manager"}
REGISTRY_EDITORS = {"therapist", "front_desk"}
CLINICIANS = {"therapist"}

# (url name, needs an assessment, method, roles allowed)
VIEWS = [
    ("patients:list", False, "get", REGISTRY_VIEWERS),
    ("patients:create", False, "get", REGISTRY_EDITORS),
    ("patients:detail", False, "get", REGISTRY_VIEWERS),
    ("patients:edit", False, "get", REGISTRY_EDITORS),
    ("patients:archive", False, "get", REGISTRY_EDITORS),
    ("patients:outcomes", False, "get", CLINICIANS),
    ("patients:assessment_create", False, "get", CLINICIANS),
    ("patients:assessment_detail", True, "get", CLINICIANS),
    ("patients:assessment_edit", True, "get", CLINICIANS),
    ("patients:assessment_sign", True, "post", CLINICIANS),
    ("patients:assessment_amend", True, "get", CLINICIANS),
]


def _url(name, with_assessment, patient, assessment):
    if name in ("patients:list", "patients:create"):
        return reverse(name)
    if with_assessment:
        return reverse(name, args=[patient.pk, assessment.pk])
    return reverse(name, args=[patient.pk])


@pytest.fixture
def records(therapist):
    patient = PatientFactory()
    assessment = AssessmentFactory(patient=patient, therapist=therapist)
    return patient, assessment


@pytest.mark.parametrize(("name", "with_assessment", "method", "allowed"), VIEWS)
@pytest.mark.parametrize("role", ["therapist", "front_desk", "manager"])
def test_each_role_is_allowed_or_forbidden(
    client_for, role_users, records, role, name, with_assessment, method, allowed
):
    patient, assessment = records
    if name == "patients:assessment_amend":  # amendments are for signed assessments
        Assessment.objects.filter(pk=assessment.pk).update(
            status="signed", signed_at=timezone.now(), signed_by=assessment.therapist
        )
    url = _url(name, with_assessment, patient, assessment)
    response = getattr(client_for(role_users[role]), method)(url)
    if role in allowed:
        assert response.status_code in (200, 302)
        if method == "get":
            assert response.status_code == 200
    else:
        assert response.status_code == 403
    if name == "patients:assessment_sign":
        assessment.refresh_from_db()
        assert assessment.status == ("signed" if role in allowed else "draft")


def test_another_patients_assessment_id_in_the_url_is_a_404(client_for, therapist, records):
    _, assessment = records
    other = PatientFactory()
    client = client_for(therapist)
    for name in ("assessment_detail", "assessment_edit", "assessment_amend"):
        url = reverse(f"patients:{name}", args=[other.pk, assessment.pk])
        assert client.get(url).status_code == 404
    sign = reverse("patients:assessment_sign", args=[other.pk, assessment.pk])
    assert client.post(sign).status_code == 404
    assessment.refresh_from_db()
    assert assessment.status == "draft"


def test_unknown_ids_are_404s_not_500s(client_for, therapist):
    client = client_for(therapist)
    assert client.get(reverse("patients:edit", args=[99999])).status_code == 404
    assert client.get(reverse("patients:outcomes", args=[99999])).status_code == 404
    assert client.get(reverse("patients:assessment_create", args=[99999])).status_code == 404
    assert client.get("/patients/abc/").status_code == 404


def test_front_desk_sees_no_clinical_content_on_any_page_it_can_open(
    client_for, front_desk, therapist
):
    patient = PatientFactory(first_name="Carmen", last_name="Ruiz")
    AssessmentFactory(
        patient=patient,
        therapist=therapist,
        suspected_causes=["plantar_fasciitis"],
        precautions=["anticoagulation"],
        clinical_impression="Chronic plantar heel pain SECRET-IMPRESSION",
        pain_now=6,
        lefs_total=44,
        xray_indicated=True,
        status="signed",
        signed_at=timezone.now(),
        signed_by=therapist,
    )
    client = client_for(front_desk)
    pages = [
        reverse("patients:list"),
        reverse("patients:list") + "?q=carmen",
        reverse("patients:detail", args=[patient.pk]),
        reverse("patients:edit", args=[patient.pk]),
        reverse("patients:archive", args=[patient.pk]),
        reverse("today"),
    ]
    forbidden_words = [
        "SECRET-IMPRESSION",
        "Plantar fasciitis",
        "Anticoagulant",
        "X-ray",
        "LEFS",
        "NPRS",
        "Pain now",
        "Assessment",
        "Outcomes",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Carmen" in html or url == reverse("today")
        for word in forbidden_words:
            assert word not in html, f"{word!r} shown to front desk on {url}"
