"""Patient-reported questionnaires feed the needs-attention rules (clinic/attention/
selectors.py): a completed LEFS is one more LEFS total, an NPRS answer a pain report."""

import pytest

from clinic.attention import selectors
from clinic.models import AttentionReason
from patients.models import QuestionnaireResponse, QuestionnaireStatus
from patients.services import questionnaire_response_complete
from tests.clinic.attention.test_rules import days_ago, flag_text, patient_of, reasons
from tests.treatments.helpers import signed_assessment

pytestmark = pytest.mark.django_db


def reported_lefs(patient, total: int, when, status=QuestionnaireStatus.COMPLETED):
    """A patient-reported LEFS with ``total`` (any 20 answers summing to it)."""
    answers = [4] * (total // 4) + ([total % 4] if total % 4 else [])
    answers += [0] * (20 - len(answers))
    return QuestionnaireResponse.objects.create(
        patient=patient,
        instrument="lefs",
        answers=answers,
        total=total if status == QuestionnaireStatus.COMPLETED else None,
        status=status,
        requested_at=when,
        completed_at=when if status == QuestionnaireStatus.COMPLETED else None,
    )


@pytest.mark.parametrize(("newer", "flagged"), [(42, False), (41, True)])
def test_a_patient_reported_fall_of_9_after_an_assessment_is_flagged(therapist, newer, flagged):
    patient = patient_of(therapist)
    signed_assessment(therapist=therapist, patient=patient, lefs_total=50, assessed_at=days_ago(20))
    response = reported_lefs(patient, newer, days_ago(2))
    assert (AttentionReason.LEFS_FALL in reasons(therapist, patient)) is flagged
    if flagged:
        assert flag_text(therapist, patient, AttentionReason.LEFS_FALL).startswith(
            "LEFS fell 9 points, from 50/80 on "
        )
        (row,) = selectors.needs_attention(therapist)
        assert row.flags[0].key == f"lefs:questionnaire:{response.pk}"


@pytest.mark.parametrize(("newer", "flagged"), [(52, False), (51, True)])
def test_a_fall_between_two_patient_reported_totals_counts_too(therapist, newer, flagged):
    patient = patient_of(therapist)
    reported_lefs(patient, 60, days_ago(16))
    reported_lefs(patient, newer, days_ago(1))
    assert (AttentionReason.LEFS_FALL in reasons(therapist, patient)) is flagged


def test_only_the_two_latest_totals_of_any_source_are_compared(therapist):
    patient = patient_of(therapist)
    reported_lefs(patient, 70, days_ago(30))
    signed_assessment(therapist=therapist, patient=patient, lefs_total=50, assessed_at=days_ago(20))
    reported_lefs(patient, 48, days_ago(2))  # 2 below the latest assessment: no flag
    assert AttentionReason.LEFS_FALL not in reasons(therapist, patient)


def test_an_unanswered_questionnaire_is_not_a_total(therapist):
    patient = patient_of(therapist)
    signed_assessment(therapist=therapist, patient=patient, lefs_total=50, assessed_at=days_ago(20))
    reported_lefs(patient, 0, days_ago(1), status=QuestionnaireStatus.REQUESTED)
    reported_lefs(patient, 0, days_ago(1), status=QuestionnaireStatus.EXPIRED)
    assert AttentionReason.LEFS_FALL not in reasons(therapist, patient)


@pytest.mark.parametrize(("score", "flagged"), [(6, False), (7, True)])
def test_a_patient_reported_nprs_feeds_the_pain_rules(therapist, score, flagged):
    patient = patient_of(therapist)
    response = QuestionnaireResponse.objects.create(patient=patient, instrument="nprs")
    questionnaire_response_complete(response=response, answers=[score])
    assert (AttentionReason.PAIN_HIGH in reasons(therapist, patient)) is flagged
