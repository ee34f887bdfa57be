"""The Ottawa rules by their inclusion criteria, as the therapist sees them (docs/clinical.md)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from patients import services
from patients.models import Assessment, AssessmentAmendment
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _born_years_ago(years: int) -> dt.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - dt.timedelta(days=30)


@pytest.fixture
def patient_60():
    return PatientFactory(date_of_birth=_born_years_ago(60))


def _create(client, patient, **overrides):
    from tests.patients.conftest import assessment_post

    return client.post(
        reverse("patients:assessment_create", args=[patient.pk]), assessment_post(**overrides)
    )


def _verdict(page: str, rule: str) -> str:
    marker = f'data-testid="ottawa-{rule}" data-verdict="'
    start = page.index(marker) + len(marker)
    end = page.index("</dd>", start)
    return page[start:end]


def test_knee_rule_age_55_alone_indicates_xray_after_acute_injury(
    client_for, therapist, patient_60
):
    client = client_for(therapist)
    response = _create(client, patient_60, ottawa_acute_knee_injury="True")
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert assessment.ottawa_knee_verdict == "indicated"
    assert assessment.xray_knee_indicated and assessment.xray_indicated
    page = client.get(response["Location"]).content.decode()
    assert _verdict(page, "knee") == 'indicated">X-ray indicated'
    assert 'data-testid="xray-alert"' in page


def test_knee_rule_does_not_apply_without_acute_injury(client_for, therapist, patient_60):
    client = client_for(therapist)
    response = _create(
        client,
        patient_60,
        ottawa_acute_knee_injury="False",
        ottawa_knee_isolated_patella_tenderness="True",
    )
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert assessment.ottawa_knee_verdict == "does_not_apply"
    assert not assessment.xray_indicated
    page = client.get(response["Location"]).content.decode()
    assert _verdict(page, "knee") == 'does_not_apply">Rule does not apply: no acute knee injury'
    assert "Not indicated" not in page


def test_rules_not_examined_read_not_examined(client_for, therapist, patient_60):
    client = client_for(therapist)
    response = _create(client, patient_60)
    assessment = Assessment.objects.get()
    verdicts = {
        assessment.ottawa_ankle_verdict,
        assessment.ottawa_foot_verdict,
        assessment.ottawa_knee_verdict,
    }
    assert verdicts == {"not_examined"}
    page = client.get(response["Location"]).content.decode()
    assert _verdict(page, "knee") == ('not_examined">Not examined: acute knee injury not recorded')
    assert _verdict(page, "ankle") == (
        'not_examined">Not examined: acute ankle or foot injury not recorded'
    )


def test_ankle_rule_with_incomplete_findings_reads_not_examined(client_for, therapist, patient_60):
    client = client_for(therapist)
    response = _create(
        client,
        patient_60,
        region="ankle",
        ottawa_acute_ankle_injury="True",
        ottawa_malleolar_zone_pain="True",
        ottawa_tenderness_posterior_tibia_medial_malleolus="False",
        ottawa_midfoot_zone_pain="False",
    )
    page = client.get(response["Location"]).content.decode()
    assert _verdict(page, "ankle") == 'not_examined">Not examined: findings incomplete'
    assert _verdict(page, "foot") == 'not_indicated">X-ray not indicated'


@pytest.mark.parametrize(
    ("finding", "error_field"),
    [
        ("ottawa_malleolar_zone_pain", "ottawa_acute_ankle_injury"),
        ("ottawa_tenderness_navicular", "ottawa_acute_ankle_injury"),
        ("ottawa_knee_cannot_flex_90", "ottawa_acute_knee_injury"),
        ("ottawa_unable_to_bear_weight", "ottawa_unable_to_bear_weight"),
    ],
)
def test_findings_without_the_inclusion_criterion_are_refused_and_nothing_saved(
    client_for, therapist, patient_60, finding, error_field
):
    # A positive finding must never count for nothing because the inclusion question
    # was skipped: the therapist answers it, or leaves the findings not examined.
    response = _create(client_for(therapist), patient_60, **{finding: "True"})
    assert response.status_code == 200
    assert error_field in response.context["form"].errors
    assert "injury" in response.context["form"].errors[error_field][0]
    assert Assessment.objects.count() == 0


def test_edit_form_shows_the_verdicts_as_last_saved(client_for, therapist, patient_60, values):
    draft = services.assessment_create(
        patient=patient_60,
        acting_user=therapist,
        values=values(ottawa_acute_knee_injury=True, ottawa_acute_ankle_injury=False),
    )
    page = (
        client_for(therapist)
        .get(reverse("patients:assessment_edit", args=[patient_60.pk, draft.pk]))
        .content.decode()
    )
    assert "knee rule: X-ray indicated" in page
    assert "ankle series: Rule does not apply: no acute ankle or foot injury" in page


def _as_before_inclusion_criteria(assessment, **flags):
    """Make a row look like one signed before the migration: no inclusion answers, no
    verdicts, and the x-ray flags it was signed with."""
    Assessment.objects.filter(pk=assessment.pk).update(
        ottawa_acute_ankle_injury=None,
        ottawa_acute_knee_injury=None,
        ottawa_ankle_verdict="",
        ottawa_foot_verdict="",
        ottawa_knee_verdict="",
        **flags,
    )
    assessment.refresh_from_db()
    return assessment


def test_assessment_signed_before_inclusion_criteria_keeps_its_signed_verdict(
    client_for, therapist, patient_60, values
):
    signed = services.assessment_sign(
        assessment=services.assessment_create(
            patient=patient_60,
            acting_user=therapist,
            values=values(ottawa_acute_knee_injury=True, ottawa_knee_cannot_flex_90=False),
        ),
        acting_user=therapist,
    )
    legacy = _as_before_inclusion_criteria(signed, xray_knee_indicated=True, xray_indicated=True)
    page = (
        client_for(therapist)
        .get(reverse("patients:assessment_detail", args=[patient_60.pk, legacy.pk]))
        .content.decode()
    )
    assert _verdict(page, "knee") == '">X-ray indicated (recorded before inclusion criteria)'
    assert _verdict(page, "ankle") == '">Not indicated (recorded before inclusion criteria)'
    assert 'data-testid="xray-alert"' in page


def test_amending_an_older_assessment_with_findings_asks_for_the_inclusion_criterion(
    therapist, patient_60, values
):
    signed = services.assessment_sign(
        assessment=services.assessment_create(
            patient=patient_60,
            acting_user=therapist,
            values=values(ottawa_acute_knee_injury=True, ottawa_knee_cannot_flex_90=False),
        ),
        acting_user=therapist,
    )
    legacy = _as_before_inclusion_criteria(signed, xray_knee_indicated=True, xray_indicated=True)
    with pytest.raises(services.ValidationError) as refused:
        services.assessment_amend(
            assessment=legacy,
            values=values(assessed_at=legacy.assessed_at, ottawa_knee_cannot_flex_90=False),
            reason="Typo in the impression.",
            acting_user=therapist,
        )
    assert "ottawa_acute_knee_injury" in refused.value.message_dict
    legacy.refresh_from_db()
    assert legacy.xray_knee_indicated and legacy.ottawa_knee_verdict == ""
    assert not AssessmentAmendment.objects.exists()

    amendment = services.assessment_amend(
        assessment=legacy,
        values=values(
            assessed_at=legacy.assessed_at,
            ottawa_acute_knee_injury=True,
            ottawa_knee_cannot_flex_90=False,
        ),
        reason="Inclusion criterion recorded.",
        acting_user=therapist,
    )
    assert amendment.changes["ottawa_knee_verdict"] == {"old": "", "new": "indicated"}
    assert amendment.changes["ottawa_acute_knee_injury"] == {"old": None, "new": True}


def test_the_database_refuses_a_verdict_that_contradicts_the_xray_flag(
    therapist, patient_60, values
):
    from django.db import IntegrityError, transaction

    assessment = services.assessment_create(
        patient=patient_60, acting_user=therapist, values=values(ottawa_acute_knee_injury=True)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.filter(pk=assessment.pk).update(xray_knee_indicated=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.filter(pk=assessment.pk).update(ottawa_knee_verdict="positive")
