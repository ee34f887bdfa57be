"""This app's sections on the patient page: who sees them, and a constant query count."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ExerciseCompletionFactory, PatientFactory, VisitNoteFactory
from tests.treatments.helpers import exercise, signed_assessment, technique
from treatments import services

pytestmark = pytest.mark.django_db

KEYS = {"treatment-plans", "visit-notes", "home-program"}


def _treated_patient(extra: int = 0):
    """A patient with a plan, notes and an active program; ``extra`` adds more of each."""
    assessment = signed_assessment()
    patient, therapist = assessment.patient, assessment.therapist
    for _ in range(1 + extra):
        services.treatment_plan_create(
            patient=patient,
            assessment=assessment,
            acting_user=therapist,
            goals="Walk a mile.",
            visits_per_week=2,
            weeks=6,
            start_date=timezone.localdate(),
            techniques=[
                {"technique": technique("joint_mobilization"), "grade": "II", "target": "Knee"},
                {"technique": technique("muscle_energy"), "grade": "", "target": "Hip"},
            ],
        )
        VisitNoteFactory(patient=patient, therapist=therapist, subjective="Secret knee story.")
    codes = ["calf-raises", "standing-calf-stretch", "ankle-mobilization"][: 1 + extra]
    program = services.home_exercise_program_create(
        patient=patient,
        acting_user=therapist,
        start_date=timezone.localdate() - dt.timedelta(days=20),
        end_date=None,
        reminder_time=dt.time(18),
        reminder_days=list(range(7)),
        reminders_enabled=True,
        items=[
            {"exercise": exercise(code), "sets": 2, "reps": 10, "hold_seconds": 0} for code in codes
        ],
    )
    for offset in range(1, 2 + extra * 5):
        ExerciseCompletionFactory(
            program=program, date=timezone.localdate() - dt.timedelta(days=offset)
        )
    return patient


def _keys(response):
    return {section.key for section, _ in response.context["sections"]}


def test_therapist_sees_plans_notes_and_program_with_adherence(client_for, therapist):
    patient = _treated_patient()
    response = client_for(therapist).get(reverse("patients:detail", args=[patient.pk]))
    assert KEYS <= _keys(response)
    page = response.content.decode()
    assert "Plans of care" in page and "Joint mobilization II (Knee)" in page
    assert "Visit notes" in page
    assert "Home exercise program" in page and "Calf raises" in page
    assert "of prescribed days done in the last 4 weeks" in page
    assert page.count('class="adherence-day') == 28


@pytest.mark.parametrize("role", ["front_desk", "manager"])
def test_front_desk_and_manager_get_none_of_it(client_for, role_users, role):
    patient = _treated_patient()
    response = client_for(role_users[role]).get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 200
    assert not (KEYS & _keys(response))
    page = response.content.decode()
    for clinical in (
        "Plans of care",
        "Joint mobilization",
        "Calf raises",
        "Secret knee story",
        "adherence",
    ):
        assert clinical not in page


def test_empty_sections_offer_to_start(client_for, therapist):
    patient = PatientFactory()
    page = client_for(therapist).get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "No plan of care yet." in page
    assert "No visit notes yet." in page
    assert "No active home exercise program." in page
    assert reverse("treatments:program_create", args=[patient.pk]) in page


def test_patient_page_query_count_does_not_grow_with_history(
    client_for, therapist, django_assert_num_queries
):
    small, big = _treated_patient(), _treated_patient(extra=2)
    client = client_for(therapist)
    for patient in (small, big):
        # 1 session, 2 user, 3 user permissions, 4 group permissions, 5 patient;
        # the registry's sections: 6 latest assessments, 7 pain scores and LEFS of
        # the chart (one UNION ALL), 8 upcoming and past appointments (one UNION ALL);
        # plans section: 9 latest plans with therapist and planned techniques (one
        # join); notes section: 10 latest notes with therapist; program section:
        # 11 active program with its prescriptions' exercises and its completions in
        # the window (one UNION ALL); 12 the "view" audit insert. (No query for the
        # user's groups: the navigation checks permissions.)
        with django_assert_num_queries(12):
            response = client.get(reverse("patients:detail", args=[patient.pk]))
        assert KEYS <= _keys(response)


def test_page_program_and_adherence_match_the_program_page():
    """The page reads the program and its window's completions in one query; what it
    shows is what the program page's selectors give: prescriptions in order, and only
    this program's completions within the 28 days count."""
    from patients.localtime import patient_today
    from treatments import selectors
    from treatments.models import HomeExerciseProgram, ProgramStatus

    patient = _treated_patient(extra=2)
    program = HomeExerciseProgram.objects.get(patient=patient, status=ProgramStatus.ACTIVE)
    today = patient_today(patient)
    ExerciseCompletionFactory(program=program, date=today - dt.timedelta(days=40))
    ExerciseCompletionFactory(date=today - dt.timedelta(days=3))  # another patient's
    row, adherence = selectors.active_program_row(patient, today=today)
    assert row is not None
    assert row[:6] == (
        program.pk,
        program.start_date,
        program.end_date,
        program.reminders_enabled,
        program.reminder_time,
        program.reminder_days,
    )
    assert [p.exercise for p in row.prescriptions] == [
        p.exercise.name for p in program.prescriptions.order_by("position", "id")
    ]
    assert adherence == selectors.program_adherence(program, today)
    assert adherence.done_days == 11


def test_page_program_is_none_without_an_active_one():
    from treatments import selectors

    assert selectors.active_program_row(PatientFactory(), today=dt.date.today()) == (None, None)
