"""Out-of-range dates and ids, and oversized formsets: a clear message, never a 500.

The shared parsing lives in patients/inputs.py; tests/test_bad_input.py walks every URL
with hostile input, these pin the cases the issue reported and the messages people see.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients import inputs
from patients.audit import AuditAction, audit_record
from tests.factories import (
    ExerciseFactory,
    PatientFactory,
    PractitionerFactory,
    TherapistFactory,
)
from tests.treatments.helpers import program_post
from treatments.models import HomeExerciseProgram, VisitNote

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # beyond 64 bits
RANGE_MESSAGE = "Enter a date between 1 Jan 1900 and 31 Dec 2200."


# The shared helpers.


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01"])
def test_clinic_date_field_refuses_dates_outside_the_clinic_range(text):
    field = inputs.ClinicDateField()
    with pytest.raises(Exception) as caught:
        field.clean(text)
    assert RANGE_MESSAGE in caught.value.messages


@pytest.mark.parametrize("text", ["1900-01-01", "2026-11-22", "2200-12-31"])
def test_clinic_date_field_accepts_dates_inside_the_range(text):
    assert inputs.ClinicDateField().clean(text).isoformat() == text


@pytest.mark.parametrize(
    "text", ["0", "-1", HUGE, "9223372036854775808", "1.5", "x", "1\x00", "9" * 10_000]
)
def test_parse_id_refuses_what_cannot_be_a_record_number(text):
    assert inputs.parse_id(text) is None


@pytest.mark.parametrize("text", ["1", "42", "9223372036854775807"])
def test_parse_id_reads_record_numbers(text):
    assert inputs.parse_id(text) == int(text)


# The calendar.


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01", "12345-01-01", "2026-02-30", "x"])
def test_calendar_day_with_a_bad_date_shows_today_with_a_message(client_for, front_desk, date):
    response = client_for(front_desk).get(reverse("scheduling:day"), {"date": date})
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()
    assert "Enter a " in response.content.decode()


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01"])
def test_calendar_week_with_a_bad_date_shows_this_week_with_a_message(client_for, front_desk, date):
    practitioner = PractitionerFactory()
    url = reverse("scheduling:week", args=[practitioner.pk])
    response = client_for(front_desk).get(url, {"date": date})
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()
    assert RANGE_MESSAGE in response.content.decode()


def test_free_slot_search_from_an_out_of_range_date_is_a_form_error(client_for, front_desk):
    response = client_for(front_desk).get(
        reverse("scheduling:free_slots"), {"kind": "follow_up", "date": "9999-12-31", "count": "5"}
    )
    assert response.status_code == 200
    assert RANGE_MESSAGE in response.content.decode()
    assert response.context["slots"] is None


# The audit log.


def test_audit_log_with_dates_beyond_the_calendar_is_a_form_error(client_for, manager):
    audit_record(acting_user=manager, action=AuditAction.LOGIN)
    response = client_for(manager).get(
        reverse("audit:log"), {"date_from": "0001-01-01", "date_to": "9999-12-31"}
    )
    assert response.status_code == 200
    assert RANGE_MESSAGE in response.content.decode()
    assert response.context["page"].events == []


def test_audit_log_with_a_patient_number_beyond_64_bits_is_a_form_error(client_for, manager):
    response = client_for(manager).get(reverse("audit:log"), {"patient": HUGE})
    assert response.status_code == 200
    assert "No patient has this record number." in response.content.decode()


def test_audit_export_with_a_bad_patient_number_is_refused_and_not_logged(client_for, manager):
    response = client_for(manager).get(reverse("audit:export"), {"patient": HUGE})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="export").exists()


def test_audit_log_with_an_unknown_staff_id_beyond_64_bits_is_a_form_error(client_for, manager):
    response = client_for(manager).get(reverse("audit:log"), {"user": HUGE})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


# Ids in forms and URLs.


def _note_post(**overrides):
    data = {
        "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "pain_before": "6",
        "subjective": "Stairs hurt less.",
        "applied-TOTAL_FORMS": "0",
        "applied-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_visit_note_with_an_exercise_id_beyond_64_bits_is_a_form_error(client_for, therapist):
    patient = PatientFactory()
    response = client_for(therapist).post(
        reverse("treatments:note_create", args=[patient.pk]),
        _note_post(exercises_reviewed=[HUGE]),
    )
    assert response.status_code == 200
    assert "is not a valid record number" in response.content.decode()
    assert not VisitNote.objects.exists()


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("patients:detail", [HUGE]),
        ("patients:assessment_detail", [1, HUGE]),
        ("patients:assessment_detail", [HUGE, 1]),
        ("treatments:note_detail", [HUGE]),
        ("scheduling:week", [HUGE]),
        ("scheduling:appointment", [HUGE]),
    ],
)
def test_url_ids_beyond_64_bits_are_not_found(client_for, therapist, name, args):
    response = client_for(therapist).get(reverse(name, args=args))
    assert response.status_code == 404


# Formsets.


def test_a_huge_formset_count_is_refused_quickly_with_a_message(client_for, therapist):
    patient = PatientFactory()
    ExerciseFactory()
    data = program_post([], **{"rx-TOTAL_FORMS": HUGE})
    response = client_for(therapist).post(
        reverse("treatments:program_create", args=[patient.pk]), data
    )
    assert response.status_code == 200
    assert not response.context["formset"].is_valid()
    assert "Too many rows were sent (at most 60); nothing was saved." in response.content.decode()
    # No rows are built: the page is smaller than the empty builder, not 60 rows of errors.
    builder = client_for(therapist).get(reverse("treatments:program_create", args=[patient.pk]))
    assert len(response.content) < len(builder.content)
    assert not HomeExerciseProgram.objects.filter(patient=patient).exists()


def test_every_formset_has_a_hard_absolute_max():
    from treatments import forms

    for formset in (
        forms.PlannedTechniqueFormSet,
        forms.AppliedTechniqueFormSet,
        forms.PrescriptionFormSet,
    ):
        assert formset.validate_max
        assert formset.absolute_max == formset.max_num
        assert issubclass(formset, inputs.BoundedFormSet)


def test_other_therapists_id_in_a_form_is_unchanged_by_parsing():
    """A guard against the helpers being too strict: ordinary ids still resolve."""
    therapist = TherapistFactory()
    assert inputs.parse_id(str(therapist.pk)) == therapist.pk


# Query-string values views read directly.


@pytest.mark.parametrize("value", ["99999999999999999999", "9" * 10_000, "²", "-1"])
def test_visit_note_form_ignores_an_appointment_number_that_cannot_be_one(
    client_for, therapist, value
):
    patient = PatientFactory()
    url = reverse("treatments:note_create", args=[patient.pk])
    response = client_for(therapist).get(url, {"appointment": value})
    assert response.status_code == 200
    assert response.context["form"].initial.get("appointment") is None


@pytest.mark.parametrize("value", ["9" * 10_000, "²"])
def test_plan_form_ignores_an_assessment_number_that_cannot_be_one(client_for, therapist, value):
    from tests.treatments.helpers import signed_assessment

    assessment = signed_assessment(therapist=therapist)
    url = reverse("treatments:plan_create", args=[assessment.patient.pk])
    response = client_for(therapist).get(url, {"assessment": value})
    assert response.status_code == 200
    assert response.context["form"].initial["assessment"] == assessment


@pytest.mark.parametrize("value", ["99999999999999999999", "evil.example", "javascript:x"])
def test_a_next_address_that_is_not_a_path_is_ignored(client_for, front_desk, value):
    from tests.factories import AppointmentFactory

    appointment = AppointmentFactory()
    url = reverse("scheduling:check_in", args=[appointment.pk])
    response = client_for(front_desk).post(url, {"next": value})
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:appointment", args=[appointment.pk])


def test_recurring_form_ignores_a_patient_number_beyond_64_bits(client_for, front_desk):
    response = client_for(front_desk).get(
        reverse("scheduling:recurring"), {"patient": HUGE, "plan": "1"}
    )
    assert response.status_code == 200
    assert "patient" not in response.context["form"].initial


# Every form parses dates and ids through the shared helpers.


def _form_classes():
    import inspect
    from importlib import import_module

    from django import forms

    for module_name in (
        "patients.forms",
        "treatments.forms",
        "clinic.forms",
        "clinic.scheduling.forms",
        "clinic.audit.forms",
        "clinic.reminders.forms",
    ):
        module = import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module_name:
                yield cls


def test_every_date_and_record_field_of_every_form_uses_the_shared_parsers():
    from django import forms

    offenders = []
    for cls in _form_classes():
        for name, field in cls.base_fields.items():
            where = f"{cls.__module__}.{cls.__name__}.{name}"
            if isinstance(field, forms.DateField) and not isinstance(field, inputs.ClinicDateField):
                offenders.append(where)
            if isinstance(field, forms.DateTimeField) and not isinstance(
                field, inputs.ClinicDateTimeField
            ):
                offenders.append(where)
            if isinstance(field, forms.ModelMultipleChoiceField):
                if not isinstance(field, inputs.IdModelMultipleChoiceField):
                    offenders.append(where)
            elif isinstance(field, forms.ModelChoiceField) and not isinstance(
                field, inputs.IdModelChoiceField
            ):
                offenders.append(where)
    assert offenders == []
