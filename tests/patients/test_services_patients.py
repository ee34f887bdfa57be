import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.models import AuditEvent
from patients import services
from patients.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _create(**overrides):
    values = {
        "first_name": "José",
        "last_name": "Núñez García",
        "date_of_birth": dt.date(1970, 3, 4),
        "email": "Jose.Nunez@Example.com ",
        "phone": "(555) 010-1234",
        "preferred_language": "es",
        "timezone": "America/Chicago",
        "reminders_opt_in": True,
    }
    values.update(overrides)
    return services.patient_create(**values)


def test_patient_create_keeps_a_normalised_search_name_phone_and_email(therapist):
    patient = _create(acting_user=therapist)
    patient.refresh_from_db()
    assert patient.search_name == "jose nunez garcia"
    assert patient.phone == "5550101234"
    assert patient.email == "jose.nunez@example.com"
    assert patient.created_by == therapist
    event = AuditEvent.objects.get(action="create", patient=patient)
    assert event.actor == therapist


def test_patient_update_refreshes_the_search_name_and_audits_what_changed(front_desk):
    patient = _create()
    services.patient_update(
        patient=patient,
        first_name="María José",
        last_name="Núñez",
        date_of_birth=patient.date_of_birth,
        email=patient.email,
        phone="+34 600 000 000",
        preferred_language="es",
        timezone="Europe/Madrid",
        reminders_opt_in=False,
        acting_user=front_desk,
    )
    patient.refresh_from_db()
    assert patient.search_name == "maria jose nunez"
    assert patient.phone == "+34600000000"
    event = AuditEvent.objects.get(action="update", patient=patient)
    assert "first_name" in event.detail and "timezone" in event.detail
    assert "email" not in event.detail


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date_of_birth", "future"),
        ("date_of_birth", dt.date(1890, 1, 1)),
        ("phone", "not a phone"),
        ("email", "not-an-email"),
        ("preferred_language", "fr"),
    ],
)
def test_patient_create_refuses_bad_values_and_saves_nothing(field, value):
    if value == "future":
        value = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        _create(**{field: value})
    assert field in error.value.message_dict
    assert Patient.objects.count() == 0


def test_archive_keeps_the_record_and_restore_brings_it_back(front_desk):
    patient = PatientFactory()
    services.patient_archive(patient=patient, acting_user=front_desk)
    patient.refresh_from_db()
    assert patient.is_archived
    first_archived_at = patient.archived_at
    services.patient_archive(patient=patient, acting_user=front_desk)  # twice: no change
    patient.refresh_from_db()
    assert patient.archived_at == first_archived_at
    services.patient_restore(patient=patient, acting_user=front_desk)
    patient.refresh_from_db()
    assert not patient.is_archived
    details = list(
        AuditEvent.objects.filter(patient=patient).order_by("id").values_list("detail", flat=True)
    )
    assert details == ["archived", "restored from archive"]


def test_an_email_change_is_audited_with_the_old_and_new_address(front_desk):
    patient = _create()
    old = patient.email
    services.patient_update(
        patient=patient,
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=patient.date_of_birth,
        email="New.Address@example.com",
        phone=patient.phone,
        preferred_language=patient.preferred_language,
        timezone=patient.timezone,
        reminders_opt_in=patient.reminders_opt_in,
        acting_user=front_desk,
    )
    event = AuditEvent.objects.get(action="update", patient=patient)
    assert event.detail == f"changed: email ({old} → new.address@example.com)"
    assert event.clinical_detail == ""
