"""Plans of care: screening warnings before saving, overrides, grades, roles and audit."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients.models import RecordStatus
from tests.factories import AssessmentFactory, TherapistFactory
from tests.treatments.helpers import plan_post, signed_assessment, technique
from treatments import services
from treatments.models import PlannedTechnique, PlanStatus, TreatmentPlan

pytestmark = pytest.mark.django_db


def _create_url(patient):
    return reverse("treatments:plan_create", args=[patient.pk])


# Roles.


@pytest.mark.parametrize(
    ("role", "status"), [("therapist", 200), ("front_desk", 403), ("manager", 403)]
)
def test_plan_form_is_for_therapists_only(client_for, role_users, role, status):
    assessment = signed_assessment()
    response = client_for(role_users[role]).get(_create_url(assessment.patient))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("role", "status"), [("therapist", 200), ("front_desk", 403), ("manager", 403)]
)
def test_plan_page_is_for_therapists_only(client_for, role_users, role, status):
    assessment = signed_assessment(precautions=["osteoporosis"])
    plan = _plan_with(assessment, [("joint_mobilization", "III", "")])
    response = client_for(role_users[role]).get(reverse("treatments:plan_detail", args=[plan.pk]))
    assert response.status_code == status
    if status == 403:
        assert "Joint mobilization" not in response.content.decode()


def _plan_with(assessment, rows):
    return services.treatment_plan_create(
        patient=assessment.patient,
        assessment=assessment,
        acting_user=assessment.therapist,
        goals="Walk a mile.",
        visits_per_week=2,
        weeks=6,
        start_date=timezone.localdate(),
        techniques=[
            {"technique": technique(code), "grade": grade, "target": "Knee", "override_reason": why}
            for code, grade, why in rows
        ],
    )


# Warnings before saving.


def test_form_shows_the_assessments_restrictions_before_anything_is_posted(client_for, therapist):
    assessment = signed_assessment(precautions=["anticoagulation"], xray_indicated=True)
    page = client_for(therapist).get(_create_url(assessment.patient)).content.decode()
    assert "Screening for this assessment" in page
    assert "Anticoagulant therapy or bleeding disorder: contraindicated" in page
    assert "Ottawa rule positive (x-ray indicated): caution" in page


def test_caution_technique_needs_a_second_confirming_post(client_for, therapist):
    assessment = signed_assessment(precautions=["osteoporosis"])
    client = client_for(therapist)
    data = plan_post(assessment, [{"technique": "joint_mobilization", "grade": "III"}])
    first = client.post(_create_url(assessment.patient), data)
    assert first.status_code == 200
    assert not TreatmentPlan.objects.exists()
    page = first.content.decode()
    assert "Check before saving" in page
    assert "Severe osteoporosis: caution" in page
    fingerprint = first.context["fingerprint"]
    second = client.post(
        _create_url(assessment.patient), {**data, "warnings_reviewed": fingerprint}
    )
    plan = TreatmentPlan.objects.get()
    assert second.status_code == 302
    assert second["Location"] == reverse("treatments:plan_detail", args=[plan.pk])
    planned = plan.techniques.get()
    assert (planned.restriction, planned.override_reason) == ("caution", "")


def test_a_stale_confirmation_does_not_skip_new_warnings(client_for, therapist):
    assessment = signed_assessment(precautions=["osteoporosis"])
    client = client_for(therapist)
    data = plan_post(assessment, [{"technique": "joint_mobilization", "grade": "III"}])
    fingerprint = client.post(_create_url(assessment.patient), data).context["fingerprint"]
    # The therapist adds another restricted technique after confirming the first set.
    more = plan_post(
        assessment,
        [
            {"technique": "joint_mobilization", "grade": "III"},
            {"technique": "muscle_energy", "target": "Hamstrings"},
        ],
        warnings_reviewed=fingerprint,
    )
    response = client.post(_create_url(assessment.patient), more)
    assert response.status_code == 200
    assert not TreatmentPlan.objects.exists()


def test_unrestricted_plan_saves_in_one_post_and_is_audited(client_for, therapist):
    assessment = signed_assessment(therapist=therapist)
    response = client_for(therapist).post(
        _create_url(assessment.patient),
        plan_post(assessment, [{"technique": "hvla_thrust", "grade": "V", "target": "Ankle"}]),
    )
    plan = TreatmentPlan.objects.get()
    assert response.status_code == 302
    assert (plan.visits_per_week, plan.weeks, plan.therapist) == (2, 6, therapist)
    assert plan.techniques.get().restriction == ""
    assert AuditEvent.objects.filter(
        action="create", actor=therapist, patient=assessment.patient, object_id=str(plan.pk)
    ).exists()


# Contraindicated: refused without an override reason.


def test_contraindicated_technique_without_reason_is_refused(client_for, therapist):
    assessment = signed_assessment(xray_indicated=True)  # Ottawa positive
    response = client_for(therapist).post(
        _create_url(assessment.patient),
        plan_post(assessment, [{"technique": "hvla_thrust", "grade": "V"}]),
    )
    assert response.status_code == 200
    assert not TreatmentPlan.objects.exists()
    errors = response.context["formset"].forms[0].errors["override_reason"][0]
    assert "contraindicated" in errors
    assert "Ottawa rule positive" in errors


def test_override_reason_is_stored_shown_and_audited(client_for, therapist):
    assessment = signed_assessment(precautions=["dvt"])
    client = client_for(therapist)
    reason = "Haematoma resolved on ultrasound 12 Nov; cleared by the GP."
    data = plan_post(
        assessment,
        [{"technique": "soft_tissue_mobilization", "target": "Calf", "override_reason": reason}],
    )
    first = client.post(_create_url(assessment.patient), data)
    assert not TreatmentPlan.objects.exists()
    client.post(
        _create_url(assessment.patient),
        {**data, "warnings_reviewed": first.context["fingerprint"]},
    )
    planned = PlannedTechnique.objects.get()
    assert planned.restriction == "contraindicated"
    assert planned.override_reason == reason
    event = AuditEvent.objects.get(action="override")
    assert event.actor == therapist
    assert event.patient == assessment.patient
    assert event.object_type == "treatments.plannedtechnique"
    assert "DVT or haematoma" in event.clinical_detail and reason in event.clinical_detail
    assert event.detail == ""
    page = client.get(reverse("treatments:plan_detail", args=[planned.plan_id])).content.decode()
    assert reason in page
    assert "Contraindicated" in page


def test_service_refuses_a_contraindicated_technique_without_reason():
    assessment = signed_assessment(precautions=["infection"])
    with pytest.raises(ValidationError, match="contraindicated"):
        _plan_with(assessment, [("muscle_energy", "", "")])
    assert not TreatmentPlan.objects.exists()


def test_override_reason_on_an_unrestricted_technique_is_not_kept():
    assessment = signed_assessment()
    plan = _plan_with(assessment, [("joint_mobilization", "II", "not needed")])
    assert plan.techniques.get().override_reason == ""
    assert not AuditEvent.objects.filter(action="override").exists()


def test_manager_edits_to_the_table_change_the_check():
    from treatments.models import PrecautionRule

    PrecautionRule.objects.filter(precaution="myositis", technique__code="muscle_energy").delete()
    assessment = signed_assessment(precautions=["myositis"])
    plan = _plan_with(assessment, [("muscle_energy", "", "")])
    assert plan.techniques.get().restriction == ""


# Grades.


@pytest.mark.parametrize(
    ("code", "grade", "ok"),
    [
        ("joint_mobilization", "I", True),
        ("joint_mobilization", "IV", True),
        ("joint_mobilization", "V", False),
        ("joint_mobilization", "", False),
        ("hvla_thrust", "V", True),
        ("hvla_thrust", "III", False),
        ("soft_tissue_mobilization", "", True),
        ("soft_tissue_mobilization", "II", False),
        ("muscle_energy", "", True),
        ("muscle_energy", "I", False),
    ],
)
def test_grade_must_be_one_the_technique_allows(client_for, therapist, code, grade, ok):
    assessment = signed_assessment()
    response = client_for(therapist).post(
        _create_url(assessment.patient),
        plan_post(assessment, [{"technique": code, "grade": grade}]),
    )
    assert TreatmentPlan.objects.exists() is ok
    if not ok:
        assert response.status_code == 200
        assert response.context["formset"].forms[0].errors["grade"]


def test_unknown_grade_and_missing_target_are_form_errors(client_for, therapist):
    assessment = signed_assessment()
    data = plan_post(
        assessment, [{"technique": "joint_mobilization", "grade": "VII", "target": ""}]
    )
    response = client_for(therapist).post(_create_url(assessment.patient), data)
    row = response.context["formset"].forms[0]
    assert "grade" in row.errors and "target" in row.errors
    assert not TreatmentPlan.objects.exists()


# Bad input and refusals.


def test_archived_patient_gets_a_clear_refusal(client_for, therapist):
    assessment = signed_assessment()
    patient = assessment.patient
    patient.archived_at = timezone.now()
    patient.save()
    client = client_for(therapist)
    page = client.get(_create_url(patient))
    assert page.status_code == 409
    assert "is archived" in page.content.decode()
    post = client.post(_create_url(patient), plan_post(assessment))
    assert post.status_code == 409
    assert not TreatmentPlan.objects.exists()
    with pytest.raises(ValidationError, match="archived"):
        _plan_with(assessment, [])


def test_another_patients_assessment_is_refused(client_for, therapist):
    mine = signed_assessment()
    theirs = signed_assessment()
    response = client_for(therapist).post(_create_url(mine.patient), plan_post(theirs))
    assert response.status_code == 200
    assert "assessment" in response.context["form"].errors
    assert not TreatmentPlan.objects.exists()
    with pytest.raises(ValidationError, match="another patient"):
        services.treatment_plan_create(
            patient=mine.patient,
            assessment=theirs,
            acting_user=therapist,
            goals="g",
            visits_per_week=1,
            weeks=1,
            start_date=timezone.localdate(),
            techniques=[],
        )


def test_draft_assessment_cannot_be_planned_from(client_for, therapist):
    draft = AssessmentFactory(status=RecordStatus.DRAFT)
    response = client_for(therapist).get(_create_url(draft.patient))
    assert response.status_code == 409
    assert "no signed assessment" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("visits_per_week", "0"),
        ("visits_per_week", "8"),
        ("weeks", "53"),
        ("weeks", "abc"),
        ("start_date", "not a date"),
        ("goals", "x" * 5001),
        ("goals", ""),
    ],
)
def test_bad_plan_fields_are_form_errors(client_for, therapist, field, value):
    assessment = signed_assessment()
    response = client_for(therapist).post(
        _create_url(assessment.patient), plan_post(assessment, **{field: value})
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not TreatmentPlan.objects.exists()


def test_unknown_patient_is_404(client_for, therapist):
    assert (
        client_for(therapist).get(reverse("treatments:plan_create", args=[999999])).status_code
        == 404
    )


# Completing and discontinuing.


def test_plan_can_be_completed_once(client_for, therapist):
    plan = _plan_with(signed_assessment(), [])
    client = client_for(therapist)
    url = reverse("treatments:plan_close", args=[plan.pk])
    assert client.post(url, {"status": "completed"}).status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED and plan.ended_at is not None
    again = client.post(url, {"status": "discontinued", "reason": "moved away"})
    assert again.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert AuditEvent.objects.filter(action="update", object_id=str(plan.pk)).count() == 1


def test_discontinuing_needs_a_reason(client_for, therapist):
    plan = _plan_with(signed_assessment(), [])
    client = client_for(therapist)
    url = reverse("treatments:plan_close", args=[plan.pk])
    assert client.post(url, {"status": "discontinued", "reason": " "}).status_code == 400
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    client.post(url, {"status": "discontinued", "reason": "Patient moved away."})
    plan.refresh_from_db()
    assert (plan.status, plan.end_reason) == (PlanStatus.DISCONTINUED, "Patient moved away.")


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_only_therapists_close_plans(client_for, role_users, role):
    plan = _plan_with(signed_assessment(), [])
    response = client_for(role_users[role]).post(
        reverse("treatments:plan_close", args=[plan.pk]), {"status": "completed"}
    )
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE


# Audit and query count.


def test_viewing_a_plan_is_audited(client_for, therapist):
    plan = _plan_with(signed_assessment(), [])
    client_for(therapist).get(reverse("treatments:plan_detail", args=[plan.pk]))
    assert AuditEvent.objects.filter(
        action="view",
        actor=therapist,
        object_type="treatments.treatmentplan",
        object_id=str(plan.pk),
    ).exists()


def test_plan_page_query_count_does_not_grow_with_techniques_or_notes(
    client_for, therapist, django_assert_num_queries
):
    from treatments.models import VisitNote

    assessment = signed_assessment(precautions=["osteoporosis"])
    small = _plan_with(assessment, [("joint_mobilization", "III", "")])
    big = _plan_with(
        assessment,
        [
            ("joint_mobilization", "III", ""),
            ("soft_tissue_mobilization", "", ""),
            ("muscle_energy", "", ""),
        ],
    )
    for _ in range(5):
        VisitNote.objects.create(
            patient=assessment.patient, therapist=therapist, treatment_plan=big
        )
    client = client_for(therapist)
    for plan in (small, big):
        # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 plan with patient,
        # therapist and assessment, 6 planned techniques with technique, 7 the latest
        # visit notes, 8 audit insert (view). (No query for the user's groups.)
        with django_assert_num_queries(8):
            assert client.get(reverse("treatments:plan_detail", args=[plan.pk])).status_code == 200


def test_plan_page_lists_the_latest_visits_whatever_the_plans_length(
    client_for, therapist, django_assert_num_queries
):
    import datetime as dt

    from treatments.models import VisitNote
    from treatments.views import PLAN_VISITS_SHOWN

    assessment = signed_assessment()
    plan = _plan_with(assessment, [])
    client = client_for(therapist)
    url = reverse("treatments:plan_detail", args=[plan.pk])
    first = timezone.now() - dt.timedelta(days=400)

    def add_visits(count: int) -> list[int]:
        start = VisitNote.objects.filter(treatment_plan=plan).count()
        return [
            VisitNote.objects.create(
                patient=assessment.patient,
                therapist=therapist,
                treatment_plan=plan,
                visited_at=first + dt.timedelta(days=start + i),
            ).pk
            for i in range(count)
        ]

    notes = add_visits(3)
    with django_assert_num_queries(8):
        page = client.get(url).content.decode()
    assert all(reverse("treatments:note_detail", args=[pk]) in page for pk in notes)
    assert "Show all visits" not in page
    notes += add_visits(PLAN_VISITS_SHOWN * 3)
    with django_assert_num_queries(8):
        page = client.get(url).content.decode()
    shown = [pk for pk in notes if reverse("treatments:note_detail", args=[pk]) + '"' in page]
    assert shown == notes[-PLAN_VISITS_SHOWN:]
    assert "Show all visits" in page
    every = client.get(url, {"all": "1"}).content.decode()
    assert all(reverse("treatments:note_detail", args=[pk]) + '"' in every for pk in notes)


def test_other_therapists_see_plans_too(client_for):
    plan = _plan_with(signed_assessment(), [])
    other = TherapistFactory()
    assert (
        client_for(other).get(reverse("treatments:plan_detail", args=[plan.pk])).status_code == 200
    )


def test_showing_the_screening_is_audited(client_for, therapist):
    assessment = signed_assessment(precautions=["dvt"])
    client_for(therapist).get(_create_url(assessment.patient))
    assert AuditEvent.objects.filter(
        action="view",
        actor=therapist,
        patient=assessment.patient,
        object_type="patients.assessment",
        object_id=str(assessment.pk),
    ).exists()
