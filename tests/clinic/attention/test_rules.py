"""The needs-attention rules, each at its boundary (clinic/attention/selectors.py)."""

import datetime as dt

import pytest
from django.utils import timezone

from clinic.attention import selectors
from clinic.models import AppointmentStatus, AttentionReason
from tests.factories import (
    AppointmentFactory,
    ExerciseCompletionFactory,
    HomeExerciseProgramFactory,
    PainReportFactory,
    PatientFactory,
    TherapistFactory,
    TreatmentPlanFactory,
)
from tests.treatments.helpers import signed_assessment
from treatments.models import PlanStatus

pytestmark = pytest.mark.django_db


def patient_of(therapist, *, next_visit=True):
    """A patient with an active plan of care written by ``therapist`` and (by default) a
    visit booked tomorrow, so no rule applies yet."""
    plan = TreatmentPlanFactory(assessment=signed_assessment(therapist=therapist))
    if next_visit:
        AppointmentFactory(patient=plan.patient, practitioner=therapist.practitioner)
    return plan.patient


def reasons(therapist, patient) -> set[str]:
    rows = [row for row in selectors.needs_attention(therapist) if row.patient_id == patient.pk]
    return {flag.reason for row in rows for flag in row.flags}


def flag_text(therapist, patient, reason) -> str:
    (row,) = [row for row in selectors.needs_attention(therapist) if row.patient_id == patient.pk]
    return next(flag.text for flag in row.flags if flag.reason == reason)


def days_ago(days: int, hour: int = 10) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days, hours=hour)


def test_a_patient_with_nothing_to_see_is_not_listed(therapist):
    patient_of(therapist)
    assert selectors.needs_attention(therapist) == []


@pytest.mark.parametrize(("score", "flagged"), [(6, False), (7, True)])
def test_pain_of_7_or_more_is_flagged(therapist, score, flagged):
    patient = patient_of(therapist)
    PainReportFactory(patient=patient, score=score)
    assert (AttentionReason.PAIN_HIGH in reasons(therapist, patient)) is flagged
    if flagged:
        assert "Pain 7/10 reported on" in flag_text(therapist, patient, AttentionReason.PAIN_HIGH)


def test_only_the_latest_pain_report_counts(therapist):
    patient = patient_of(therapist)
    PainReportFactory(patient=patient, score=9, reported_at=days_ago(3))
    PainReportFactory(patient=patient, score=2, reported_at=days_ago(1))
    assert reasons(therapist, patient) == set()


@pytest.mark.parametrize(("latest", "flagged"), [(4, False), (5, True)])
def test_a_rise_of_2_points_since_the_previous_report_is_flagged(therapist, latest, flagged):
    patient = patient_of(therapist)
    PainReportFactory(patient=patient, score=3, reported_at=days_ago(2), source="visit")
    PainReportFactory(patient=patient, score=latest, reported_at=days_ago(1))
    assert reasons(therapist, patient) == ({AttentionReason.PAIN_RISE} if flagged else set())
    if flagged:
        text = flag_text(therapist, patient, AttentionReason.PAIN_RISE)
        assert text.startswith("Pain rose 2 points, from 3/10 on ")


@pytest.mark.parametrize(("newer", "flagged"), [(42, False), (41, True)])
def test_an_lefs_fall_of_9_between_the_two_latest_signed_totals_is_flagged(
    therapist, newer, flagged
):
    patient = patient_of(therapist)
    signed_assessment(therapist=therapist, patient=patient, lefs_total=50, assessed_at=days_ago(20))
    signed_assessment(
        therapist=therapist, patient=patient, lefs_total=newer, assessed_at=days_ago(5)
    )
    assert (AttentionReason.LEFS_FALL in reasons(therapist, patient)) is flagged
    if flagged:
        text = flag_text(therapist, patient, AttentionReason.LEFS_FALL)
        assert text.startswith("LEFS fell 9 points, from 50/80 on ")


