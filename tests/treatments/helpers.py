"""Builders the treatments tests share (on top of tests/factories.py)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from patients.models import RecordStatus
from tests.factories import AssessmentFactory, TherapistFactory
from treatments.models import Exercise, Technique


def signed_assessment(**kwargs):
    therapist = kwargs.pop("therapist", None) or TherapistFactory()
    return AssessmentFactory(
        therapist=therapist,
        status=RecordStatus.SIGNED,
        signed_at=timezone.now(),
        signed_by=therapist,
        **kwargs,
    )


def technique(code: str) -> Technique:
    return Technique.objects.get(code=code)


def exercise(code: str) -> Exercise:
    return Exercise.objects.get(code=code)


def plan_post(assessment, rows=(), **overrides) -> dict:
    """POST data for the plan form; ``rows`` are dicts of technique (code), grade, target..."""
    data = {
        "assessment": str(assessment.pk),
        "goals": "Climb stairs without pain.",
        "visits_per_week": "2",
        "weeks": "6",
        "start_date": timezone.localdate().isoformat(),
        "techniques-TOTAL_FORMS": "4",
        "techniques-INITIAL_FORMS": "0",
        "techniques-MIN_NUM_FORMS": "0",
        "techniques-MAX_NUM_FORMS": "12",
    }
    # Every row's every field, as a browser sends them (empty rows too).
    for index in range(4):
        for name in ("technique", "grade", "target", "notes", "override_reason"):
            data[f"techniques-{index}-{name}"] = ""
    for index, row in enumerate(rows):
        data[f"techniques-{index}-technique"] = str(technique(row["technique"]).pk)
        data[f"techniques-{index}-grade"] = row.get("grade", "")
        data[f"techniques-{index}-target"] = row.get("target", "Right knee")
        data[f"techniques-{index}-notes"] = row.get("notes", "")
        data[f"techniques-{index}-override_reason"] = row.get("override_reason", "")
    data.update(overrides)
    return data


def program_post(rows, **overrides) -> dict:
    """POST data for the program builder. ``rows``: dicts with exercise (code) and doses;
    every other active exercise is posted unticked."""
    chosen = {row["exercise"]: row for row in rows}
    exercises = list(Exercise.objects.filter(active=True).order_by("name"))
    data = {
        "start_date": timezone.localdate().isoformat(),
        "end_date": "",
        "reminder_time": "18:00",
        "reminder_days": ["0", "2", "4"],
        "reminders_enabled": "on",
        "rx-TOTAL_FORMS": str(len(exercises)),
        "rx-INITIAL_FORMS": str(len(exercises)),
        "rx-MIN_NUM_FORMS": "0",
        "rx-MAX_NUM_FORMS": "60",
    }
    for index, ex in enumerate(exercises):
        row = chosen.get(ex.code, {})
        prefix = f"rx-{index}-"
        # Unticked, a browser sends the checkbox's empty marker (patients/complete_forms.py).
        data[prefix + "include"] = "on" if row else ""
        data[prefix + "exercise"] = str(ex.pk)
        data[prefix + "order"] = str(row.get("order", index + 1))
        data[prefix + "sets"] = str(row.get("sets", ex.default_sets))
        data[prefix + "reps"] = str(row.get("reps", ex.default_reps))
        data[prefix + "hold_seconds"] = str(row.get("hold_seconds", ex.default_hold_seconds))
        data[prefix + "times_per_day"] = str(row.get("times_per_day", ex.default_times_per_day))
        data[prefix + "days_per_week"] = str(row.get("days_per_week", ex.default_days_per_week))
        data[prefix + "notes"] = row.get("notes", "")
    data.update(overrides)
    if data["reminder_days"] == []:
        data["reminder_days"] = ""  # no day ticked: only the empty marker is sent
    return data


def day(offset: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=offset)
