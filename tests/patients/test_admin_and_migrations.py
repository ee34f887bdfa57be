import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from tests.factories import AssessmentFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

backfill_migration = importlib.import_module(
    "patients.migrations.0003_backfill_patient_search_name"
)


def test_backfill_normalises_every_search_name():
    stale = PatientFactory(first_name="Zoë", last_name="Ñúñez", search_name="")
    accented = PatientFactory(first_name="José", last_name="Pé", search_name="josé pé")
    backfill_migration.backfill(apps, None)
    stale.refresh_from_db()
    accented.refresh_from_db()
    assert stale.search_name == "zoe nunez"
    assert accented.search_name == "jose pe"


@pytest.fixture
def superuser_client(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_admin_cannot_change_or_delete_assessments(superuser_client, therapist):
    assessment = AssessmentFactory(therapist=therapist)
    change = reverse("admin:patients_assessment_change", args=[assessment.pk])
    response = superuser_client.post(change, {"pain_now": "0"})
    assessment.refresh_from_db()
    assert assessment.pain_now == 5
    assert response.status_code in (200, 403)
    delete = reverse("admin:patients_assessment_delete", args=[assessment.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403


def test_admin_cannot_delete_patients(superuser_client):
    patient = PatientFactory()
    delete = reverse("admin:patients_patient_delete", args=[patient.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
