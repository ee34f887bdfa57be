import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.models import AuditEvent
from patients import services
from patients.models import Assessment, AssessmentAmendment, PainReport, PainSource
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    return PatientFactory(date_of_birth=dt.date(1980, 5, 5))


def test_create_computes_and_stores_lefs_total_and_ottawa(patient, therapist, values):
    assessment = services.assessment_create(
        patient=patient,
        acting_user=therapist,
        values=values(
            lefs_answers=[4] * 10 + [2] * 10,
            ottawa_acute_ankle_injury=True,
            ottawa_malleolar_zone_pain=True,
            ottawa_tenderness_posterior_fibula_lateral_malleolus=True,
        ),
    )
    assessment.refresh_from_db()
    assert assessment.lefs_total == 60
    assert assessment.lefs_percent == 75.0
    assert assessment.xray_ankle_indicated and assessment.xray_indicated
    assert not assessment.xray_foot_indicated and not assessment.xray_knee_indicated
    assert assessment.status == "draft"
    assert AuditEvent.objects.filter(action="create", object_id=str(assessment.pk)).exists()


def test_an_incomplete_lefs_is_stored_without_a_total(patient, therapist, values):
    assessment = services.assessment_create(
        patient=patient, acting_user=therapist, values=values(lefs_answers=[4] * 19 + [None])
    )
    assessment.refresh_from_db()
    assert assessment.lefs_total is None
    assert assessment.lefs_answers[-1] is None
    assert assessment.lefs_answered == 19


def test_knee_rule_uses_the_age_on_the_assessment_date(therapist, values):
    # 55th birthday on 10 June: an assessment on 9 June is at 54, on 10 June at 55.
    patient = PatientFactory(date_of_birth=dt.date(1971, 6, 10))
    zone = timezone.get_current_timezone()
    knee_examined = {"ottawa_acute_knee_injury": True}
    before = services.assessment_create(
        patient=patient,
        acting_user=therapist,
        values=values(assessed_at=dt.datetime(2026, 6, 9, 10, tzinfo=zone), **knee_examined),
    )
    on_birthday = services.assessment_create(
        patient=patient,
        acting_user=therapist,
        values=values(assessed_at=dt.datetime(2026, 6, 10, 10, tzinfo=zone), **knee_examined),
    )
    assert before.xray_knee_indicated is False
    assert on_birthday.xray_knee_indicated is True
    assert on_birthday.xray_indicated is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"pain_now": 11}, "pain_now"),
        ({"pain_best": 8, "pain_worst": 7}, "pain_best"),
        ({"lefs_answers": [5] + [3] * 19}, "lefs_answers"),
        ({"assessed_at": "future"}, "assessed_at"),
        ({"onset_date": "future"}, "onset_date"),
        ({"onset_date": dt.date(1970, 1, 1)}, "onset_date"),
        ({"suspected_causes": ["other"], "suspected_cause_other": ""}, "suspected_cause_other"),
        ({"clinical_impression": "x" * 1_000_000}, "clinical_impression"),
        ({"suspected_causes": ["gout"]}, "suspected_causes"),
        ({"precautions": "fracture"}, "precautions"),
        ({"pain_qualities": ["sharp", 3]}, "pain_qualities"),
    ],
)
def test_create_refuses_bad_values_and_saves_nothing(patient, therapist, values, overrides, field):
    if overrides.get("assessed_at") == "future":
        overrides["assessed_at"] = timezone.now() + dt.timedelta(days=2)
    if overrides.get("onset_date") == "future":
        overrides["onset_date"] = timezone.localdate() + dt.timedelta(days=3)
    with pytest.raises(ValidationError) as error:
        services.assessment_create(
            patient=patient, acting_user=therapist, values=values(**overrides)
        )
    assert field in error.value.message_dict
    assert Assessment.objects.count() == 0
    assert AuditEvent.objects.filter(action="create").count() == 0


def test_a_draft_can_be_updated(patient, therapist, values):
    assessment = services.assessment_create(patient=patient, acting_user=therapist, values=values())
    updated = services.assessment_update(
        assessment=assessment, values=values(pain_now=3, pain_best=1), acting_user=therapist
    )
    assert Assessment.objects.get(pk=assessment.pk).pain_now == 3
    assert updated.pain_best == 1
    assert AuditEvent.objects.filter(action="update", object_id=str(assessment.pk)).count() == 1


