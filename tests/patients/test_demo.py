from collections import Counter

import pytest
from django.core.management import call_command
from django.db import transaction

from patients.demo import CASES, seed_patients
from patients.models import Assessment, PainReport, Patient, SuspectedCause

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    from tests.factories import FrontDeskFactory, TherapistFactory

    return {
        "demo-therapist": TherapistFactory(username="demo-therapist"),
        "demo-therapist2": TherapistFactory(username="demo-therapist2"),
        "demo-frontdesk": FrontDeskFactory(username="demo-frontdesk"),
    }


def test_demo_patients_cover_the_clinic_s_presentations(staff):
    created = seed_patients(staff)
    assert len(created) == len(CASES) == Patient.objects.count() == 30
    causes = Counter(c for a in Assessment.objects.all() for c in a.suspected_causes)
    for cause in SuspectedCause.values:
        if cause != "other":
            assert causes[cause] > 0, cause
    spanish = Patient.objects.filter(preferred_language="es").count()
    assert spanish == 10  # a third
    assert Assessment.objects.filter(xray_indicated=True).values("patient").distinct().count() == 1
    assert Assessment.objects.exclude(precautions=[]).values("patient").distinct().count() >= 5
    assert Patient.objects.filter(reminders_opt_in=True).count() >= 20
    assert all(p.email.endswith("@example.com") for p in Patient.objects.all())
    # Histories: most signed, a few drafts left for the therapists' Today page.
    assert Assessment.objects.filter(status="signed").count() > 50
    assert 1 <= Assessment.objects.filter(status="draft").count() <= 5
    assert PainReport.objects.filter(source="email_link").exists()


def test_most_improve_and_a_few_do_not(staff):
    seed_patients(staff)
    improved = worse = 0
    for patient in Patient.objects.all():
        signed = list(
            Assessment.objects.filter(patient=patient, status="signed").order_by("assessed_at")
        )
        if len(signed) < 2:
            continue
        change = signed[-1].pain_now - signed[0].pain_now
        improved += change <= -2
        worse += change > 0
    assert improved > worse >= 1


class _Rollback(Exception):
    pass


def _snapshot():
    patients = list(
        Patient.objects.order_by("email").values_list("email", "phone", "date_of_birth")
    )
    assessments = list(
        Assessment.objects.order_by("patient__email", "assessed_at").values_list(
            "patient__email", "pain_now", "lefs_total", "lefs_answers", "knee_to_wall_right_cm"
        )
    )
    return patients, assessments


def test_demo_is_deterministic(staff):
    snapshots = []
    for _ in range(2):
        try:
            with transaction.atomic():
                seed_patients(staff)
                snapshots.append(_snapshot())
                raise _Rollback
        except _Rollback:
            pass
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0][1]) > 50


def test_demo_is_idempotent(staff):
    seed_patients(staff)
    before = _snapshot()
    counts = (Assessment.objects.count(), PainReport.objects.count())
    assert seed_patients(staff) == []
    assert (Assessment.objects.count(), PainReport.objects.count()) == counts
    assert _snapshot() == before


def test_seed_demo_command_adds_the_patients_once():
    call_command("seed_demo", "--password", "clinic-demo-2026")
    call_command("seed_demo")
    assert Patient.objects.count() == 30