def test_an_unsigned_lefs_does_not_count(therapist):
    patient = patient_of(therapist)
    signed_assessment(therapist=therapist, patient=patient, lefs_total=50, assessed_at=days_ago(20))
    draft = signed_assessment(therapist=therapist, patient=patient, lefs_total=20)
    draft.status = "draft"
    draft.save()
    assert reasons(therapist, patient) == set()


@pytest.mark.parametrize(("idle", "flagged"), [(6, False), (7, True)])
def test_seven_days_without_a_done_exercise_is_flagged(therapist, idle, flagged):
    patient = patient_of(therapist)
    today = timezone.localdate()
    program = HomeExerciseProgramFactory(
        patient=patient, prescribed_by=therapist, start_date=today - dt.timedelta(days=30)
    )
    ExerciseCompletionFactory(program=program, date=today - dt.timedelta(days=idle + 3))
    ExerciseCompletionFactory(program=program, date=today - dt.timedelta(days=idle))
    assert (AttentionReason.NO_EXERCISE in reasons(therapist, patient)) is flagged
    if flagged:
        text = flag_text(therapist, patient, AttentionReason.NO_EXERCISE)
        assert text.startswith("No exercise marked done for 7 days (last done on ")


@pytest.mark.parametrize(("age", "flagged"), [(6, False), (7, True)])
def test_a_program_never_done_is_flagged_once_older_than_7_days(therapist, age, flagged):
    patient = patient_of(therapist)
    HomeExerciseProgramFactory(
        patient=patient,
        prescribed_by=therapist,
        start_date=timezone.localdate() - dt.timedelta(days=age),
    )
    assert (AttentionReason.NO_EXERCISE in reasons(therapist, patient)) is flagged


def test_an_ended_program_is_not_flagged(therapist):
    patient = patient_of(therapist)
    HomeExerciseProgramFactory(
        patient=patient,
        prescribed_by=therapist,
        start_date=timezone.localdate() - dt.timedelta(days=30),
        status="ended",
    )
    assert reasons(therapist, patient) == set()


def past_visit(patient, therapist, days, status, late=False):
    start = days_ago(days).replace(minute=0, second=0, microsecond=0)
    return AppointmentFactory(
        patient=patient,
        practitioner=therapist.practitioner,
        starts_at=start,
        status=status,
        late_cancellation=late,
    )


def test_one_missed_visit_is_not_flagged_two_in_a_row_are(therapist):
    patient = patient_of(therapist)
    past_visit(patient, therapist, 20, AppointmentStatus.NO_SHOW)
    past_visit(patient, therapist, 10, AppointmentStatus.COMPLETED)
    past_visit(patient, therapist, 5, AppointmentStatus.NO_SHOW)
    assert reasons(therapist, patient) == set()

    past_visit(patient, therapist, 3, AppointmentStatus.CANCELLED, late=True)
    assert reasons(therapist, patient) == {AttentionReason.MISSED_VISITS}
    text = flag_text(therapist, patient, AttentionReason.MISSED_VISITS)
    assert "no-show on" in text and "late cancellation on" in text


def test_a_timely_cancellation_is_not_a_visit(therapist):
    patient = patient_of(therapist)
    past_visit(patient, therapist, 6, AppointmentStatus.NO_SHOW)
    past_visit(patient, therapist, 4, AppointmentStatus.CANCELLED, late=False)
    past_visit(patient, therapist, 2, AppointmentStatus.NO_SHOW)
    assert reasons(therapist, patient) == {AttentionReason.MISSED_VISITS}


def test_an_active_plan_without_a_future_live_visit_is_flagged(therapist):
    with_visit = patient_of(therapist)
    without = patient_of(therapist, next_visit=False)
    cancelled = patient_of(therapist, next_visit=False)
    AppointmentFactory(
        patient=cancelled, practitioner=therapist.practitioner, status=AppointmentStatus.CANCELLED
    )
    assert reasons(therapist, with_visit) == set()
    assert reasons(therapist, without) == {AttentionReason.NO_NEXT_VISIT}
    assert reasons(therapist, cancelled) == {AttentionReason.NO_NEXT_VISIT}


