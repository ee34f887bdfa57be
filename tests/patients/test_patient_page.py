import pytest
from django.urls import reverse

from patients import sections
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinical_section(monkeypatch):
    monkeypatch.setattr(sections.patient_page, "_sections", dict(sections.patient_page._sections))
    sections.patient_page.register(
        sections.Section(
            key="test-clinical",
            title="Clinical notes",
            template="clinic/today/manager.html",
            permission="patients.view_assessment",
            load=lambda request, patient: {"marker": "loaded"},
        )
    )


def _section_keys(response):
    return [section.key for section, _ in response.context["sections"]]


@pytest.mark.parametrize("role", ["therapist", "front_desk", "manager"])
def test_staff_who_may_see_patients_get_the_page(client_for, role_users, role):
    patient = PatientFactory(first_name="Ada", last_name="Lovelace")
    response = client_for(role_users[role]).get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 200
    assert "Ada Lovelace" in response.content.decode()


def test_a_user_without_a_role_is_forbidden(client_for):
    from tests.factories import UserFactory

    patient = PatientFactory()
    response = client_for(UserFactory()).get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 403


def test_unknown_patient_is_a_404(client_for, therapist):
    assert client_for(therapist).get(reverse("patients:detail", args=[424242])).status_code == 404


def test_clinical_sections_show_only_to_roles_holding_their_permission(
    client_for, role_users, clinical_section
):
    patient = PatientFactory()
    url = reverse("patients:detail", args=[patient.pk])
    assert "test-clinical" in _section_keys(client_for(role_users["therapist"]).get(url))
    assert "test-clinical" not in _section_keys(client_for(role_users["front_desk"]).get(url))
    assert "test-clinical" not in _section_keys(client_for(role_users["manager"]).get(url))
