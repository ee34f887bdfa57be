"""Demo data: most patients with a signed assessment get a plan, signed notes and a program."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from patients.models import PainReport, RecordStatus
from tests.factories import AssessmentFactory, PatientFactory, TherapistFactory
from tests.treatments.helpers import signed_assessment
from treatments.demo import seed_treatments
from treatments.models import (
    ExerciseCompletion,
    HomeExerciseProgram,
    PlannedTechnique,
    ProgramStatus,
    TreatmentPlan,
    VisitNote,
)

pytestmark = pytest.mark.django_db


def _assessed(therapist, **kwargs):
    # Assessed five weeks ago, as demo patients are: room for visits and completions.
    return signed_assessment(
        therapist=therapist, assessed_at=timezone.now() - dt.timedelta(days=35), **kwargs
    )


def _counts():
    return (
        TreatmentPlan.objects.count(),
        VisitNote.objects.count(),
        HomeExerciseProgram.objects.count(),
        ExerciseCompletion.objects.count(),
        PainReport.objects.count(),
    )


def test_seed_gives_most_assessed_patients_treatment_and_is_idempotent():
    therapist = TherapistFactory(username="demo-therapist")
    assessed = [_assessed(therapist).patient for _ in range(5)]
    draft_only = AssessmentFactory(status=RecordStatus.DRAFT).patient
    never_seen = PatientFactory()
    staff = {"demo-therapist": therapist}

    assert seed_treatments(staff) == 4  # every fifth patient is left untreated
    first = _counts()
    treated = set(TreatmentPlan.objects.values_list("patient_id", flat=True))
    assert len(treated) == 4 and treated < {p.pk for p in assessed}
    assert draft_only.pk not in treated and never_seen.pk not in treated
    for patient_id in treated:
        notes = VisitNote.objects.filter(patient_id=patient_id, status=RecordStatus.SIGNED)
        assert notes.count() == 3
        program = HomeExerciseProgram.objects.get(patient_id=patient_id)
        assert program.status == ProgramStatus.ACTIVE
        assert program.prescriptions.count() == 4
        assert ExerciseCompletion.objects.filter(program=program).exists()
    signed = VisitNote.objects.filter(status=RecordStatus.SIGNED)
    assert PainReport.objects.filter(source="visit").count() == 2 * signed.count()
    # One draft for the Today page, by the assessing therapist.
    draft = VisitNote.objects.get(status=RecordStatus.DRAFT)
    assert draft.therapist == therapist

    assert seed_treatments(staff) == 0
    assert _counts() == first


def test_seed_never_plans_a_contraindicated_technique():
    therapist = TherapistFactory(username="demo-therapist")
    for _ in range(3):
        _assessed(therapist, precautions=["infection"])
    seed_treatments({"demo-therapist": therapist})
    planned = set(PlannedTechnique.objects.values_list("technique__code", flat=True))
    assert planned == set()  # infection contraindicates every seeded choice
    assert not PlannedTechnique.objects.exclude(override_reason="").exists()


def test_seed_demo_command_runs_it(capsys):
    call_command("seed_demo", "--password", "clinic-demo-2026")
    # The registry's demo patients come first; most of them get a plan and a program.
    plans = TreatmentPlan.objects.count()
    assert plans >= 15
    assert HomeExerciseProgram.objects.filter(status="active").count() >= 15
    assert "Demo data ready." in capsys.readouterr().out
    call_command("seed_demo")
    assert TreatmentPlan.objects.count() == plans


def test_seed_is_deterministic():
    therapist = TherapistFactory(username="demo-therapist")
    for _ in range(3):
        _assessed(therapist)
    seed_treatments({"demo-therapist": therapist})
    snapshot = sorted(ExerciseCompletion.objects.values_list("program__patient_id", "date"))
    ExerciseCompletion.objects.all().delete()
    VisitNote.objects.all().delete()
    PainReport.objects.all().delete()
    for model in (HomeExerciseProgram, TreatmentPlan):
        model.objects.all().delete()
    seed_treatments({"demo-therapist": therapist})
    assert sorted(ExerciseCompletion.objects.values_list("program__patient_id", "date")) == snapshot


def test_the_assessing_therapist_keeps_treating():
    demo = TherapistFactory(username="demo-therapist")
    assessor = TherapistFactory()
    patient = _assessed(assessor).patient
    seed_treatments({"demo-therapist": demo})
    assert TreatmentPlan.objects.get(patient=patient).therapist == assessor
    assert set(VisitNote.objects.values_list("therapist", flat=True)) == {assessor.pk}