def test_no_next_visit_names_the_latest_past_live_visit_and_keys_on_it(therapist):
    """The reason's text and key come from the latest past visit that took place or was
    still booked: not a later no-show or cancellation, not another patient's visit."""
    patient = patient_of(therapist, next_visit=False)
    never = patient_of(therapist, next_visit=False)
    past_visit(patient, therapist, 30, AppointmentStatus.COMPLETED)
    attended = past_visit(patient, therapist, 12, AppointmentStatus.COMPLETED)
    past_visit(patient, therapist, 8, AppointmentStatus.NO_SHOW)
    past_visit(patient, therapist, 6, AppointmentStatus.CANCELLED, late=False)
    past_visit(never, therapist, 3, AppointmentStatus.NO_SHOW)
    rows = {row.patient_id: row for row in selectors.needs_attention(therapist)}

    (flag,) = [f for f in rows[patient.pk].flags if f.reason == AttentionReason.NO_NEXT_VISIT]
    plan = patient.treatment_plans.get()
    assert flag.key == f"plan:{plan.pk}:after:{attended.pk}"
    local = timezone.localtime(attended.starts_at)
    assert f"last visit on {local.day} {local:%b %Y}" in flag.text
    (flag,) = [f for f in rows[never.pk].flags if f.reason == AttentionReason.NO_NEXT_VISIT]
    assert flag.key.endswith(":after:None") and "(no visit yet)" in flag.text


def test_only_the_therapists_own_patients_with_an_active_plan_are_listed(therapist):
    colleague = TherapistFactory()
    mine = patient_of(therapist, next_visit=False)
    theirs = patient_of(colleague, next_visit=False)
    archived = patient_of(therapist, next_visit=False)
    archived.archived_at = timezone.now()
    archived.save()
    closed = patient_of(therapist, next_visit=False)
    closed.treatment_plans.update(status=PlanStatus.COMPLETED)
    no_plan = PatientFactory()
    PainReportFactory(patient=no_plan, score=10)
    assert [row.patient_id for row in selectors.needs_attention(therapist)] == [mine.pk]
    assert [row.patient_id for row in selectors.needs_attention(colleague)] == [theirs.pk]


def test_every_reason_that_applies_is_listed(therapist):
    patient = patient_of(therapist, next_visit=False)
    PainReportFactory(patient=patient, score=2, reported_at=days_ago(2))
    PainReportFactory(patient=patient, score=8, reported_at=days_ago(1))
    assert reasons(therapist, patient) == {
        AttentionReason.PAIN_HIGH,
        AttentionReason.PAIN_RISE,
        AttentionReason.NO_NEXT_VISIT,
    }


def test_thresholds_are_clinic_settings(therapist, settings):
    patient = patient_of(therapist)
    PainReportFactory(patient=patient, score=2, reported_at=days_ago(2))
    PainReportFactory(patient=patient, score=8, reported_at=days_ago(1))
    settings.ATTENTION_PAIN_SCORE = 9
    settings.ATTENTION_PAIN_RISE = 7
    assert reasons(therapist, patient) == set()
    settings.ATTENTION_PAIN_RISE = 6
    assert reasons(therapist, patient) == {AttentionReason.PAIN_RISE}


def test_of_two_pain_reports_at_the_same_moment_the_later_saved_is_the_latest(therapist):
    """Latest means latest moment, then the higher id, on both databases: the query reads
    them in that order and the rows are put back in it in Python."""
    patient = patient_of(therapist)
    at = days_ago(1)
    PainReportFactory(patient=patient, score=2, reported_at=days_ago(2))
    PainReportFactory(patient=patient, score=3, reported_at=at)
    later = PainReportFactory(patient=patient, score=9, reported_at=at)
    assert reasons(therapist, patient) == {AttentionReason.PAIN_HIGH, AttentionReason.PAIN_RISE}
    assert "from 3/10" in flag_text(therapist, patient, AttentionReason.PAIN_RISE)
    (row,) = selectors.needs_attention(therapist)
    assert {flag.key for flag in row.flags} == {f"pain:{later.pk}"}
