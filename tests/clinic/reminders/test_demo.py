import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from clinic.models import Reminder, ReminderKind
from clinic.reminders import services
from treatments.models import HomeExerciseProgram

pytestmark = pytest.mark.django_db


def test_demo_data_sends_reminders_within_minutes_of_start(monkeypatch):
    monkeypatch.setattr(services, "reminders_enqueue", lambda *, ids: len(ids))
    call_command("seed_demo", "--password", "clinic-demo-2026")
    moved = list(
        HomeExerciseProgram.objects.filter(status="active", reminders_enabled=True)
        .exclude(patient__email="")
        .filter(patient__reminders_opt_in=True, patient__archived_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)[:3]
    )
    assert len(moved) == 3
    now = timezone.now()
    services.reminders_dispatch(now=now)
    # A demo visit a few hours ahead is reminded at once; the moved programs in two minutes.
    assert Reminder.objects.filter(kind=ReminderKind.APPOINTMENT).exists()
    assert not Reminder.objects.filter(program_id__in=moved).exists()
    services.reminders_dispatch(now=now + dt.timedelta(minutes=3))
    assert Reminder.objects.filter(program_id__in=moved).count() == 3

    # Seeding again (the next `make run`) moves nothing that already has today's reminder.
    call_command("seed_demo")
    services.reminders_dispatch(now=now + dt.timedelta(minutes=4))
    assert Reminder.objects.filter(program_id__in=moved).count() == 3


def test_demo_reminder_patients_are_found_by_the_registry_search_without_accents():
    from clinic.reminders.demo import seed_reminders
    from patients import selectors
    from tests.factories import TherapistFactory

    seed_reminders({"demo-therapist": TherapistFactory()})
    found = [p.first_name for p in selectors.patient_search(query="lucia moreno")]
    assert found == ["Lucía"]
