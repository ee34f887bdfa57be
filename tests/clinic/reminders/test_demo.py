import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from clinic.models import Reminder, ReminderKind
from clinic.reminders import services

pytestmark = pytest.mark.django_db


def test_demo_data_sends_reminders_within_minutes_of_start(monkeypatch):
    monkeypatch.setattr(services, "reminders_enqueue", lambda *, ids, countdown=None: len(ids))
    call_command("seed_demo", "--password", "Demo-pass-1")
    now = timezone.now()
    services.reminders_dispatch(now=now)
    # The demo visit a few hours ahead is reminded at once; exercises in two minutes.
    assert set(Reminder.objects.values_list("kind", flat=True)) == {ReminderKind.APPOINTMENT}
    services.reminders_dispatch(now=now + dt.timedelta(minutes=3))
    exercise = Reminder.objects.filter(kind=ReminderKind.EXERCISE)
    assert exercise.count() == 2
    assert {r.patient.preferred_language for r in exercise} == {"en", "es"}

    # Seeding again (the next `make run`) creates nothing twice.
    call_command("seed_demo")
    services.reminders_dispatch(now=now + dt.timedelta(minutes=4))
    assert Reminder.objects.count() == 3