def test_signing_locks_the_assessment_and_adds_its_pain_to_the_chart(patient, therapist, values):
    assessment = services.assessment_create(patient=patient, acting_user=therapist, values=values())
    signed = services.assessment_sign(assessment=assessment, acting_user=therapist)
    assert signed.is_signed and signed.signed_by == therapist and signed.signed_at
    report = PainReport.objects.get(assessment=assessment)
    assert (report.score, report.source) == (5, PainSource.ASSESSMENT)
    assert AuditEvent.objects.filter(action="sign", object_id=str(assessment.pk)).count() == 1

    with pytest.raises(services.AssessmentLocked):
        services.assessment_update(
            assessment=assessment, values=values(pain_now=2, pain_best=1), acting_user=therapist
        )
    with pytest.raises(services.AssessmentLocked):
        services.assessment_sign(assessment=assessment, acting_user=therapist)
    fresh = Assessment.objects.get(pk=assessment.pk)
    assert fresh.pain_now == 5
    assert PainReport.objects.filter(assessment=assessment).count() == 1


def test_an_amendment_records_who_when_why_and_what_and_keeps_the_original(
    patient, therapist, values
):
    assessment = services.assessment_create(
        patient=patient,
        acting_user=therapist,
        values=values(knee_to_wall_left_cm=Decimal("10.0"), knee_to_wall_right_cm=Decimal("9.0")),
    )
    services.assessment_sign(assessment=assessment, acting_user=therapist)
    amendment = services.assessment_amend(
        assessment=assessment,
        values=values(
            assessed_at=assessment.assessed_at,
            pain_now=4,
            knee_to_wall_left_cm=Decimal("10.0"),
            knee_to_wall_right_cm=Decimal("8.0"),
            lefs_answers=[3] * 19 + [None],
        ),
        reason="Transcription error in pain score and right knee-to-wall.",
        acting_user=therapist,
    )
    assert amendment.author == therapist and amendment.created_at
    assert amendment.changes == {
        "pain_now": {"old": 5, "new": 4},
        "knee_to_wall_right_cm": {"old": "9.0", "new": "8.0"},
        "lefs_answers": {"old": [3] * 20, "new": [3] * 19 + [None]},
        "lefs_total": {"old": 60, "new": None},
    }
    assessment.refresh_from_db()
    assert assessment.pain_now == 4 and assessment.is_signed
    # The chart point follows the amended score.
    assert PainReport.objects.get(assessment=assessment).score == 4
    event = AuditEvent.objects.get(action="amend")
    assert "pain_now" in event.clinical_detail and event.detail == ""


def test_an_amendment_needs_a_reason_and_a_signed_assessment(patient, therapist, values):
    assessment = services.assessment_create(patient=patient, acting_user=therapist, values=values())
    with pytest.raises(services.AssessmentNotSigned):
        services.assessment_amend(
            assessment=assessment, values=values(pain_now=4), reason="x", acting_user=therapist
        )
    services.assessment_sign(assessment=assessment, acting_user=therapist)
    with pytest.raises(ValidationError):
        services.assessment_amend(
            assessment=assessment, values=values(pain_now=4), reason="  ", acting_user=therapist
        )
    assert AssessmentAmendment.objects.count() == 0
    assert Assessment.objects.get(pk=assessment.pk).pain_now == 5


def test_an_amendment_that_changes_nothing_records_nothing(patient, therapist, values):
    same = values(assessed_at=timezone.now() - dt.timedelta(hours=1))
    assessment = services.assessment_create(patient=patient, acting_user=therapist, values=same)
    services.assessment_sign(assessment=assessment, acting_user=therapist)
    assert (
        services.assessment_amend(
            assessment=assessment, values=same, reason="x", acting_user=therapist
        )
        is None
    )
    assert AssessmentAmendment.objects.count() == 0


def test_an_invalid_amendment_changes_nothing(patient, therapist, values):
    assessment = services.assessment_create(patient=patient, acting_user=therapist, values=values())
    services.assessment_sign(assessment=assessment, acting_user=therapist)
    with pytest.raises(ValidationError):
        services.assessment_amend(
            assessment=assessment, values=values(pain_now=12), reason="typo", acting_user=therapist
        )
    assert Assessment.objects.get(pk=assessment.pk).pain_now == 5
    assert AssessmentAmendment.objects.count() == 0
