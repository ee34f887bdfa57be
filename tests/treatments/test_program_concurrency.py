"""Two therapists saving a program for one patient at the same moment (PostgreSQL)."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import PatientFactory, TherapistFactory
from treatments import services
from treatments.models import Exercise, HomeExerciseProgram, ProgramStatus

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_simultaneous_programs_leave_exactly_one_active(require_service):
    require_service("postgresql")
    patient = PatientFactory()
    therapists = [TherapistFactory(), TherapistFactory()]
    services.home_exercise_program_create(
        patient=patient,
        acting_user=therapists[0],
        start_date=timezone.localdate(),
        end_date=None,
        reminder_time=dt.time(18),
        reminder_days=[0],
        reminders_enabled=False,
        items=[{"exercise": Exercise.objects.get(code="calf-raises"), "sets": 2, "reps": 10}],
    )
    barrier = threading.Barrier(2)
    errors = []

    def save(therapist):
        try:
            barrier.wait(timeout=10)
            services.home_exercise_program_create(
                patient=patient,
                acting_user=therapist,
                start_date=timezone.localdate(),
                end_date=None,
                reminder_time=dt.time(7),
                reminder_days=[1],
                reminders_enabled=True,
                items=[
                    {
                        "exercise": Exercise.objects.get(code="ankle-mobilization"),
                        "sets": 1,
                        "reps": 10,
                    }
                ],
            )
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(t,)) for t in therapists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    statuses = sorted(
        HomeExerciseProgram.objects.filter(patient=patient).values_list("status", flat=True)
    )
    assert statuses == [ProgramStatus.ACTIVE, ProgramStatus.SUPERSEDED, ProgramStatus.SUPERSEDED]
