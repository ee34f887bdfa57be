"""Demo plans, visit notes and home programs for ``manage.py seed_demo``.

Deterministic and idempotent: a patient who already has a plan is left alone, and the
choices depend only on the patient's id, so two runs give the same data.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from patients.localtime import clinic_today
from patients.models import Assessment, Patient, RecordStatus

from . import selectors, services
from .catalogue import catalogue_ensure
from .models import CompletionSource, Exercise, Technique, TreatmentPlan

# Every fifth patient (by id) is left without treatment data, so the demo also shows
# what a patient without a plan looks like.
SKIP_EVERY = 5

_NOTES = [
    (
        "Knee sore after the weekend; stairs still the hardest part.",
        "Knee-to-wall improved by 1 cm. Flexion 120°.",
        "Improving range; pain settling between visits.",
        "Continue mobilization; progress step downs to 15 cm.",
    ),
    (
        "Walked 20 minutes without stopping. Morning stiffness under 10 minutes.",
        "Single-leg stance 25 s. No effusion.",
        "Good progress towards the walking goal.",
        "Add single-leg deadlift; review in one week.",
    ),
    (
        "Mild ache after a long shift; did the exercises most days.",
        "Calf raises 2 × 15 without pain.",
        "On track; home program well tolerated.",
        "Reduce visits to once a week.",
    ),
]

_PLAN_CHOICES = [
    ("joint_mobilization", "III", "Right knee (tibiofemoral)"),
    ("soft_tissue_mobilization", "", "Right calf (gastrocnemius)"),
    ("muscle_energy", "", "Right hamstrings"),
]


def _therapists(staff: dict) -> list:
    users = [user for name, user in sorted(staff.items()) if name.startswith("demo-therapist")]
    return users or [user for _, user in sorted(staff.items())][:1]


@transaction.atomic
def seed_treatments(staff: dict) -> int:
    """Give most patients with a signed assessment a plan, signed notes and a program.

    Returns how many patients were given treatment data on this run.
    """
    catalogue_ensure()
    therapists = _therapists(staff)
    if not therapists:
        return 0
    techniques = {t.code: t for t in Technique.objects.all()}
    exercises = list(Exercise.objects.filter(active=True).order_by("code"))
    rules = selectors.precaution_rules()
    today = clinic_today()
    seeded = 0
    patients = (
        Patient.objects.filter(
            archived_at__isnull=True,
            assessments__status=RecordStatus.SIGNED,
        )
        .distinct()
        .order_by("id")
    )
    for index, patient in enumerate(patients):
        if index % SKIP_EVERY == SKIP_EVERY - 1:
            continue
        if TreatmentPlan.objects.filter(patient=patient).exists():
            continue
        assessment = (
            Assessment.objects.filter(patient=patient, status=RecordStatus.SIGNED)
            .order_by("-assessed_at", "-id")
            .first()
        )
        assert assessment is not None  # every demo patient has a signed assessment
        # The assessing therapist carries on treating; demo staff stand in for anyone else.
        therapist = assessment.therapist
        if not therapist.has_perm("treatments.add_treatmentplan"):
            therapist = therapists[index % len(therapists)]
        _seed_patient(
            patient=patient,
            assessment=assessment,
            therapist=therapist,
            techniques=techniques,
            exercises=exercises,
            rules=rules,
            today=today,
            index=index,
        )
        seeded += 1
    return seeded


def _seed_patient(*, patient, assessment, therapist, techniques, exercises, rules, today, index):
    restrictions = selectors.restrictions_for_assessment(assessment, rules)
    start = max(timezone.localtime(assessment.assessed_at).date(), today - dt.timedelta(days=27))
    planned = [
        {"technique": techniques[code], "grade": grade, "target": target, "notes": ""}
        for code, grade, target in _PLAN_CHOICES
        if code in techniques
        and not (restrictions.get(code) and restrictions[code].contraindicated)
    ]
    plan = services.treatment_plan_create(
        patient=patient,
        assessment=assessment,
        acting_user=therapist,
        goals="Walk 30 minutes and climb stairs without pain; return to weekly sport.",
        visits_per_week=2,
        weeks=6,
        start_date=start,
        techniques=planned,
    )
    program = services.home_exercise_program_create(
        patient=patient,
        acting_user=therapist,
        start_date=start,
        end_date=None,
        reminder_time=dt.time(18, 0),
        reminder_days=[0, 1, 2, 3, 4, 5, 6] if index % 2 == 0 else [0, 2, 4],
        reminders_enabled=patient.reminders_opt_in,
        items=[
            {
                "exercise": exercise,
                "sets": exercise.default_sets,
                "reps": exercise.default_reps,
                "hold_seconds": exercise.default_hold_seconds,
                "times_per_day": exercise.default_times_per_day,
                "days_per_week": exercise.default_days_per_week,
                "notes": "",
            }
            for exercise in exercises[index % 2 : index % 2 + 4]
        ],
    )
    # Three signed visits a week apart, the latest two days ago, pain easing each time.
    for visit in range(3):
        days_ago = 2 + 7 * (2 - visit)
        visited_at = timezone.make_aware(
            dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(9 + visit, 0))
        )
        if visited_at.date() < start:
            continue
        subjective, objective, assessment_text, plan_text = _NOTES[visit]
        applied = planned[:2]
        note = services.visit_note_create(
            patient=patient,
            acting_user=therapist,
            visited_at=visited_at,
            subjective=subjective,
            objective=objective,
            assessment=assessment_text,
            plan=plan_text,
            pain_before=max(0, 6 - visit - index % 2),
            pain_after=max(0, 4 - visit - index % 2),
            treatment_plan=plan,
            techniques=[
                {
                    "technique": item["technique"],
                    "grade": item["grade"],
                    "minutes": None if item["grade"] else 10,
                    "target": item["target"],
                }
                for item in applied
            ],
            exercises_reviewed=exercises[:2],
        )
        services.visit_note_sign(note=note, acting_user=therapist)
    if index == 0:
        # One unsigned note from this morning, so the Today page has something to show.
        services.visit_note_create(
            patient=patient,
            acting_user=therapist,
            visited_at=timezone.make_aware(dt.datetime.combine(today, dt.time(8, 30))),
            subjective="Reports less pain on stairs this week.",
            pain_before=3,
            treatment_plan=plan,
        )
    # Completions on most prescribed days: a fixed pattern that misses about one in four.
    day = start
    while day < today:
        if day.weekday() in program.reminder_days and (day.toordinal() + index) % 4 != 0:
            services.exercise_completion_record(
                program=program, on_date=day, source=CompletionSource.EMAIL_LINK
            )
        day += dt.timedelta(days=1)
