"""Demo data for reminders, so `make run` shows emails going out within minutes.

Called from seed_demo's seed_features, after patients and programs. It moves the
reminder time of a few demo programs to two minutes from now (in each patient's own
time zone); if there are no programs at all yet, it creates two demo patients (English
in New York, Spanish in Madrid) with one. It also books one visit a few hours ahead,
so an appointment reminder (with its .ics) goes out on the first dispatch. Safe to run
again: a reminder already sent today is not moved, nothing is created twice.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.models import Appointment, AppointmentKind, AppointmentStatus, Practitioner, Reminder
from patients.clinical import normalise_name
from patients.localtime import patient_today, patient_zone
from patients.models import Patient
from treatments.models import Exercise, ExercisePrescription, HomeExerciseProgram, ProgramStatus

from .services import exercise_key

DEMO_PATIENTS = [
    # email, first, last, language, time zone
    ("reminders-demo-en@example.com", "Grace", "Whitfield", "en", "America/New_York"),
    ("reminders-demo-es@example.com", "Lucía", "Moreno", "es", "Europe/Madrid"),
]


def seed_reminders(staff: dict) -> None:
    therapist = staff.get("demo-therapist")
    front_desk = staff.get("demo-frontdesk") or therapist
    if therapist is None:
        return
    programs = list(_reachable_programs()[:3])
    if not programs:
        programs = [_demo_program(therapist, *row) for row in DEMO_PATIENTS]
    now = timezone.now()
    for program in programs:
        _due_in_two_minutes(program, now=now)
    _demo_appointment(programs[0].patient, therapist=therapist, created_by=front_desk, now=now)


def _reachable_programs():
    return (
        HomeExerciseProgram.objects.filter(
            status=ProgramStatus.ACTIVE,
            reminders_enabled=True,
            patient__reminders_opt_in=True,
            patient__archived_at__isnull=True,
        )
        .exclude(patient__email="")
        .select_related("patient")
        .order_by("id")
    )


def _demo_program(therapist, email, first, last, language, tz) -> HomeExerciseProgram:
    patient, _ = Patient.objects.get_or_create(
        email=email,
        defaults={
            "first_name": first,
            "last_name": last,
            "date_of_birth": dt.date(1968, 5, 14),
            "preferred_language": language,
            "timezone": tz,
            "reminders_opt_in": True,
            "search_name": normalise_name(f"{first} {last}"),
        },
    )
    program = HomeExerciseProgram.objects.filter(
        patient=patient, status=ProgramStatus.ACTIVE
    ).first()
    if program is None:
        program = HomeExerciseProgram.objects.create(
            patient=patient, prescribed_by=therapist, start_date=patient_today(patient)
        )
        for position, exercise in enumerate(Exercise.objects.filter(active=True)[:3]):
            ExercisePrescription.objects.create(
                program=program,
                exercise=exercise,
                sets=exercise.default_sets,
                reps=exercise.default_reps,
                hold_seconds=exercise.default_hold_seconds,
                position=position,
            )
    return program


def _due_in_two_minutes(program: HomeExerciseProgram, *, now: dt.datetime) -> None:
    tz = patient_zone(program.patient)
    local = (now + dt.timedelta(minutes=2)).astimezone(tz)
    key = exercise_key(program_id=program.id, local_day=local.date())
    if Reminder.objects.filter(key=key).exists():
        return  # today's reminder already exists: keep the day's history as it is
    program.reminder_time = local.time().replace(second=0, microsecond=0)
    program.reminder_days = [0, 1, 2, 3, 4, 5, 6]
    program.start_date = min(program.start_date, local.date())
    program.save(update_fields=["reminder_time", "reminder_days", "start_date", "updated_at"])


def _demo_appointment(patient: Patient, *, therapist, created_by, now: dt.datetime) -> None:
    practitioner = Practitioner.objects.filter(user=therapist).first()
    if practitioner is None:
        return
    soon = Appointment.objects.filter(
        patient=patient,
        status=AppointmentStatus.BOOKED,
        starts_at__gt=now,
        starts_at__lte=now + dt.timedelta(hours=24),
    )
    if soon.exists():
        return
    start = (now + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    start += dt.timedelta(minutes=(15 - start.minute % 15) % 15)
    try:
        # A savepoint: the scheduling constraints may refuse an overlapping demo visit.
        with transaction.atomic():
            Appointment.objects.create(
                patient=patient,
                practitioner=practitioner,
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=45),
                kind=AppointmentKind.FOLLOW_UP,
                created_by=created_by,
            )
    except IntegrityError:
        pass
