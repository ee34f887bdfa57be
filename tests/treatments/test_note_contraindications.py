"""The contraindication gate in visit notes: the same check as plans of care, against the
patient's latest signed screening, on create, on edit and again at signing."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients.models import RecordStatus
from tests.factories import PatientFactory
from tests.treatments.helpers import signed_assessment, technique
from treatments import services
from treatments.models import AppliedTechnique, VisitNote

pytestmark = pytest.mark.django_db

REASON = "Thrust cleared by the orthopaedic surgeon after DEXA review on 3 Nov."


@pytest.fixture
def osteoporotic(therapist):
    """Like William Foster in the demo data: severe osteoporosis on a signed assessment."""
    return signed_assessment(therapist=therapist, precautions=["osteoporosis"]).patient


def _post(rows=(), **overrides) -> dict:
    data = {
        "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "appointment": "",
        "treatment_plan": "",
        "pain_before": "6",
        "pain_after": "3",
        "subjective": "Knee stiff in the mornings.",
        "objective": "",
        "assessment": "",
        "plan": "",
        "applied-TOTAL_FORMS": "3",
        "applied-INITIAL_FORMS": "0",
        "applied-MIN_NUM_FORMS": "0",
        "applied-MAX_NUM_FORMS": "12",
        # What a browser sends for nothing ticked (patients/complete_forms.py).
        "exercises_reviewed": "",
    }
    # Every row's every field, as a browser sends them (empty rows too).
    for index in range(3):
        for name in ("technique", "grade", "minutes", "target", "override_reason"):
            data[f"applied-{index}-{name}"] = ""
    for index, row in enumerate(rows):
        data[f"applied-{index}-technique"] = str(technique(row["technique"]).pk)
        data[f"applied-{index}-grade"] = row.get("grade", "")
        data[f"applied-{index}-minutes"] = row.get("minutes", "")
        data[f"applied-{index}-target"] = row.get("target", "Left knee")
        data[f"applied-{index}-override_reason"] = row.get("override_reason", "")
    data.update(overrides)
    return data


HVLA = {"technique": "hvla_thrust", "grade": "V"}
MOBILIZATION = {"technique": "joint_mobilization", "grade": "III"}


def _create_url(patient):
    return reverse("treatments:note_create", args=[patient.pk])


def _hvla(reason=""):
    return {
        "technique": technique("hvla_thrust"),
        "grade": "V",
        "target": "Left knee",
        "override_reason": reason,
    }


def _overrides():
    return AuditEvent.objects.filter(action="override")


# The view: warnings, refusal, confirmation.


def test_hvla_on_a_severe_osteoporosis_patient_without_a_reason_is_refused(
    client_for, therapist, osteoporotic
):
    response = client_for(therapist).post(_create_url(osteoporotic), _post([HVLA]))
    assert response.status_code == 200
    error = response.context["formset"].forms[0].errors["override_reason"][0]
    assert "High-velocity low-amplitude (HVLA) thrust is contraindicated" in error
    assert "Severe osteoporosis: contraindicated" in error
    page = response.content.decode()
    assert 'id="note-warnings"' in page
    assert not VisitNote.objects.exists() and not AppliedTechnique.objects.exists()
    assert not _overrides().exists()


def test_hvla_with_a_reason_saves_stores_the_reason_and_writes_one_override_event(
    client_for, therapist, osteoporotic
):
    client = client_for(therapist)
    data = _post([{**HVLA, "override_reason": REASON}])
    first = client.post(_create_url(osteoporotic), data)
    # Like a plan: the warnings are shown and a second "Save draft" confirms them.
    assert first.status_code == 200
    assert not VisitNote.objects.exists()
    assert "Save draft" in [str(m) for m in get_messages(first.wsgi_request)][0]
    second = client.post(
        _create_url(osteoporotic), {**data, "warnings_reviewed": first.context["fingerprint"]}
    )
    note = VisitNote.objects.get()
    assert second.status_code == 302
    assert second["Location"] == reverse("treatments:note_detail", args=[note.pk])
    applied = note.techniques.get()
    assert (applied.grade, applied.restriction, applied.override_reason) == (
        "V",
        "contraindicated",
        REASON,
    )
    event = _overrides().get()
    assert (event.actor, event.patient, event.object_type, event.object_id) == (
        therapist,
        osteoporotic,
        "treatments.appliedtechnique",
        str(applied.pk),
    )
    assert "applied despite: Severe osteoporosis: contraindicated" in event.clinical_detail
    assert event.detail == ""
    page = client.get(reverse("treatments:note_detail", args=[note.pk])).content.decode()
    assert REASON in page and "Contraindicated" in page
    # Saving the draft again with the same override does not audit it twice; signing
    # passes the gate.
    edit = reverse("treatments:note_edit", args=[note.pk])
    data["applied-INITIAL_FORMS"] = "1"  # as the edit form renders it: one row stored
    again = client.post(edit, data)
    assert again.status_code == 200  # the warnings again, to confirm
    client.post(edit, {**data, "warnings_reviewed": again.context["fingerprint"]})
    client.post(reverse("treatments:note_sign", args=[note.pk]))
    note.refresh_from_db()
    assert note.status == RecordStatus.SIGNED
    assert _overrides().count() == 1


def test_caution_technique_warns_and_needs_confirmation_but_no_reason(
    client_for, therapist, osteoporotic
):
    client = client_for(therapist)
    data = _post([MOBILIZATION])
    first = client.post(_create_url(osteoporotic), data)
    assert first.status_code == 200
    assert not VisitNote.objects.exists()
    assert "Severe osteoporosis: caution" in first.content.decode()
    assert not first.context["formset"].forms[0].errors
    client.post(
        _create_url(osteoporotic), {**data, "warnings_reviewed": first.context["fingerprint"]}
    )
    applied = AppliedTechnique.objects.get()
    assert (applied.restriction, applied.override_reason) == ("caution", "")
    assert not _overrides().exists()


def test_unrestricted_techniques_save_in_one_post(client_for, therapist):
    patient = signed_assessment(therapist=therapist).patient
    response = client_for(therapist).post(_create_url(patient), _post([HVLA]))
    assert response.status_code == 302
    assert AppliedTechnique.objects.get().restriction == ""


def test_editing_a_draft_to_add_hvla_without_a_reason_is_refused(
    client_for, therapist, osteoporotic
):
    note = services.visit_note_create(
        patient=osteoporotic, acting_user=therapist, visited_at=timezone.now(), subjective="Ok."
    )
    response = client_for(therapist).post(
        reverse("treatments:note_edit", args=[note.pk]), _post([HVLA], subjective="Changed.")
    )
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["override_reason"]
    note.refresh_from_db()
    assert note.subjective == "Ok." and not note.techniques.exists()


# The services: nothing bypasses the gate.


def test_service_refuses_hvla_without_a_reason_and_saves_nothing(therapist, osteoporotic):
    with pytest.raises(ValidationError, match="contraindicated") as error:
        services.visit_note_create(
            patient=osteoporotic,
            acting_user=therapist,
            visited_at=timezone.now(),
            subjective="x",
            techniques=[_hvla()],
        )
    assert "override_reason" in error.value.message_dict
    assert not VisitNote.objects.exists() and not AppliedTechnique.objects.exists()
    assert not AuditEvent.objects.filter(patient=osteoporotic, action="create").exists()


def test_service_update_refuses_hvla_without_a_reason_and_keeps_the_draft(therapist, osteoporotic):
    note = services.visit_note_create(
        patient=osteoporotic,
        acting_user=therapist,
        visited_at=timezone.now(),
        subjective="Before.",
        techniques=[_hvla(REASON)],
    )
    with pytest.raises(ValidationError, match="contraindicated"):
        services.visit_note_update(
            note=note, acting_user=therapist, subjective="After.", techniques=[_hvla()]
        )
    note.refresh_from_db()
    assert note.subjective == "Before."
    assert list(note.techniques.values_list("override_reason", flat=True)) == [REASON]
    assert _overrides().count() == 1


def test_service_stores_the_reason_and_audits_the_override_once(therapist, osteoporotic):
    note = services.visit_note_create(
        patient=osteoporotic,
        acting_user=therapist,
        visited_at=timezone.now(),
        subjective="x",
        techniques=[_hvla(f"  {REASON}  ")],
    )
    assert note.techniques.get().override_reason == REASON
    services.visit_note_update(note=note, acting_user=therapist, techniques=[_hvla(REASON)])
    assert _overrides().count() == 1
    services.visit_note_update(
        note=note, acting_user=therapist, techniques=[_hvla("Another reason.")]
    )
    assert _overrides().count() == 2


def test_a_reason_for_an_unrestricted_technique_is_not_kept(therapist):
    patient = signed_assessment(therapist=therapist).patient
    note = services.visit_note_create(
        patient=patient,
        acting_user=therapist,
        visited_at=timezone.now(),
        subjective="x",
        techniques=[_hvla("Not needed.")],
    )
    assert note.techniques.get().override_reason == ""
    assert not _overrides().exists()


def test_patient_without_a_signed_screening_is_not_restricted(therapist):
    patient = PatientFactory()
    note = services.visit_note_create(
        patient=patient,
        acting_user=therapist,
        visited_at=timezone.now(),
        subjective="x",
        techniques=[_hvla()],
    )
    assert note.techniques.get().restriction == ""


# Signing re-checks against the screening as it stands then.


def test_signing_is_refused_when_a_newer_screening_contraindicates_an_applied_technique(
    client_for, therapist
):
    patient = signed_assessment(therapist=therapist).patient
    note = services.visit_note_create(
        patient=patient,
        acting_user=therapist,
        visited_at=timezone.now(),
        subjective="x",
        techniques=[_hvla()],
    )
    # The draft was fine; then a reassessment finds severe osteoporosis and is signed.
    signed_assessment(therapist=therapist, patient=patient, precautions=["osteoporosis"])
    with pytest.raises(ValidationError, match="Not signed"):
        services.visit_note_sign(note=note, acting_user=therapist)
    response = client_for(therapist).post(reverse("treatments:note_sign", args=[note.pk]))
    assert response.status_code == 302
    message = [str(m) for m in get_messages(response.wsgi_request)][0]
    assert "High-velocity low-amplitude (HVLA) thrust (Severe osteoporosis: contraindicated)" in (
        message
    )
    assert "override reason" in message
    note.refresh_from_db()
    assert note.status == RecordStatus.DRAFT
    assert not AuditEvent.objects.filter(action="sign").exists()


def test_signing_stores_the_restriction_as_the_screening_stands(therapist):
    patient = signed_assessment(therapist=therapist).patient
    note = services.visit_note_create(
        patient=patient,
        acting_user=therapist,
        visited_at=timezone.now(),
        subjective="x",
        techniques=[
            {"technique": technique("joint_mobilization"), "grade": "III", "target": "Knee"}
        ],
    )
    assert note.techniques.get().restriction == ""
    signed_assessment(therapist=therapist, patient=patient, precautions=["osteoporosis"])
    services.visit_note_sign(note=note, acting_user=therapist)
    assert note.techniques.get().restriction == "caution"
